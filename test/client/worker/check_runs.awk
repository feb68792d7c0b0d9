# Checks the test handlers' run logs against the database (see run.sh).
# Input: first the database's jobs as "D <id> <status> <attempts>" lines, then the run logs
# ("S <job> <attempt> <pid> <us>" / "E <job> <attempt> <pid> <us> <ok|fail|stopped>").
# Variables: mode=strict (every claim ran: attempts = runs) or loose (attempts >= runs: a
# claim whose answer was lost with the connection, or of a killed worker, never ran);
# killed="pid pid" (processes killed with -9: their runs may be open and their "ok" did not
# necessarily reach the database); final="succeeded dead" (the statuses every job must have).
function err(msg) {
  errors++
  if (errors <= 20) print "  check_runs: " msg
}
BEGIN {
  n = split(killed, kp, " ")
  for (i = 1; i <= n; i++) was_killed[kp[i]] = 1
  n = split(final, fs, " ")
  for (i = 1; i <= n; i++) final_ok[fs[i]] = 1
}
$1 == "D" { status[$2] = $3; attempts[$2] = $4; next }
$1 == "S" {
  key = $2 " " $3
  if (key in start) err("job " $2 " attempt " $3 " started twice (claimed twice?)")
  start[key] = $5; pid[key] = $4
  runs[$2]++; run_key[$2, runs[$2]] = key; total_runs++
  next
}
$1 == "E" { key = $2 " " $3; finish[key] = $5; outcome[key] = $6; next }
END {
  for (id in runs) {
    if (!(id in status)) { err("job " id " ran but is not in the database"); continue }
    oks = 0; any_oks = 0
    for (a = 1; a <= runs[id]; a++) {
      k = run_key[id, a]
      if (!(k in finish)) {
        if (!(pid[k] in was_killed)) err("job " id " run " k " never ended (pid " pid[k] " was not killed)")
        open_runs++
        continue
      }
      trusted = !(pid[k] in was_killed)
      if (outcome[k] == "ok" && trusted) oks++
      if (outcome[k] == "ok") any_oks++
      for (b = 1; b <= runs[id]; b++) {
        if (b == a) continue
        k2 = run_key[id, b]
        if (start[k2] >= start[k] && start[k2] <= finish[k])
          err("job " id ": runs (attempt pid) " k " and " k2 " overlap in time")
        if (outcome[k] == "ok" && trusted && start[k2] > finish[k])
          err("job " id ": attempt " k2 " ran after attempt " k " had succeeded")
      }
    }
    # A killed worker's "ok" may or may not have reached the database before the kill.
    if (status[id] == "succeeded" && (oks > 1 || any_oks < 1))
      err("job " id " succeeded, but " any_oks " runs ended ok (" oks " of live workers)")
    if (status[id] != "succeeded" && oks != 0) err("job " id " is " status[id] ", but " oks " runs ended ok")
    if (mode == "strict" && attempts[id] != runs[id])
      err("job " id ": " attempts[id] " attempts in the database, " runs[id] " runs logged")
    if (mode != "strict" && attempts[id] < runs[id])
      err("job " id ": " attempts[id] " attempts in the database, but " runs[id] " runs logged")
  }
  for (id in status) {
    jobs++
    count[status[id]]++
    if (!(status[id] in final_ok)) err("job " id " is " status[id] " (expected one of: " final ")")
    if (!(id in runs) && status[id] != "waiting") err("job " id " is " status[id] " but never ran")
  }
  summary = ""
  for (s in count) summary = summary " " s "=" count[s]
  printf "  jobs=%d runs=%d open_runs=%d%s\n", jobs, total_runs, open_runs, summary
  if (errors > 0) { print "  check_runs: " errors " error(s)"; exit 1 }
}

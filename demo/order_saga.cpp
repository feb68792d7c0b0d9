// The demo's durable workflow: an order saga run by a baton::Worker.
//
//   order_saga [--timeout SECONDS]
//
// Workflow "order_saga" version 1: reserve stock -> charge card -> ship. Each of the first
// two steps declares how it is undone (release_stock, refund_card); shipping declares none.
// The courier refuses the parcel: attempt 1 of the run's driver job fails (the job is
// retried and the replay takes reserve and charge from the run's history, without running
// them again), attempt 2 fails too, which is the workflow's last (max_attempts = 2), so the
// run fails with compensation: refund_card, then release_stock (newest first), and the run
// ends compensated. Prints one line per step and per compensation as the handlers run.
// Exit status 0 only if the run ended compensated, each step ran exactly once and the
// compensations ran in reverse order. Connects with the PG* environment.
#include <baton/client.h>
#include <baton/worker.h>
#include <baton/workflow.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::mutex out_mu;
std::vector<std::string> trail;  // what ran, in order

void say(const std::string& what, const std::string& line) {
  std::lock_guard<std::mutex> l(out_mu);
  trail.push_back(what);
  std::printf("  %s\n", line.c_str());
  std::fflush(stdout);
}

baton::Workflow order_saga() {
  baton::Workflow wf("order_saga", 1);
  wf.declare_step("reserve_stock", baton::Compensation{"release_stock"})
      .declare_step("charge_card", baton::Compensation{"refund_card"})
      .declare_step("ship", baton::Compensation::none());
  wf.compensate_on_failure = true;  // a failed order is undone
  wf.max_attempts = 2;              // the courier gets two chances
  wf.body = [](baton::WorkflowContext& ctx) -> baton::Json {
    const baton::Json& order = ctx.input();
    const std::string id = order.at("order").get<std::string>();
    const int attempt = ctx.job().attempt;
    say("attempt", "run " + std::to_string(ctx.run_id()) + " attempt " + std::to_string(attempt) +
                       ": " + std::to_string(ctx.steps_recorded()) + " step(s) in its history");
    baton::Json reservation = ctx.step(
        "reserve_stock",
        [&] {
          say("reserve", "step reserve_stock: 2 x " + order.at("sku").get<std::string>() +
                             " reserved (reservation r-" + id + ")");
          return baton::Json{{"reservation", "r-" + id}};
        },
        baton::Compensation{"release_stock", {{"reservation", "r-" + id}}, 3});
    baton::Json charge = ctx.step(
        "charge_card",
        [&] {
          say("charge", "step charge_card: " + std::to_string(order.at("cents").get<int>()) +
                            " cents charged (charge ch-" + id + ")");
          return baton::Json{{"charge", "ch-" + id}, {"cents", order.at("cents")}};
        },
        baton::Compensation{
            "refund_card", {{"charge", "ch-" + id}, {"cents", order.at("cents")}}, 3});
    ctx.step(
        "ship",
        [&]() -> baton::Json {
          say("ship", "step ship: the courier refuses the parcel (attempt " +
                          std::to_string(attempt) + ")");
          throw std::runtime_error("courier refused the parcel to " +
                                   order.at("city").get<std::string>());
        },
        baton::Compensation::none());
    return {{"shipped", true}, {"reservation", reservation}, {"charge", charge}};
  };
  return wf;
}

}  // namespace

int main(int argc, char** argv) {
  int timeout_s = 30;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout_s = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: order_saga [--timeout SECONDS]\n");
      return 2;
    }
  }
  try {
    baton::Client client;
    client.create_queue("orders");
    baton::Workflow wf = order_saga();
    baton::RegisterResult reg = baton::register_workflow(client, wf);
    std::printf("Workflow %s version %d registered (definition %s)\n", wf.name.c_str(), wf.version,
                reg.definition_hash.c_str());
    baton::StartRunOptions o;
    o.queue = "orders";
    o.idempotency_key = "order-1001";
    o.correlation_id = "order-1001";
    baton::StartedRun run = baton::start_run(
        client, wf.name,
        {{"order", "1001"}, {"sku", "TEA-42"}, {"cents", 1999}, {"city", "Atlantis"}}, o);
    std::printf("Run %lld started (order 1001); a worker drives it:\n",
                static_cast<long long>(run.run_id));

    baton::WorkerConfig cfg;
    cfg.queues = {"orders"};
    cfg.slots = 2;
    cfg.poll_interval = 200ms;
    cfg.log_sink = [](baton::LogLevel, std::string_view) {};
    baton::Worker worker(cfg);
    worker.workflow(wf);
    worker.handle("refund_card", [](const baton::Job& job, baton::JobContext&) -> baton::Json {
      say("refund", "compensation refund_card: " + std::to_string(job.args.at("cents").get<int>()) +
                        " cents refunded (charge " + job.args.at("charge").get<std::string>() +
                        ")");
      return {{"refunded", true}};
    });
    worker.handle("release_stock", [](const baton::Job& job, baton::JobContext&) -> baton::Json {
      say("release", "compensation release_stock: reservation " +
                         job.args.at("reservation").get<std::string>() + " released");
      return {{"released", true}};
    });
    std::thread runner([&] { worker.run(); });

    std::string status;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      status = baton::run_info(client, run.run_id).status;
      if (status == "compensated" || status == "completed" || status == "failed" ||
          status == "needs_operator")
        break;
      std::this_thread::sleep_for(100ms);
    }
    worker.stop();
    runner.join();

    baton::RunInfo info = baton::run_info(client, run.run_id);
    std::printf("Run %lld is %s (error: %s)\n", static_cast<long long>(info.id),
                info.status.c_str(), info.error.value_or("none").c_str());
    const std::vector<std::string> expected = {"attempt", "reserve", "charge", "ship",
                                               "attempt", "ship",    "refund", "release"};
    if (info.status != "compensated" || trail != expected) {
      std::string got;
      for (const std::string& t : trail) got += " " + t;
      std::fprintf(stderr, "order_saga: expected a compensated run after%s\n", got.c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "order_saga: %s\n", e.what());
    return 1;
  }
}

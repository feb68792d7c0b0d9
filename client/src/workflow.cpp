// Workflow definitions and the folded state: snapshot decoding and history folding (pure
// functions, no connection).
#include <set>

#include "baton/workflow.h"

namespace baton {

Workflow& Workflow::declare_step(const std::string& step_name) {
  if (!definition.is_object()) definition = Json::object();
  definition["steps"].push_back({{"name", step_name}});
  return *this;
}

Workflow& Workflow::declare_step(const std::string& step_name, const Compensation& compensation) {
  if (!definition.is_object()) definition = Json::object();
  definition["steps"].push_back(
      {{"name", step_name},
       {"compensation", compensation.is_none() ? std::string("none") : compensation.task}});
  return *this;
}

bool is_baton_event_kind(const std::string& kind) {
  // The kinds baton writes itself (append_event_v1 refuses them), plus "step".
  static const std::set<std::string> kinds = {"started",
                                              "step",
                                              "completed",
                                              "failed",
                                              "cancelled",
                                              "cancel_requested",
                                              "compensation_started",
                                              "compensation_scheduled",
                                              "compensated",
                                              "compensation_failed",
                                              "needs_operator",
                                              "operator",
                                              "run_compensated",
                                              "continued_as_new",
                                              "continued_from"};
  return kinds.count(kind) > 0;
}

Json initial_state() {
  return Json{{"steps", Json::array()}, {"events", 0}, {"user", nullptr}};
}

Json decode_snapshot(std::optional<int> format_version, const Json& payload) {
  const int version = format_version.value_or(1);
  if (version != 1)
    throw SnapshotFormatError("baton workflow: snapshot format " + std::to_string(version) +
                              " is unknown to this client (it reads format 1; a newer client "
                              "wrote this snapshot?)");
  auto bad = [](const std::string& why) {
    return SnapshotFormatError("baton workflow: snapshot payload (format 1) is malformed: " + why);
  };
  if (!payload.is_object()) throw bad("not a JSON object");
  auto steps = payload.find("steps");
  if (steps == payload.end() || !steps->is_array()) throw bad("\"steps\" is not an array");
  Json out = initial_state();
  for (const Json& s : *steps) {
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string())
      throw bad("a step has no \"name\"");
    out["steps"].push_back(
        {{"name", s["name"]}, {"result", s.contains("result") ? s["result"] : Json()}});
  }
  if (auto e = payload.find("events"); e != payload.end()) {
    if (!e->is_number_integer() || e->get<std::int64_t>() < 0)
      throw bad("\"events\" is not a count");
    out["events"] = e->get<std::int64_t>();
  }
  if (auto u = payload.find("user"); u != payload.end()) out["user"] = *u;
  return out;
}

Json fold_event(Json state, const WorkflowEvent& event, const UserFold& fold) {
  if (event.kind == "step") {
    Json& steps = state["steps"];
    const std::int64_t expected = static_cast<std::int64_t>(steps.size()) + 1;
    const Json& p = event.payload;
    if (!p.is_object() || !p.contains("step") || !p["step"].is_number_integer() ||
        p["step"].get<std::int64_t>() != expected || !p.contains("name"))
      throw Error("baton workflow: history event " + std::to_string(event.seq) + " is not step " +
                  std::to_string(expected) + ": " + p.dump());
    steps.push_back({{"name", p["name"]}, {"result", p.contains("result") ? p["result"] : Json()}});
    return state;
  }
  if (is_baton_event_kind(event.kind)) return state;
  state["events"] = state["events"].get<std::int64_t>() + 1;
  if (fold) state["user"] = fold(std::move(state["user"]), event);
  return state;
}

Json fold_history(const std::optional<WorkflowSnapshot>& snapshot,
                  const std::vector<WorkflowEvent>& events, const UserFold& fold) {
  Json state =
      snapshot ? decode_snapshot(snapshot->format_version, snapshot->payload) : initial_state();
  const std::int64_t after = snapshot ? snapshot->through_seq : 0;
  for (const WorkflowEvent& e : events)
    if (e.seq > after) state = fold_event(std::move(state), e, fold);
  return state;
}

void WorkflowVersions::add(const Workflow& workflow) {
  if (!name_.empty() && workflow.name != name_)
    throw InvalidArgument("baton workflow: versions of " + name_ + " cannot hold workflow " +
                          workflow.name);
  name_ = workflow.name;
  by_version_[workflow.version] = workflow;
}

const Workflow* WorkflowVersions::find(int version) const {
  auto it = by_version_.find(version);
  return it == by_version_.end() ? nullptr : &it->second;
}

}  // namespace baton

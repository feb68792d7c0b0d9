// The demo's producer: creates the queues and defers the jobs through baton::Client with
// defer_many (one statement per call, all or nothing).
//
//   defer_jobs [N]      N jobs (default 5,000): half send_email, 30 % resize_image, 20 %
//                       deliver_webhook; one email in 1,000 goes to an address that bounces.
// Connects with the PG* environment.
#include "demo_common.h"

#include <baton/client.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Defers round `r` of `rounds` of `args` (one slice, one defer_many call, counted in
// `calls`); returns how many.
std::size_t defer_slice(baton::Client& client, const std::string& queue, const std::string& task,
                        const std::vector<baton::Json>& args, std::size_t r, std::size_t rounds,
                        const baton::DeferManyOptions& options, std::size_t& calls) {
  const std::size_t from = args.size() * r / rounds, to = args.size() * (r + 1) / rounds;
  if (from == to) return 0;
  std::vector<baton::Json> slice(args.begin() + from, args.begin() + to);
  ++calls;
  return client.defer_many(queue, task, slice, options).size();
}

}  // namespace

int main(int argc, char** argv) {
  const long total = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 5000;
  if (total < 10 || total > 1000000) {
    std::fprintf(stderr, "usage: defer_jobs [N]   (10 <= N <= 1,000,000)\n");
    return 2;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    baton::Client client;  // the PG* environment
    for (const std::string& q : demo::kQueues) client.create_queue(q);

    const long emails = total / 2, images = total * 3 / 10, webhooks = total - emails - images;
    std::vector<baton::Json> email_args, image_args, webhook_args;
    long bounces = 0;
    for (long n = 1; n <= emails; ++n) {
      const bool bounce = n % 1000 == 500;
      bounces += bounce;
      email_args.push_back(
          {{"to", "user" + std::to_string(n) + (bounce ? demo::kBounceDomain : "@example.com")},
           {"template", n % 3 == 0 ? "order_shipped" : "welcome"}});
    }
    for (long n = 1; n <= images; ++n)
      image_args.push_back({{"image_id", n},
                            {"owner", "user" + std::to_string(n * 7 % 997 + 1) + "@example.com"},
                            {"sizes", {64, 256, 1024}}});
    for (long n = 1; n <= webhooks; ++n)
      webhook_args.push_back({{"url", "https://hooks.example.com/shop/" + std::to_string(n % 40)},
                              {"event", "order.paid"},
                              {"order_id", 100000 + n}});

    // The webhook receiver is flaky: retry every 200 ms, up to 10 attempts.
    baton::DeferManyOptions webhook_options;
    webhook_options.max_attempts = 10;
    webhook_options.retry_backoff = baton::Backoff::constant;
    webhook_options.retry_delay = 200ms;

    // In rounds, a slice of each queue's jobs per round (at most 1,000 per call), so that the
    // worker, which claims the oldest due jobs first, gets the three tasks mixed.
    const std::size_t rounds = std::max<std::size_t>(10, (email_args.size() + 999) / 1000);
    std::size_t deferred = 0, calls = 0;
    for (std::size_t r = 0; r < rounds; ++r) {
      deferred += defer_slice(client, "emails", "send_email", email_args, r, rounds, {}, calls);
      deferred += defer_slice(client, "images", "resize_image", image_args, r, rounds, {}, calls);
      deferred += defer_slice(client, "webhooks", "deliver_webhook", webhook_args, r, rounds,
                              webhook_options, calls);
    }

    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("deferred %s jobs in %.2f s with %zu defer_many calls:\n",
                demo::group(deferred).c_str(), secs, calls);
    std::printf(
        "  emails    %6s send_email       (%ld to addresses that bounce: dead on purpose)\n",
        demo::group(emails).c_str(), bounces);
    std::printf("  images    %6s resize_image     (each defers a send_email when it succeeds)\n",
                demo::group(images).c_str());
    std::printf("  webhooks  %6s deliver_webhook  (the receiver fails ~10 %% of attempts)\n",
                demo::group(webhooks).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "defer_jobs: %s\n", e.what());
    return 1;
  }
}

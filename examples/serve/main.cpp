// rgrid-serve: a fine-tuned classifier over HTTP — a page at / and a JSON API (POST /predict,
// GET /health, GET /info). Loopback only unless --host says otherwise. One log line per
// request on stderr. SIGINT/SIGTERM stop it cleanly (requests in flight finish). See README.md.
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <pthread.h>

#include "common/cli.hpp"
#include "rgrid/core/allocator.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/serve/app.hpp"
#include "rgrid/train/predictor.hpp"

using namespace rgrid;

int main(int argc, char** argv) try {
    rgrid::tune_allocator();  // reuse freed buffers step to step (core/allocator.hpp)
    CLI::App app{"A fine-tuned classifier over HTTP: a page at / and a JSON API (POST /predict, GET /health, "
                 "GET /info).",
                 "rgrid-serve"};
    cli::conventions(app);
    std::string model, host = "127.0.0.1";
    std::size_t port = 8080;
    std::optional<std::size_t> compute_threads;
    serve::AppOptions ao{.threads = 64, .max_body = 1048576, .max_parallel_predictions = 1};
    std::size_t max_wait_ms = 5, request_timeout_s = 10, idle_timeout_s = 5;
    app.add_option("--model", model, "a checkpoint directory (config.json, model.safetensors, vocab.txt)")
        ->required()->type_name("DIR");
    app.add_option("--host", host, "address to listen on (127.0.0.1: this machine only)");
    app.add_option("--port", port, "0 picks a free port")->check(cli::count(0, 65535));
    app.add_option("--threads", ao.threads, "workers for POST /predict (each request waiting for its batch "
                   "holds one; GET routes have their own 2)")->check(cli::count(1, cli::kMaxThreads));
    app.add_option("--max-body", ao.max_body, "larger request bodies get 413")->type_name("BYTES")
        ->check(cli::count(1));
    app.add_option("--max-batch", ao.max_batch, "windows of concurrent requests run together in one model pass; "
                   "1: no batching across requests")->check(cli::count(1, 4096));
    app.add_option("--max-wait-ms", max_wait_ms, "a window waits at most this long for others to fill its batch")
        ->check(cli::count(0, 10000));
    app.add_option("--request-timeout", request_timeout_s, "seconds for a request (line, headers, body) to "
                   "arrive, else 408")->check(cli::count(1, 3600));
    app.add_option("--idle-timeout", idle_timeout_s, "seconds an idle keep-alive connection is kept")
        ->check(cli::count(1, 3600));
    app.add_option("--parallel-predictions", ao.max_parallel_predictions, "with --max-batch 1: model passes "
                   "computed at once (each uses --compute-threads; 0: one per worker)")
        ->check(cli::count(0, cli::kMaxThreads));
    bool int8 = false;
    app.add_flag("--int8", int8, "quantize the encoder's Linears to int8 on load (docs/int8.md); an int8 "
                 "checkpoint (rgrid-quantize) runs as int8 without it");
    app.add_option("--compute-threads", compute_threads, "threads for the model's matrix products "
                   "(default: all cores)")->check(cli::count(0, cli::kMaxThreads));
    if (auto status = cli::parse(app, argc, argv)) return *status;
    if (compute_threads) set_num_threads(*compute_threads);
    ao.max_wait = std::chrono::milliseconds(max_wait_ms);
    ao.request_timeout = std::chrono::seconds(request_timeout_s);
    ao.idle_timeout = std::chrono::seconds(idle_timeout_s);

    // Block SIGINT/SIGTERM in every thread (the server threads inherit the mask); this thread
    // waits for them with sigwait and then stops the server from ordinary code.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::cerr << "[serve] loading " << model << "\n";
    PredictorOptions po = load_predictor_options(model);
    po.int8 = int8;
    auto predictor = std::make_shared<const Predictor>(Predictor::from_pretrained(model, po));
    serve::App server(predictor, std::cerr, ao);
    const int bound = server.start(host, static_cast<int>(port));
    const auto info = server.info();
    std::cerr << "[serve] " << predictor->labels().size() << " labels, windows of " << info["max_length"]
              << " tokens (stride " << info["stride"] << "), " << info["aggregation"].get<std::string>()
              << " aggregation, " << ao.threads << " prediction workers, "
              << (ao.max_batch > 1 ? "batches of up to " + std::to_string(ao.max_batch) + " windows within " +
                                         std::to_string(max_wait_ms) + " ms"
                                   : "no batching, " + info["max_parallel_predictions"].dump() + " model pass(es) at once")
              << " on " << num_threads() << " compute threads\n";
    std::cout << "rgrid-serve: listening on http://" << host << ":" << bound << "/  (Ctrl+C to stop)"
              << std::endl;

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "[serve] " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ": finishing requests in flight\n";
    server.stop();
    std::cerr << "[serve] stopped\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "rgrid-serve: " << e.what() << "\n";
    return 1;
}

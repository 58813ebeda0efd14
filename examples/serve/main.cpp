// rgrid-serve: a fine-tuned classifier over HTTP — a page at / and a JSON API (POST /predict,
// GET /health, GET /info). Loopback only unless --host says otherwise. One log line per
// request on stderr. SIGINT/SIGTERM stop it cleanly (requests in flight finish). See README.md.
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include <pthread.h>

#include "rgrid/core/allocator.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/parse.hpp"
#include "rgrid/serve/app.hpp"
#include "rgrid/train/predictor.hpp"

using namespace rgrid;

static const char* kUsage =
    "usage: rgrid-serve --model DIR [--host 127.0.0.1] [--port 8080] [--threads N] [--max-body BYTES]\n"
    "                   [--parallel-predictions N] [--compute-threads N]\n"
    "  --model DIR          a checkpoint directory (config.json, model.safetensors, vocab.txt)\n"
    "  --host HOST          address to listen on (default 127.0.0.1: this machine only)\n"
    "  --port PORT          default 8080; 0 picks a free port\n"
    "  --threads N          HTTP worker threads, requests served in parallel (default 4)\n"
    "  --max-body BYTES     larger request bodies get 413 (default 1048576)\n"
    "  --parallel-predictions N  model passes computed at once (default 1; each uses\n"
    "                       --compute-threads; more help only with more cores than that)\n"
    "  --compute-threads N  threads for the model's matrix products (default: all cores)\n";

static std::size_t number(const std::string& flag, const std::string& v) {
    return static_cast<std::size_t>(rgrid::parse_count(flag, v));
}

int main(int argc, char** argv) try {
    rgrid::tune_allocator();  // reuse freed buffers step to step (core/allocator.hpp)
    std::map<std::string, std::string> opt{{"--host", "127.0.0.1"}, {"--port", "8080"}, {"--threads", "4"},
                                           {"--max-body", "1048576"}, {"--parallel-predictions", "1"}};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") return std::cout << kUsage, 0;
        if (opt.count(a) + (a == "--model") + (a == "--compute-threads") && i + 1 < argc) opt[a] = argv[++i];
        else return std::cerr << "rgrid-serve: unexpected argument '" << a << "'\n" << kUsage, 2;
    }
    if (!opt.count("--model")) return std::cerr << "rgrid-serve: --model DIR is required\n" << kUsage, 2;
    const std::size_t port = number("--port", opt["--port"]);
    RGRID_CHECK(port <= 65535, "--port must be in [0, 65535], got ", port);
    serve::AppOptions ao{.threads = number("--threads", opt["--threads"]),
                         .max_body = number("--max-body", opt["--max-body"]),
                         .max_parallel_predictions = number("--parallel-predictions", opt["--parallel-predictions"])};
    if (opt.count("--compute-threads")) set_num_threads(number("--compute-threads", opt["--compute-threads"]));

    // Block SIGINT/SIGTERM in every thread (the server threads inherit the mask); this thread
    // waits for them with sigwait and then stops the server from ordinary code.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::cerr << "[serve] loading " << opt["--model"] << "\n";
    auto predictor = std::make_shared<const Predictor>(Predictor::from_pretrained(opt["--model"]));
    serve::App app(predictor, std::cerr, ao);
    const int bound = app.start(opt["--host"], static_cast<int>(port));
    const auto info = app.info();
    std::cerr << "[serve] " << predictor->labels().size() << " labels, windows of " << info["max_length"]
              << " tokens (stride " << info["stride"] << "), " << info["aggregation"].get<std::string>()
              << " aggregation, " << ao.threads << " HTTP threads, " << info["max_parallel_predictions"]
              << " model pass(es) at once on " << num_threads() << " compute threads\n";
    std::cout << "rgrid-serve: listening on http://" << opt["--host"] << ":" << bound << "/  (Ctrl+C to stop)"
              << std::endl;

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "[serve] " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ": finishing requests in flight\n";
    app.stop();
    std::cerr << "[serve] stopped\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "rgrid-serve: " << e.what() << "\n";
    return 1;
}

// data_parallel_step: the time of a BERT training step, alone or data-parallel under mpirun,
// split into compute and gradient all-reduce (benchmarks/distributed/measure.sh runs the
// comparisons of docs/performance.md). Not a test: it measures, it checks nothing.
//   data_parallel_step PRESET|MODEL_DIR BATCH_PER_RANK TOKENS STEPS [overlap=0|1] [threads=N]
// One step = forward + cross-entropy + backward (+ bucketed all-reduce, overlapped with backward
// or after it) + clip + AdamW, on random token ids. Prints one line per run (rank 0):
//   preset, ranks, threads, batch per rank, step seconds (median), samples/s, the all-reduce
//   wait left after backward (median), the standalone all-reduce of all gradients (median),
//   gradient bytes per step, buckets.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/distributed/gradient_reducer.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/optim/adamw.hpp"
#include "rgrid/optim/clip_grad.hpp"

using namespace rgrid;
using clk = std::chrono::steady_clock;

static double seconds_since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }
static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

int main(int argc, char** argv) {
    distributed::Session mpi(argc, argv);
    try {
        if (argc < 5) {
            std::fprintf(stderr, "usage: data_parallel_step PRESET BATCH_PER_RANK TOKENS STEPS [overlap=0|1] [threads=N]\n");
            return 2;
        }
        const std::string preset = argv[1];
        const std::size_t batch = std::stoul(argv[2]), tokens = std::stoul(argv[3]), steps = std::stoul(argv[4]);
        bool overlap = true;
        for (int i = 5; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "overlap=0") overlap = false;
            else if (a.rfind("threads=", 0) == 0) set_num_threads(std::stoul(a.substr(8)));
            else throw Error("data_parallel_step: unknown option " + a);
        }
        // a preset name, or a checkpoint directory's config.json (e.g. models/minilm-l6)
        BertConfig cfg = preset.find('/') == std::string::npos ? BertConfig::preset(preset)
                                                               : BertConfig::load(preset + "/config.json");
        cfg.id2label = {"a", "b"};
        Rng rng(1);
        BertForSequenceClassification<float> model(cfg, rng);
        model.train();
        auto params = model.parameters();
        AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 1e-5});
        std::unique_ptr<distributed::Communicator> comm;
        std::unique_ptr<distributed::GradientReducer> reducer;
        if (mpi.active()) {
            comm = std::make_unique<distributed::Communicator>(600);
            reducer = std::make_unique<distributed::GradientReducer>(*comm, params,
                                                                     distributed::ReducerOptions{.overlap = overlap});
        }
        IndexTensor ids = IndexTensor::from_shape({batch, tokens}), types = IndexTensor::from_shape({batch, tokens});
        IndexTensor mask = IndexTensor::from_shape({batch, tokens}), labels = IndexTensor::from_shape({batch});
        Rng data(100 + std::uint64_t(mpi.rank()));
        for (std::size_t i = 0; i < ids.size(); ++i) ids.data()[i] = std::int64_t(1000 + data.below(20000));
        types.fill(0);
        mask.fill(1);
        for (std::size_t i = 0; i < batch; ++i) labels(i) = std::int64_t(data.below(2));

        std::vector<double> step_s, wait_s, allreduce_s;
        std::size_t bytes = 0, buckets = 0;
        for (std::size_t s = 0; s < steps + 1; ++s) {  // step 0 warms up (allocations, page faults)
            const auto t0 = clk::now();
            Rng drop(7 + s);
            Var<float> loss = ops::cross_entropy(model.forward(ids, types, mask, drop), labels);
            if (reducer) reducer->arm(true);
            backward(loss);
            if (reducer) reducer->finish();
            clip_grad_norm(params, 1.0);
            opt.step();
            model.zero_grad();
            if (s == 0) continue;
            step_s.push_back(seconds_since(t0));
            if (reducer) {
                wait_s.push_back(reducer->stats().wait_seconds);
                bytes = reducer->stats().bytes;
                buckets = reducer->stats().buckets;
            }
        }
        if (comm) {  // the all-reduce alone: every gradient byte of a step, blocking, no compute beside it
            std::vector<float> buf(bytes / sizeof(float), 1.f);
            for (std::size_t s = 0; s < 3; ++s) {
                const auto t0 = clk::now();
                comm->all_sum(buf.data(), buf.size(), "the all-reduce benchmark");
                allreduce_s.push_back(seconds_since(t0));
            }
        }
        if (mpi.rank() == 0) {
            const double st = median(step_s);
            std::printf("preset=%s ranks=%d threads=%zu batch_per_rank=%zu tokens=%zu overlap=%d step_s=%.4f "
                        "samples_per_s=%.2f wait_after_backward_s=%.4f allreduce_alone_s=%.4f grad_bytes=%zu "
                        "buckets=%zu\n",
                        preset.c_str(), mpi.size(), num_threads(), batch, tokens, int(overlap && comm), st,
                        double(batch) * double(mpi.size()) / st, median(wait_s), median(allreduce_s), bytes, buckets);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "data_parallel_step: error (rank %d): %s\n", mpi.rank(), e.what());
        if (mpi.size() > 1) mpi.abort(1);
        return 1;
    }
}

// dp_driver: the program the distributed tests (run_tests.sh) start, alone or under mpirun.
//   dp_driver train OUT [batch=B] [accum=N] [epochs=E] [docs=D] [max_windows=M] [bucket_kb=K] [overlap=0|1] [dropout=0|1]
//                       [resume=1] [grads=FILE] [die_rank=R die_step=S] [timeout=SEC] [stop_rank=R stop_step=S]
//     fine-tunes a 1-layer hidden-32 BERT on 64 generated two-topic documents with the Trainer
//     (threads = 1), alone: one process (gradient accumulation N); under mpirun: DataParallel
//     (rank r initializes its weights with seed + r, so only the broadcast makes them agree).
//     OUT/last/model.safetensors holds the final weights. die_*: rank R SIGKILLs itself after
//     step S; stop_*: rank R stops itself (SIGSTOP) there, so the others' collectives time out.
//   dp_driver compare A.safetensors B.safetensors TOL
//     every tensor of A equals B's within TOL (max |a - b|; TOL 0 = bit-identical).
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "common/tiny_bert.hpp"
#include "rgrid/distributed/data_parallel.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/train/trainer.hpp"

using namespace rgrid;

namespace {
const char* kVocab = RGRID_SOURCE_DIR "/examples/assets/bert-base-uncased-vocab.txt";

// 64 documents of 4..27 words: topic words every other position, so batches differ in length.
Dataset documents(std::size_t n, std::uint64_t seed) {
    const char* topic[2][6] = {{"bread", "cheese", "soup", "rice", "apple", "butter"},
                               {"team", "goal", "match", "coach", "ball", "league"}};
    const char* glue[4] = {"we", "had", "a", "good"};
    Dataset ds;
    ds.label_names = {"food", "sports"};
    Rng rng(seed);
    for (std::size_t d = 0; d < n; ++d) {
        const std::size_t label = d % 2, words = 4 + rng.below(24);
        std::string text;
        for (std::size_t w = 0; w < words; ++w)
            text += std::string(w ? " " : "") + (w % 2 ? glue[rng.below(4)] : topic[label][rng.below(6)]);
        ds.examples.push_back({text, ds.label_names[label]});
    }
    return ds;
}

std::map<std::string, std::string> options(int argc, char** argv, int first) {
    std::map<std::string, std::string> o;
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        const auto eq = a.find('=');
        RGRID_CHECK(eq != std::string::npos, "dp_driver: option '", a, "' is not key=value");
        o[a.substr(0, eq)] = a.substr(eq + 1);
    }
    return o;
}
std::size_t num(const std::map<std::string, std::string>& o, const std::string& k, std::size_t def) {
    auto it = o.find(k);
    return it == o.end() ? def : std::stoul(it->second);
}

int train(const std::string& out, const std::map<std::string, std::string>& o) {
    const bool mpi = distributed::launched_by_mpi();
    std::unique_ptr<distributed::Communicator> comm;
    if (mpi) comm = std::make_unique<distributed::Communicator>(double(num(o, "timeout", 60)));
    const int rank = comm ? comm->rank() : 0;
    auto tok = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(kVocab));
    const std::size_t docs = num(o, "docs", 64);  // docs=8: 8 one-window documents (one global batch of 8)
    const Dataset train = documents(docs, 1), val = documents(24, 2);
    BertConfig cfg = test::tiny_bert_config(train.label_names, {.max_positions = 32});
    if (!num(o, "dropout", 0)) cfg.hidden_dropout_prob = cfg.attention_probs_dropout_prob = 0;
    Rng init(7 + std::uint64_t(rank));
    auto model = std::make_shared<BertForSequenceClassification<float>>(cfg, init);
    TrainingArguments args{.output_dir = out, .num_train_epochs = num(o, "epochs", 2),
                           .per_device_train_batch_size = num(o, "batch", 4), .learning_rate = 2e-3,
                           .warmup_ratio = 0.1, .max_length = 16, .stride = 4, .seed = 3, .threads = 1,
                           .logging_steps = 2};
    args.gradient_accumulation_steps = num(o, "accum", 1);
    args.max_windows = num(o, "max_windows", 0);
    if (o.count("docs")) {
        args.max_windows = 1;
        args.warmup_ratio = 0;  // a one-step run must move the weights
    }
    auto objective = std::make_shared<ClassificationObjective>(model, tok, kVocab, args, train, val);
    std::unique_ptr<distributed::DataParallel> dp;
    if (comm) {
        dp = std::make_unique<distributed::DataParallel>(
            *comm, distributed::ReducerOptions{.bucket_bytes = num(o, "bucket_kb", 4) << 10,
                                               .overlap = num(o, "overlap", 1) != 0});
        args = dp->adapt(args);
    }
    Trainer trainer(dp ? dp->wrap(objective) : objective, args);
    if (num(o, "resume", 0)) {
        const std::string from = out + "/last";
        distributed::check_resume_world_size(from, comm ? comm->size() : 1);
        load_state_dict(*model, safetensors::read(from + "/model.safetensors"));
        trainer.resume_from(from);
    }
    if (dp) dp->attach(trainer);
    TrainerCallback fault;
    fault.on_step_end = [&](std::size_t, std::size_t, double) {
        const std::size_t step = trainer.state().global_step;
        if (o.count("die_rank") && int(num(o, "die_rank", 0)) == rank && step == num(o, "die_step", 0)) {
            std::fprintf(stderr, "dp_driver: rank %d kills itself after step %zu\n", rank, step);
            std::raise(SIGKILL);
        }
        if (o.count("stop_rank") && int(num(o, "stop_rank", 0)) == rank && step == num(o, "stop_step", 0)) {
            std::fprintf(stderr, "dp_driver: rank %d stops itself after step %zu\n", rank, step);
            std::raise(SIGSTOP);
        }
    };
    trainer.add_callback(fault);
    if (o.count("grads")) {  // grads=FILE: the first step's (averaged) gradients, written by rank 0
        TrainerCallback dump;
        dump.on_gradients = [&, done = false](const std::vector<Var<float>*>&) mutable {
            if (done || rank != 0) return;
            done = true;
            safetensors::TensorMap map;
            for (auto& [name, p] : model->named_parameters()) map[name] = safetensors::StoredTensor::from(p->grad());
            safetensors::write(o.at("grads"), map);
        };
        trainer.add_callback(dump);
    }
    TrainOutput r = trainer.train();
    if (rank == 0)
        std::printf("dp_driver: %zu steps, training loss %.6f, buckets %zu\n", r.global_step, r.training_loss,
                    dp ? dp->reducer().num_buckets() : std::size_t(0));
    return 0;
}

int compare(const std::string& a, const std::string& b, double tol) {
    const auto ma = safetensors::read(a), mb = safetensors::read(b);
    RGRID_CHECK(ma.size() == mb.size(), a, " has ", ma.size(), " tensors, ", b, " has ", mb.size());
    double worst = 0;
    std::string where;
    for (const auto& [name, ta] : ma) {
        auto it = mb.find(name);
        RGRID_CHECK(it != mb.end(), b, " has no tensor ", name);
        const Tensor<float> x = ta.as<float>(), y = it->second.as<float>();
        RGRID_CHECK(x.shape() == y.shape(), name, ": shapes ", shape_str(x.shape()), " and ", shape_str(y.shape()));
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double d = std::abs(double(x.data()[i]) - double(y.data()[i]));
            if (d > worst || (d != d)) worst = d, where = name;
        }
    }
    std::printf("dp_driver: max |a - b| = %.3g (%s), tolerance %.3g\n", worst, where.c_str(), tol);
    return worst <= tol ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
    distributed::Session mpi(argc, argv);
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "train" && argc > 2) return train(argv[2], options(argc, argv, 3));
        if (mode == "compare" && argc == 5) return compare(argv[2], argv[3], std::atof(argv[4]));
        std::cerr << "usage: dp_driver train OUT [key=value ...] | dp_driver compare A B TOL\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "dp_driver: error (rank " << mpi.rank() << " of " << mpi.size() << "): " << e.what() << '\n';
        if (mpi.size() > 1) mpi.abort(1);
        return 1;
    }
}

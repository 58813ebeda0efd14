// rgrid-finetune: fine-tune BERT for text classification on a CSV (text,label), with sliding
// windows for long texts, HF-style progress/epoch table, and HF-layout checkpoints in
// OUT/best and OUT/last. See README.md.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "rgrid/rgrid.hpp"
#include "rgrid/train/report/console_reporter.hpp"
#include "rgrid/train/trainer.hpp"

using namespace rgrid;

static const char* kUsage =
    "usage: rgrid-finetune --train CSV --val CSV [--test CSV] --out DIR (--init HF_DIR | --preset tiny|mini|small|medium|base)\n"
    "         [--epochs N] [--batch-size N] [--lr X] [--max-length L] [--stride S] [--max-windows N]\n"
    "         [--aggregation mean|max|vote] [--seed N] [--threads N] [--class-weights] [--warmup-ratio X]\n"
    "         [--weight-decay X] [--patience N] [--logging-steps N] [--vocab FILE] [--text-col C] [--label-col C]\n";

int main(int argc, char** argv) try {
    rgrid::tune_allocator();  // reuse freed buffers step to step (core/allocator.hpp)
    std::map<std::string, std::string> opt{{"--epochs", "3"}, {"--batch-size", "16"}, {"--lr", "5e-5"},
                                           {"--max-length", "512"}, {"--stride", "128"}, {"--max-windows", "0"},
                                           {"--aggregation", "mean"}, {"--seed", "42"}, {"--threads", "0"},
                                           {"--warmup-ratio", "0.1"}, {"--weight-decay", "0.01"}, {"--patience", "0"},
                                           {"--logging-steps", "50"}, {"--vocab", RGRID_DEFAULT_VOCAB},
                                           {"--text-col", "text"}, {"--label-col", "label"}};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") return std::cout << kUsage, 0;
        if (a == "--class-weights") opt[a] = "1";
        else if (a.rfind("--", 0) == 0 && i + 1 < argc) opt[a] = argv[++i];
        else return std::cerr << "rgrid-finetune: unexpected argument '" << a << "'\n" << kUsage, 2;
    }
    for (const char* req : {"--train", "--val", "--out"})
        if (!opt.count(req)) return std::cerr << "rgrid-finetune: " << req << " is required\n" << kUsage, 2;
    if (opt.count("--resume")) opt["--init"] = opt["--resume"], opt.erase("--preset");  // weights of DIR/last
    if (opt.count("--init") == opt.count("--preset"))
        return std::cerr << "rgrid-finetune: give exactly one of --init HF_DIR or --preset NAME\n" << kUsage, 2;
    // Malformed numbers are errors naming the option (core/parse.hpp).
    auto num = [&](const char* k) { return parse_real(k, opt.at(k)); };
    auto cnt = [&](const char* k) { return static_cast<std::size_t>(parse_count(k, opt.at(k))); };

    TrainingArguments args{.output_dir = opt["--out"], .num_train_epochs = cnt("--epochs"),
                           .per_device_train_batch_size = cnt("--batch-size"), .learning_rate = num("--lr"),
                           .warmup_ratio = num("--warmup-ratio"), .weight_decay = num("--weight-decay"),
                           .max_length = cnt("--max-length"), .stride = cnt("--stride"),
                           .max_windows = cnt("--max-windows"), .aggregation = parse_aggregation(opt["--aggregation"]),
                           .seed = cnt("--seed"), .threads = cnt("--threads"),
                           .early_stopping_patience = cnt("--patience"), .class_weights = opt.count("--class-weights") > 0,
                           .logging_steps = cnt("--logging-steps")};
    args.validate();
    if (args.threads) set_num_threads(args.threads);

    Dataset train = Dataset::from_csv(opt["--train"], opt["--text-col"], opt["--label-col"]);
    RGRID_CHECK(!train.examples.empty(), opt["--train"], ": no rows to train on");
    // Labels come from the training set; validation/test labels must be among them.
    Dataset val = Dataset::from_csv(opt["--val"], opt["--text-col"], opt["--label-col"], train.label_names);
    std::cout << "[data] " << train.size() << " training and " << val.size() << " validation documents, "
              << train.num_labels() << " labels:";
    for (const auto& l : train.label_names) std::cout << ' ' << l;
    std::cout << '\n';

    Rng init_rng(args.seed);
    std::shared_ptr<BertForSequenceClassification<float>> model;
    std::shared_ptr<const BertTokenizer> tokenizer;
    std::string vocab = opt.count("--init") ? opt["--init"] + "/vocab.txt" : opt["--vocab"];
    if (opt.count("--preset")) {
        tokenizer = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(vocab));
        BertConfig cfg = BertConfig::preset(opt["--preset"]);
        cfg.vocab_size = tokenizer->vocab().size();
        cfg.id2label = train.label_names;
        model = std::make_shared<BertForSequenceClassification<float>>(cfg, init_rng);
        std::cout << "[model] BERT preset '" << opt["--preset"] << "' from scratch: " << cfg.num_hidden_layers
                  << " layers, hidden " << cfg.hidden_size << ", " << model->num_parameters() << " parameters\n";
    } else {
        model = from_pretrained<float>(opt["--init"], {.id2label = train.label_names, .seed = args.seed, .log = &std::cout});
        tokenizer = std::make_shared<const BertTokenizer>(tokenizer_from_pretrained(opt["--init"]));
        std::cout << "[model] initialized from " << opt["--init"] << " (" << model->num_parameters() << " parameters)\n";
    }

    Trainer trainer(model, tokenizer, vocab, args, train, val);
    if (opt.count("--resume")) trainer.resume_from(opt["--resume"]);
    const bool tty = isatty(fileno(stdout));
    trainer.add_callback(console_reporter(std::cout, {.redraw = tty, .line_every = tty ? std::size_t(0) : std::size_t(50)}));
    TrainOutput out = trainer.train();
    std::cout << "[out] best model: " << args.output_dir << "/best/  last model: " << args.output_dir
              << "/last/  metrics: " << args.output_dir << "/metrics.jsonl  curves: " << args.output_dir
              << "/curves.svg\n";

    if (opt.count("--test")) {
        Dataset test = Dataset::from_csv(opt["--test"], opt["--text-col"], opt["--label-col"], train.label_names);
        auto best = Predictor::from_pretrained(args.output_dir + "/best");
        EvalReport r = evaluate(best, test, "test");
        std::printf("\n***** Test metrics (best checkpoint, %zu documents, %zu windows, %s aggregation) *****\n",
                    r.documents, r.windows, aggregation_name(args.aggregation));
        std::printf("test_accuracy = %.4f\ntest_f1 (weighted) = %.4f\ntest_precision = %.4f\ntest_recall = %.4f\n"
                    "test_macro_f1 = %.4f\ntest_loss = %.4f\n\n",
                    r.accuracy, r.weighted.f1, r.weighted.precision, r.weighted.recall, r.macro.f1, r.loss);
        std::cout << r.classification_report() << '\n' << confusion_table(r.confusion, r.label_names);
        write_confusion_svg(args.output_dir + "/confusion_test.svg", r.confusion, r.label_names,
                            "Test (best checkpoint, " + std::to_string(r.documents) + " documents)");
        std::cout << "[out] confusion heat map: " << args.output_dir << "/confusion_test.svg\n";
        MetricsLog(args.output_dir + "/metrics.jsonl", false)
            .write({{"type", std::string("test")}, {"test_accuracy", r.accuracy}, {"test_f1", r.weighted.f1},
                    {"test_macro_f1", r.macro.f1}, {"test_loss", r.loss}, {"documents", std::int64_t(r.documents)}});
    }
    (void)out;
    return 0;
} catch (const std::exception& e) {
    std::cerr << "rgrid-finetune: error: " << e.what() << '\n';
    return 1;
}

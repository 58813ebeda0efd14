// rgrid-finetune: fine-tune BERT for text classification on a CSV (text,label), with sliding
// windows for long texts, HF-style progress/epoch table, and HF-layout checkpoints in
// OUT/best and OUT/last. See README.md.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <limits>
#include <string>

#include "common/cli.hpp"
#include "common/distributed.hpp"
#include "rgrid/rgrid.hpp"
#include "rgrid/train/report/console_reporter.hpp"
#include "rgrid/train/trainer.hpp"
#include "rgrid/train/training_state.hpp"

using namespace rgrid;

static int run(int argc, char** argv, cli::Distributed& dist) {
    rgrid::tune_allocator();  // reuse freed buffers step to step (core/allocator.hpp)
    CLI::App app{"Fine-tunes a BERT classifier on a CSV (text,label) with sliding windows for long texts; writes "
                 "OUT/best and OUT/last (HF layout), OUT/metrics.jsonl and OUT/curves.svg.",
                 "rgrid-finetune"};
    cli::conventions(app);
    TrainingArguments args;  // the options below write straight into it; these are the program's defaults
    args.warmup_ratio = 0.1;
    std::string train_csv, val_csv, test_csv, init, preset, resume, aggregation = "mean";
    std::string vocab_file = RGRID_DEFAULT_VOCAB, text_col = "text", label_col = "label";
    app.add_option("--train", train_csv, "training CSV; its labels are the model's labels")
        ->required()->type_name("CSV");
    app.add_option("--val", val_csv, "validation CSV (evaluated after every epoch)")->required()->type_name("CSV");
    app.add_option("--test", test_csv, "test CSV, evaluated with the best checkpoint at the end")->type_name("CSV");
    app.add_option("--out", args.output_dir, "output directory")->required()->type_name("DIR");
    auto* init_opt = app.add_option("--init", init, "start from this checkpoint directory (HF layout, safetensors)")
                         ->type_name("HF_DIR");
    auto* preset_opt = app.add_option("--preset", preset, "train from scratch: tiny (2 layers/128 hidden), "
                                      "mini (4/256), small (4/512), medium (8/512) or base (12/768)")
                           ->type_name("NAME")
                           ->check(cli::accepted_by([](const std::string& name) { BertConfig::preset(name); }));
    init_opt->excludes(preset_opt);
    auto* resume_opt = app.add_option("--resume", resume, "continue an interrupted run: its output directory (its "
                                      "last/ is used) or a checkpoint with training_state.safetensors")
                           ->type_name("DIR");
    app.add_option("--epochs", args.num_train_epochs, "epochs (evaluation and saving after each)")
        ->check(cli::count(1));
    app.add_option("--batch-size", args.per_device_train_batch_size, "windows per micro-batch (per optimizer step without accumulation)")
        ->check(cli::count(1));
    app.add_option("--gradient-accumulation-steps", args.gradient_accumulation_steps, "micro-batches of --batch-size "
                   "per optimizer step (the loss of each scaled by 1/N; effective batch N x batch size)")
        ->check(cli::count(1));
    app.add_option("--lr", args.learning_rate, "peak learning rate (AdamW; linear warmup, then linear decay to 0)")
        ->check(cli::real(0, std::numeric_limits<double>::infinity(), /*lo_open=*/true));
    app.add_option("--max-length", args.max_length, "window length incl. [CLS] and [SEP]")->check(cli::count(3, 512));
    app.add_option("--stride", args.stride, "overlap of consecutive windows (< max-length - 2)")->check(cli::count());
    app.add_option("--max-windows", args.max_windows, "windows per training document, 0 = all")
        ->check(cli::count());
    app.add_option("--eval-max-windows", args.eval_max_windows,
                   "windows per validation/test document (the first ones), 0 = all; saved in "
                   "inference_config.json, so rgrid-predict and rgrid-serve use it too")
        ->check(cli::count());
    app.add_option("--aggregation", aggregation, "window logits -> document (vote: ties go to the lowest label id)")
        ->check(CLI::IsMember({"mean", "max", "vote"}));
    app.add_option("--seed", args.seed, "same seed + data + threads give the same weights")->check(cli::count());
    app.add_option("--threads", args.threads, "compute threads, 0 = all cores")->check(cli::count(0, cli::kMaxThreads));
    app.add_flag("--class-weights", args.class_weights, "weight the loss by n / (K * n_k) from the training documents");
    app.add_option("--warmup-ratio", args.warmup_ratio, "share of the steps with linear warmup")
        ->check(cli::real(0, 1));
    app.add_option("--weight-decay", args.weight_decay, "AdamW weight decay (not on biases and LayerNorm)")
        ->check(cli::real(0));
    app.add_option("--patience", args.early_stopping_patience, "stop after N epochs without a better validation F1, "
                   "0 = off")->check(cli::count());
    app.add_option("--logging-steps", args.logging_steps, "a metrics.jsonl line every N steps")->check(cli::count(1));
    double mpi_timeout = 300;
    app.add_option("--mpi-timeout", mpi_timeout, "under mpirun/srun: a collective that waits longer than this many "
                   "seconds stops the job (a dead or stuck rank)")->check(cli::real(0, 1e9, /*lo_open=*/true));
    app.add_option("--vocab", vocab_file, "vocab.txt for --preset")->type_name("FILE");
    app.add_option("--text-col", text_col, "name of the text column");
    app.add_option("--label-col", label_col, "name of the label column");
    app.callback([&] {
        if (!init_opt->count() && !preset_opt->count() && !resume_opt->count())
            throw CLI::RequiredError("--init HF_DIR or --preset NAME");
    });
    if (auto status = cli::parse(app, argc, argv)) return *status;
    args.aggregation = parse_aggregation(aggregation);
    args.validate();
    if (args.threads) set_num_threads(args.threads);
    if (!dist.is_main()) std::cout.rdbuf(nullptr);  // under MPI only rank 0 prints (and writes files)
    args = dist.adapt(args, mpi_timeout);

    // --resume: the weights and the training state come from the checkpoint; a --preset or
    // --init given as well (the original command line repeated) must describe the same model.
    std::string from = init;  // the checkpoint the weights come from (unused with --preset)
    if (resume_opt->count()) {
        from = find_resume_checkpoint(resume);
        dist.check_resume(from);  // the same number of ranks as the interrupted run
        if (from != resume)
            std::cout << "[resume] " << resume << " is a run's output directory: continuing from " << from << '\n';
        const BertConfig saved = BertConfig::load(from + "/config.json");
        if (preset_opt->count()) check_same_model_size(saved, BertConfig::preset(preset), "--preset " + preset, from);
        if (init_opt->count())
            check_same_model_size(saved, BertConfig::load(init + "/config.json"), "--init " + init, from);
        const auto changed = changed_settings(load_training_settings(from + "/training_state.safetensors"),
                                              training_settings(args));
        if (!changed.empty()) std::cerr << "rgrid-finetune: warning: these settings differ from the interrupted run's "
                                           "(the new values apply from here on):\n";
        for (const auto& c : changed) std::cerr << "  " << c << '\n';
    }

    Dataset train = Dataset::from_csv(train_csv, text_col, label_col);
    RGRID_CHECK(!train.examples.empty(), train_csv, ": no rows to train on");
    // Labels come from the training set; validation/test labels must be among them.
    Dataset val = Dataset::from_csv(val_csv, text_col, label_col, train.label_names);
    std::cout << "[data] " << train.size() << " training and " << val.size() << " validation documents, "
              << train.num_labels() << " labels:";
    for (const auto& l : train.label_names) std::cout << ' ' << l;
    std::cout << '\n';

    Rng init_rng(args.seed);
    std::shared_ptr<BertForSequenceClassification<float>> model;
    std::shared_ptr<const BertTokenizer> tokenizer;
    const bool from_scratch = preset_opt->count() && !resume_opt->count();
    const std::string vocab = from_scratch ? vocab_file : from + "/vocab.txt";
    if (from_scratch) {
        tokenizer = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(vocab));
        BertConfig cfg = BertConfig::preset(preset);
        cfg.vocab_size = tokenizer->vocab().size();
        cfg.id2label = train.label_names;
        model = std::make_shared<BertForSequenceClassification<float>>(cfg, init_rng);
        std::cout << "[model] BERT preset '" << preset << "' from scratch: " << cfg.num_hidden_layers
                  << " layers, hidden " << cfg.hidden_size << ", " << model->num_parameters() << " parameters\n";
    } else {
        model = from_pretrained<float>(from, {.id2label = train.label_names, .seed = args.seed, .log = &std::cout});
        tokenizer = std::make_shared<const BertTokenizer>(tokenizer_from_pretrained(from));
        std::cout << "[model] initialized from " << from << " (" << model->num_parameters() << " parameters)\n";
    }

    Trainer trainer(dist.wrap(std::make_shared<ClassificationObjective>(model, tokenizer, vocab, args, train, val)),
                    args);
    if (resume_opt->count()) trainer.resume_from(from);  // every rank reads rank 0's checkpoint
    dist.attach(trainer);  // MPI: rank 0's weights to all, gradient all-reduce (docs/distributed.md)
    const bool tty = isatty(fileno(stdout));
    trainer.add_callback(console_reporter(std::cout, {.redraw = tty, .line_every = tty ? std::size_t(0) : std::size_t(50)}));
    TrainOutput out = trainer.train();
    std::cout << "[out] best model: " << args.output_dir << "/best/  last model: " << args.output_dir
              << "/last/  metrics: " << args.output_dir << "/metrics.jsonl  curves: " << args.output_dir
              << "/curves.svg\n";

    if (app.count("--test") && dist.is_main()) {
        Dataset test = Dataset::from_csv(test_csv, text_col, label_col, train.label_names);
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
}

int main(int argc, char** argv) {  // MPI when started by mpirun/srun
    return cli::distributed_main(argc, argv, "rgrid-finetune", run);
}

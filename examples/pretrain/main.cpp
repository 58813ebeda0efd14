// rgrid-pretrain: masked-language-model pretraining of BERT on your own texts (CSV text columns
// or plain-text files), continuing a checkpoint (domain/task-adaptive pretraining, --init) or
// from scratch (--preset), with the fine-tuning loop's progress bar, epoch table, metrics.jsonl,
// curves.svg, atomic HF-layout checkpoints in OUT/best and OUT/last, and exact --resume.
// OUT/best then fine-tunes with `rgrid-finetune --init OUT/best`. See README.md.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/distributed.hpp"
#include "rgrid/rgrid.hpp"
#include "rgrid/train/mlm_objective.hpp"
#include "rgrid/train/report/mlm_report.hpp"
#include "rgrid/train/trainer.hpp"
#include "rgrid/train/training_state.hpp"

using namespace rgrid;

namespace {
/// The documents of one --train file: a CSV's text column (.csv) or a text file's paragraphs.
std::vector<std::string> read_corpus_file(const std::string& path, const std::string& text_column, bool lines) {
    if (std::filesystem::path(path).extension() != ".csv")
        return read_text_documents(path, lines ? TextUnit::Line : TextUnit::Paragraph);
    const CsvTable t = read_csv(path);
    const std::size_t col = t.column(text_column);
    std::vector<std::string> docs;
    for (const auto& row : t.rows)
        if (col < row.size() && row[col].find_first_not_of(" \t\r\n") != std::string::npos) docs.push_back(row[col]);
    if (t.utf8_repairs)
        std::cerr << "rgrid-pretrain: warning: " << path << ": " << t.utf8_repairs << " invalid UTF-8 sequences in "
                  << t.utf8_repaired_rows << " rows were replaced by U+FFFD\n";
    return docs;
}
}  // namespace

static int run(int argc, char** argv, cli::Distributed& dist) {
    rgrid::tune_allocator();
    CLI::App app{"Masked-LM pretraining of BERT on your texts (run_mlm.py semantics): continue a checkpoint "
                 "(--init, e.g. task-adaptive pretraining) or start from scratch (--preset); writes OUT/best, "
                 "OUT/last (HF layout, BertForMaskedLM), OUT/metrics.jsonl and OUT/curves.svg.",
                 "rgrid-pretrain"};
    cli::conventions(app);
    TrainingArguments args;  // HF run_mlm defaults except max_length (128: CPU) and the batch size
    args.per_device_train_batch_size = 8;
    args.max_length = 128;
    args.stride = 0;
    std::vector<std::string> train_files;
    std::string init, preset, resume, blocks = "group", text_column = "text", vocab_file = RGRID_DEFAULT_VOCAB;
    double mlm_probability = 0.15, eval_share = 0.05;
    bool whole_word = false, line_by_line = false;
    app.add_option("--train", train_files, "corpus files: .csv (its --text-column) or plain UTF-8 text (a document "
                   "per paragraph)")->required()->type_name("CSV|TXT...")->check(CLI::ExistingFile);
    app.add_option("--out", args.output_dir, "output directory")->required()->type_name("DIR");
    auto* init_opt = app.add_option("--init", init, "continue pretraining this checkpoint (HF layout; a BertModel "
                                    "such as models/minilm-l6 gets a fresh MLM head)")->type_name("HF_DIR");
    auto* preset_opt = app.add_option("--preset", preset, "pretrain from scratch: tiny, mini, small, medium or base")
                           ->type_name("NAME")
                           ->check(cli::accepted_by([](const std::string& name) { BertConfig::preset(name); }));
    init_opt->excludes(preset_opt);
    auto* resume_opt = app.add_option("--resume", resume, "continue an interrupted run: its output directory or a "
                                      "checkpoint with training_state.safetensors")->type_name("DIR");
    app.add_option("--epochs", args.num_train_epochs, "passes over the training blocks")->check(cli::count(1));
    app.add_option("--max-steps", args.max_steps, "stop after this many optimizer steps (overrides --epochs), 0 = off")
        ->check(cli::count());
    app.add_option("--mlm-probability", mlm_probability, "share of the tokens chosen for prediction, in (0, 1)")
        ->check(cli::real())
        ->check(cli::accepted_by([](const std::string& s) { MaskedLmOptions{.mlm_probability = std::stod(s)}.validate(); }));
    app.add_flag("--whole-word-mask", whole_word, "choose all ## pieces of a word together");
    app.add_option("--max-length", args.max_length, "block length incl. [CLS] and [SEP]")->check(cli::count(3, 512));
    app.add_option("--blocks", blocks, "group: concatenate documents and cut into full blocks (run_mlm); windows: "
                   "each document on its own, in sliding windows")->check(CLI::IsMember({"group", "windows"}));
    app.add_option("--stride", args.stride, "--blocks windows: tokens shared by consecutive windows")
        ->check(cli::count());
    app.add_option("--eval-share", eval_share, "share of the documents held out for the eval loss and perplexity "
                   "(0 = no evaluation)")->check(cli::real(0, 0.9));
    app.add_option("--text-column", text_column, "text column of the .csv files");
    app.add_flag("--line-by-line", line_by_line, "text files: every non-blank line is a document");
    app.add_option("--batch-size", args.per_device_train_batch_size, "blocks per micro-batch (per rank under mpirun); "
                   "an optimizer step sees batch size x accumulation steps x ranks")->check(cli::count(1));
    app.add_option("--gradient-accumulation-steps", args.gradient_accumulation_steps,
                   "micro-batches whose gradients are summed before each optimizer step")->check(cli::count(1));
    app.add_option("--lr", args.learning_rate, "peak learning rate (AdamW; linear warmup, then linear decay to 0)")
        ->check(cli::real(0, std::numeric_limits<double>::infinity(), /*lo_open=*/true));
    app.add_option("--warmup-ratio", args.warmup_ratio, "share of the steps with linear warmup")->check(cli::real(0, 1));
    app.add_option("--weight-decay", args.weight_decay, "AdamW weight decay (not on biases and LayerNorm)")
        ->check(cli::real(0));
    app.add_option("--seed", args.seed, "same seed + data + threads give the same weights")->check(cli::count());
    app.add_option("--threads", args.threads, "compute threads, 0 = all cores")->check(cli::count(0, cli::kMaxThreads));
    app.add_option("--logging-steps", args.logging_steps, "a metrics.jsonl line every N steps")->check(cli::count(1));
    double mpi_timeout = 300;
    app.add_option("--mpi-timeout", mpi_timeout, "under mpirun/srun: a collective that waits longer than this many "
                   "seconds stops the job (a dead or stuck rank)")->check(cli::real(0, 1e9, /*lo_open=*/true));
    app.add_option("--vocab", vocab_file, "vocab.txt for --preset")->type_name("FILE");
    app.callback([&] {
        if (!init_opt->count() && !preset_opt->count() && !resume_opt->count())
            throw CLI::RequiredError("--init HF_DIR or --preset NAME");
    });
    if (auto status = cli::parse(app, argc, argv)) return *status;
    args.evaluate_each_epoch = eval_share > 0;
    args.validate();
    if (args.threads) set_num_threads(args.threads);
    if (!dist.is_main()) std::cout.rdbuf(nullptr);  // under MPI only rank 0 prints (and writes files)
    args = dist.adapt(args, mpi_timeout);

    std::string from = init;  // where the weights come from (unused with --preset)
    if (resume_opt->count()) {
        from = find_resume_checkpoint(resume);
        dist.check_resume(from);  // the same number of ranks as the interrupted run
        if (from != resume) std::cout << "[resume] continuing from " << from << '\n';
        const BertConfig saved = BertConfig::load(from + "/config.json");
        if (preset_opt->count()) check_same_model_size(saved, BertConfig::preset(preset), "--preset " + preset, from);
        if (init_opt->count()) check_same_model_size(saved, BertConfig::load(init + "/config.json"), "--init " + init, from);
        const auto changed = changed_settings(load_training_settings(from + "/training_state.safetensors"),
                                              training_settings(args));
        if (!changed.empty()) std::cerr << "rgrid-pretrain: warning: these settings differ from the interrupted run's "
                                           "(the new values apply from here on):\n";
        for (const auto& c : changed) std::cerr << "  " << c << '\n';
    }

    std::shared_ptr<BertForMaskedLM<float>> model;
    std::shared_ptr<const BertTokenizer> tokenizer;
    if (preset_opt->count() && !resume_opt->count()) {
        tokenizer = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(vocab_file));
        BertConfig cfg = BertConfig::preset(preset);
        cfg.vocab_size = tokenizer->vocab().size();
        Rng init_rng(args.seed);
        model = std::make_shared<BertForMaskedLM<float>>(cfg, init_rng);
        std::cout << "[model] BERT preset '" << preset << "' from scratch: " << cfg.num_hidden_layers << " layers, hidden "
                  << cfg.hidden_size << ", " << model->num_parameters() << " parameters\n";
    } else {
        model = masked_lm_from_pretrained<float>(from, {.seed = args.seed, .log = &std::cout});
        tokenizer = std::make_shared<const BertTokenizer>(tokenizer_from_pretrained(from));
        std::cout << "[model] initialized from " << from << " (" << model->num_parameters() << " parameters)\n";
    }

    std::vector<std::string> texts;
    std::string sources;
    for (const auto& f : train_files) {
        auto docs = read_corpus_file(f, text_column, line_by_line);
        std::cout << "[data] " << f << ": " << docs.size() << " documents\n";
        texts.insert(texts.end(), std::make_move_iterator(docs.begin()), std::make_move_iterator(docs.end()));
        sources += (sources.empty() ? "" : ", ") + f;
    }
    RGRID_CHECK(!texts.empty(), "--train ", sources, ": empty corpus (no document with text",
                line_by_line ? "" : "; text files hold one document per paragraph", ")");
    const TextBlockOptions block_opt{.max_length = args.max_length,
                                     .mode = blocks == "group" ? BlockMode::Concatenate : BlockMode::SlidingWindow,
                                     .stride = args.stride, .eval_share = eval_share, .seed = args.seed};
    TextBlocks tb;
    try {
        tb = make_text_blocks(*tokenizer, texts, block_opt);
    } catch (const Error& e) {
        throw Error("--train " + sources + ": " + e.what());
    }
    std::cout << "[data] " << texts.size() << " documents, " << tb.content_tokens << " tokens -> " << tb.train.size()
              << " training and " << tb.eval.size() << " held-out blocks of " << args.max_length << " ("
              << (blocks == "group" ? "concatenated; " + std::to_string(tb.dropped_tokens) +
                                              " tokens of the last partial blocks dropped"
                                        : std::string("sliding windows"))
              << ")\n";

    const MaskedLmOptions masking{.mlm_probability = mlm_probability, .whole_word_mask = whole_word};
    auto objective = std::make_shared<MaskedLmObjective>(model, tokenizer, std::move(tb), args, masking);
    Trainer trainer(dist.wrap(objective), args);
    if (resume_opt->count()) trainer.resume_from(from);  // every rank reads rank 0's checkpoint
    dist.attach(trainer);  // MPI: rank 0's weights to all, gradient all-reduce (docs/distributed.md)
    if (dist.is_main()) trainer.add_callback(mlm_curves_reporter(args.output_dir + "/curves.svg", args.logging_steps));
    const bool tty = isatty(fileno(stdout));
    trainer.add_callback(
        mlm_console_reporter(std::cout, {.redraw = tty, .line_every = tty ? std::size_t(0) : std::size_t(50)}));
    trainer.train();
    std::cout << "[out] best model: " << args.output_dir << "/best/  last model: " << args.output_dir
              << "/last/  metrics: " << args.output_dir << "/metrics.jsonl  curves: " << args.output_dir
              << "/curves.svg\n[next] fine-tune it: rgrid-finetune --init " << args.output_dir
              << "/best --train TRAIN.csv --val VAL.csv --out RUN\n";
    return 0;
}

int main(int argc, char** argv) {  // MPI when started by mpirun/srun
    return cli::distributed_main(argc, argv, "rgrid-pretrain", run);
}

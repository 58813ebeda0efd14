#pragma once
// Hugging Face checkpoint directories: load_state_dict (with HF's legacy renames),
// save_pretrained / from_pretrained. A directory written here loads in transformers with
// BertForSequenceClassification.from_pretrained(dir) and BertTokenizer.from_pretrained(dir),
// and one written by transformers (safetensors) loads here. Every file is written
// atomically: temp file + fsync + rename, then fsync of the directory, so a crash mid-save
// never leaves a half-written checkpoint behind.
// https://huggingface.co/docs/transformers/main_classes/model#transformers.PreTrainedModel.save_pretrained
#include <cerrno>
#include <cstddef>
#include <cstdio>  // renameat2, RENAME_EXCHANGE (glibc, _GNU_SOURCE)
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>  // kill(pid, 0): is a temp file's writer still alive
#include <unistd.h>

#include "rgrid/core/error.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/io/json.hpp"
#include "rgrid/io/safetensors.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/bert_config.hpp"
#include "rgrid/nn/module.hpp"

namespace rgrid {

/// Whether load_state_dict() demands an exact key match (torch strict=True).
enum class Strict { No, Yes };

/// What load_state_dict() did besides copying tensors.
struct LoadReport {
    std::vector<std::string> missing;      // model parameters the checkpoint lacks (kept as initialized)
    std::vector<std::string> unexpected;   // checkpoint keys that match no parameter
    std::vector<std::pair<std::string, std::string>> renamed;  // (checkpoint key, parameter name)
    std::vector<std::string> skipped;      // ignored on purpose: cls.* heads, *.position_ids, *.token_type_ids
    std::vector<std::string> reinitialized;  // parameters freshly initialized (new classifier head)
};

namespace detail {
inline bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
/// HF's legacy renames: LayerNorm.gamma -> weight, beta -> bias.
inline std::string hf_rename(std::string k) {
    if (ends_with(k, ".gamma")) return k.substr(0, k.size() - 6) + ".weight";
    if (ends_with(k, ".beta")) return k.substr(0, k.size() - 5) + ".bias";
    return k;
}
inline bool hf_skipped(const std::string& k) {
    return k.rfind("cls.", 0) == 0 || ends_with(k, ".position_ids") || ends_with(k, ".token_type_ids") ||
           k == "position_ids";
}
inline std::string join(const std::vector<std::string>& v, std::size_t max_items = 10) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > max_items) s += ", … (" + std::to_string(v.size()) + " in all)";
    return s;
}
inline void fsync_path(const std::string& path, bool directory) {
    int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    RGRID_CHECK(fd >= 0, "cannot open ", path, " to fsync: ", std::strerror(errno));
    const int rc = ::fsync(fd);
    ::close(fd);
    RGRID_CHECK(rc == 0, "fsync ", path, " failed: ", std::strerror(errno));
}
// Removes `.<name>.tmp.<pid>` files in `dir` left by writers of `name` that were killed
// (their process no longer exists). Temp files of live processes are left alone, and so is
// anything that does not parse; failures are ignored (this is only tidying).
inline void remove_stale_temps(const std::filesystem::path& dir, const std::string& name) {
    namespace fs = std::filesystem;
    const std::string prefix = "." + name + ".tmp.";
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string f = it->path().filename().string();
        if (f.size() <= prefix.size() || f.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string digits = f.substr(prefix.size());
        if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            std::error_code rm;
            fs::remove(it->path(), rm);
        }
    }
}
}  // namespace detail

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename
/// over `path`, fsync of the directory. Readers see the old file or the new one, never a mix.
/// Temp files of `path` left by killed writers (`.<name>.tmp.<dead pid>`) are removed.
/// Example: `write_file_atomic("out/config.json", cfg.to_json().dump(2));`
inline void write_file_atomic(const std::string& path, const void* bytes, std::size_t size) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string tmp = (dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    RGRID_CHECK(fd >= 0, "cannot create ", tmp, ": ", std::strerror(errno));
    const char* p = static_cast<const char*>(bytes);
    std::size_t left = size;
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error(detail::concat("write to ", tmp, " failed: ", std::strerror(e)));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error(detail::concat("fsync/close of ", tmp, " failed: ", std::strerror(e)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error(detail::concat("rename ", tmp, " -> ", path, " failed: ", std::strerror(e)));
    }
    detail::fsync_path(dir.string(), /*directory=*/true);
    detail::remove_stale_temps(dir, target.filename().string());
}
inline void write_file_atomic(const std::string& path, const std::string& text) {
    write_file_atomic(path, text.data(), text.size());
}

/// Puts the complete directory `staging` in place of `target` in one atomic step
/// (renameat2 RENAME_EXCHANGE, then the old contents are removed): a reader or a crash at
/// any moment sees either the whole old directory or the whole new one, never a mix of
/// files from two saves. `staging` must be on the same filesystem (a sibling of `target`).
/// Example: `save_pretrained(model, "out/last.tmp", vocab); replace_directory_atomic("out/last.tmp", "out/last");`
inline void replace_directory_atomic(const std::string& staging, const std::string& target) {
    namespace fs = std::filesystem;
    const fs::path t(target);
    const fs::path parent = t.has_parent_path() ? t.parent_path() : fs::path(".");
    detail::fsync_path(staging, /*directory=*/true);  // its files were fsynced by their writers
    if (fs::exists(t)) {
        if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
            // Filesystems without RENAME_EXCHANGE: plain renames. A crash between them leaves
            // no `target`, the previous checkpoint complete in `target.old` and the new one in `staging`.
            RGRID_CHECK(errno == EINVAL || errno == ENOSYS || errno == ENOTSUP, "cannot swap ", staging,
                        " into place as ", target, ": ", std::strerror(errno));
            const std::string old = target + ".old";
            fs::remove_all(old);
            RGRID_CHECK(::rename(target.c_str(), old.c_str()) == 0, "cannot rename ", target, " to ", old, ": ",
                        std::strerror(errno));
            RGRID_CHECK(::rename(staging.c_str(), target.c_str()) == 0, "cannot rename ", staging, " to ", target,
                        ": ", std::strerror(errno));
            RGRID_CHECK(::rename(old.c_str(), staging.c_str()) == 0, "cannot rename ", old, " to ", staging, ": ",
                        std::strerror(errno));
        }
        detail::fsync_path(parent.string(), /*directory=*/true);
        std::error_code ec;
        fs::remove_all(staging, ec);  // now holds the previous checkpoint
        RGRID_CHECK(!ec, "cannot remove the previous checkpoint ", staging, ": ", ec.message());
    } else {
        RGRID_CHECK(::rename(staging.c_str(), target.c_str()) == 0, "cannot rename ", staging, " to ", target, ": ",
                    std::strerror(errno));
    }
    detail::fsync_path(parent.string(), /*directory=*/true);
}

/// The module's parameters as a TensorMap keyed by their dotted names (F32 for float).
template <class T>
safetensors::TensorMap state_dict(const Module<T>& module) {
    safetensors::TensorMap m;
    for (const auto& [name, p] : module.named_parameters()) m[name] = safetensors::StoredTensor::from(p->value());
    return m;
}

/// Copies checkpoint tensors into the module's parameters (converting dtype), accepting
/// HF's variants: `gamma`/`beta` for LayerNorm, keys without the `bert.` prefix; `cls.*`
/// heads and `*.position_ids` buffers are skipped. A wrong shape throws naming the key and
/// both shapes. With Strict::Yes, missing or unexpected keys throw listing them.
/// Example: `auto rep = load_state_dict(model, safetensors::read(path), Strict::No);`
template <class T>
LoadReport load_state_dict(Module<T>& module, const safetensors::TensorMap& map, Strict strict = Strict::Yes) {
    LoadReport rep;
    auto named = module.named_parameters();
    std::map<std::string, Var<T>*> params(named.begin(), named.end());
    std::set<std::string> loaded;
    std::vector<std::pair<std::string, std::pair<std::string, const safetensors::StoredTensor*>>> plan;
    for (const auto& [key, t] : map) {
        if (detail::hf_skipped(key)) {
            rep.skipped.push_back(key);
            continue;
        }
        std::string name = detail::hf_rename(key);
        if (!params.count(name) && params.count("bert." + name)) name = "bert." + name;  // bare BertModel checkpoint
        if (!params.count(name) && name.rfind("bert.", 0) == 0 && params.count(name.substr(5)))
            name = name.substr(5);  // a classifier checkpoint loaded into a BertModel
        if (!params.count(name)) {
            rep.unexpected.push_back(key);
            continue;
        }
        if (name != key) rep.renamed.emplace_back(key, name);
        RGRID_CHECK(!loaded.count(name), "load_state_dict: parameter ", name, " appears twice in the checkpoint (key ",
                    key, ")");
        loaded.insert(name);
        Var<T>* p = params[name];
        RGRID_CHECK(shape_of(p->value()) == t.shape, "load_state_dict: ", key, " has shape ", shape_str(t.shape),
                    " in the checkpoint but the model's ", name, " is ", shape_str(p->value().shape()));
        plan.push_back({name, {key, &t}});
    }
    for (const auto& [name, p] : named)
        if (!loaded.count(name)) rep.missing.push_back(name);
    if (strict == Strict::Yes) {
        RGRID_CHECK(rep.missing.empty(), "load_state_dict (strict): missing keys: ", detail::join(rep.missing));
        RGRID_CHECK(rep.unexpected.empty(), "load_state_dict (strict): unexpected keys: ", detail::join(rep.unexpected));
    }
    for (const auto& [name, src] : plan) {
        Tensor<T> v;
        try {
            v = src.second->template as<T>();
        } catch (const Error& e) {
            throw Error(detail::concat("load_state_dict: ", src.first, ": ", e.what()));
        }
        Var<T>* p = params[name];
        std::copy(v.data(), v.data() + v.size(), p->data());
        p->zero_grad();
    }
    return rep;
}

/// Options of from_pretrained(): a new label set re-creates the classifier head when its
/// size differs from the checkpoint's (fine-tuning a pretrained encoder).
struct PretrainedOptions {
    std::optional<std::vector<std::string>> id2label;  // label names (index = class id)
    std::optional<std::size_t> num_labels;             // or just a count (LABEL_0, …)
    std::uint64_t seed = 0;                            // init of anything the checkpoint lacks
};

/// Writes an HF checkpoint directory: config.json, model.safetensors, vocab.txt (copied from
/// `vocab_path`), tokenizer_config.json. Each file is written atomically.
/// Example: `save_pretrained(model, "runs/spam/best", "vocab.txt");`
template <class T>
void save_pretrained(const BertForSequenceClassification<T>& model, const std::string& dir,
                     const std::string& vocab_path, bool do_lower_case = true) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    RGRID_CHECK(!ec && fs::is_directory(dir), "save_pretrained: cannot create directory ", dir, ": ", ec.message());
    std::ifstream vin(vocab_path, std::ios::binary);
    RGRID_CHECK(vin, "save_pretrained: cannot read the tokenizer vocabulary ", vocab_path);
    std::stringstream vocab;
    vocab << vin.rdbuf();
    const auto bytes = safetensors::serialize(state_dict(model), {{"format", "pt"}});
    write_file_atomic((fs::path(dir) / "model.safetensors").string(), bytes.data(), bytes.size());
    write_file_atomic((fs::path(dir) / "config.json").string(), model.config().to_json().dump(2) + "\n");
    write_file_atomic((fs::path(dir) / "vocab.txt").string(), vocab.str());
    json tc = {{"do_lower_case", do_lower_case},
               {"model_max_length", 512},
               {"tokenizer_class", "BertTokenizer"},
               {"unk_token", "[UNK]"},
               {"sep_token", "[SEP]"},
               {"pad_token", "[PAD]"},
               {"cls_token", "[CLS]"},
               {"mask_token", "[MASK]"},
               {"tokenize_chinese_chars", true},
               {"strip_accents", nullptr}};
    write_file_atomic((fs::path(dir) / "tokenizer_config.json").string(), tc.dump(2) + "\n");
}

/// Reads do_lower_case from `dir`/tokenizer_config.json (true when absent, as HF BERT).
inline bool pretrained_do_lower_case(const std::string& dir) {
    const std::string path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
    std::ifstream in(path);
    if (!in) return true;
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    RGRID_CHECK(!j.is_discarded() && j.is_object(), path, " is not a JSON object");
    if (!j.contains("do_lower_case")) return true;
    RGRID_CHECK(j["do_lower_case"].is_boolean(), path, ": do_lower_case must be true or false");
    return j["do_lower_case"].get<bool>();
}

/// Loads an HF checkpoint directory (config.json + model.safetensors). Legacy names are
/// accepted (see load_state_dict); a checkpoint without a classifier (a pretrained encoder)
/// gets a fresh head for the requested labels; a label override of a different size
/// replaces the stored head. Anything else missing, or any unexpected key, is an error.
/// Example:
///   LoadReport rep;
///   auto model = from_pretrained<float>("bert-tiny/", {.id2label = ds.label_names}, &rep);
template <class T>
std::unique_ptr<BertForSequenceClassification<T>> from_pretrained(const std::string& dir,
                                                                   const PretrainedOptions& options = {},
                                                                   LoadReport* report = nullptr) {
    namespace fs = std::filesystem;
    RGRID_CHECK(fs::is_directory(dir), "from_pretrained: ", dir, " is not a directory");
    const fs::path weights = fs::path(dir) / "model.safetensors";
    RGRID_CHECK(fs::exists(weights), "from_pretrained: ", weights.string(),
                " not found (only safetensors checkpoints are read; convert pytorch_model.bin with "
                "transformers: model.save_pretrained(dir, safe_serialization=True))");
    BertConfig cfg = BertConfig::load((fs::path(dir) / "config.json").string());
    const std::size_t stored_k = cfg.num_labels();
    if (options.id2label) {
        cfg.id2label = *options.id2label;
    } else if (options.num_labels && *options.num_labels != stored_k) {
        cfg.set_num_labels(*options.num_labels);
    }
    RGRID_CHECK(cfg.num_labels() > 0, "from_pretrained: need at least one label");
    safetensors::TensorMap map = safetensors::read(weights.string());
    const bool override_k = cfg.num_labels() != stored_k;
    LoadReport fresh;
    if (override_k) {  // a new head: the stored classifier (if any) does not apply
        for (const char* k : {"classifier.weight", "classifier.bias"}) {
            if (map.erase(k)) fresh.skipped.push_back(k);
        }
    }
    Rng rng(options.seed);
    auto model = std::make_unique<BertForSequenceClassification<T>>(cfg, rng);
    LoadReport rep;
    try {
        rep = load_state_dict(*model, map, Strict::No);
    } catch (const Error& e) {
        throw Error(detail::concat("from_pretrained: ", weights.string(), ": ", e.what()));
    }
    rep.skipped.insert(rep.skipped.end(), fresh.skipped.begin(), fresh.skipped.end());
    std::vector<std::string> missing_other;
    for (const auto& m : rep.missing) {
        if (m == "classifier.weight" || m == "classifier.bias") rep.reinitialized.push_back(m);
        else missing_other.push_back(m);
    }
    RGRID_CHECK(missing_other.empty(), "from_pretrained: ", weights.string(), " lacks ", missing_other.size(),
                " parameters: ", detail::join(missing_other));
    RGRID_CHECK(rep.unexpected.empty(), "from_pretrained: ", weights.string(), " has keys that match no parameter: ",
                detail::join(rep.unexpected));
    if (report) *report = rep;
    model->eval();
    return model;
}

}  // namespace rgrid

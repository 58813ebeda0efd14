#pragma once
// serve::App: the HTTP face of a Predictor (cpp-httplib 0.11, the Debian linked library;
// link pkg-config `cpp-httplib`). Routes:
//   GET  /          the classification page (serve/page.hpp)
//   POST /predict   {"text": "..."} → {"label", "probabilities": {label: p}, "windows": n}
//                   {"texts": ["...", ...]} → [ {...}, ... ] in order
//   GET  /health    {"status": "ok"}
//   GET  /info      labels, model config, window settings, aggregation
//   GET  /favicon.ico  204 (browsers ask for it)
// Every client mistake is a 4xx with {"error": "..."} naming the problem (invalid JSON or
// UTF-8, wrong type, missing or unknown field, empty text or list, body too large → 413,
// unknown path → 404, wrong method → 405); a 500 means a bug on our side.
//
// Concurrency: httplib serves requests on a pool of `threads` workers and every worker calls
// the same const Predictor. That is safe: predict() keeps all its state (windows, batches,
// autograd nodes) on the calling thread's stack, runs under a thread-local NoGradGuard, only
// reads the parameters, and uses thread-local scratch; rgrid's parallel_for pool serializes
// parallel regions behind a mutex and OpenBLAS (0.3.21, pthreads) is safe to call from
// several threads. The one mutable bit — the model's train/eval flag — is set to eval once,
// here, before any worker starts, so every predict() runs with dropout off (see
// docs/serving.md#concurrency).
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>
#include <sys/socket.h>

#include "rgrid/core/error.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/data/utf8.hpp"
#include "rgrid/serve/page.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/aggregation.hpp"

namespace rgrid::serve {

/// Server settings. Example: `AppOptions{.threads = 8, .max_body = 4 << 20}`.
struct AppOptions {
    std::size_t threads = 4;               // HTTP worker threads (requests served in parallel)
    std::size_t max_body = 1 << 20;        // request bodies above this many bytes get 413
    std::size_t max_parallel_predictions = 0;  // model passes at once (0 = one per HTTP thread)
};

/// A client mistake: HTTP status (4xx) and a message naming the problem.
struct RequestError {
    int status = 400;
    std::string message;
};

namespace detail {

/// "string", "number", "array", ... for error messages.
inline std::string json_type(const json& j) { return j.type_name(); }

/// Serializes without ever throwing on odd bytes (invalid UTF-8 becomes U+FFFD).
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

inline bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }

/// The texts of a POST /predict body, and whether the client sent one text or a list.
struct PredictRequest {
    std::vector<std::string> texts;
    bool single = true;
};

/// Validates a POST /predict body; throws RequestError naming the first problem.
inline PredictRequest parse_predict_request(const std::string& body) {
    auto fail = [](std::string msg) { return RequestError{400, std::move(msg)}; };
    if (blank(body)) throw fail("empty body: send a JSON object like {\"text\": \"...\"} or {\"texts\": [\"...\"]}");
    if (auto bad = first_invalid_utf8(body))
        throw fail("body is not valid UTF-8 (first bad byte at offset " + std::to_string(*bad) + ")");
    json j;
    try {
        j = json::parse(body);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
        std::string what = e.what();
        if (auto pos = what.find("] "); what.rfind("[json.exception", 0) == 0 && pos != std::string::npos)
            what = what.substr(pos + 2);  // drop nlohmann's "[json.exception.parse_error.101] " tag
        throw fail("invalid JSON: " + what);
    }
    if (!j.is_object())
        throw fail("body must be a JSON object with \"text\" (a string) or \"texts\" (a list of strings), got " +
                   json_type(j));
    for (const auto& [key, value] : j.items())
        if (key != "text" && key != "texts")
            throw fail("unknown field \"" + key + "\" (expected \"text\" or \"texts\")");
    const bool has_text = j.contains("text"), has_texts = j.contains("texts");
    if (has_text && has_texts) throw fail("give either \"text\" or \"texts\", not both");
    if (!has_text && !has_texts) throw fail("missing field \"text\" (a string) or \"texts\" (a list of strings)");
    PredictRequest r;
    if (has_text) {
        const json& t = j["text"];
        if (!t.is_string()) throw fail("field \"text\" must be a string, got " + json_type(t));
        r.texts.push_back(t.get<std::string>());
        if (blank(r.texts[0])) throw fail("field \"text\" is empty");
        return r;
    }
    const json& ts = j["texts"];
    r.single = false;
    if (!ts.is_array()) throw fail("field \"texts\" must be a list of strings, got " + json_type(ts));
    if (ts.empty()) throw fail("field \"texts\" is an empty list");
    r.texts.reserve(ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i) {
        const std::string at = "texts[" + std::to_string(i) + "]";
        if (!ts[i].is_string()) throw fail(at + " must be a string, got " + json_type(ts[i]));
        r.texts.push_back(ts[i].get<std::string>());
        if (blank(r.texts.back())) throw fail(at + " is empty");
    }
    return r;
}

/// The double whose shortest decimal form is the float's shortest form, so that JSON shows
/// 0.7900993 rather than 0.7900992631912231 (the float's exact value as a double).
inline double short_double(float x) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip form, no locale
    double d = x;
    std::from_chars(buf, r.ptr, d);
    return d;
}

/// {"label", "probabilities": {label: p}, "windows": n} for one prediction.
inline json prediction_json(const Prediction& p, const std::vector<std::string>& labels) {
    json probs = json::object();
    for (std::size_t k = 0; k < p.probabilities.size(); ++k)
        probs[k < labels.size() ? labels[k] : std::to_string(k)] = short_double(p.probabilities[k]);
    return {{"label", p.label}, {"probabilities", probs}, {"windows", p.windows}};
}

/// The message for an error httplib detected before any route ran.
inline std::string status_text(int status, std::size_t max_body) {
    switch (status) {
        case 400: return "bad request: the HTTP request line or headers are malformed";
        case 404: return "not found";
        case 408: return "request timeout: the body did not arrive in time";
        case 413: return "request body too large: the limit is " + std::to_string(max_body) + " bytes (--max-body)";
        case 414: return "URI too long";
        case 416: return "range not satisfiable";
        case 417: return "expectation failed";
        case 431: return "request header fields too large";
        case 500: return "internal server error";
        default: return "HTTP error " + std::to_string(status);
    }
}

/// UTC "YYYY-MM-DDTHH:MM:SSZ".
inline std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace detail

/// The web app over one shared, read-only Predictor.
/// Example:
///   auto pred = std::make_shared<const Predictor>(Predictor::from_pretrained("runs/spam/best"));
///   serve::App app(pred, std::cerr, {.threads = 4});
///   int port = app.start("127.0.0.1", 8080);   // listening in a background thread
///   ...                                        // until SIGINT, say
///   app.stop();
class App {
public:
    App(std::shared_ptr<const Predictor> predictor, std::ostream& log, AppOptions opt = {})
        : predictor_(std::move(predictor)), log_(log), opt_(opt) {
        RGRID_CHECK(predictor_, "serve::App: a Predictor is required");
        RGRID_CHECK(opt_.threads > 0, "serve::App: threads must be > 0");
        RGRID_CHECK(opt_.max_body > 0, "serve::App: max_body must be > 0");
        if (opt_.max_parallel_predictions == 0 || opt_.max_parallel_predictions > opt_.threads)
            opt_.max_parallel_predictions = opt_.threads;
        free_slots_ = opt_.max_parallel_predictions;
        predictor_->model().eval();  // once, before any worker exists: every predict() runs with dropout off
        routes();
    }
    ~App() { stop(); }
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    /// Binds host:port (port 0 = any free port), starts serving in a background thread and
    /// returns the bound port once the server accepts connections. Throws if binding fails.
    int start(const std::string& host = "127.0.0.1", int port = 0) {
        RGRID_CHECK(!thread_.joinable(), "serve::App::start: already started");
        if (port == 0) {
            port_ = server_.bind_to_any_port(host);
            RGRID_CHECK(port_ > 0, "serve::App: cannot bind ", host, " to any port");
        } else {
            RGRID_CHECK(server_.bind_to_port(host, port), "serve::App: cannot bind ", host, ":", port,
                        " (in use? try --port 0 for any free port)");
            port_ = port;
        }
        listen_done_ = false;
        thread_ = std::thread([this] {
            server_.listen_after_bind();
            listen_done_ = true;
        });
        while (!server_.is_running() && !listen_done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (listen_done_) {
            thread_.join();
            throw Error(::rgrid::detail::concat("serve::App: the server on ", host, ":", port_, " stopped at once"));
        }
        return port_;
    }
    /// Stops accepting, finishes the requests in flight, joins the server thread. Idempotent.
    void stop() {
        if (!thread_.joinable()) return;
        server_.stop();
        thread_.join();
    }
    bool is_running() const { return server_.is_running(); }
    int port() const { return port_; }

    /// GET /info as JSON: labels, model config, window settings and aggregation.
    json info() const {
        const PredictorOptions& o = predictor_->options();
        return {{"labels", predictor_->labels()},
                {"model", predictor_->model().config().to_json()},
                {"max_length", o.window.max_length},
                {"stride", o.window.stride},
                {"max_windows", o.window.max_windows},
                {"aggregation", aggregation_name(o.aggregation)},
                {"batch_size", o.batch_size},
                {"threads", opt_.threads},
                {"max_body", opt_.max_body},
                {"max_parallel_predictions", opt_.max_parallel_predictions}};
    }

    /// The underlying httplib server (for extra routes or settings before start()).
    httplib::Server& server() { return server_; }

private:
    static void reply(httplib::Response& res, int status, const json& body) {
        res.status = status;
        res.set_content(detail::dump(body) + "\n", "application/json");
    }
    static void error(httplib::Response& res, int status, const std::string& message) {
        reply(res, status, json{{"error", message}});
    }

    void routes() {
        const std::size_t threads = opt_.threads;
        server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
        server_.set_payload_max_length(opt_.max_body);
        server_.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms to every small response
        // httplib's default sets SO_REUSEPORT, which lets a second server bind the same port and
        // silently take half the connections; SO_REUSEADDR alone allows a quick restart only.
        server_.set_socket_options([](socket_t sock) {
            int yes = 1;
            ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        });

        server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(page_html()), "text/html; charset=utf-8");
        });
        server_.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
        server_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, json{{"status", "ok"}});
        });
        server_.Get("/info", [this](const httplib::Request&, httplib::Response& res) { reply(res, 200, info()); });
        // POST bodies are read through a content reader: httplib's own body reading would parse a
        // form-urlencoded body (curl -d's default Content-Type) and cap it at 8 KiB.
        server_.Post("/predict", [this](const httplib::Request&, httplib::Response& res, const httplib::ContentReader& read) {
            std::string body;
            if (read_body(read, res, body)) predict(body, res);
        });

        // Anything else: 405 on a known path (with Allow), 404 otherwise.
        auto fallback = [this](const httplib::Request& req, httplib::Response& res) {
            const auto it = allowed_.find(req.path);
            if (it == allowed_.end()) return error(res, 404, "no such path: " + req.path + " (try GET /, POST /predict, GET /health, GET /info)");
            res.set_header("Allow", it->second);
            error(res, 405, "method " + req.method + " is not allowed on " + req.path + " (allowed: " + it->second + ")");
        };
        server_.Get(".*", fallback);
        server_.Post(".*", [fallback](const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader& read) {
            std::string body;  // drained so the connection stays usable
            if (read_body(read, res, body)) fallback(req, res);
        });
        server_.Put(".*", fallback);
        server_.Patch(".*", fallback);
        server_.Delete(".*", fallback);
        server_.Options(".*", fallback);

        // Errors httplib produces itself (malformed request, body over the limit, ...) get a JSON body too.
        server_.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
            error(res, res.status, detail::status_text(res.status, opt_.max_body));
            return httplib::Server::HandlerResponse::Handled;
        }));
        server_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            error(res, 500, "internal error: " + what);
        });
        server_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
            request_start() = std::chrono::steady_clock::now();
            return httplib::Server::HandlerResponse::Unhandled;
        });
        server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log(req, res); });
    }

    /// Reads the whole body (at most max_body bytes, else httplib sets 413); false on failure.
    static bool read_body(const httplib::ContentReader& read, httplib::Response& res, std::string& body) {
        const bool ok = read([&](const char* data, std::size_t n) {
            body.append(data, n);
            return true;
        });
        if (!ok && res.status != 413) res.status = 400;  // e.g. a broken chunked encoding
        return ok;
    }

    void predict(const std::string& body, httplib::Response& res) const {
        detail::PredictRequest pr;
        try {
            pr = detail::parse_predict_request(body);
        } catch (const RequestError& e) {
            return error(res, e.status, e.message);
        }
        std::vector<Prediction> preds;
        {
            // At most max_parallel_predictions model passes at once: several passes on few cores
            // thrash the caches and the BLAS threads (docs/performance.md#serving).
            std::unique_lock<std::mutex> lock(slots_mutex_);
            slots_cv_.wait(lock, [this] { return free_slots_ > 0; });
            --free_slots_;
            lock.unlock();
            struct Release {
                const App& app;
                ~Release() {
                    {
                        std::lock_guard<std::mutex> l(app.slots_mutex_);
                        ++app.free_slots_;
                    }
                    app.slots_cv_.notify_one();
                }
            } release{*this};
            preds = predictor_->predict(pr.texts);
        }
        const auto& labels = predictor_->labels();
        if (pr.single) return reply(res, 200, detail::prediction_json(preds[0], labels));
        json out = json::array();
        for (const auto& p : preds) out.push_back(detail::prediction_json(p, labels));
        reply(res, 200, out);
    }

    /// One line per request: time, client, method, path, status, response bytes, milliseconds.
    void log(const httplib::Request& req, const httplib::Response& res) {
        auto& start = request_start();
        std::string ms = "-";
        if (start.time_since_epoch().count() != 0) {
            const double d = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1fms", d);
            ms = buf;
            start = {};
        }
        auto field = [](std::string s) {  // "-" when absent (malformed request); no control bytes:
            for (char& c : s)                // a decoded %0A in a path must not start a new log line
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == ' ') c = '?';
            return s.empty() ? std::string("-") : s;
        };
        const std::string line = detail::utc_now() + " " + field(req.remote_addr) + " " + field(req.method) + " " +
                                 field(req.path) + " " +
                                 std::to_string(res.status) + " " + std::to_string(res.body.size()) + "B " + ms + "\n";
        std::lock_guard<std::mutex> lock(log_mutex_);
        log_ << line << std::flush;
    }
    static std::chrono::steady_clock::time_point& request_start() {
        thread_local std::chrono::steady_clock::time_point t{};
        return t;
    }

    std::shared_ptr<const Predictor> predictor_;
    std::ostream& log_;
    AppOptions opt_;
    httplib::Server server_;
    std::thread thread_;
    std::atomic<bool> listen_done_{false};
    int port_ = 0;
    std::mutex log_mutex_;
    mutable std::mutex slots_mutex_;
    mutable std::condition_variable slots_cv_;
    mutable std::size_t free_slots_ = 0;
    const std::map<std::string, std::string> allowed_{
        {"/", "GET, HEAD"}, {"/favicon.ico", "GET, HEAD"}, {"/health", "GET, HEAD"}, {"/info", "GET, HEAD"}, {"/predict", "POST"}};
};

}  // namespace rgrid::serve

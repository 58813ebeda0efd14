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
// Concurrency (docs/serving.md#concurrency): connections are held by serve/connections.hpp —
// a poller thread keeps idle connections and reads request headers, so silent or trickling
// clients occupy no worker; complete requests go to `threads` prediction workers (POST
// /predict) or to `other_threads` workers (everything else, so /health never waits behind
// predictions); a request must arrive within `request_timeout`. Predictions of concurrent
// requests are batched together by serve/dynamic_batcher.hpp (up to `max_batch` windows or
// `max_wait`); `max_batch` = 1 turns that off and each request runs its own passes, at most
// `max_parallel_predictions` at once. Every worker shares one const Predictor: predict keeps its
// state on the calling thread, runs under a thread-local NoGradGuard and only reads the
// parameters; the model's train/eval flag is set to eval once, here, before any worker starts.
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
#include "rgrid/serve/connections.hpp"
#include "rgrid/serve/dynamic_batcher.hpp"
#include "rgrid/serve/explain.hpp"
#include "rgrid/serve/page.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/aggregation.hpp"

namespace rgrid::serve {

/// Server settings. Example: `AppOptions{.threads = 64, .max_body = 4 << 20, .max_batch = 32}`.
struct AppOptions {
    std::size_t threads = 64;              // workers for POST /predict (a request waiting for its batch holds one)
    std::size_t max_body = 1 << 20;        // request bodies above this many bytes get 413 (any framing)
    std::size_t max_parallel_predictions = 0;  // max_batch 1 only: model passes at once (0 = one per worker)
    std::size_t max_batch = 32;            // windows per batched model pass; 1 = no batching across requests
    std::chrono::milliseconds max_wait{5};  // a window waits at most this long for others to join its batch
    std::size_t other_threads = 2;         // workers for everything but /predict (/health, /info, the page)
    std::chrono::milliseconds idle_timeout{5000};     // a connection without a request is closed after this
    std::chrono::milliseconds request_timeout{10000};  // request line, headers and body must arrive within this
    int backlog = 1024;                    // listen backlog (httplib's own is 5)
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
    bool explain = false;  // "explain": true → per-window spans and labels
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
        if (key != "text" && key != "texts" && key != "explain")
            throw fail("unknown field \"" + key + "\" (expected \"text\", \"texts\" or \"explain\")");
    const bool has_text = j.contains("text"), has_texts = j.contains("texts");
    if (has_text && has_texts) throw fail("give either \"text\" or \"texts\", not both");
    if (!has_text && !has_texts) throw fail("missing field \"text\" (a string) or \"texts\" (a list of strings)");
    PredictRequest r;
    if (j.contains("explain")) {
        if (!j["explain"].is_boolean()) throw fail("field \"explain\" must be true or false, got " + json_type(j["explain"]));
        r.explain = j["explain"].get<bool>();
    }
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
///   serve::App app(pred, std::cerr, {.threads = 64, .max_batch = 32});
///   int port = app.start("127.0.0.1", 8080);   // listening in a background thread
///   ...                                        // until SIGINT, say
///   app.stop();
class App {
public:
    App(std::shared_ptr<const Predictor> predictor, std::ostream& log, AppOptions opt = {})
        : predictor_(std::move(predictor)), log_(log), opt_(opt) {
        RGRID_CHECK(predictor_, "serve::App: a Predictor is required");
        RGRID_CHECK(opt_.threads > 0, "serve::App: threads must be > 0");
        RGRID_CHECK(opt_.other_threads > 0, "serve::App: other_threads must be > 0");
        RGRID_CHECK(opt_.max_body > 0, "serve::App: max_body must be > 0");
        RGRID_CHECK(opt_.max_batch > 0, "serve::App: max_batch must be > 0 (1 turns batching off)");
        RGRID_CHECK(opt_.max_wait.count() >= 0, "serve::App: max_wait must be >= 0");
        RGRID_CHECK(opt_.request_timeout.count() > 0 && opt_.idle_timeout.count() > 0,
                    "serve::App: request_timeout and idle_timeout must be > 0");
        RGRID_CHECK(opt_.backlog > 0, "serve::App: backlog must be > 0");
        if (opt_.max_parallel_predictions == 0 || opt_.max_parallel_predictions > opt_.threads)
            opt_.max_parallel_predictions = opt_.threads;
        free_slots_ = opt_.max_parallel_predictions;
        predictor_->model().eval();  // once, before any worker exists: every predict() runs with dropout off
        if (opt_.max_batch > 1)
            batcher_ = std::make_unique<DynamicBatcher>(
                predictor_, BatchOptions{opt_.max_batch, std::chrono::duration_cast<std::chrono::microseconds>(opt_.max_wait)});
        routes();
    }
    ~App() { stop(); }
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    /// Binds host:port (port 0 = any free port), starts serving in a background thread and
    /// returns the bound port once the server accepts connections. Throws if binding fails.
    int start(const std::string& host = "127.0.0.1", int port = 0) {
        RGRID_CHECK(!thread_.joinable() && !connections_, "serve::App::start: already started");
        if (port == 0) {
            port_ = server_.bind_to_any_port(host);
            RGRID_CHECK(port_ > 0, "serve::App: cannot bind ", host, " to any port");
        } else {
            RGRID_CHECK(server_.bind_to_port(host, port), "serve::App: cannot bind ", host, ":", port,
                        " (in use? try --port 0 for any free port)");
            port_ = port;
        }
        RGRID_CHECK(server_.set_backlog(opt_.backlog), "serve::App: listen backlog ", opt_.backlog, " refused");
        connections_ = std::make_unique<detail::Connections>(
            detail::ConnectionLimits{.idle_timeout = opt_.idle_timeout, .request_timeout = opt_.request_timeout,
                                    .max_body = opt_.max_body},
            opt_.threads, opt_.other_threads,
            [this](detail::RequestStream& strm) { return server_.serve_one(strm, connections_->stopping()); });
        server_.set_connections(connections_.get());
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
    /// Stops accepting, finishes the requests in flight, closes idle connections, joins the
    /// threads. Idempotent.
    void stop() {
        if (thread_.joinable()) {
            server_.stop();
            thread_.join();
        }
        if (connections_) connections_->stop();  // in-flight requests still get their batches
        if (batcher_) batcher_->stop();
    }
    bool is_running() const { return server_.is_running(); }
    int port() const { return port_; }

    /// GET /info as JSON: labels, model config, window settings, aggregation, server settings.
    json info() const {
        const PredictorOptions& o = predictor_->options();
        json j = {{"labels", predictor_->labels()},
                  {"model", predictor_->model().config().to_json()},
                  {"max_length", o.window.max_length},
                  {"stride", o.window.stride},
                  {"max_windows", o.window.max_windows},
                  {"aggregation", aggregation_name(o.aggregation)},
                  {"int8", predictor_->int8()},
                  {"batch_size", o.batch_size},
                  {"threads", opt_.threads},
                  {"other_threads", opt_.other_threads},
                  {"max_body", opt_.max_body},
                  {"max_batch", opt_.max_batch},
                  {"max_wait_ms", opt_.max_wait.count()},
                  {"batching", batcher_ != nullptr},
                  {"request_timeout_ms", opt_.request_timeout.count()},
                  {"idle_timeout_ms", opt_.idle_timeout.count()},
                  {"backlog", opt_.backlog},
                  {"max_parallel_predictions", opt_.max_parallel_predictions}};
        if (batcher_) {
            const BatchStats st = batcher_->stats();
            j["batches"] = {{"batches", st.batches}, {"windows", st.windows}, {"largest", st.max_seen},
                            {"mixed", st.mixed}, {"dropped_windows", st.dropped}};
        }
        return j;
    }
    /// Batcher counters (all zero with max_batch 1).
    BatchStats batch_stats() const { return batcher_ ? batcher_->stats() : BatchStats{}; }
    /// Connections the poller holds right now (idle or still sending their headers).
    std::size_t idle_connections() const { return connections_ ? connections_->held() : 0; }

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
            if (read_body(read, res, body, opt_.max_body)) predict(body, res);
        });

        // Anything else: 405 on a known path (with Allow), 404 otherwise.
        auto fallback = [this](const httplib::Request& req, httplib::Response& res) {
            const auto it = allowed_.find(req.path);
            if (it == allowed_.end()) return error(res, 404, "no such path: " + req.path + " (try GET /, POST /predict, GET /health, GET /info)");
            res.set_header("Allow", it->second);
            error(res, 405, "method " + req.method + " is not allowed on " + req.path + " (allowed: " + it->second + ")");
        };
        server_.Get(".*", fallback);
        server_.Post(".*", [this, fallback](const httplib::Request& req, httplib::Response& res,
                                            const httplib::ContentReader& read) {
            std::string body;  // drained so the connection stays usable
            if (read_body(read, res, body, opt_.max_body)) fallback(req, res);
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

    /// Reads the whole body, at most max_body bytes whatever the framing (Content-Length,
    /// chunked, compressed): past the limit reading stops at once and the answer is 413. On any
    /// failure the status is set (413, 408 for a body that did not arrive in time, else 400),
    /// the connection is closed after the answer, and false is returned.
    static bool read_body(const httplib::ContentReader& read, httplib::Response& res, std::string& body,
                          std::size_t max_body) {
        bool too_large = false;
        const bool ok = read([&](const char* data, std::size_t n) {
            if (body.size() + n > max_body) {
                too_large = true;
                return false;  // stop reading: httplib abandons the rest of the body
            }
            body.append(data, n);
            return true;
        });
        if (ok) return true;
        detail::client_state().must_close = true;  // the rest of the body is still on the wire
        if (too_large) res.status = 413;
        else if (detail::client_state().timed_out) res.status = 408;
        else if (res.status != 413) res.status = 400;  // e.g. a broken chunked encoding
        res.body.clear();  // the error handler writes the JSON message for the status
        return false;
    }

    /// The window logits (W, K) of `windows`, batched with other requests' windows or alone;
    /// nullopt when the client went away before they were computed.
    std::optional<Tensor<float>> logits_of(std::vector<Window> windows,
                                           std::optional<DynamicBatcher::Arrival>& arrival) const {
        const int fd = detail::client_state().fd;
        if (batcher_)
            return batcher_->run(std::move(windows), [fd] { return detail::client_gone(fd); },
                                 arrival ? &*arrival : nullptr);
        // At most max_parallel_predictions model passes at once: several passes on few cores
        // thrash the caches and the BLAS threads (docs/performance.md#serving).
        std::unique_lock<std::mutex> lock(slots_mutex_);
        while (free_slots_ == 0)
            if (!slots_cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return free_slots_ > 0; }) &&
                detail::client_gone(fd))
                return std::nullopt;
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
        return predictor_->window_logits(windows);
    }

    void predict(const std::string& body, httplib::Response& res) const {
        std::optional<DynamicBatcher::Arrival> arrival;  // partial batches wait for this request
        if (batcher_) arrival.emplace(batcher_->arrive());
        detail::PredictRequest pr;
        try {
            pr = detail::parse_predict_request(body);
        } catch (const RequestError& e) {
            return error(res, e.status, e.message);
        }
        WindowedDocs wd = make_windows(predictor_->tokenizer(), pr.texts, {}, predictor_->options().window);
        std::optional<Tensor<float>> wl = logits_of(wd.windows, arrival);  // (W, K)
        if (!wl) {  // nobody is listening; the log line shows it
            detail::client_state().must_close = true;
            return error(res, 499, "client closed the connection before its prediction was computed");
        }
        const std::vector<Prediction> preds = predictor_->predictions(*wl, wd.windows, pr.texts.size());
        const auto& labels = predictor_->labels();
        json out = json::array();
        const std::size_t k = wl->dimension() == 2 ? wl->shape()[1] : 0;
        for (std::size_t d = 0, row = 0; d < preds.size(); row += preds[d].windows, ++d) {
            json one = detail::prediction_json(preds[d], labels);
            if (pr.explain) one["explain"] = explain_windows(*predictor_, pr.texts[d], wl->data() + row * k, preds[d].windows);
            out.push_back(std::move(one));
        }
        reply(res, 200, pr.single ? out[0] : out);
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
    std::unique_ptr<DynamicBatcher> batcher_;  // null when max_batch == 1
    detail::HttpServer server_;
    std::unique_ptr<detail::Connections> connections_;       // from start()
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

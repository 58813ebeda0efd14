// serve::App end to end: an in-process server on an ephemeral loopback port, a real httplib
// client. Predictions equal Predictor's, every client mistake is a 4xx JSON error naming the
// problem, 8 threads × 50 requests are all answered correctly, a long text is windowed.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/tiny_bert.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/serve/app.hpp"

using namespace rgrid;
using rgrid::serve::App;

namespace {

const std::string kVocab = std::string(RGRID_SOURCE_DIR) + "/examples/assets/bert-base-uncased-vocab.txt";

/// A tiny random BERT (2 layers, hidden 32) saved as an HF checkpoint, with 32-token windows
/// (stride 8) so that a few hundred words already need many windows. A larger init range than
/// BERT's 0.02 spreads the logits, so different texts get different labels.
void save_tiny_model(const std::string& dir, double initializer_range = 0.5) {
    const BertConfig c = test::tiny_bert_config({"ham", "spam", "phishing"},
                                                {.layers = 2, .max_positions = 512, .initializer_range = initializer_range});
    Rng rng(1234);
    BertForSequenceClassification<float> model(c, rng);
    save_pretrained(model, dir, kVocab);
    PredictorOptions po;
    po.window = SlidingWindow{32, 8, 0};
    po.batch_size = 8;
    save_predictor_options(dir, po);
}

std::string words(std::size_t n, std::size_t seed) {
    static const char* w[] = {"free", "meeting", "prize", "invoice", "hello", "click", "tomorrow", "account",
                              "winner", "lunch", "urgent", "report", "password", "café", "naïve", "the"};
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += std::string(i ? " " : "") + w[(i * 7 + seed * 13 + i / 3) % 16];
    return s;
}

json parse(const std::string& body) { return json::parse(body); }

/// A raw loopback connection for requests httplib's client won't make (chunked bodies sent
/// slowly, silence, abrupt closes). Every receive waits at most `timeout_s`.
class RawClient {
public:
    explicit RawClient(int port, int timeout_s = 20) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{timeout_s, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~RawClient() { close(); }
    bool connected() const { return connected_; }
    /// False once the server has closed the connection (EPIPE/ECONNRESET).
    bool send(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    /// Everything until the server closes, a complete Content-Length response, or the timeout.
    std::string response() {
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) {
            out.append(buf, static_cast<std::size_t>(n));
            const auto end = out.find("\r\n\r\n");
            const auto cl = out.find("Content-Length: ");
            if (end != std::string::npos && cl != std::string::npos && cl < end &&
                out.size() >= end + 4 + std::stoul(out.substr(cl + 16)))
                break;
        }
        return out;
    }
    /// What has arrived so far, without waiting.
    std::string response_if_ready() {
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT)) > 0;) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
    /// True if the server has closed this connection (a read returns 0 or an error at once).
    bool closed_by_server() {
        char c;
        return ::recv(fd_, &c, 1, MSG_DONTWAIT) == 0;
    }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

/// Sends raw bytes and returns the raw response (for requests httplib's client won't produce).
std::string raw_request(int port, const std::string& bytes) {
    RawClient c(port, 10);
    EXPECT_TRUE(c.connected());
    EXPECT_TRUE(c.send(bytes));
    return c.response();
}

class Serve : public ::testing::Test {
protected:
    static constexpr std::size_t kMaxBody = 64 * 1024;

    static void SetUpTestSuite() {
        // One folder per process: CTest runs the tests of this suite as parallel processes,
        // and a shared folder let one process delete the model another was loading.
        dir_ = (std::filesystem::path(::testing::TempDir()) / ("rgrid_serve_tiny." + std::to_string(::getpid())))
                   .string();
        // A failure here must fail every test (GoogleTest would report them as skipped).
        try {
            std::filesystem::remove_all(dir_);
            save_tiny_model(dir_);
            predictor_ = std::make_shared<const Predictor>(Predictor::from_pretrained(dir_));
            app_ = std::make_unique<App>(predictor_, log_, serve::AppOptions{.threads = 8, .max_body = kMaxBody});
            port_ = app_->start("127.0.0.1", 0);
        } catch (const std::exception& e) {
            setup_error_ = e.what();
        }
    }
    void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << "suite set-up failed: " << setup_error_; }
    static void TearDownTestSuite() {
        app_.reset();
        predictor_.reset();
        std::filesystem::remove_all(dir_);
    }
    static httplib::Client client() {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(60, 0);
        return c;
    }
    /// POSTs `body` to /predict and returns (status, parsed JSON body).
    static std::pair<int, json> post(const std::string& body, const std::string& path = "/predict") {
        auto res = client().Post(path.c_str(), body, "application/json");
        EXPECT_TRUE(res) << "no response: " << httplib::to_string(res.error());
        if (!res) return {0, json()};
        EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
        return {res->status, parse(res->body)};
    }
    static void expect_matches(const json& got, const Prediction& want) {
        ASSERT_TRUE(got.is_object()) << got.dump();
        EXPECT_EQ(got.at("label"), want.label);
        EXPECT_EQ(got.at("windows"), want.windows);
        const auto& labels = predictor_->labels();
        ASSERT_EQ(got.at("probabilities").size(), labels.size());
        for (std::size_t k = 0; k < labels.size(); ++k)
            EXPECT_NEAR(got.at("probabilities").at(labels[k]).get<double>(), want.probabilities[k], 1e-6) << labels[k];
    }

    static inline std::string dir_, setup_error_;
    static inline std::shared_ptr<const Predictor> predictor_;
    static inline std::ostringstream log_;
    static inline std::unique_ptr<App> app_;
    static inline int port_ = 0;
};

TEST_F(Serve, HealthAndInfo) {
    auto res = client().Get("/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(parse(res->body), (json{{"status", "ok"}}));

    res = client().Get("/info");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    const json info = parse(res->body);
    EXPECT_EQ(info.at("labels"), (json{"ham", "spam", "phishing"}));
    EXPECT_EQ(info.at("max_length"), 32);
    EXPECT_EQ(info.at("stride"), 8);
    EXPECT_EQ(info.at("aggregation"), "mean");
    EXPECT_EQ(info.at("int8"), false);
    EXPECT_EQ(info.at("model").at("hidden_size"), 32);
    EXPECT_EQ(info.at("model").at("num_hidden_layers"), 2);
}

TEST_F(Serve, PageIsSelfContained) {
    auto res = client().Get("/");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
    for (const char* part : {"<textarea", "type=\"submit\"", "/predict", "/info", "<style>", "<script>"})
        EXPECT_NE(res->body.find(part), std::string::npos) << part;
    // No external assets: no absolute URLs, no <link>, no <script src>.
    EXPECT_EQ(res->body.find("http://"), std::string::npos);
    EXPECT_EQ(res->body.find("https://"), std::string::npos);
    EXPECT_EQ(res->body.find("<link"), std::string::npos);
    EXPECT_EQ(res->body.find("src="), std::string::npos);
}

TEST_F(Serve, PredictionsEqualPredictor) {
    const std::vector<std::string> texts = {"Win a FREE prize now, click here!", "Meeting moved to 3pm tomorrow.",
                                            "Your account password expires; verify at once", "café naïve ünïcödé",
                                            words(40, 1), words(40, 2), "x"};
    // One text per request.
    std::set<std::string> labels_seen;
    for (const auto& t : texts) {
        auto [status, body] = post(json{{"text", t}}.dump());
        ASSERT_EQ(status, 200) << body.dump();
        expect_matches(body, predictor_->predict(t));
        labels_seen.insert(body.at("label").get<std::string>());
    }
    EXPECT_GE(labels_seen.size(), 2u) << "the tiny model should not give every text the same label";
    // All in one request: a list, in order.
    auto [status, body] = post(json{{"texts", texts}}.dump());
    ASSERT_EQ(status, 200) << body.dump();
    ASSERT_TRUE(body.is_array());
    ASSERT_EQ(body.size(), texts.size());
    const auto want = predictor_->predict(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) expect_matches(body[i], want[i]);
}

TEST_F(Serve, AnyContentTypeIsReadAsJson) {
    // curl -d sends application/x-www-form-urlencoded; httplib would cap such bodies at 8 KiB.
    const std::string text = words(3000, 4);
    auto res = client().Post("/predict", json{{"text", text}}.dump(), "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    expect_matches(parse(res->body), predictor_->predict(text));
    res = client().Post("/predict", "{\"text\": \"hello there\"}", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(Serve, LongTextIsWindowed) {
    const std::string text = words(2000, 3);  // ~2,000 words, far more than one 32-token window
    auto [status, body] = post(json{{"text", text}}.dump());
    ASSERT_EQ(status, 200) << body.dump();
    const Prediction want = predictor_->predict(text);
    EXPECT_GT(want.windows, 50u);
    expect_matches(body, want);
}

/// Characters (code points) in the first `bytes` bytes of UTF-8 text, counted naively.
std::size_t code_points(const std::string& s, std::size_t bytes) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < bytes; ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    return n;
}

TEST_F(Serve, ExplainGivesEachWindowsSpanAndLabel) {
    const std::string text = "Café déjà vu — naïve " + words(200, 11);  // non-ASCII, many 32-token windows
    auto [status, body] = post(json{{"text", text}, {"explain", true}}.dump());
    ASSERT_EQ(status, 200) << body.dump();
    const Prediction want = predictor_->predict(text);
    expect_matches(body, want);
    const json& ex = body.at("explain");
    ASSERT_EQ(ex.size(), want.windows);
    ASSERT_GT(want.windows, 3u);
    // Each window's own logits, computed here one window at a time.
    const WindowedDocs wd = make_windows(predictor_->tokenizer(), {text}, {}, predictor_->options().window);
    const Encoding enc = predictor_->tokenizer().encode(text, false);
    const std::size_t m = predictor_->options().window.max_length - 2, stride = predictor_->options().window.stride;
    const auto& labels = predictor_->labels();
    std::set<std::string> window_labels;
    for (std::size_t i = 0; i < ex.size(); ++i) {
        SCOPED_TRACE("window " + std::to_string(i));
        const json& w = ex[i];
        EXPECT_EQ(w.at("window"), i);
        const std::size_t tb = w.at("tokens")[0], te = w.at("tokens")[1];
        EXPECT_EQ(tb, i * (m - stride));  // consecutive windows overlap by `stride` tokens
        EXPECT_EQ(te, std::min(tb + m, enc.ids.size()));
        EXPECT_EQ(w.at("chars")[0].get<std::size_t>(), code_points(text, enc.offsets[tb].first));
        EXPECT_EQ(w.at("chars")[1].get<std::size_t>(), code_points(text, enc.offsets[te - 1].second));
        const Tensor<float> alone = predictor_->window_logits({wd.windows[i]});  // (1, K)
        const std::vector<float> p = softmax_row(alone.data(), labels.size());
        const std::size_t best = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
        EXPECT_EQ(w.at("label"), labels[best]);
        EXPECT_NEAR(w.at("probability").get<double>(), p[best], 1e-5);
        for (std::size_t k = 0; k < labels.size(); ++k)
            EXPECT_NEAR(w.at("probabilities").at(labels[k]).get<double>(), p[k], 1e-5);
        window_labels.insert(w.at("label").get<std::string>());
    }
    EXPECT_EQ(ex.front().at("chars")[0], 0);
    EXPECT_EQ(ex.back().at("chars")[1].get<std::size_t>(), code_points(text, text.size()));  // covers the end
    // A list explains every text; without "explain" there is no such field.
    auto [s2, list] = post(json{{"texts", {text, "short one"}}, {"explain", true}}.dump());
    ASSERT_EQ(s2, 200);
    ASSERT_EQ(list[0].at("explain").size(), ex.size());
    for (std::size_t i = 0; i < ex.size(); ++i) {  // same spans and labels; probabilities up to batch rounding
        const json& w = list[0].at("explain")[i];
        EXPECT_EQ(w.at("chars"), ex[i].at("chars"));
        EXPECT_EQ(w.at("tokens"), ex[i].at("tokens"));
        EXPECT_EQ(w.at("label"), ex[i].at("label"));
        EXPECT_NEAR(w.at("probability").get<double>(), ex[i].at("probability").get<double>(), 1e-5);
    }
    EXPECT_EQ(list[1].at("explain").size(), 1u);
    EXPECT_EQ(list[1].at("explain")[0].at("chars"), (json{0, 9}));
    auto [s3, plain] = post(json{{"text", text}}.dump());
    EXPECT_FALSE(plain.contains("explain"));
}

struct BadCase {
    const char* what;
    std::string body;
    int status;
    std::string error_part;  // must appear in {"error": ...}
};

TEST_F(Serve, BadInputIsA4xxNamingTheProblem) {
    const std::string deep(60000, '[');  // under --max-body
    const std::vector<BadCase> cases = {
        {"empty body", "", 400, "empty body"},
        {"invalid JSON", "{\"text\": \"abc\"", 400, "invalid JSON"},
        {"invalid JSON (garbage)", "hello", 400, "invalid JSON"},
        {"trailing garbage", "{\"text\": \"a\"} x", 400, "invalid JSON"},
        {"not an object", "[\"a\", \"b\"]", 400, "must be a JSON object"},
        {"a bare string", "\"some text\"", 400, "got string"},
        {"missing field", "{}", 400, "missing field \"text\""},
        {"misspelled field", "{\"txt\": \"hello\"}", 400, "unknown field \"txt\""},
        {"explain not a boolean", "{\"text\": \"a\", \"explain\": \"yes\"}", 400,
         "field \"explain\" must be true or false, got string"},
        {"both fields", "{\"text\": \"a\", \"texts\": [\"b\"]}", 400, "not both"},
        {"text is a number", "{\"text\": 42}", 400, "field \"text\" must be a string, got number"},
        {"text is null", "{\"text\": null}", 400, "got null"},
        {"text is a list", "{\"text\": [\"a\"]}", 400, "got array"},
        {"empty text", "{\"text\": \"\"}", 400, "field \"text\" is empty"},
        {"blank text", "{\"text\": \"  \\n\\t \"}", 400, "field \"text\" is empty"},
        {"texts is a string", "{\"texts\": \"abc\"}", 400, "field \"texts\" must be a list of strings, got string"},
        {"empty list", "{\"texts\": []}", 400, "empty list"},
        {"list item of wrong type", "{\"texts\": [\"ok\", 3]}", 400, "texts[1] must be a string, got number"},
        {"empty list item", "{\"texts\": [\"ok\", \"\"]}", 400, "texts[1] is empty"},
        {"invalid UTF-8 in the string", "{\"text\": \"caf\xC3\"}", 400, "not valid UTF-8 (first bad byte at offset 13)"},
        {"invalid UTF-8 (lone byte)", "{\"text\": \"\xFF\"}", 400, "not valid UTF-8"},
        {"overlong UTF-8", "{\"text\": \"\xC0\xAF\"}", 400, "not valid UTF-8"},
        {"number out of range", "31e3113", 400, "invalid JSON: number overflow"},
        {"number out of range in a field", "{\"text\": 1e999}", 400, "invalid JSON: number overflow"},
        {"lone surrogate escape", "{\"text\": \"\\ud800\"}", 400, "invalid JSON"},
        {"deeply nested", deep, 400, "invalid JSON"},
        {"body over --max-body", "{\"text\": \"" + std::string(kMaxBody, 'a') + "\"}", 413, "too large"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        auto [status, body] = post(c.body);
        EXPECT_EQ(status, c.status) << body.dump();
        ASSERT_TRUE(body.is_object() && body.contains("error") && body["error"].is_string()) << body.dump();
        EXPECT_NE(body["error"].get<std::string>().find(c.error_part), std::string::npos)
            << "error was: " << body["error"];
    }
    // Still serving after all that.
    auto res = client().Get("/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST_F(Serve, WrongMethodIs405AndUnknownPathIs404) {
    auto check = [](const httplib::Result& res, int status, const std::string& part, const std::string& allow) {
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, status);
        EXPECT_EQ(res->get_header_value("Allow"), allow);
        const json body = parse(res->body);
        EXPECT_NE(body.at("error").get<std::string>().find(part), std::string::npos) << body.dump();
    };
    auto c = client();
    check(c.Get("/predict"), 405, "method GET is not allowed on /predict", "POST");
    check(c.Put("/predict", "{}", "application/json"), 405, "not allowed", "POST");
    check(c.Delete("/predict"), 405, "not allowed", "POST");
    check(c.Post("/health", "{}", "application/json"), 405, "method POST is not allowed on /health", "GET, HEAD");
    check(c.Post("/", "x", "text/plain"), 405, "not allowed", "GET, HEAD");
    check(c.Get("/nope"), 404, "no such path: /nope", "");
    check(c.Post("/predict/", "{}", "application/json"), 404, "no such path", "");
    check(c.Post("/nope", "{\"text\": \"a\"}", "application/json"), 404, "no such path", "");
}

TEST_F(Serve, PortInUseIsAnError) {
    std::ostringstream log;
    App second(predictor_, log, {.threads = 1});
    EXPECT_THROW(second.start("127.0.0.1", port_), Error);  // no silent port sharing (SO_REUSEPORT)
}

TEST_F(Serve, MalformedHttpGetsJson400) {
    const std::string out = raw_request(port_, "THIS IS NOT HTTP\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
    EXPECT_NE(out.find("{\"error\":\"bad request"), std::string::npos) << out;
    const std::string bad_method = raw_request(port_, "BREW /predict HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(bad_method.rfind("HTTP/1.1 400", 0), 0u) << bad_method;
}

TEST_F(Serve, ParallelClientsAllAnsweredCorrectly) {
    constexpr std::size_t kThreads = 8, kRequests = 50;
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 16; ++i) texts.push_back(words(5 + 9 * i, i));  // 1 to 5 windows
    // Each request holds one text; compare with one-text predictions. The server batches
    // windows of concurrent requests, and a window's logits depend on its batch's shape by float
    // rounding (OpenBLAS blocks by the matrix sizes): on this model (init range 0.5, logits
    // up to ~5) by up to 1.4e-5, probabilities by ~1e-6, measured; hence 1e-5 here.
    // ServeBatching.EqualsUnbatched holds a BERT-initialized model to 1e-6.
    std::vector<Prediction> want;
    for (const auto& t : texts) want.push_back(predictor_->predict(t));
    std::vector<std::size_t> ok(kThreads, 0);
    std::vector<std::string> first_failure(kThreads);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < kThreads; ++t) {
        pool.emplace_back([&, t] {
            httplib::Client c("127.0.0.1", port_);
            c.set_read_timeout(60, 0);
            for (std::size_t r = 0; r < kRequests; ++r) {
                const std::size_t i = (t * kRequests + r) % texts.size();
                auto res = c.Post("/predict", json{{"text", texts[i]}}.dump(), "application/json");
                bool good = res && res->status == 200;
                if (good) {
                    const json b = json::parse(res->body);
                    good = b.at("label") == want[i].label && b.at("windows") == want[i].windows;
                    for (std::size_t k = 0; good && k < want[i].probabilities.size(); ++k)
                        good = std::abs(b.at("probabilities").at(predictor_->labels()[k]).get<double>() -
                                        want[i].probabilities[k]) < 1e-5;
                }
                if (good) ++ok[t];
                else if (first_failure[t].empty()) first_failure[t] = res ? res->body : httplib::to_string(res.error());
            }
        });
    }
    for (auto& th : pool) th.join();
    for (std::size_t t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kRequests) << "thread " << t << ": " << first_failure[t];
}

// A separate App to check the request log (one line per request) and a clean stop.
TEST(ServeLog, OneLinePerRequestAndCleanStop) {
    const std::string dir = (std::filesystem::path(::testing::TempDir()) / "rgrid_serve_log").string();
    std::filesystem::remove_all(dir);
    save_tiny_model(dir);
    auto predictor = std::make_shared<const Predictor>(Predictor::from_pretrained(dir));
    std::ostringstream log;
    {
        App app(predictor, log, {.threads = 2});
        const int port = app.start();
        EXPECT_TRUE(app.is_running());
        httplib::Client c("127.0.0.1", port);
        ASSERT_TRUE(c.Get("/health"));
        ASSERT_TRUE(c.Post("/predict", "{\"text\": \"hello\"}", "application/json"));
        ASSERT_TRUE(c.Post("/predict", "{\"text\": 1}", "application/json"));
        ASSERT_TRUE(c.Get("/missing"));
        ASSERT_TRUE(c.Get("/a%0Afake%20line"));  // decodes to "/a\nfake line": still one log line
        app.stop();
        EXPECT_FALSE(app.is_running());
        EXPECT_FALSE(httplib::Client("127.0.0.1", port).Get("/health")) << "still answering after stop()";
    }
    std::istringstream in(log.str());
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ASSERT_EQ(lines.size(), 5u) << log.str();
    const std::regex line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1 (GET|POST) /\S* \d{3} \d+B \d+\.\dms)");
    for (const auto& l : lines) EXPECT_TRUE(std::regex_match(l, line)) << l;
    // Each request came on its own connection (own worker), so the lines may be in any order.
    for (const char* want : {"GET /health 200", "POST /predict 200", "POST /predict 400", "GET /missing 404",
                             "GET /a?fake?line 404"}) {
        std::size_t n = 0;
        for (const auto& l : lines) n += l.find(want) != std::string::npos;
        EXPECT_EQ(n, 1u) << want << " in\n" << log.str();
    }
    std::filesystem::remove_all(dir);
}

// ---- The holes of issue 18: framing, slow and silent clients, liveness, backlog ----------

int status_of(const std::string& response) {
    return response.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(response.c_str() + 9) : 0;
}
/// `data` gzip-compressed (zlib, gzip framing).
std::string gzip(const std::string& data) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}
std::string chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

/// An App of its own (its own limits) on the tiny model.
struct OwnApp {
    std::string dir;
    std::shared_ptr<const Predictor> predictor;
    std::ostringstream log;
    std::unique_ptr<App> app;
    int port = 0;
    explicit OwnApp(serve::AppOptions opt, const std::string& name, double initializer_range = 0.5, bool int8 = false) {
        dir = (std::filesystem::path(::testing::TempDir()) / ("rgrid_serve_" + name + "." + std::to_string(::getpid())))
                  .string();
        std::filesystem::remove_all(dir);
        save_tiny_model(dir, initializer_range);
        PredictorOptions po = load_predictor_options(dir);
        po.int8 = int8;  // what rgrid-serve --int8 does
        predictor = std::make_shared<const Predictor>(Predictor::from_pretrained(dir, po));
        app = std::make_unique<App>(predictor, log, opt);
        port = app->start();
    }
    ~OwnApp() {
        app.reset();
        std::filesystem::remove_all(dir);
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        c.set_connection_timeout(10, 0);
        return c;
    }
};

TEST_F(Serve, ChunkedBodyIsHeldToMaxBody) {
    // Within the limit a chunked body is read and predicted like any other.
    const std::string text = words(300, 5);
    const std::string body = json{{"text", text}}.dump();
    {
        RawClient c(port_);
        ASSERT_TRUE(c.connected());
        std::string req = "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        for (std::size_t i = 0; i < body.size(); i += 100) req += chunk(body.substr(i, 100));
        ASSERT_TRUE(c.send(req + "0\r\n\r\n"));
        const std::string out = c.response();
        ASSERT_EQ(status_of(out), 200) << out.substr(0, 300);
        expect_matches(parse(out.substr(out.find("\r\n\r\n") + 4)), predictor_->predict(text));
    }
    // Past --max-body (64 KiB here): 413 as soon as the limit is crossed; the server stops
    // reading (the client keeps sending 4 MiB and finds the connection closed).
    RawClient c(port_);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("{\"text\": \"")));
    const std::string piece = chunk(std::string(16384, 'a'));
    bool refused = false;
    for (int i = 0; i < 256 && !refused; ++i) refused = !c.send(piece);
    const std::string out = c.response();
    EXPECT_EQ(status_of(out), 413) << out.substr(0, 300);
    EXPECT_NE(out.find("request body too large: the limit is 65536 bytes"), std::string::npos) << out.substr(0, 300);
    // Content-Length framing: an announced oversize body is refused as well (no body sent).
    RawClient d(port_);
    ASSERT_TRUE(d.send("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n"));
    EXPECT_EQ(status_of(d.response()), 413);
    // A compressed body counts its decompressed bytes: 1 MB of text in ~1 KB of gzip is refused,
    // a small one is predicted.
    for (const auto& [text, status] : std::vector<std::pair<std::string, int>>{{words(40, 3), 200},
                                                                               {std::string(1 << 20, 'a'), 413}}) {
        const std::string z = gzip(json{{"text", text}}.dump());
        RawClient g(port_);
        ASSERT_TRUE(g.send("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: " +
                           std::to_string(z.size()) + "\r\n\r\n" + z));
        const std::string got = g.response();
        EXPECT_EQ(status_of(got), status) << "gzip of " << text.size() << " bytes (" << z.size() << " compressed): "
                                          << got.substr(0, 300);
    }
    // No framing at all (HTTP/1.0-style body until close) is held to the limit too.
    RawClient e(port_);
    ASSERT_TRUE(e.send("POST /predict HTTP/1.0\r\nHost: x\r\n\r\n{\"text\": \"" + std::string(100000, 'a')));
    EXPECT_EQ(status_of(e.response()), 413);
    auto res = client().Get("/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST(ServeHoles, WorkForAGoneClientStops) {
    // Batches of 2 windows: a 6,000-word text is ~1,000 windows, hundreds of small passes; the
    // client leaves right after sending it.
    OwnApp a({.threads = 2, .max_batch = 2, .max_wait = std::chrono::milliseconds(0)}, "gone");
    {
        RawClient c(a.port);
        const std::string body = json{{"text", words(6000, 7)}}.dump();
        ASSERT_TRUE(c.send("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\n\r\n" + body));
    }  // closed
    // Within a generous bound, the request is dropped with most of its windows never computed.
    serve::BatchStats st;
    for (int i = 0; i < 600 && st.dropped == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        st = a.app->batch_stats();
    }
    EXPECT_GT(st.dropped, 0u) << "windows computed: " << st.windows;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_NE(a.log.str().find("POST /predict 499"), std::string::npos) << a.log.str();
    auto res = a.client().Post("/predict", "{\"text\": \"hello\"}", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST(ServeHoles, SlowHeadersAndSilentConnectionsDoNotStarveTheServer) {
    // One prediction worker and one other worker: before, a single silent connection held
    // the only worker. Idle connections are kept 60 s here, so they are all still open.
    OwnApp a({.threads = 1, .other_threads = 1, .idle_timeout = std::chrono::seconds(60),
              .request_timeout = std::chrono::seconds(60)},
             "starve");
    std::vector<std::unique_ptr<RawClient>> silent, trickling;
    for (int i = 0; i < 10; ++i) silent.push_back(std::make_unique<RawClient>(a.port));
    for (int i = 0; i < 6; ++i) {
        trickling.push_back(std::make_unique<RawClient>(a.port));
        ASSERT_TRUE(trickling.back()->send("POST /predict HTTP/1.1\r\nHost: x\r\n"));
    }
    for (int round = 0; round < 3; ++round) {
        for (auto& t : trickling) ASSERT_TRUE(t->send("X-Slow-" + std::to_string(round) + ": 1\r\n"));
        auto c = a.client();
        auto h = c.Get("/health");
        ASSERT_TRUE(h) << httplib::to_string(h.error());
        EXPECT_EQ(h->status, 200);
        auto p = c.Post("/predict", "{\"text\": \"hello there\"}", "application/json");
        ASSERT_TRUE(p) << httplib::to_string(p.error());
        EXPECT_EQ(p->status, 200);
    }
    // All 16 were still open and waiting while those were answered.
    EXPECT_GE(a.app->idle_connections(), 16u);
    for (auto& t : silent) EXPECT_FALSE(t->closed_by_server());
}

TEST(ServeHoles, RequestsMustArriveInTime) {
    OwnApp a({.threads = 1, .other_threads = 1, .idle_timeout = std::chrono::seconds(1),
              .request_timeout = std::chrono::seconds(1)},
             "timeout");
    // Headers trickled (a line every 300 ms, forever): 408 and closed after ~1 s.
    RawClient h(a.port);
    ASSERT_TRUE(h.send("GET /health HTTP/1.1\r\n"));
    std::string got;
    for (int i = 0; i < 40 && got.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        if (!h.send("X-Slow: 1\r\n")) break;  // closed by the server
        got = h.response_if_ready();
    }
    if (got.empty()) got = h.response();
    EXPECT_EQ(status_of(got), 408) << got;
    EXPECT_NE(got.find("request timeout"), std::string::npos) << got;
    // A body trickled byte by byte holds the only prediction worker at most ~1 s, then 408.
    RawClient b(a.port);
    ASSERT_TRUE(b.send("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"));
    std::string bout;
    for (int i = 0; i < 40 && bout.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        if (!b.send(" ")) break;
        bout = b.response_if_ready();
    }
    if (bout.empty()) bout = b.response();
    EXPECT_EQ(status_of(bout), 408) << bout;
    // A connection that never sends anything is closed after the idle timeout (~1 s).
    RawClient s(a.port);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(s.response(), "");  // recv returned 0: closed (the receive timeout is 20 s)
    // The worker is free again.
    auto res = a.client().Post("/predict", "{\"text\": \"hello\"}", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST(ServeHoles, HealthDoesNotWaitBehindPredictions) {
    // Two prediction workers, one pass at a time, six clients keeping them busy with long texts
    // over keep-alive connections: /health is served by its own workers.
    OwnApp a({.threads = 2, .max_parallel_predictions = 1, .max_batch = 1}, "health");
    std::atomic<bool> done{false};
    std::atomic<int> predictions{0};
    const std::string body = json{{"text", words(20000, 9)}}.dump();
    std::vector<std::thread> load;
    for (int i = 0; i < 6; ++i)
        load.emplace_back([&] {
            auto c = a.client();
            while (!done)
                if (auto r = c.Post("/predict", body, "application/json"); r && r->status == 200) ++predictions;
        });
    while (predictions == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int before = predictions;
    double worst = 0;
    for (int i = 0; i < 10; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto h = a.client().Get("/health");
        worst = std::max(worst, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        ASSERT_TRUE(h);
        EXPECT_EQ(h->status, 200);
    }
    const int during = predictions - before;
    done = true;
    for (auto& t : load) t.join();
    // Generous: ten health checks take far less than the six queued long predictions ahead
    // of them would (each is a ~2,500-window pass).
    EXPECT_LT(worst, 2.0) << during << " predictions finished meanwhile";
}

TEST_F(Serve, ListenBacklogIsNot5) {
    EXPECT_EQ(app_->info().at("backlog"), 1024);
    // The kernel's view: `ss -ltn` shows a listening socket's backlog in the Send-Q column.
    const std::string cmd = "ss -ltnH 'sport = :" + std::to_string(port_) + "' 2>/dev/null";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char line[512] = {};
    const bool got = std::fgets(line, sizeof line, p) != nullptr;
    ::pclose(p);
    if (!got) GTEST_SKIP() << "ss not available";
    std::istringstream in(line);
    std::string state, recvq, sendq;
    in >> state >> recvq >> sendq;
    EXPECT_EQ(state, "LISTEN");
    EXPECT_GT(std::stoi(sendq), 5) << line;  // 1024, or less if net.core.somaxconn caps it
    EXPECT_LE(std::stoi(sendq), 1024) << line;
}

// ---- Dynamic batching ---------------------------------------------------------------

/// 8 concurrent clients × 12 requests over texts of 1 to 16 windows; every answer must equal
/// the text predicted alone. Returns the largest probability difference seen.
double concurrent_answers_equal_alone(const OwnApp& a, double tol) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 11; ++i) texts.push_back(words(3 + 11 * i, i));  // 1 to 6 windows
    texts.push_back(words(300, 99));                                             // 16 windows
    std::vector<Prediction> want;
    for (const auto& t : texts) want.push_back(a.predictor->predict(t));
    EXPECT_GT(want.back().windows, 8u);
    const auto& labels = a.predictor->labels();
    std::vector<double> worst(8, 0.0);
    std::vector<std::size_t> ok(8, 0);
    std::vector<std::string> failure(8);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < 8; ++t)
        pool.emplace_back([&, t] {
            auto c = a.client();
            for (std::size_t r = 0; r < 12; ++r) {
                const std::size_t i = (t * 5 + r) % texts.size();
                auto res = c.Post("/predict", json{{"text", texts[i]}}.dump(), "application/json");
                if (!res || res->status != 200) {
                    failure[t] = res ? res->body : httplib::to_string(res.error());
                    continue;
                }
                const json b = json::parse(res->body);
                bool good = b.at("label") == want[i].label && b.at("windows") == want[i].windows;
                for (std::size_t k = 0; k < labels.size(); ++k) {
                    const double d = std::abs(b.at("probabilities").at(labels[k]).get<double>() - want[i].probabilities[k]);
                    worst[t] = std::max(worst[t], d);
                    good = good && d <= tol;
                }
                if (good) ++ok[t];
                else if (failure[t].empty()) failure[t] = "text " + std::to_string(i) + ": " + res->body;
            }
        });
    for (auto& th : pool) th.join();
    for (std::size_t t = 0; t < 8; ++t) EXPECT_EQ(ok[t], 12u) << "client " << t << ": " << failure[t];
    return *std::max_element(worst.begin(), worst.end());
}

TEST(ServeBatching, EqualsUnbatched) {
    // BERT's own initializer range (0.02): logits of the size a trained model has early on.
    // 50 ms of waiting and batches of 8 windows: concurrent requests share batches and the
    // 16-window text is spread over at least two.
    OwnApp a({.threads = 16, .max_batch = 8, .max_wait = std::chrono::milliseconds(50)}, "batch", 0.02);
    const double worst = concurrent_answers_equal_alone(a, 1e-6);
    const serve::BatchStats st = a.app->batch_stats();
    EXPECT_GT(st.mixed, 0u) << "no batch held windows of two requests";
    EXPECT_LE(st.max_seen, 8u);
    EXPECT_GT(st.batches, 0u);
    std::cout << "batched: " << st.batches << " batches, " << st.windows << " windows, " << st.mixed
              << " mixed, largest " << st.max_seen << "; max |Δp| vs alone " << worst << "\n";
    const json info = a.app->info();
    EXPECT_EQ(info.at("max_batch"), 8);
    EXPECT_EQ(info.at("max_wait_ms"), 50);
    EXPECT_EQ(info.at("batching"), true);
    EXPECT_EQ(info.at("batches").at("largest"), st.max_seen);
}

TEST(ServeBatching, Int8ModelBatchedEqualsItselfAlone) {
    // rgrid-serve --int8: the encoder's Linears quantized on load; /info says so, and batched
    // answers equal the same int8 predictor's answers one text at a time (activations are
    // quantized per row, so a row's codes do not depend on the other rows of its batch).
    OwnApp a({.threads = 16, .max_batch = 8, .max_wait = std::chrono::milliseconds(50)}, "int8", 0.02, true);
    ASSERT_TRUE(a.predictor->int8());
    EXPECT_EQ(a.app->info().at("int8"), true);
    concurrent_answers_equal_alone(a, 1e-6);
    EXPECT_GT(a.app->batch_stats().mixed, 0u) << "no batch held windows of two requests";
}

TEST(ServeBatching, ALoneRequestDoesNotWaitForOthers) {
    // max_wait 20 s: a partial batch waits only while another request is on its way, so a lone
    // client is answered at once (well within 10 s even on a loaded machine), not after 20 s.
    OwnApp a({.threads = 4, .max_batch = 32, .max_wait = std::chrono::seconds(20)}, "lone", 0.02);
    auto c = a.client();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
        auto res = c.Post("/predict", "{\"text\": \"hello there\"}", "application/json");
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200);
    }
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
    EXPECT_EQ(a.app->batch_stats().batches, 3u);
}

TEST(ServeBatching, OffWithMaxBatch1) {
    OwnApp a({.threads = 8, .max_batch = 1}, "nobatch", 0.02);
    concurrent_answers_equal_alone(a, 1e-6);
    EXPECT_EQ(a.app->batch_stats().batches, 0u);
    const json info = a.app->info();
    EXPECT_EQ(info.at("batching"), false);
    EXPECT_EQ(info.at("max_batch"), 1);
    EXPECT_FALSE(info.contains("batches"));
}

TEST(ServeBatching, ListsAndMixedRequestsKeepTheirOwnResults) {
    // A {"texts": [...]} list and single texts in flight together; each gets its own rows.
    OwnApp a({.threads = 8, .max_batch = 5, .max_wait = std::chrono::milliseconds(20)}, "lists", 0.02);
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 6; ++i) texts.push_back(words(10 + 30 * i, 40 + i));
    const auto want = a.predictor->predict(texts);
    std::vector<std::thread> pool;
    std::atomic<int> good{0};
    for (int t = 0; t < 4; ++t)
        pool.emplace_back([&, t] {
            auto c = a.client();
            for (int r = 0; r < 5; ++r) {
                auto res = c.Post("/predict", json{{"texts", texts}}.dump(), "application/json");
                auto one = c.Post("/predict", json{{"text", texts[(t + r) % 6]}}.dump(), "application/json");
                if (!res || !one || res->status != 200 || one->status != 200) continue;
                const json b = json::parse(res->body), o = json::parse(one->body);
                bool same = b.size() == texts.size() && o.at("label") == want[(t + r) % 6].label;
                for (std::size_t i = 0; same && i < texts.size(); ++i)
                    same = b[i].at("label") == want[i].label && b[i].at("windows") == want[i].windows &&
                           std::abs(b[i].at("probabilities").at("spam").get<double>() - want[i].probabilities[1]) <= 1e-6;
                good += same;
            }
        });
    for (auto& th : pool) th.join();
    EXPECT_EQ(good, 20);
}

// Writes the tiny model where the browser test and the load benchmark expect it; runs only
// when RGRID_SERVE_MODEL_DIR is set (CTest fixture serve_tiny_model). With
// RGRID_SERVE_MODEL_PRESET=tiny|mini|... it writes a random model of that BertConfig preset
// with the default 512-token windows instead (benchmarks/serve_load.sh).
TEST(ServeModel, SaveTiny) {
    const char* dir = std::getenv("RGRID_SERVE_MODEL_DIR");
    if (!dir) GTEST_SKIP() << "set RGRID_SERVE_MODEL_DIR to write the tiny model";
    if (const char* preset = std::getenv("RGRID_SERVE_MODEL_PRESET")) {
        BertConfig c = BertConfig::preset(preset);
        c.id2label = {"ham", "spam"};
        Rng rng(99);
        BertForSequenceClassification<float> model(c, rng);
        save_pretrained(model, dir, kVocab);
        save_predictor_options(dir, PredictorOptions{});
    } else {
        save_tiny_model(dir);
    }
    EXPECT_GE(Predictor::from_pretrained(dir).labels().size(), 2u);
}

}  // namespace

// serve::App end to end: an in-process server on an ephemeral loopback port, a real httplib
// client. Predictions equal Predictor's, every client mistake is a 4xx JSON error naming the
// problem, 8 threads × 50 requests are all answered correctly, a long text is windowed.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
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
void save_tiny_model(const std::string& dir) {
    const BertConfig c = test::tiny_bert_config({"ham", "spam", "phishing"},
                                                {.layers = 2, .max_positions = 512, .initializer_range = 0.5});
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

/// Sends raw bytes and returns the raw response (for requests httplib's client won't produce):
/// reads the headers and Content-Length bytes of body (the connection may stay open).
std::string raw_request(int port, const std::string& bytes) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
        out.append(buf, static_cast<std::size_t>(n));
        const auto end = out.find("\r\n\r\n");
        const auto cl = out.find("Content-Length: ");
        if (end != std::string::npos && cl != std::string::npos &&
            out.size() >= end + 4 + std::stoul(out.substr(cl + 16)))
            break;
    }
    ::close(fd);
    return out;
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
    // Each request holds one text, so compare with one-text predictions (a batch of several
    // texts pads windows to a common length, which moves results by ~1e-7).
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
                                        want[i].probabilities[k]) < 1e-6;
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

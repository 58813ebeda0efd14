// libFuzzer target: the web app's request-body handling (serve/app.hpp), called directly
// rather than over a socket: detail::parse_predict_request() is what POST /predict runs on
// every body before the Predictor sees it.
// Input: the request body (any bytes).
// Checks: a body is either accepted — one or more texts, none blank, all valid UTF-8, exactly
// one for {"text": ...} — or rejected with a 4xx RequestError whose message is non-empty
// and serializes into the {"error": "..."} JSON reply; the reply for an accepted body
// serializes too.
#include <string>

#include "fuzz_check.hpp"
#include "rgrid/serve/app.hpp"
#include "rgrid/text/unicode.hpp"

namespace sd = rgrid::serve::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    sd::PredictRequest r;
    try {
        r = sd::parse_predict_request(body);
    } catch (const rgrid::serve::RequestError& e) {
        RGRID_FUZZ_CHECK(e.status >= 400 && e.status < 500);
        RGRID_FUZZ_CHECK(!e.message.empty());
        const std::string reply = sd::dump(rgrid::json{{"error", e.message}});
        RGRID_FUZZ_CHECK(rgrid::json::parse(reply, nullptr, false).is_object());
        return 0;
    }
    RGRID_FUZZ_CHECK(!r.texts.empty());
    RGRID_FUZZ_CHECK(!r.single || r.texts.size() == 1);
    for (const auto& t : r.texts) {
        RGRID_FUZZ_CHECK(!sd::blank(t));
        RGRID_FUZZ_CHECK(rgrid::is_valid_utf8(t));
    }
    // The reply shape for an accepted body, with a stand-in prediction per text.
    rgrid::json out = rgrid::json::array();
    for (const auto& t : r.texts) out.push_back({{"label", t}, {"windows", t.size()}});
    RGRID_FUZZ_CHECK(rgrid::json::parse(sd::dump(out), nullptr, false).is_array());
    return 0;
}

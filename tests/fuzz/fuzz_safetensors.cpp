// libFuzzer target: the safetensors reader (io/safetensors.hpp).
// Input: a whole .safetensors file image.
// Checks: parse() either returns tensors whose byte size matches shape x dtype or throws
// rgrid::Error; every accepted tensor converts to its tensor type; serialize() of what was
// read parses back to the same tensors and metadata.
#include <vector>

#include "fuzz_check.hpp"
#include "rgrid/io/safetensors.hpp"

namespace st = rgrid::safetensors;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto* b = reinterpret_cast<const std::byte*>(data);
    const std::vector<std::byte> buf(b, b + size);
    st::Metadata meta;
    st::TensorMap map;
    try {
        map = st::parse(buf, "fuzz.safetensors", &meta);
    } catch (const rgrid::Error&) {
        return 0;  // a clear error is the expected outcome for a malformed file
    }
    std::size_t total = 0;
    for (const auto& [name, t] : map) {
        RGRID_FUZZ_CHECK(name != "__metadata__");
        RGRID_FUZZ_CHECK(t.bytes.size() == t.numel() * st::dtype_size(t.dtype));
        total += t.bytes.size();
        const bool is_int = t.dtype == st::Dtype::I32 || t.dtype == st::Dtype::I64;
        if (t.numel() <= (1u << 16)) {  // converting is linear in numel; keep executions fast
            if (is_int) {
                auto v = t.as<std::int64_t>();
                RGRID_FUZZ_CHECK(v.size() == t.numel());
            } else {
                auto v = t.as<float>();
                RGRID_FUZZ_CHECK(v.size() == t.numel());
            }
        }
        try {  // the wrong kind of conversion is an error, not a crash
            if (is_int) (void)t.as<float>();
            else (void)t.as<std::int64_t>();
            RGRID_FUZZ_CHECK(false);
        } catch (const rgrid::Error&) {
        }
    }
    RGRID_FUZZ_CHECK(total <= size);
    // What was accepted can be written and read back unchanged.
    const auto again = st::serialize(map, meta);
    st::Metadata meta2;
    const st::TensorMap map2 = st::parse(again, "roundtrip.safetensors", &meta2);
    RGRID_FUZZ_CHECK(meta2 == meta);
    RGRID_FUZZ_CHECK(map2.size() == map.size());
    for (const auto& [name, t] : map) {
        const auto it = map2.find(name);
        RGRID_FUZZ_CHECK(it != map2.end());
        RGRID_FUZZ_CHECK(it->second.dtype == t.dtype && it->second.shape == t.shape && it->second.bytes == t.bytes);
    }
    return 0;
}

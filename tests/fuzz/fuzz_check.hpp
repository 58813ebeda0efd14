#pragma once
// Shared by the fuzz targets: an invariant check that aborts (so libFuzzer records the input
// as a crash) and a tiny reader over the fuzz input for choosing options.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

/// Aborts with the failed condition when an invariant of the code under test is broken.
#define RGRID_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                       \
        }                                                                                       \
    } while (0)

namespace rgrid::fuzz {

/// Takes option bytes from the front of the input; the rest is the payload.
struct Input {
    const std::uint8_t* data;
    std::size_t size;
    /// The next byte (0 when the input is exhausted).
    std::uint8_t byte() {
        if (size == 0) return 0;
        --size;
        return *data++;
    }
    std::string_view rest() const { return {reinterpret_cast<const char*>(data), size}; }
};

}  // namespace rgrid::fuzz

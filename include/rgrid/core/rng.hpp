#pragma once
// Rng: a counter-based generator (SplitMix64 finalizer over key ⊕ counter).
// Draw i of a stream depends only on (key, counter + i), so bulk fills split across
// threads give the same numbers whatever the thread count, and the whole state is two
// integers (saved in checkpoints for exact resume).
#include <cmath>
#include <cstdint>
#include <numbers>

namespace rgrid {

namespace detail {
inline std::uint64_t mix64(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
}  // namespace detail

/// Seeded random stream. Every random choice in rgrid takes an Rng& or a seed.
/// Example: `Rng rng(42); float u = rng.uniform<float>(); Rng drop = rng.fork(1);`
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) : key_(detail::mix64(seed ^ 0x5EEDull)), counter_(0) {}

    /// Raw 64 random bits; advances the counter by one.
    std::uint64_t next_u64() { return at(counter_++); }
    /// The value draw `i` from now would give, without advancing (for parallel fills).
    std::uint64_t at(std::uint64_t i) const { return detail::mix64(key_ ^ detail::mix64(i)); }
    /// Advance the counter by `n` draws (after a parallel fill used at(counter()+i)).
    void skip(std::uint64_t n) { counter_ += n; }

    /// Uniform in [0, 1) with 53 (double) or 24 (float) random bits.
    template <class T = double>
    T uniform() { return to_unit<T>(next_u64()); }
    template <class T>
    static T to_unit(std::uint64_t bits) {
        if constexpr (sizeof(T) >= 8) return static_cast<T>(bits >> 11) * T(0x1.0p-53);
        else return static_cast<T>(bits >> 40) * T(0x1.0p-24);
    }
    /// Uniform integer in [0, n) (Lemire's multiply-shift; n > 0).
    std::uint64_t below(std::uint64_t n) {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64);
    }
    /// Normal(mean, std) by Box–Muller (one pair of draws per value: simple and reproducible).
    template <class T = double>
    T normal(T mean = T(0), T std = T(1)) {
        double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
        double u2 = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
        double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
        return static_cast<T>(mean + std * z);
    }
    /// An independent stream derived from this one's key and a stream number.
    Rng fork(std::uint64_t stream) const {
        Rng r;
        r.key_ = detail::mix64(key_ ^ detail::mix64(stream + 0xF0F0ull));
        r.counter_ = 0;
        return r;
    }

    std::uint64_t key() const { return key_; }
    std::uint64_t counter() const { return counter_; }
    /// Restore a state saved from key() and counter().
    void set_state(std::uint64_t key, std::uint64_t counter) { key_ = key; counter_ = counter; }
    bool operator==(const Rng&) const = default;

private:
    std::uint64_t key_;
    std::uint64_t counter_;
};

}  // namespace rgrid

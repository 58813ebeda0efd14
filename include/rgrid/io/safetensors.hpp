#pragma once
// safetensors: the checkpoint format of Hugging Face (8-byte little-endian header length N,
// N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
// {...}}, then the raw little-endian data). Every field of a file is validated before any
// byte is used: a malformed file is an rgrid::Error naming the file, the tensor and the
// problem, never a crash.
// https://github.com/huggingface/safetensors#format
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/core/json.hpp"

namespace rgrid::safetensors {

static_assert(std::endian::native == std::endian::little, "rgrid safetensors IO assumes a little-endian host");

/// Element types rgrid reads. F16/BF16 are read and converted; F32, F64, I8 (int8 checkpoints), I32 and I64 round-trip.
enum class Dtype { F16, BF16, F32, F64, I8, I32, I64 };

inline const char* dtype_name(Dtype d) {
    switch (d) {
        case Dtype::F16: return "F16";
        case Dtype::BF16: return "BF16";
        case Dtype::F32: return "F32";
        case Dtype::F64: return "F64";
        case Dtype::I8: return "I8";
        case Dtype::I32: return "I32";
        case Dtype::I64: return "I64";
    }
    return "?";
}
inline std::size_t dtype_size(Dtype d) {
    switch (d) {
        case Dtype::I8: return 1;
        case Dtype::F16: case Dtype::BF16: return 2;
        case Dtype::F32: case Dtype::I32: return 4;
        case Dtype::F64: case Dtype::I64: return 8;
    }
    return 0;
}

namespace detail {
inline bool parse_dtype(const std::string& s, Dtype& out) {
    for (Dtype d : {Dtype::F16, Dtype::BF16, Dtype::F32, Dtype::F64, Dtype::I8, Dtype::I32, Dtype::I64})
        if (s == dtype_name(d)) { out = d; return true; }
    return false;
}
/// IEEE binary16 -> float (handles subnormals, inf, NaN).
inline float half_to_float(std::uint16_t h) {
    std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu, bits;
    if (exp == 0x1F) bits = sign | 0x7F800000u | (man << 13);
    else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);
    else if (man == 0) bits = sign;
    else {  // subnormal: normalize
        int e = -1;
        do { ++e; man <<= 1; } while ((man & 0x400u) == 0);
        bits = sign | static_cast<std::uint32_t>(112 - e) << 23 | ((man & 0x3FFu) << 13);
    }
    return std::bit_cast<float>(bits);
}
inline float bf16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }
template <class U>
U load_at(const std::byte* p) {
    U u;
    std::memcpy(&u, p, sizeof(U));
    return u;
}
}  // namespace detail

/// One stored tensor: its dtype, shape and raw little-endian bytes.
/// Example: `auto t = map.at("classifier.weight").as<float>();  // any float dtype -> float`
struct StoredTensor {
    Dtype dtype = Dtype::F32;
    Shape shape;
    std::vector<std::byte> bytes;

    std::size_t numel() const { return rgrid::numel(shape); }

    /// Converted to T (float or double from any float dtype; int64 from integer dtypes).
    template <class T>
    Tensor<T> as() const {
        Tensor<T> t = Tensor<T>::from_shape(shape);
        const std::byte* p = bytes.data();
        const std::size_t n = numel();
        constexpr bool is_int = std::is_integral_v<T>;
        const bool src_int = dtype == Dtype::I8 || dtype == Dtype::I32 || dtype == Dtype::I64;
        RGRID_CHECK(is_int == src_int, "safetensors: cannot convert a ", dtype_name(dtype), " tensor to ",
                    is_int ? "an integer" : "a floating-point", " tensor");
        for (std::size_t i = 0; i < n; ++i) {
            switch (dtype) {
                case Dtype::F16: t.data()[i] = static_cast<T>(detail::half_to_float(detail::load_at<std::uint16_t>(p + 2 * i))); break;
                case Dtype::BF16: t.data()[i] = static_cast<T>(detail::bf16_to_float(detail::load_at<std::uint16_t>(p + 2 * i))); break;
                case Dtype::F32: t.data()[i] = static_cast<T>(detail::load_at<float>(p + 4 * i)); break;
                case Dtype::F64: t.data()[i] = static_cast<T>(detail::load_at<double>(p + 8 * i)); break;
                case Dtype::I8: t.data()[i] = static_cast<T>(detail::load_at<std::int8_t>(p + i)); break;
                case Dtype::I32: t.data()[i] = static_cast<T>(detail::load_at<std::int32_t>(p + 4 * i)); break;
                case Dtype::I64: t.data()[i] = static_cast<T>(detail::load_at<std::int64_t>(p + 8 * i)); break;
            }
        }
        return t;
    }
    /// Stores a float (F32), double (F64), int8 (I8), int32 (I32) or int64 (I64) tensor exactly.
    template <class E>
    static StoredTensor from(const E& t) {
        using T = typename E::value_type;
        StoredTensor s;
        if constexpr (std::is_same_v<T, float>) s.dtype = Dtype::F32;
        else if constexpr (std::is_same_v<T, double>) s.dtype = Dtype::F64;
        else if constexpr (std::is_same_v<T, std::int64_t>) s.dtype = Dtype::I64;
        else if constexpr (std::is_same_v<T, std::int32_t>) s.dtype = Dtype::I32;
        else if constexpr (std::is_same_v<T, std::int8_t>) s.dtype = Dtype::I8;
        else static_assert(sizeof(T) == 0, "safetensors: store float, double, int8, int32 or int64 tensors");
        s.shape = shape_of(t);
        s.bytes.resize(t.size() * sizeof(T));
        if (!s.bytes.empty()) std::memcpy(s.bytes.data(), t.data(), s.bytes.size());
        return s;
    }
};

/// Name -> tensor (sorted by name).
using TensorMap = std::map<std::string, StoredTensor>;
/// The "__metadata__" string map.
using Metadata = std::map<std::string, std::string>;

/// Largest header accepted (the reference implementation uses 100 MB too).
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

/// Parses a whole safetensors file held in memory; `source` names it in error messages.
inline TensorMap parse(const std::vector<std::byte>& buf, const std::string& source, Metadata* metadata = nullptr) {
    const std::string where = "safetensors: " + source + ": ";
    RGRID_CHECK(buf.size() >= 8, where, "file is ", buf.size(), " bytes, too short for the 8-byte header length");
    const std::uint64_t n = detail::load_at<std::uint64_t>(buf.data());
    RGRID_CHECK(n <= max_header_bytes, where, "header length ", n, " exceeds the ", max_header_bytes,
                "-byte cap (corrupt or not a safetensors file)");
    RGRID_CHECK(n <= buf.size() - 8, where, "header length ", n, " runs past the end of the file (",
                buf.size(), " bytes)");
    RGRID_CHECK(n >= 2, where, "header length ", n, " is too short for a JSON object");
    const char* hdr = reinterpret_cast<const char*>(buf.data() + 8);
    json j = json::parse(hdr, hdr + n, nullptr, /*allow_exceptions=*/false);
    RGRID_CHECK(!j.is_discarded(), where, "header is not valid JSON");
    RGRID_CHECK(j.is_object(), where, "header is not a JSON object");
    const std::uint64_t data_size = buf.size() - 8 - n;
    const std::byte* data = buf.data() + 8 + n;

    struct Span { std::uint64_t begin, end; std::string name; };
    std::vector<Span> spans;
    TensorMap out;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& name = it.key();
        const json& v = it.value();
        if (name == "__metadata__") {
            RGRID_CHECK(v.is_object(), where, "__metadata__ is not an object");
            for (auto m = v.begin(); m != v.end(); ++m) {
                RGRID_CHECK(m.value().is_string(), where, "__metadata__ value '", m.key(), "' is not a string");
                if (metadata) (*metadata)[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string at = where + "tensor '" + name + "': ";
        RGRID_CHECK(v.is_object(), at, "entry is not an object");
        RGRID_CHECK(v.contains("dtype") && v["dtype"].is_string(), at, "missing or non-string dtype");
        StoredTensor t;
        const std::string dt = v["dtype"].get<std::string>();
        RGRID_CHECK(detail::parse_dtype(dt, t.dtype), at, "unknown dtype '", dt,
                    "' (rgrid reads F16, BF16, F32, F64, I8, I32, I64)");
        RGRID_CHECK(v.contains("shape") && v["shape"].is_array(), at, "missing or non-array shape");
        std::uint64_t count = 1;
        bool overflow = false;
        for (const auto& d : v["shape"]) {
            RGRID_CHECK(d.is_number_unsigned(), at, "shape entry ", d.dump(), " is not a non-negative integer");
            const std::uint64_t e = d.get<std::uint64_t>();
            if (e != 0 && count > UINT64_MAX / e) overflow = true;
            count *= e;
            t.shape.push_back(static_cast<std::size_t>(e));
        }
        RGRID_CHECK(!overflow, at, "shape ", v["shape"].dump(), " overflows");
        RGRID_CHECK(v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2 &&
                        v["data_offsets"][0].is_number_unsigned() && v["data_offsets"][1].is_number_unsigned(),
                    at, "data_offsets must be two non-negative integers [begin, end]");
        const std::uint64_t b = v["data_offsets"][0].get<std::uint64_t>(), e = v["data_offsets"][1].get<std::uint64_t>();
        RGRID_CHECK(b <= e, at, "data_offsets [", b, ", ", e, "] has begin after end");
        RGRID_CHECK(e <= data_size, at, "data_offsets [", b, ", ", e, "] out of range: the data section has ",
                    data_size, " bytes");
        const std::size_t es = dtype_size(t.dtype);
        RGRID_CHECK(count <= UINT64_MAX / es && count * es == e - b, at, "byte span ", e - b, " does not match shape ",
                    shape_str(t.shape), " x ", dt, " (", es, " bytes each) = ", count * es, " bytes");
        t.bytes.assign(data + b, data + e);
        spans.push_back({b, e, name});
        out.emplace(name, std::move(t));
    }
    std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) {
        return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
    });
    std::uint64_t pos = 0;
    std::string prev = "<start of data>";
    for (const auto& s : spans) {
        RGRID_CHECK(s.begin >= pos, where, "tensor '", s.name, "' overlaps tensor '", prev, "' (bytes ", s.begin,
                    "..", s.end, " start before ", pos, ")");
        RGRID_CHECK(s.begin == pos, where, "gap of ", s.begin - pos, " bytes before tensor '", s.name, "' (after '",
                    prev, "')");
        pos = s.end;
        prev = s.name;
    }
    RGRID_CHECK(pos == data_size, where, data_size - pos, " trailing bytes after the last tensor (data section ",
                data_size, " bytes, tensors cover ", pos, ")");
    return out;
}

/// Reads and validates a .safetensors file. Example: `auto m = safetensors::read("model.safetensors");`
inline TensorMap read(const std::string& path, Metadata* metadata = nullptr) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    RGRID_CHECK(in, "safetensors: cannot open ", path);
    RGRID_CHECK(!std::filesystem::is_directory(path), "safetensors: ", path, " is a directory, not a file");
    const std::streamoff size = in.tellg();
    RGRID_CHECK(size >= 0, "safetensors: cannot size ", path);
    std::vector<std::byte> buf(static_cast<std::size_t>(size));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(buf.data()), size);
    RGRID_CHECK(in.good() || in.eof(), "safetensors: read error on ", path);
    return parse(buf, path, metadata);
}

/// The file image of `tensors`: names sorted, data contiguous, header padded with spaces
/// to a multiple of 8 bytes (as the reference implementation does).
inline std::vector<std::byte> serialize(const TensorMap& tensors, const Metadata& metadata = {}) {
    json h = json::object();
    if (!metadata.empty()) {
        json m = json::object();
        for (auto& [k, v] : metadata) m[k] = v;
        h["__metadata__"] = m;
    }
    std::uint64_t off = 0;
    for (auto& [name, t] : tensors) {
        RGRID_CHECK(name != "__metadata__", "safetensors: '__metadata__' is not a valid tensor name");
        RGRID_CHECK(t.bytes.size() == t.numel() * dtype_size(t.dtype), "safetensors: tensor '", name, "' has ",
                    t.bytes.size(), " bytes for shape ", shape_str(t.shape), " x ", dtype_name(t.dtype));
        h[name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
        off += t.bytes.size();
    }
    std::string header = h.dump();
    header.append((8 - header.size() % 8) % 8, ' ');
    std::vector<std::byte> buf(8 + header.size() + off);
    const std::uint64_t n = header.size();
    std::memcpy(buf.data(), &n, 8);
    std::memcpy(buf.data() + 8, header.data(), header.size());
    std::byte* p = buf.data() + 8 + header.size();
    for (auto& [name, t] : tensors) {
        if (!t.bytes.empty()) std::memcpy(p, t.bytes.data(), t.bytes.size());
        p += t.bytes.size();
    }
    return buf;
}

/// Writes `tensors` to `path` (not atomic by itself; save_pretrained() adds that).
/// Example: `safetensors::write("w.safetensors", {{"w", StoredTensor::from(w)}}, {{"format", "pt"}});`
inline void write(const std::string& path, const TensorMap& tensors, const Metadata& metadata = {}) {
    const auto buf = serialize(tensors, metadata);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    RGRID_CHECK(out, "safetensors: cannot write ", path);
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    out.close();
    RGRID_CHECK(!out.fail(), "safetensors: write to ", path, " failed (disk full?)");
}

}  // namespace rgrid::safetensors

// safetensors::read/write/parse: round trips of every dtype, F16/BF16 conversion, and a
// table of malformed files, each rejected with a message naming the tensor and problem.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "rgrid/io/safetensors.hpp"

using namespace rgrid;
namespace st = rgrid::safetensors;

namespace {

std::string tmp_path(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("rgrid_test_io_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

// A file image from a header text and a data section of `data_bytes` bytes.
std::vector<std::byte> image(const std::string& header, std::size_t data_bytes, std::uint64_t declared = UINT64_MAX) {
    std::uint64_t n = declared == UINT64_MAX ? header.size() : declared;
    std::vector<std::byte> buf(8 + header.size() + data_bytes, std::byte{0});
    std::memcpy(buf.data(), &n, 8);
    std::memcpy(buf.data() + 8, header.data(), header.size());
    return buf;
}

std::string parse_error(const std::vector<std::byte>& buf) {
    try {
        st::parse(buf, "bad.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Safetensors, RoundTripAllStoredTypes) {
    st::TensorMap m;
    m["a.weight"] = st::StoredTensor::from(from_vector<float>({1.5f, -2.f, 3.25f, 0.f, 1e-30f, -7.f}, {2, 3}));
    m["b"] = st::StoredTensor::from(from_vector<double>({0.1, 0.2}, {2}));
    m["ids"] = st::StoredTensor::from(index_tensor({1, -2, 300000000000}, {3}));
    m["scalar"] = st::StoredTensor::from(from_vector<float>({4.f}, {}));
    m["empty"] = st::StoredTensor::from(zeros<float>({0, 4}));
    const std::string path = tmp_path("roundtrip.safetensors");
    st::write(path, m, {{"format", "pt"}});
    st::Metadata meta;
    auto r = st::read(path, &meta);
    EXPECT_EQ(meta.at("format"), "pt");
    ASSERT_EQ(r.size(), m.size());
    for (auto& [k, v] : m) {
        EXPECT_EQ(r.at(k).dtype, v.dtype) << k;
        EXPECT_EQ(r.at(k).shape, v.shape) << k;
        EXPECT_EQ(r.at(k).bytes, v.bytes) << k;
    }
    auto a = r.at("a.weight").as<float>();
    EXPECT_EQ(a(1, 0), 0.f);
    EXPECT_EQ(a(0, 2), 3.25f);
    EXPECT_EQ(r.at("ids").as<std::int64_t>()(2), 300000000000);
    EXPECT_DOUBLE_EQ(r.at("b").as<double>()(1), 0.2);
    EXPECT_FLOAT_EQ(r.at("b").as<float>()(0), 0.1f);
    // header is padded to 8 bytes, data follows contiguously
    auto buf = st::serialize(m);
    std::uint64_t n;
    std::memcpy(&n, buf.data(), 8);
    EXPECT_EQ(n % 8, 0u);
}

TEST(Safetensors, ReadsF16AndBf16AsFloat) {
    // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF, 2^-24 = 0x0001 (subnormal), inf = 0x7C00
    const std::uint16_t h[] = {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00};
    // BF16: 1.0 = 0x3F80, -3.0 = 0xC040
    const std::uint16_t b[] = {0x3F80, 0xC040};
    std::string header = R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]}})";
    auto buf = image(header, 14);
    std::memcpy(buf.data() + 8 + header.size(), h, 10);
    std::memcpy(buf.data() + 8 + header.size() + 10, b, 4);
    auto m = st::parse(buf, "half.safetensors");
    auto hf = m.at("h").as<float>();
    EXPECT_EQ(hf(0), 1.0f);
    EXPECT_EQ(hf(1), -2.5f);
    EXPECT_EQ(hf(2), 65504.f);
    EXPECT_EQ(hf(3), std::ldexp(1.0f, -24));
    EXPECT_TRUE(std::isinf(hf(4)));
    auto bf = m.at("b").as<double>();
    EXPECT_EQ(bf(0), 1.0);
    EXPECT_EQ(bf(1), -3.0);
}

struct Malformed {
    const char* what;
    std::string header;
    std::size_t data_bytes;
    std::uint64_t declared;  // header length written in the first 8 bytes (UINT64_MAX: true length)
    const char* expect1;
    const char* expect2;
};

TEST(Safetensors, MalformedFilesAreClearErrors) {
    const std::string ok_w = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const Malformed cases[] = {
        {"header length past EOF", "{" + ok_w + "}", 8, 4096, "runs past the end", "4096"},
        {"header length over the cap", "{" + ok_w + "}", 8, 1ull << 40, "exceeds", "cap"},
        {"bad JSON", R"({"w":{"dtype":"F32",)", 8, UINT64_MAX, "not valid JSON", "bad.safetensors"},
        {"not an object", "[1,2]", 0, UINT64_MAX, "not a JSON object", "bad.safetensors"},
        {"unknown dtype", R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8, UINT64_MAX, "tensor 'w'", "unknown dtype 'Q4'"},
        {"offsets out of range", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, UINT64_MAX, "tensor 'w'", "out of range"},
        {"begin after end", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, UINT64_MAX, "tensor 'w'", "begin after end"},
        {"wrong byte span", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, UINT64_MAX, "tensor 'w'", "byte span 8"},
        {"overlap", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, UINT64_MAX, "'b' overlaps tensor 'a'", "bad.safetensors"},
        {"gap", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12, UINT64_MAX, "gap of 4 bytes", "tensor 'b'"},
        {"trailing bytes", "{" + ok_w + "}", 12, UINT64_MAX, "4 trailing bytes", "bad.safetensors"},
        {"negative shape", R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, UINT64_MAX, "tensor 'w'", "shape entry -2"},
        {"missing offsets", R"({"w":{"dtype":"F32","shape":[2]}})", 8, UINT64_MAX, "tensor 'w'", "data_offsets"},
        {"bad metadata", R"({"__metadata__":{"k":1}})", 0, UINT64_MAX, "__metadata__", "not a string"},
        {"shape overflow", R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8, UINT64_MAX, "tensor 'w'", "overflows"},
    };
    for (const auto& c : cases) {
        const std::string msg = parse_error(image(c.header, c.data_bytes, c.declared));
        EXPECT_NE(msg, "") << c.what << ": accepted";
        EXPECT_NE(msg.find(c.expect1), std::string::npos) << c.what << ": " << msg;
        EXPECT_NE(msg.find(c.expect2), std::string::npos) << c.what << ": " << msg;
    }
}

TEST(Safetensors, TruncatedFilesAreErrorsAtEveryLength) {
    st::TensorMap m;
    m["x"] = st::StoredTensor::from(from_vector<float>({1, 2, 3, 4}, {2, 2}));
    m["y"] = st::StoredTensor::from(from_vector<float>({5}, {1}));
    auto full = st::serialize(m);
    for (std::size_t len = 0; len < full.size(); ++len) {
        std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
        EXPECT_NE(parse_error(cut), "") << "truncated to " << len << " bytes was accepted";
    }
    const std::string path = tmp_path("trunc.safetensors");
    std::vector<std::byte> cut(full.begin(), full.end() - 3);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(cut.data()), static_cast<std::streamsize>(cut.size()));
    try {
        st::read(path);
        FAIL() << "truncated file accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'y'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(st::read(tmp_path("does-not-exist.safetensors")), Error);
}

TEST(Safetensors, RandomCorruptionNeverCrashes) {
    st::TensorMap m;
    m["x"] = st::StoredTensor::from(from_vector<float>({1, 2, 3, 4}, {2, 2}));
    m["y"] = st::StoredTensor::from(from_vector<double>({5}, {1}));
    const auto full = st::serialize(m);
    std::uint64_t s = 12345;
    for (int trial = 0; trial < 2000; ++trial) {
        auto buf = full;
        for (int k = 0; k < 3; ++k) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            buf[(s >> 33) % buf.size()] = static_cast<std::byte>(s >> 20);
        }
        try {
            auto r = st::parse(buf, "fuzz");
            for (auto& [k, v] : r) EXPECT_EQ(v.bytes.size(), v.numel() * st::dtype_size(v.dtype));
        } catch (const Error&) {
        }
    }
}

TEST(Safetensors, ConversionErrors) {
    auto f = st::StoredTensor::from(from_vector<float>({1}, {1}));
    EXPECT_THROW(f.as<std::int64_t>(), Error);
    auto i = st::StoredTensor::from(index_tensor({1}, {1}));
    EXPECT_THROW(i.as<float>(), Error);
}

// int8 dynamic quantization: the int8 GEMM (every kernel this CPU runs, the AVX2 one forced
// on an AVX-512 machine) equals an exact integer reference bit for bit; the activation
// quantizer's error bound; QuantizedLinear against fp32; a quantized tiny BERT against fp32.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <cstdint>
#include <random>
#include <vector>

#include "common/error_of.hpp"
#include "common/golden_bert.hpp"
#include "rgrid/io/quantized.hpp"
#include "rgrid/core/int8_gemm.hpp"
#include "rgrid/nn/quantize.hpp"

using namespace rgrid;
using namespace rgrid::test;

namespace {

std::vector<Int8Kernel> supported_kernels() {
    std::vector<Int8Kernel> ks;
    for (Int8Kernel k : {Int8Kernel::Scalar, Int8Kernel::Avx2, Int8Kernel::Avx512Vnni})
        if (int8_kernel_supported(k)) ks.push_back(k);
    return ks;
}

// Restores the process-wide kernel choice at scope exit.
struct KernelScope {
    Int8Kernel saved = int8_kernel();
    ~KernelScope() { set_int8_kernel(saved); }
};

// Exact reference: int64 sums over the unpacked matrices.
std::vector<std::int64_t> reference(const std::vector<std::uint8_t>& a, const std::vector<std::int8_t>& b, std::size_t m,
                                    std::size_t n, std::size_t k) {
    std::vector<std::int64_t> c(m * n, 0);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t q = 0; q < k; ++q) c[i * n + j] += std::int64_t(a[i * k + q]) * b[j * k + q];
    return c;
}

void expect_exact(const std::vector<std::uint8_t>& a, const std::vector<std::int8_t>& b, std::size_t m, std::size_t n,
                  std::size_t k) {
    const auto want = reference(a, b, m, n, k);
    const PackedInt8 pb = pack_int8(b.data(), n, k);
    std::vector<std::uint8_t> ap(m * pb.kp, 0);  // A with the padded leading dimension
    for (std::size_t i = 0; i < m; ++i) std::copy(a.begin() + i * k, a.begin() + (i + 1) * k, ap.begin() + i * pb.kp);
    KernelScope scope;
    for (Int8Kernel kern : supported_kernels()) {
        set_int8_kernel(kern);
        std::vector<std::int32_t> c(m * n, -7);
        gemm_u8s8s32(ap.data(), m, pb.kp, pb, c.data(), n);
        std::size_t bad = 0;
        for (std::size_t i = 0; i < m * n; ++i) bad += std::int64_t(c[i]) != want[i];
        EXPECT_EQ(bad, 0u) << int8_kernel_name(kern) << " M=" << m << " N=" << n << " K=" << k << ": first "
                           << (bad ? "mismatch" : "none");
    }
}

}  // namespace

TEST(Int8Gemm, EveryKernelEqualsExactIntegerReference) {
    std::mt19937 g(3);
    const std::size_t ms[] = {1, 5, 7, 8, 13, 130}, ns[] = {1, 16, 17, 64, 100, 130}, ks[] = {1, 3, 4, 37, 384};
    for (std::size_t m : ms)
        for (std::size_t n : ns)
            for (std::size_t k : ks) {
                std::vector<std::uint8_t> a(m * k);
                std::vector<std::int8_t> b(n * k);
                for (auto& v : a) v = static_cast<std::uint8_t>(g() % 256);
                for (auto& v : b) v = static_cast<std::int8_t>(int(g() % 256) - 128);
                expect_exact(a, b, m, n, k);
            }
}

// The largest codes: u8 255 against s8 -128 and 127, where vpmaddubsw's int16 pair sums
// would saturate (2·255·127 > 32767; oneDNN's u8s8 GEMM does on AVX2), and int32 sums of
// thousands of them. A kernel that saturated would differ here.
TEST(Int8Gemm, ExtremeCodesDoNotSaturate) {
    const std::size_t m = 9, n = 48, k = 1540;
    std::vector<std::uint8_t> a(m * k, 255);
    std::vector<std::int8_t> b(n * k);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t q = 0; q < k; ++q) b[j * k + q] = j % 3 == 0 ? -128 : j % 3 == 1 ? 127 : ((q / 2) % 2 ? 127 : -128);
    expect_exact(a, b, m, n, k);
}

TEST(Int8Gemm, KernelSelection) {
    EXPECT_TRUE(int8_kernel_supported(int8_kernel()));
    EXPECT_TRUE(int8_kernel_supported(Int8Kernel::Scalar));
    KernelScope scope;
    for (Int8Kernel k : {Int8Kernel::Scalar, Int8Kernel::Avx2, Int8Kernel::Avx512Vnni}) {
        if (int8_kernel_supported(k)) {
            set_int8_kernel(k);
            EXPECT_EQ(int8_kernel(), k);
        } else {
            EXPECT_THROW(set_int8_kernel(k), Error);
        }
    }
}

TEST(Int8Gemm, RowQuantizerErrorIsHalfAStep) {
    std::mt19937 g(5);
    std::normal_distribution<float> nd(0.3f, 2.f);
    const std::size_t m = 6, k = 50, ldq = 52;
    std::vector<float> x(m * k);
    for (auto& v : x) v = nd(g);
    for (std::size_t i = 0; i < k; ++i) x[2 * k + i] = std::abs(x[2 * k + i]);  // a row without negatives
    std::fill(x.begin() + 3 * k, x.begin() + 4 * k, 0.f);                        // a row of zeros
    std::vector<std::uint8_t> q(m * ldq, 99);
    std::vector<float> s(m);
    std::vector<std::int32_t> z(m);
    quantize_rows_u8(x.data(), m, k, q.data(), ldq, s.data(), z.data());
    for (std::size_t r = 0; r < m; ++r) {
        EXPECT_GE(z[r], 0);
        EXPECT_LE(z[r], 255);
        for (std::size_t i = 0; i < k; ++i) {
                        EXPECT_LE(std::abs(s[r] * (int(q[r * ldq + i]) - z[r]) - x[r * k + i]), 0.5f * s[r] * (1 + 1e-5f) + 1e-6f)
                << "row " << r << " col " << i;
        }
        EXPECT_EQ(q[r * ldq + k], 0);  // padding
    }
    EXPECT_EQ(z[2], 0);  // min = 0 maps to code 0
    EXPECT_EQ(s[3], 1.f);
    EXPECT_EQ(z[3], 0);
    std::vector<float> bad(k, 1.f);
    bad[4] = NAN;
    EXPECT_THROW(quantize_rows_u8(bad.data(), 1, k, q.data(), ldq, s.data(), z.data()), Error);
}

TEST(QuantizedLinear, CloseToFp32AndChecksItsInput) {
    std::mt19937 g(11);
    std::normal_distribution<float> nd(0.f, 1.f);
    const std::size_t n = 70, k = 96, m = 20;
    Tensor<float> w = Tensor<float>::from_shape({n, k}), b = Tensor<float>::from_shape({n}),
                  x = Tensor<float>::from_shape({2, m / 2, k});
    for (auto& v : w) v = 0.05f * nd(g);
    for (auto& v : b) v = nd(g);
    for (auto& v : x) v = nd(g);
    QuantizedLinear q = QuantizedLinear::quantize(w, &b);
    Tensor<float> y = q.forward(x);
    ASSERT_EQ(shape_of(y), (Shape{2, m / 2, n}));
    // Error bound from the two roundings: |Δy| ≤ Σ_k (|x|·δw + |w|·δx + δx·δw) with δw = sw/2, δx = sa/2.
    for (std::size_t r = 0; r < m; ++r) {
        float lo = 0, hi = 0;
        for (std::size_t i = 0; i < k; ++i) lo = std::min(lo, x.data()[r * k + i]), hi = std::max(hi, x.data()[r * k + i]);
        const float dx = 0.5f * (hi - lo) / 255.f;
        for (std::size_t j = 0; j < n; ++j) {
            double exact = b(j), bound = 1e-4;
            const float dw = 0.5f * q.weight_scale(j);
            for (std::size_t i = 0; i < k; ++i) {
                exact += double(x.data()[r * k + i]) * w(j, i);
                bound += std::abs(x.data()[r * k + i]) * dw + std::abs(w(j, i)) * dx + dx * dw;
            }
            EXPECT_LE(std::abs(y.data()[r * n + j] - exact), bound) << "row " << r << " out " << j;
        }
    }
    EXPECT_THROW(q.forward(Tensor<float>::from_shape({3, k + 1})), Error);
    Var<float> xv(x, /*requires_grad=*/true);
    EXPECT_THROW(q.forward(xv), Error);  // no gradient through int8
    NoGradGuard ng;
    EXPECT_NO_THROW(q.forward(xv));
    Tensor<float> s = q.weight_scale;
    s(3) = 0.f;
    EXPECT_THROW(QuantizedLinear(q.weight, s, q.bias), Error);
    EXPECT_THROW(QuantizedLinear(q.weight, Tensor<float>::from_shape({n + 1}), q.bias), Error);
}

// The tiny golden BERT (PyTorch's HF init, hidden 32, 2 layers) quantized: logits within
// 5 % of the fp32 logits' largest magnitude, the same predicted class per row, and the same
// logits bit for bit from every kernel (exact int32 products, one fp32 epilogue). Why 5 %:
// each of the 12 products rounds its weights to 1/254 of a row's range and its inputs to
// 1/255 of a row's range; with rows of only 32-64 values one outlier sets the range, so the
// relative error per product is ~0.5-1 %, compounded through 2 layers and the pooler's
// tanh; measured 3.0 % (a kernel that dropped or saturated terms is off by far more).
TEST(QuantizedBert, TinyLogitsCloseToFp32AndEqualAcrossKernels) {
    auto model = golden_model<float>();
    auto io = safetensors::read(golden + "/bert_tiny_io.safetensors");
    GoldenBatch bt = golden_batch(io);
    NoGradGuard ng;
    Rng rng(0);
    Tensor<float> fp32 = model->forward(bt.ids, bt.types, bt.mask, rng).value();
    const auto names = quantize_dynamic(*model);
    EXPECT_EQ(names.size(), 12u);
    EXPECT_EQ(names[0], "bert.encoder.layer.0.attention.self.query");
    EXPECT_EQ(quantized_linears(*model), names);
    KernelScope scope;
    std::vector<Tensor<float>> per_kernel;
    for (Int8Kernel k : supported_kernels()) {
        set_int8_kernel(k);
        per_kernel.push_back(model->forward(bt.ids, bt.types, bt.mask, rng).value());
    }
    const Tensor<float>& q = per_kernel.back();
    double peak = 0, diff = 0;
    for (std::size_t i = 0; i < q.size(); ++i) {
        peak = std::max(peak, double(std::abs(fp32.data()[i])));
        diff = std::max(diff, double(std::abs(q.data()[i] - fp32.data()[i])));
    }
    EXPECT_GT(diff, 0.0);  // int8 really ran
    EXPECT_LE(diff, 0.05 * peak) << "max |Δ| " << diff << " vs max |logit| " << peak;
    const std::size_t K = fp32.shape()[1];
    for (std::size_t r = 0; r < fp32.shape()[0]; ++r) {
        auto argmax = [&](const Tensor<float>& t) {
            return std::max_element(t.data() + r * K, t.data() + (r + 1) * K) - (t.data() + r * K);
        };
        EXPECT_EQ(argmax(q), argmax(fp32)) << "row " << r;
    }
    for (const auto& t : per_kernel)
        for (std::size_t i = 0; i < q.size(); ++i) ASSERT_EQ(t.data()[i], q.data()[i]) << "logit " << i;
    dequantize(*model);
    EXPECT_TRUE(quantized_linears(*model).empty());
    Tensor<float> again = model->forward(bt.ids, bt.types, bt.mask, rng).value();
    for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(again.data()[i], fp32.data()[i]);
}

namespace {
BertTokenizer golden_tokenizer() {  // a vocabulary of the golden model's size (99)
    std::vector<std::string> t = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    while (t.size() < 99) t.push_back("w" + std::to_string(t.size()));
    return BertTokenizer(Vocab(std::move(t)));
}
std::string fresh_dir(const std::string& name) {
    const std::string d = std::string(RGRID_BINARY_DIR) + "/test_quantize/" + name;
    std::filesystem::remove_all(d);
    return d;
}
// Rewrites DIR/model.safetensors after `edit` changed its tensors.
template <class F>
void edit_weights(const std::string& dir, F&& edit) {
    const std::string path = dir + "/model.safetensors";
    auto map = safetensors::read(path);
    edit(map);
    safetensors::write(path, map);
}
}  // namespace

// save_quantized -> load_quantized gives the same int8 model (identical logits), and every
// checkpoint that does not fit is refused with a message naming the tensor or field.
TEST(QuantizedCheckpoint, RoundTripsAndRefusesWhatDoesNotFit) {
    auto model = golden_model<float>();
    auto io = safetensors::read(golden + "/bert_tiny_io.safetensors");
    GoldenBatch bt = golden_batch(io);
    NoGradGuard ng;
    Rng rng(0);
    quantize_dynamic(*model);
    const Tensor<float> want = model->forward(bt.ids, bt.types, bt.mask, rng).value();
    const std::string dir = fresh_dir("int8");
    save_quantized(*model, dir, golden_tokenizer());
    EXPECT_TRUE(is_quantized_checkpoint(dir));
    auto map = safetensors::read(dir + "/model.safetensors");
    EXPECT_EQ(map.at("bert.encoder.layer.0.attention.self.query.weight").dtype, safetensors::Dtype::I8);
    EXPECT_EQ(map.at("bert.encoder.layer.0.attention.self.query.weight_scale").dtype, safetensors::Dtype::F32);
    EXPECT_EQ(map.at("bert.pooler.dense.weight").dtype, safetensors::Dtype::F32);  // not quantized by default
    EXPECT_EQ(map.at("classifier.weight").dtype, safetensors::Dtype::F32);
    auto loaded = load_quantized(dir);
    EXPECT_EQ(quantized_linears(*loaded).size(), 12u);
    const Tensor<float> got = loaded->forward(bt.ids, bt.types, bt.mask, rng).value();
    for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got.data()[i], want.data()[i]) << "logit " << i;

    auto expect_refused = [&](const std::string& d, const std::string& what) {
        const std::string msg = error_of([&] { load_quantized(d); });
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
    };
    // fp32 checkpoint where int8 is expected, and int8 where fp32 is expected
    const std::string fp32 = fresh_dir("fp32");
    dequantize(*model);
    save_pretrained(*model, fp32, golden_tokenizer());
    expect_refused(fp32, "no quantization_config");
    const std::string msg = error_of([&] { from_pretrained<float>(dir); });
    EXPECT_NE(msg.find("is an int8 checkpoint"), std::string::npos) << msg;
    const std::string q = "bert.encoder.layer.1.intermediate.dense";
    auto broken = [&](const std::string& name, auto&& edit) {
        const std::string d = fresh_dir(name);
        std::filesystem::copy(dir, d);
        edit_weights(d, edit);
        return d;
    };
    expect_refused(broken("f32weight", [&](auto& m) {
                       m[q + ".weight"] = safetensors::StoredTensor::from(Tensor<float>::from_shape({64, 32}));
                   }),
                   q + ".weight is F32");
    expect_refused(broken("noscale", [&](auto& m) { m.erase(q + ".weight_scale"); }), q + ".weight_scale");
    expect_refused(broken("shape", [&](auto& m) {
                       m[q + ".weight"] = safetensors::StoredTensor::from(Tensor<std::int8_t>::from_shape({64, 31}));
                   }),
                   "has shape (64, 31) but the model's is (64, 32)");
    expect_refused(broken("scale0", [&](auto& m) {
                       Tensor<float> s = m.at(q + ".weight_scale").template as<float>();
                       s(5) = 0.f;
                       m[q + ".weight_scale"] = safetensors::StoredTensor::from(s);
                   }),
                   "weight_scale[5] = 0");
    expect_refused(broken("stray_i8", [&](auto& m) {
                       m["classifier.weight"] = safetensors::StoredTensor::from(Tensor<std::int8_t>::from_shape({3, 32}));
                   }),
                   "classifier.weight is I8");
}

// fp32 inference with weights packed once (pack_for_inference): the same bits as the unpacked
// forward at every thread count (the packed panels are the ones gemm() builds per call), a
// forward that needs gradients ignores the packing, and unpack restores the plain path.
TEST(PackForInference, BitIdenticalToUnpackedAndIgnoredWhenGradientsAreWanted) {
    if (!sgemm_kernel_supported(SgemmKernel::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512F";
    const SgemmKernel saved_kernel = sgemm_kernel();
    const std::size_t saved_threads = num_threads();
    set_sgemm_kernel(SgemmKernel::Avx512);
    BertConfig c = golden_config();  // bigger than the golden model, so the products are split
    c.hidden_size = 96, c.num_attention_heads = 3, c.intermediate_size = 200, c.num_hidden_layers = 2;
    c.max_position_embeddings = 64;
    Rng init(3);
    BertForSequenceClassification<float> model(c, init);
    model.eval();
    Rng data(4);
    const std::size_t B = 4, T = 37;
    IndexTensor ids = zeros<std::int64_t>({B, T}), types = zeros<std::int64_t>({B, T}), mask = zeros<std::int64_t>({B, T});
    for (std::size_t i = 0; i < B * T; ++i) {
        ids.data()[i] = static_cast<std::int64_t>(data.below(c.vocab_size));
        mask.data()[i] = (i % T) < T - 3 * (i / T) ? 1 : 0;  // some padding per row
    }
    for (std::size_t threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor<float> plain, packed;
        {
            NoGradGuard ng;
            plain = model.forward(ids, types, mask).value();
            EXPECT_EQ(pack_for_inference(model), 2u * 6u + 1u);  // 6 per layer + the pooler
            packed = model.forward(ids, types, mask).value();
        }
        for (std::size_t i = 0; i < plain.size(); ++i)
            ASSERT_EQ(plain.data()[i], packed.data()[i]) << "threads " << threads << ", logit " << i;
        // With gradients wanted the packed weights are not used: the tape reaches every weight.
        Var<float> logits = model.forward(ids, types, mask);
        backward(ops::sum(logits));
        EXPECT_TRUE(model.bert.encoder.layer[0].attention.self.query.weight.has_grad());
        model.zero_grad();
        unpack_for_inference(model);
        EXPECT_FALSE(model.bert.encoder.layer[0].attention.self.query.packed);
    }
    set_num_threads(saved_threads);
    set_sgemm_kernel(saved_kernel);
}

#pragma once
// QuantizedLinear: the int8 form of a Linear for dynamically quantized inference, as
// PyTorch's torch.ao.nn.quantized.dynamic.Linear and ONNX Runtime's quantize_dynamic
// (MatMulInteger + DynamicQuantizeLinear) compute it:
//   weight  W (out, in) -> s8 codes Wq, symmetric per output channel: sw[n] = max|W[n,:]| / 127,
//           Wq = clamp(round(W / sw), -127, 127)                                 (once, at quantization)
//   input   x (N, in)   -> u8 codes q in [0, 255] per row with scale sa[r] and zero point za[r]
//                          (core/int8_gemm.hpp: quantize_rows_u8)                 (every call)
//   output  y[r, n] = sa[r]·sw[n]·(Σ_k q[r,k]·Wq[n,k] − za[r]·Σ_k Wq[n,k]) + b[n]   (int32 sums, fp32 after)
// https://pytorch.org/docs/stable/generated/torch.ao.nn.quantized.dynamic.Linear.html
// https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/int8_gemm.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/tensor.hpp"

namespace rgrid {

/// An int8 Linear for inference: weight (out, in) s8 codes, weight_scale (out), bias (out)
/// fp32 (empty: no bias). No gradient flows through it.
/// Example: `QuantizedLinear q = QuantizedLinear::quantize(fc.weight.value(), &fc.bias.value());
///           Var<float> y = q.forward(x);  // under NoGradGuard`
class QuantizedLinear {
public:
    Tensor<std::int8_t> weight;  // (out, in)
    Tensor<float> weight_scale;  // (out)
    Tensor<float> bias;          // (out), or (0): no bias

    /// From stored codes and scales (a quantized checkpoint); checks shapes and that every
    /// scale is finite and > 0. `what` names the layer in errors.
    QuantizedLinear(Tensor<std::int8_t> w, Tensor<float> scale, Tensor<float> b, const std::string& what = "QuantizedLinear")
        : weight(std::move(w)), weight_scale(std::move(scale)), bias(std::move(b)) {
        RGRID_CHECK(weight.dimension() == 2 && weight.size() > 0, what, ": weight must be (out, in), got ",
                    shape_str(weight));
        const std::size_t out = weight.shape()[0];
        RGRID_CHECK(weight_scale.dimension() == 1 && weight_scale.size() == out, what, ": weight_scale ",
                    shape_str(weight_scale), " does not match weight ", shape_str(weight), " (expected (", out, "))");
        RGRID_CHECK(bias.dimension() == 1 && (bias.size() == 0 || bias.size() == out), what, ": bias ",
                    shape_str(bias), " does not match weight ", shape_str(weight), " (expected (", out, "))");
        for (std::size_t i = 0; i < out; ++i)
            RGRID_CHECK(std::isfinite(weight_scale(i)) && weight_scale(i) > 0.f, what, ": weight_scale[", i, "] = ",
                        weight_scale(i), " (scales must be finite and > 0)");
        for (std::size_t i = 0; i < bias.size(); ++i)
            RGRID_CHECK(std::isfinite(bias.data()[i]), what, ": bias[", i, "] = ", bias.data()[i], " is not finite");
        packed_ = pack_int8(weight.data(), out, weight.shape()[1]);
    }

    /// Quantizes an fp32 weight (out, in) per output channel, symmetric, codes in [-127, 127];
    /// an all-zero row gets scale 1. `b` may be null (no bias).
    static QuantizedLinear quantize(const Tensor<float>& w, const Tensor<float>* b, const std::string& what = "QuantizedLinear") {
        RGRID_CHECK(w.dimension() == 2 && w.size() > 0, what, ": weight must be (out, in), got ", shape_str(w));
        const std::size_t out = w.shape()[0], in = w.shape()[1];
        Tensor<std::int8_t> q = Tensor<std::int8_t>::from_shape({out, in});
        Tensor<float> s = Tensor<float>::from_shape({out});
        for (std::size_t n = 0; n < out; ++n) {
            const float* wr = w.data() + n * in;
            float amax = 0.f;
            for (std::size_t k = 0; k < in; ++k) amax = std::max(amax, std::fabs(wr[k]));
            RGRID_CHECK(std::isfinite(amax), what, ": weight row ", n, " holds NaN or Inf");
            s(n) = amax > 0.f ? amax / 127.f : 1.f;
            for (std::size_t k = 0; k < in; ++k)
                q.data()[n * in + k] = static_cast<std::int8_t>(std::clamp(std::nearbyint(wr[k] / s(n)), -127.f, 127.f));
        }
        return QuantizedLinear(std::move(q), std::move(s), b ? *b : Tensor<float>::from_shape({0}), what);
    }

    std::size_t in_features() const { return weight.shape()[1]; }
    std::size_t out_features() const { return weight.shape()[0]; }

    /// The weight the int8 product uses, in fp32: Wq · sw (out, in).
    Tensor<float> dequantized_weight() const {
        const std::size_t out = out_features(), in = in_features();
        Tensor<float> w = Tensor<float>::from_shape({out, in});
        for (std::size_t n = 0; n < out; ++n)
            for (std::size_t k = 0; k < in; ++k) w.data()[n * in + k] = weight.data()[n * in + k] * weight_scale(n);
        return w;
    }

    /// x (…, in) -> (…, out), fp32 in and out. Safe to call from several threads.
    Tensor<float> forward(const Tensor<float>& x) const {
        const std::size_t in = in_features(), out = out_features();
        RGRID_CHECK(x.dimension() >= 1 && x.shape()[x.dimension() - 1] == in, "QuantizedLinear: x ", shape_str(x),
                    " has last dim ", x.dimension() ? x.shape()[x.dimension() - 1] : 0, " but the weight ",
                    shape_str(weight), " expects in = ", in);
        const std::size_t m = x.size() / in, kp = packed_.kp;
        std::vector<std::uint8_t> q(m * kp);
        std::vector<float> sa(m);
        std::vector<std::int32_t> za(m);
        quantize_rows_u8(x.data(), m, in, q.data(), kp, sa.data(), za.data());
        Shape ys(x.shape().begin(), x.shape().end());
        ys.back() = out;
        Tensor<float> y = Tensor<float>::from_shape(ys);
        float* yp = y.data();
        const float* sw = weight_scale.data();
        const float* bp = bias.size() ? bias.data() : nullptr;
        const std::int32_t* rs = packed_.row_sum.data();
        gemm_u8s8s32_tiles(q.data(), m, kp, packed_,
                           [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t w, const std::int32_t* t,
                               std::size_t ldt) {
                               for (std::size_t r = 0; r < rows; ++r) {
                                   const float s = sa[r0 + r];
                                   const std::int32_t z = za[r0 + r];
                                   const std::int32_t* tr = t + r * ldt;
                                   float* yr = yp + (r0 + r) * out + c0;
                                   for (std::size_t j = 0; j < w; ++j) {
                                       const float v = float(tr[j] - z * rs[c0 + j]) * (s * sw[c0 + j]);
                                       yr[j] = bp ? v + bp[c0 + j] : v;
                                   }
                               }
                           });
        return y;
    }

    /// The same on the tape, for a model's forward: inference only (an input that needs a
    /// gradient is an error: quantized weights have none to give).
    Var<float> forward(const Var<float>& x) const {
        RGRID_CHECK(!(grad_enabled() && x.requires_grad()), "QuantizedLinear (", shape_str(weight),
                    "): int8 layers are for inference; run the model under NoGradGuard (Predictor does) or train "
                    "the fp32 model");
        return Var<float>(forward(x.value()), false);
    }

private:
    PackedInt8 packed_;
};

}  // namespace rgrid

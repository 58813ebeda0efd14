#pragma once
// Linear: y = x·Wᵀ + b with W stored [out, in] as in PyTorch (never transposed on load).
// https://pytorch.org/docs/stable/generated/torch.nn.Linear.html
#include <cstddef>
#include <memory>
#include <type_traits>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/blas.hpp"
#include "rgrid/nn/init.hpp"
#include "rgrid/nn/module.hpp"
#include "rgrid/nn/quantized_linear.hpp"

namespace rgrid {

/// Fully connected layer; parameters "weight" (out, in) and "bias" (out).
/// Initialized like Hugging Face: weight ~ Normal(0, init_std), bias = 0.
/// Example: `Linear<float> fc(768, 2, 0.02f, rng); Var<float> y = fc.forward(x);  // (…, 768) -> (…, 2)`
template <class T>
class Linear : public Module<T> {
public:
    Var<T> weight;  // (out, in)
    Var<T> bias;    // (out), undefined when has_bias is false
    /// Set by quantize_dynamic (nn/quantize.hpp): forward() then runs this int8 layer
    /// instead (inference only; float models).
    std::shared_ptr<const QuantizedLinear> quantized;
    /// Set by pack_for_inference (nn/quantize.hpp): the weight packed once for the AVX-512
    /// kernel, used by forward() when no gradient is wanted (same bits as unpacked). A
    /// snapshot: call unpack_for_inference before changing the weight.
    std::shared_ptr<const PackedSgemmB> packed;

    Linear(std::size_t in_features, std::size_t out_features, T init_std, Rng& rng, bool has_bias = true)
        : weight(init::normal<T>({out_features, in_features}, init_std, rng), true) {
        RGRID_CHECK(in_features > 0 && out_features > 0, "Linear: features must be positive, got in=",
                    in_features, " out=", out_features);
        this->register_parameter("weight", weight);
        if (has_bias) {
            bias = Var<T>(zeros<T>({out_features}), true);
            this->register_parameter("bias", bias);
        }
    }
    std::size_t in_features() const { return weight.size(1); }
    std::size_t out_features() const { return weight.size(0); }

    /// (…, in) -> (…, out)
    Var<T> forward(const Var<T>& x) const {
        if constexpr (std::is_same_v<T, float>) {
            if (quantized) return quantized->forward(x);
            if (packed && !(grad_enabled() && x.requires_grad())) return Var<T>(forward_packed(x.value()), false);
        }
        return ops::linear(x, weight, bias);
    }

private:
    // ops::linear's forward on the packed weight (the bias added as the tiles are stored: the bits
    // of a C filled with the bias plus the product, as gemm_linear gives).
    Tensor<float> forward_packed(const Tensor<float>& x) const {
        const std::size_t in = in_features(), outf = out_features();
        RGRID_CHECK(x.dimension() >= 1 && x.shape()[x.dimension() - 1] == in, "Linear: x ", shape_str(x),
                    " has last dim ", x.dimension() ? x.shape()[x.dimension() - 1] : 0, " but W ",
                    shape_str(weight.shape()), " expects in = ", in);
        const std::size_t n = x.size() / in;
        Shape ys(x.shape().begin(), x.shape().end());
        ys.back() = outf;
        Tensor<float> y = Tensor<float>::from_shape(ys);
        float* yp = y.data();
        gemm_prepacked(n, outf, in, 1.f, x.data(), in, *packed, 0.f, yp, outf, bias.defined() ? bias.data() : nullptr);
        return y;
    }
};

}  // namespace rgrid

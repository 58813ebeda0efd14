#pragma once
// Embedding: a lookup table (V, H). Like nn.Embedding(padding_idx=p) as Hugging Face
// initializes it, the padding row starts at zero.
// https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html
#include <cstddef>
#include <cstdint>
#include <optional>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/nn/init.hpp"
#include "rgrid/nn/module.hpp"

namespace rgrid {

/// Lookup table with parameter "weight" (num_embeddings, dim) ~ Normal(0, init_std).
/// The padding row (if any) is zeroed at init and gets no gradient, like nn.Embedding(padding_idx).
/// Example: `Embedding<float> emb(30522, 768, 0.02f, rng, 0); auto h = emb.forward(ids);  // (B,T) -> (B,T,768)`
template <class T>
class Embedding : public Module<T> {
public:
    Var<T> weight;  // (V, H)

    Embedding(std::size_t num_embeddings, std::size_t dim, T init_std, Rng& rng,
              std::optional<std::size_t> padding_idx = std::nullopt)
        : weight(init::normal<T>({num_embeddings, dim}, init_std, rng), true), padding_idx_(padding_idx) {
        RGRID_CHECK(num_embeddings > 0 && dim > 0, "Embedding: sizes must be positive, got ", num_embeddings,
                    " x ", dim);
        if (padding_idx) {
            RGRID_CHECK(*padding_idx < num_embeddings, "Embedding: padding_idx ", *padding_idx,
                        " out of range for ", num_embeddings, " embeddings");
            T* row = weight.data() + *padding_idx * dim;
            for (std::size_t j = 0; j < dim; ++j) row[j] = T(0);
        }
        this->register_parameter("weight", weight);
    }
    std::size_t num_embeddings() const { return weight.size(0); }
    std::size_t embedding_dim() const { return weight.size(1); }
    std::optional<std::size_t> padding_idx() const { return padding_idx_; }

    /// ids (any shape) -> ids.shape + (H); an id out of range is an error naming it.
    Var<T> forward(const IndexTensor& ids) const {
        return ops::embedding(weight, ids, padding_idx_ ? static_cast<std::int64_t>(*padding_idx_) : std::int64_t(-1));
    }

private:
    std::optional<std::size_t> padding_idx_;
};

}  // namespace rgrid

// rgrid-toy: trains a tiny MLP on a generated 3-arm spiral with rgrid's autograd ops
// (linear, gelu, layer_norm, cross_entropy), plain SGD with momentum written inline.
// Fixed seed: the printed losses and the final accuracy are the same on every run.
// Usage: rgrid-toy [steps=3000] [seed=42]
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include <rgrid/autograd/ops.hpp>

#include "common/cli.hpp"

using namespace rgrid;
using V = Var<float>;

namespace {
constexpr std::size_t kClasses = 3, kHidden = 64;

// n points per class on K interleaved spiral arms with Gaussian noise: x (N, 2), y (N).
struct Data {
    Tensor<float> x;
    IndexTensor y;
};
Data spiral(std::size_t per_class, Rng& rng) {
    const std::size_t n = per_class * kClasses;
    Data d{empty<float>({n, 2}), IndexTensor::from_shape({n})};
    for (std::size_t c = 0; c < kClasses; ++c)
        for (std::size_t i = 0; i < per_class; ++i) {
            const float r = float(i + 1) / float(per_class);  // radius 0..1
            const float t = 9.f * r + float(c) * 2.f * std::numbers::pi_v<float> / kClasses + rng.normal<float>(0.f, 0.2f);
            const std::size_t row = c * per_class + i;
            d.x(row, 0) = r * std::sin(t);
            d.x(row, 1) = r * std::cos(t);
            d.y(row) = static_cast<std::int64_t>(c);
        }
    return d;
}

V param(Shape s, float std, Rng& rng) {
    Tensor<float> t = empty<float>(s);
    for (auto& v : t) v = rng.normal<float>(0.f, std);
    return V(std::move(t), true);
}

struct Mlp {  // linear → gelu → layer_norm → linear → gelu → linear
    V w1, b1, ln_w, ln_b, w2, b2, w3, b3;
    explicit Mlp(Rng& rng)
        : w1(param({kHidden, 2}, 1.f, rng)), b1(param({kHidden}, 0.f, rng)),
          ln_w(V(full<float>({kHidden}, 1.f), true)), ln_b(V(zeros<float>({kHidden}), true)),
          w2(param({kHidden, kHidden}, 1.f / std::sqrt(float(kHidden)), rng)), b2(param({kHidden}, 0.f, rng)),
          w3(param({kClasses, kHidden}, 1.f / std::sqrt(float(kHidden)), rng)), b3(param({kClasses}, 0.f, rng)) {}
    std::vector<V*> parameters() { return {&w1, &b1, &ln_w, &ln_b, &w2, &b2, &w3, &b3}; }
    V forward(const V& x) const {                                                     // x (N, 2)
        V h = ops::layer_norm(ops::gelu(ops::linear(x, w1, b1)), ln_w, ln_b, 1e-5f);  // (N, 32)
        h = ops::gelu(ops::linear(h, w2, b2));                                         // (N, 32)
        return ops::linear(h, w3, b3);                                                 // (N, 3) logits
    }
};

float accuracy(const Mlp& m, const Data& d) {
    NoGradGuard ng;
    V logits = m.forward(V(d.x));
    std::size_t ok = 0;
    for (std::size_t i = 0; i < d.y.size(); ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < kClasses; ++k)
            if (logits.value()(i, k) > logits.value()(i, best)) best = k;
        ok += static_cast<std::int64_t>(best) == d.y(i);
    }
    return float(ok) / float(d.y.size());
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Trains a tiny MLP on a generated 3-arm spiral with rgrid's autograd ops; exits 1 below 90% test "
                 "accuracy.",
                 "rgrid-toy"};
    rgrid::cli::conventions(app);
    std::size_t steps = 3000;
    std::uint64_t seed = 42;
    app.add_option("steps", steps, "SGD steps")->check(rgrid::cli::count());
    app.add_option("seed", seed, "seed of the data, the initialization and the batches")->check(rgrid::cli::count());
    if (auto status = rgrid::cli::parse(app, argc, argv)) return *status;
    const std::size_t batch = 64;
    const float lr = 0.05f, momentum = 0.9f;

    Rng rng(seed);
    Rng data_rng = rng.fork(1), init_rng = rng.fork(2), batch_rng = rng.fork(3);
    const Data train = spiral(300, data_rng), test = spiral(100, data_rng);
    Mlp model(init_rng);
    std::vector<Tensor<float>> velocity;
    for (V* p : model.parameters()) velocity.push_back(zeros<float>(shape_of(p->value())));

    std::printf("rgrid-toy: %zu-class spiral, %zu train / %zu test points, MLP 2-%zu-%zu-%zu, SGD lr %.2f momentum %.1f\n",
                kClasses, train.y.size(), test.y.size(), kHidden, kHidden, kClasses, lr, momentum);
    Tensor<float> xb = empty<float>({batch, 2});
    IndexTensor yb = IndexTensor::from_shape({batch});
    float running = 0;
    for (std::size_t step = 1; step <= steps; ++step) {
        for (std::size_t i = 0; i < batch; ++i) {  // a random minibatch
            const std::size_t r = batch_rng.below(train.y.size());
            xb(i, 0) = train.x(r, 0);
            xb(i, 1) = train.x(r, 1);
            yb(i) = train.y(r);
        }
        V loss = ops::cross_entropy(model.forward(V(xb)), yb);
        for (V* p : model.parameters()) p->zero_grad();
        backward(loss);
        auto params = model.parameters();
        for (std::size_t j = 0; j < params.size(); ++j) {  // SGD with momentum: v = μv + g; p -= lr·v
            float* p = params[j]->data();
            const float* g = params[j]->grad().data();
            float* v = velocity[j].data();
            for (std::size_t i = 0; i < velocity[j].size(); ++i) {
                v[i] = momentum * v[i] + g[i];
                p[i] -= lr * v[i];
            }
        }
        running = step == 1 ? loss.value()() : 0.95f * running + 0.05f * loss.value()();
        if (step % 250 == 0 || step == 1) std::printf("step %5zu  loss %.4f (smoothed %.4f)\n", step, loss.value()(), running);
    }
    const float train_acc = accuracy(model, train), test_acc = accuracy(model, test);
    std::printf("final accuracy: train %.1f%%, test %.1f%%\n", 100 * train_acc, 100 * test_acc);
    return test_acc >= 0.9f ? 0 : 1;
}

// A program outside rgrid that includes the umbrella header and computes something real.
#include <rgrid/rgrid.hpp>

#include <cmath>
#include <iostream>

int main() {
    using namespace rgrid;
    Rng rng(1);
    Tensor<float> a = from_vector<float>({1, 2, 3, 4}, {2, 2});
    Tensor<float> b = from_vector<float>({5, 6, 7, 8}, {2, 2});
    Tensor<float> c = matmul(a, b);  // [[19, 22], [43, 50]]
    Var<double> x(from_vector<double>({3.0}, {}), true);
    (void)rng.uniform();
    std::cout << "rgrid " << RGRID_VERSION_MAJOR << '.' << RGRID_VERSION_MINOR << ": c = " << c << '\n';
    bool ok = c(0, 0) == 19.f && c(1, 1) == 50.f && x.requires_grad();
    return ok ? 0 : 1;
}

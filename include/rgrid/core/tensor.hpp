#pragma once
// The only file in rgrid that includes xtensor. Tensor<T> is a row-major xt::xarray;
// numeric kernels work on tensor.data() (contiguous) and shapes are checked here.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// Dense row-major tensor of any rank. Example: `Tensor<float> x = zeros<float>({2, 3});`
template <class T>
using Tensor = xt::xarray<T, xt::layout_type::row_major>;
/// Integer tensor for ids and labels.
using IndexTensor = xt::xarray<std::int64_t, xt::layout_type::row_major>;
/// A shape: one extent per dimension.
using Shape = std::vector<std::size_t>;

/// "(2, 128, 768)", for error messages.
template <class S>
std::string shape_str(const S& shape) {
    std::ostringstream os;
    os << '(';
    std::size_t i = 0;
    for (auto d : shape) os << (i++ ? ", " : "") << d;
    os << ')';
    return os.str();
}
template <class T>
std::string shape_str(const Tensor<T>& t) { return shape_str(t.shape()); }
inline std::string shape_str(const IndexTensor& t) { return shape_str(t.shape()); }

/// The shape of a tensor as a Shape.
template <class E>
Shape shape_of(const E& t) { return Shape(t.shape().begin(), t.shape().end()); }

/// Product of the extents (1 for rank 0).
inline std::size_t numel(const Shape& s) {
    std::size_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

/// Uninitialized tensor of the given shape.
template <class T>
Tensor<T> empty(const Shape& s) { return Tensor<T>::from_shape(s); }
/// Zero-filled tensor. Example: `auto g = zeros<float>({4, 8});`
template <class T>
Tensor<T> zeros(const Shape& s) { Tensor<T> t = Tensor<T>::from_shape(s); t.fill(T(0)); return t; }
/// Tensor filled with `v`.
template <class T>
Tensor<T> full(const Shape& s, T v) { Tensor<T> t = Tensor<T>::from_shape(s); t.fill(v); return t; }
/// Tensor from a flat list of values and a shape.
template <class T>
Tensor<T> from_vector(const std::vector<T>& v, const Shape& s) {
    RGRID_CHECK(v.size() == numel(s), "from_vector: ", v.size(), " values for shape ", shape_str(s));
    Tensor<T> t = Tensor<T>::from_shape(s);
    std::copy(v.begin(), v.end(), t.data());
    return t;
}
/// Integer tensor from values and a shape.
inline IndexTensor index_tensor(const std::vector<std::int64_t>& v, const Shape& s) {
    RGRID_CHECK(v.size() == numel(s), "index_tensor: ", v.size(), " values for shape ", shape_str(s));
    IndexTensor t = IndexTensor::from_shape(s);
    std::copy(v.begin(), v.end(), t.data());
    return t;
}

/// Same data, new shape (copy). Checks the element count.
template <class T>
Tensor<T> reshaped(const Tensor<T>& t, const Shape& s) {
    RGRID_CHECK(t.size() == numel(s), "reshape: cannot view ", shape_str(t), " as ", shape_str(s));
    Tensor<T> r = Tensor<T>::from_shape(s);
    std::copy(t.data(), t.data() + t.size(), r.data());
    return r;
}

/// Convert element type (e.g. float weights to double for gradient checks).
template <class To, class From>
Tensor<To> cast(const Tensor<From>& t) {
    Tensor<To> r = Tensor<To>::from_shape(t.shape());
    for (std::size_t i = 0; i < t.size(); ++i) r.data()[i] = static_cast<To>(t.data()[i]);
    return r;
}

/// Require an exact shape; `what` names the argument in the message.
template <class E>
void check_shape(const E& t, const Shape& expected, const char* what) {
    RGRID_CHECK(shape_of(t) == expected, what, ": expected shape ", shape_str(expected), ", got ",
                shape_str(t.shape()));
}

}  // namespace rgrid

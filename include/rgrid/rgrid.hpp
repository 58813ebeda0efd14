#pragma once
// The umbrella header: everything in rgrid except serve/ (which needs cpp-httplib).
#include "rgrid/version.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/core/blas.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/autograd/var.hpp"

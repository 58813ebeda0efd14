#pragma once
// Every differentiable op of rgrid (namespace rgrid::ops) and the Var operators + - *.
// See docs/autograd.md for the op table.
#include "rgrid/autograd/ops/attention.hpp"
#include "rgrid/autograd/ops/elementwise.hpp"
#include "rgrid/autograd/ops/fused.hpp"
#include "rgrid/autograd/ops/linear.hpp"
#include "rgrid/autograd/ops/reduce.hpp"
#include "rgrid/autograd/ops/shape.hpp"
#include "rgrid/autograd/var.hpp"

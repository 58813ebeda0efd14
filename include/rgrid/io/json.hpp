#pragma once
// Moved to core/json.hpp (the JSON funnel sits on the bottom floor). This forward keeps
// branches written before the move compiling; include "rgrid/core/json.hpp" instead.
#include "rgrid/core/json.hpp"

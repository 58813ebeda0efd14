#pragma once
/// rgrid version; CMake parses these three lines.
#define RGRID_VERSION_MAJOR 0
#define RGRID_VERSION_MINOR 1
#define RGRID_VERSION_PATCH 0

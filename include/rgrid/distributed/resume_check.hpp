#pragma once
// The world-size rule of resuming (no MPI needed, so a program built without MPI checks it too):
// a data-parallel checkpoint carries distributed.json {"world_size": W} (written by
// distributed/data_parallel.hpp's ShardedObjective); a checkpoint without it came from one
// process. Resuming with another number of ranks is refused: the data order of the remaining
// steps and the global batch depend on it (docs/distributed.md).
#include <filesystem>
#include <fstream>
#include <string>

#include "rgrid/core/error.hpp"
#include "rgrid/core/json.hpp"

namespace rgrid::distributed {

/// The number of ranks that wrote checkpoint `dir` (1 without DIR/distributed.json).
inline int checkpoint_world_size(const std::string& dir) {
    const std::string path = dir + "/distributed.json";
    if (!std::filesystem::exists(path)) return 1;
    std::ifstream in(path);
    json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
    RGRID_CHECK(j.is_object() && j.contains("world_size") && j["world_size"].is_number_integer() &&
                    j["world_size"].get<int>() > 0,
                path, ": no positive integer field 'world_size'");
    return j["world_size"].get<int>();
}

/// Throws rgrid::Error unless `dir` was written by a run of `world_size` ranks.
/// Example: `check_resume_world_size("runs/x/last", 2);`
inline void check_resume_world_size(const std::string& dir, int world_size) {
    const int saved = checkpoint_world_size(dir);
    RGRID_CHECK(saved == world_size, "--resume ", dir, " was written by a run of ", saved, saved == 1 ? " rank" : " ranks",
                "; this run has ", world_size, ". Resume with the same number of ranks (mpirun -np ", saved,
                "): the data order and the global batch depend on it");
}

}  // namespace rgrid::distributed

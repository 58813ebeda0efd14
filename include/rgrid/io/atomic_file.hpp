#pragma once
// Crash-safe files: write_file_atomic (temp file + fsync + rename + fsync of the directory)
// and replace_directory_atomic (a whole staged directory swapped into place in one step).
// A reader, or a crash at any moment, sees the old file (directory) or the new one, never a mix.
// Used by save_pretrained, the training state and inference_config.json.
#include <cerrno>
#include <cstddef>
#include <cstdio>  // renameat2, RENAME_EXCHANGE (glibc, _GNU_SOURCE)
#include <cstring>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <signal.h>  // kill(pid, 0): is a temp file's writer still alive
#include <unistd.h>

#include "rgrid/core/error.hpp"

namespace rgrid {

namespace detail {
inline void fsync_path(const std::string& path, bool directory) {
    int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    RGRID_CHECK(fd >= 0, "cannot open ", path, " to fsync: ", std::strerror(errno));
    const int rc = ::fsync(fd);
    ::close(fd);
    RGRID_CHECK(rc == 0, "fsync ", path, " failed: ", std::strerror(errno));
}
// Removes `.<name>.tmp.<pid>` files in `dir` left by writers of `name` that were killed
// (their process no longer exists). Temp files of live processes are left alone, and so is
// anything that does not parse; failures are ignored (this is only tidying).
inline void remove_stale_temps(const std::filesystem::path& dir, const std::string& name) {
    namespace fs = std::filesystem;
    const std::string prefix = "." + name + ".tmp.";
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string f = it->path().filename().string();
        if (f.size() <= prefix.size() || f.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string digits = f.substr(prefix.size());
        if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            std::error_code rm;
            fs::remove(it->path(), rm);
        }
    }
}
}  // namespace detail

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename
/// over `path`, fsync of the directory. Readers see the old file or the new one, never a mix.
/// Temp files of `path` left by killed writers (`.<name>.tmp.<dead pid>`) are removed.
/// Example: `write_file_atomic("out/config.json", cfg.to_json().dump(2));`
inline void write_file_atomic(const std::string& path, const void* bytes, std::size_t size) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string tmp = (dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    RGRID_CHECK(fd >= 0, "cannot create ", tmp, ": ", std::strerror(errno));
    const char* p = static_cast<const char*>(bytes);
    std::size_t left = size;
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error(detail::concat("write to ", tmp, " failed: ", std::strerror(e)));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error(detail::concat("fsync/close of ", tmp, " failed: ", std::strerror(e)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error(detail::concat("rename ", tmp, " -> ", path, " failed: ", std::strerror(e)));
    }
    detail::fsync_path(dir.string(), /*directory=*/true);
    detail::remove_stale_temps(dir, target.filename().string());
}
inline void write_file_atomic(const std::string& path, const std::string& text) {
    write_file_atomic(path, text.data(), text.size());
}

/// Puts the complete directory `staging` in place of `target` in one atomic step
/// (renameat2 RENAME_EXCHANGE, then the old contents are removed): a reader or a crash at
/// any moment sees either the whole old directory or the whole new one, never a mix of
/// files from two saves. `staging` must be on the same filesystem (a sibling of `target`).
/// Example: `save_pretrained(model, "out/last.tmp", vocab); replace_directory_atomic("out/last.tmp", "out/last");`
inline void replace_directory_atomic(const std::string& staging, const std::string& target) {
    namespace fs = std::filesystem;
    const fs::path t(target);
    const fs::path parent = t.has_parent_path() ? t.parent_path() : fs::path(".");
    detail::fsync_path(staging, /*directory=*/true);  // its files were fsynced by their writers
    if (fs::exists(t)) {
        if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
            // Filesystems without RENAME_EXCHANGE: plain renames. A crash between them leaves
            // no `target`, the previous checkpoint complete in `target.old` and the new one in `staging`.
            RGRID_CHECK(errno == EINVAL || errno == ENOSYS || errno == ENOTSUP, "cannot swap ", staging,
                        " into place as ", target, ": ", std::strerror(errno));
            const std::string old = target + ".old";
            fs::remove_all(old);
            RGRID_CHECK(::rename(target.c_str(), old.c_str()) == 0, "cannot rename ", target, " to ", old, ": ",
                        std::strerror(errno));
            RGRID_CHECK(::rename(staging.c_str(), target.c_str()) == 0, "cannot rename ", staging, " to ", target,
                        ": ", std::strerror(errno));
            RGRID_CHECK(::rename(old.c_str(), staging.c_str()) == 0, "cannot rename ", old, " to ", staging, ": ",
                        std::strerror(errno));
        }
        detail::fsync_path(parent.string(), /*directory=*/true);
        std::error_code ec;
        fs::remove_all(staging, ec);  // now holds the previous checkpoint
        RGRID_CHECK(!ec, "cannot remove the previous checkpoint ", staging, ": ", ec.message());
    } else {
        RGRID_CHECK(::rename(staging.c_str(), target.c_str()) == 0, "cannot rename ", staging, " to ", target, ": ",
                    std::strerror(errno));
    }
    detail::fsync_path(parent.string(), /*directory=*/true);
}

}  // namespace rgrid

#pragma once
// The MPI funnel: with distributed/*.hpp the only place in rgrid that includes mpi.h (built when
// CMake finds MPI: option RGRID_WITH_MPI, target rgrid::mpi). Session starts and ends MPI for a
// program; Communicator wraps MPI_COMM_WORLD with the few collectives data parallelism needs
// (broadcast, all-reduce, reduce to rank 0, each started non-blocking) and one rule: every wait
// polls with a deadline. A peer that died or hangs makes wait() throw rgrid::Error naming the
// operation, the rank and the timeout, instead of blocking forever (MPI itself has no timeout).
// https://www.mpi-forum.org/docs/mpi-3.1/mpi31-report/node126.htm (non-blocking collectives)
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // the C API only (OpenMPI's deprecated C++ bindings stay out)
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid::distributed {

/// Whether this process was started by an MPI launcher (mpirun/mpiexec of OpenMPI or MPICH,
/// Slurm's srun with PMI/PMIx): then a program initializes MPI; started alone it need not.
inline bool launched_by_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
        if (std::getenv(v)) return true;
    return false;
}

namespace detail {
inline std::string mpi_error_text(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    return std::string(text, std::size_t(len));
}
inline int checked_count(std::size_t n, const char* what) {
    RGRID_CHECK(n <= std::size_t(INT_MAX), "distributed: ", what, " of ", n, " elements exceeds MPI's int count");
    return int(n);
}
template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
inline MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <>
inline MPI_Datatype mpi_type<std::uint64_t>() { return MPI_UINT64_T; }
}  // namespace detail

#define RGRID_MPI_CHECK(call, what)                                                                              \
    do {                                                                                                         \
        const int rgrid_mpi_rc_ = (call);                                                                        \
        RGRID_CHECK(rgrid_mpi_rc_ == MPI_SUCCESS, "distributed: ", what, " failed: ",                            \
                    ::rgrid::distributed::detail::mpi_error_text(rgrid_mpi_rc_));                                 \
    } while (0)

/// MPI for the lifetime of a program. Started by an MPI launcher, it calls MPI_Init; started
/// alone, nothing (rank 0 of 1, no MPI calls), so one binary serves both. At the end it calls
/// MPI_Finalize, except while an exception is unwinding: then a peer may be blocked in a
/// collective, so this rank just exits and the launcher ends the job (mpirun and srun stop all
/// ranks when one exits without finalizing).
/// Example: `int main(int argc, char** argv) { rgrid::distributed::Session mpi(argc, argv); ... }`
class Session {
public:
    Session(int& argc, char**& argv) {
        if (!launched_by_mpi()) return;
        int provided = 0;
        RGRID_MPI_CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        initialized_ = true;
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);  // errors become rgrid::Error
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
    ~Session() {
        if (initialized_ && std::uncaught_exceptions() == 0) MPI_Finalize();
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    bool active() const { return initialized_; }
    int rank() const { return rank_; }
    int size() const { return size_; }
    /// Ends every rank of the job now (after an error on this one): MPI_Abort.
    [[noreturn]] void abort(int code) const {
        if (initialized_) MPI_Abort(MPI_COMM_WORLD, code);
        std::_Exit(code);
    }

private:
    bool initialized_ = false;
    int rank_ = 0, size_ = 1;
};

/// MPI_COMM_WORLD with deadline-bounded collectives. `timeout_seconds` bounds every wait.
/// Example: `Communicator comm(300); comm.broadcast(w.data(), w.size(), 0, "weights"); comm.all_sum(g, n, "grads");`
class Communicator {
public:
    explicit Communicator(double timeout_seconds = 300) : timeout_(timeout_seconds) {
        int init = 0;
        MPI_Initialized(&init);
        RGRID_CHECK(init, "distributed: MPI is not initialized (start the program with mpirun/srun; see "
                          "docs/distributed.md)");
        RGRID_CHECK(timeout_seconds > 0, "distributed: timeout must be > 0 seconds, got ", timeout_seconds);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }

    int rank() const { return rank_; }
    int size() const { return size_; }
    double timeout_seconds() const { return timeout_; }

    /// Non-blocking in-place sum over all ranks (finish it with wait()).
    template <class T>
    MPI_Request start_all_sum(T* data, std::size_t n, const char* what) const {
        return start_all_reduce(data, n, MPI_SUM, what);
    }
    /// Blocking (deadline-bounded) in-place sum over all ranks.
    template <class T>
    void all_sum(T* data, std::size_t n, const char* what) const {
        MPI_Request req = start_all_reduce(data, n, MPI_SUM, what);
        wait(&req, 1, what);
    }
    /// Blocking in-place maximum over all ranks.
    template <class T>
    void all_max(T* data, std::size_t n, const char* what) const {
        MPI_Request req = start_all_reduce(data, n, MPI_MAX, what);
        wait(&req, 1, what);
    }
    /// Copies `root`'s data to every rank.
    template <class T>
    void broadcast(T* data, std::size_t n, int root, const char* what) const {
        MPI_Request req = MPI_REQUEST_NULL;
        RGRID_MPI_CHECK(MPI_Ibcast(data, detail::checked_count(n, what), detail::mpi_type<T>(), root, MPI_COMM_WORLD,
                                   &req),
                        what);
        wait(&req, 1, what);
    }
    /// Sum over all ranks into rank 0's `data` (other ranks' buffers are left as they were).
    template <class T>
    void sum_to_root(T* data, std::size_t n, const char* what) const {
        MPI_Request req = MPI_REQUEST_NULL;
        const int count = detail::checked_count(n, what);
        if (rank_ == 0)
            RGRID_MPI_CHECK(MPI_Ireduce(MPI_IN_PLACE, data, count, detail::mpi_type<T>(), MPI_SUM, 0, MPI_COMM_WORLD,
                                        &req),
                            what);
        else
            RGRID_MPI_CHECK(MPI_Ireduce(data, nullptr, count, detail::mpi_type<T>(), MPI_SUM, 0, MPI_COMM_WORLD, &req),
                            what);
        wait(&req, 1, what);
    }
    /// Progress for started requests without blocking (MPI advances non-blocking collectives
    /// inside MPI calls); true when all are complete.
    bool test(MPI_Request* reqs, std::size_t n) const {
        int done = 0;
        RGRID_MPI_CHECK(MPI_Testall(int(n), reqs, &done, MPI_STATUSES_IGNORE), "MPI_Testall");
        return done != 0;
    }
    /// Waits for `n` requests, polling, for at most timeout_seconds(); past it throws an
    /// rgrid::Error that names `what` (the peer is dead, stopped or far behind).
    void wait(MPI_Request* reqs, std::size_t n, const char* what) const {
        using clock = std::chrono::steady_clock;
        const auto start = clock::now();
        for (std::size_t polls = 0;; ++polls) {
            if (test(reqs, n)) return;
            const double waited = std::chrono::duration<double>(clock::now() - start).count();
            RGRID_CHECK(waited < timeout_, "distributed: rank ", rank_, " of ", size_, ": ", what,
                        " did not complete within ", timeout_, " s; another rank has died, stopped or hangs. "
                        "Stopping; continue from the last checkpoint with --resume (docs/distributed.md)");
            if (polls > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));  // long waits: yield the core
        }
    }

private:
    template <class T>
    MPI_Request start_all_reduce(T* data, std::size_t n, MPI_Op op, const char* what) const {
        MPI_Request req = MPI_REQUEST_NULL;
        RGRID_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, data, detail::checked_count(n, what), detail::mpi_type<T>(), op,
                                       MPI_COMM_WORLD, &req),
                        what);
        return req;
    }

    int rank_ = 0, size_ = 1;
    double timeout_;
};

}  // namespace rgrid::distributed

#pragma once
// serve::detail::Connections: how serve::App holds its clients' connections so that slow or
// silent clients cannot starve it (cpp-httplib 0.11, Linux epoll).
//
// httplib 0.11 serves each connection on one pool thread from accept to close: a connection
// that sends nothing holds its thread for the keep-alive timeout (5 s), one that trickles a
// header line every few seconds holds it indefinitely (the 5 s read timeout is per recv), and
// a keep-alive connection between requests holds it too. So a handful of idle clients stopped
// every other request, /health included. Here instead:
//   1. httplib's accept loop hands each new socket to Connections::adopt() (HttpServer
//      overrides process_and_close_socket; the task queue runs that inline, it only adopts).
//   2. One poller thread (epoll) holds every connection that is between requests or still
//      sending its request line and headers; it reads those bytes itself, without blocking,
//      into the connection's buffer. No worker is involved yet.
//   3. Once the headers are complete, the request goes to a worker pool — POST /predict to the
//      prediction pool, everything else (/health, /info, the page, errors) to a separate small
//      pool, so liveness never queues behind predictions. The worker runs httplib's own
//      request processing (Server::process_request) on a RequestStream: the buffered bytes
//      first, then the socket, with a deadline for the whole request.
//   4. After the response, a keep-alive connection goes back to the poller (with any
//      pipelined bytes already read).
// Time limits: a connection with no request in progress is closed after `idle_timeout`; a
// request's line, headers and body must all arrive within `request_timeout` of its first
// byte (else 408 and close). So a worker waits for a client at most `request_timeout`, and
// only for a client whose headers are complete.
// Legend: fd a connected socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>

#include "rgrid/core/error.hpp"

namespace rgrid::serve::detail {

using Clock = std::chrono::steady_clock;

/// What the worker thread serving a request knows about its client, for the route handlers
/// (thread_local: one request per worker at a time).
struct ClientState {
    int fd = -1;             // the client's socket (-1 outside a request)
    bool timed_out = false;  // a read hit the request deadline
    bool must_close = false; // the body was not read to its end: close after the response
};
inline ClientState& client_state() {
    thread_local ClientState s;
    return s;
}

/// True when the client of `fd` has closed or reset its connection (it will never read an
/// answer). A client that only half-closes its sending side counts as gone too.
inline bool client_gone(int fd) {
    if (fd < 0) return false;
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/// An httplib::Stream over a connected socket that first returns the bytes the poller already
/// read, and fails every read after `read_deadline` (setting client_state().timed_out).
class RequestStream : public httplib::Stream {
public:
    RequestStream(int fd, std::string buffered, Clock::time_point read_deadline, std::chrono::milliseconds write_timeout)
        : fd_(fd), buf_(std::move(buffered)), deadline_(read_deadline), write_timeout_(write_timeout) {}

    bool is_readable() const override { return pos_ < buf_.size() || wait_for_request_bytes(); }
    bool is_writable() const override { return wait(POLLOUT, Clock::now() + write_timeout_); }
    ssize_t read(char* ptr, std::size_t size) override {
        if (pos_ < buf_.size()) {
            const std::size_t n = std::min(size, buf_.size() - pos_);
            std::memcpy(ptr, buf_.data() + pos_, n);
            pos_ += n;
            return static_cast<ssize_t>(n);
        }
        if (!wait_for_request_bytes()) return -1;
        return ::recv(fd_, ptr, size, 0);
    }
    ssize_t write(const char* ptr, std::size_t size) override {
        std::size_t sent = 0;
        const auto deadline = Clock::now() + write_timeout_;
        while (sent < size) {
            if (!wait(POLLOUT, deadline)) return -1;
            const ssize_t n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL);
            if (n < 0) return -1;
            sent += static_cast<std::size_t>(n);
        }
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override { address(::getpeername, ip, port); }
    void get_local_ip_and_port(std::string& ip, int& port) const override { address(::getsockname, ip, port); }
    socket_t socket() const override { return fd_; }

    /// The buffered bytes not read yet (a pipelined next request).
    std::string leftover() { return buf_.substr(pos_); }

private:
    bool wait_for_request_bytes() const {
        if (wait(POLLIN, deadline_)) return true;
        if (Clock::now() >= deadline_) client_state().timed_out = true;
        return false;
    }
    bool wait(short events, Clock::time_point deadline) const {
        for (;;) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd_, events, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
            if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;  // HUP/ERR: let recv/send report it
            if (r < 0 && errno != EINTR) return false;
        }
    }
    template <class Get>
    void address(Get get, std::string& ip, int& port) const {
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        ip.clear();
        port = 0;
        if (get(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
        char host[INET6_ADDRSTRLEN] = {};
        if (a.ss_family == AF_INET) {
            const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
            ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
            port = ntohs(v4->sin_port);
        } else if (a.ss_family == AF_INET6) {
            const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
            ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
            port = ntohs(v6->sin6_port);
        }
        ip = host;
    }

    int fd_;
    std::string buf_;
    std::size_t pos_ = 0;
    Clock::time_point deadline_;
    std::chrono::milliseconds write_timeout_;
};

/// Time limits of Connections.
struct ConnectionLimits {
    std::chrono::milliseconds idle_timeout{5000};      // no request in progress → close
    std::chrono::milliseconds request_timeout{10000};  // first byte → whole request read, else 408
    std::chrono::milliseconds write_timeout{10000};    // a response must be sent within this
    std::size_t max_header_bytes = 64 * 1024;          // request line + headers, else 431
    std::size_t max_body = 1 << 20;                    // an announced Content-Length above this: 413 at once
};

/// The value of header `name` (case-insensitive) in raw request bytes, or "" if absent.
inline std::string raw_header(const std::string& head, const std::string& name) {
    std::size_t pos = head.find('\n');
    while (pos != std::string::npos && pos + 1 < head.size()) {
        const std::size_t begin = pos + 1, end = head.find('\n', begin);
        const std::string line = head.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        if (line.empty() || line == "\r") break;  // end of the headers
        const std::size_t colon = line.find(':');
        if (colon == name.size() && std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
            std::string v = line.substr(colon + 1);
            const auto b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t\r");
            return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
        }
        pos = end;
    }
    return {};
}

/// The poller thread and the two worker pools (see the header comment).
class Connections {
public:
    /// Serves one request whose headers are complete; returns true to keep the connection.
    using Serve = std::function<bool(RequestStream&)>;

    Connections(ConnectionLimits limits, std::size_t predict_workers, std::size_t other_workers, Serve serve)
        : limits_(limits), serve_(std::move(serve)) {
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        RGRID_CHECK(epoll_ >= 0 && wake_ >= 0, "serve::Connections: epoll/eventfd failed: ", std::strerror(errno));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = wake_;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
        predict_pool_ = std::make_unique<httplib::ThreadPool>(predict_workers);
        other_pool_ = std::make_unique<httplib::ThreadPool>(other_workers);
        poller_ = std::thread([this] { poll_loop(); });
    }
    ~Connections() { stop(); }
    Connections(const Connections&) = delete;
    Connections& operator=(const Connections&) = delete;

    /// Takes over a connected socket (and bytes of it already read). Thread-safe.
    void adopt(int fd, std::string buffered = {}) {
        {
            std::lock_guard<std::mutex> lock(incoming_mutex_);
            if (!stopping_) {
                incoming_.emplace_back(fd, std::move(buffered));
                fd = -1;
            }
        }
        if (fd >= 0) return close_fd(fd);
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
    }

    /// Closes the idle connections, lets the requests in workers finish, joins all threads.
    void stop() {
        {
            std::lock_guard<std::mutex> lock(incoming_mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
        poller_.join();
        predict_pool_->shutdown();  // the last requests finish; their connections get closed
        other_pool_->shutdown();
        ::close(epoll_);
        ::close(wake_);
    }
    bool stopping() const {
        std::lock_guard<std::mutex> lock(incoming_mutex_);
        return stopping_;
    }

    /// Connections held by the poller right now (idle or sending headers).
    std::size_t held() const { return held_.load(); }

private:
    struct Conn {
        std::string buf;
        Clock::time_point deadline;
        bool started = false;  // a byte of the next request has arrived
    };

    static void close_fd(int fd) {
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
    }

    /// Headers complete? (the blank line after them; httplib accepts bare LF lines too)
    static bool headers_done(const std::string& b) {
        return b.find("\r\n\r\n") != std::string::npos || b.find("\n\n") != std::string::npos;
    }

    /// A minimal JSON error for requests the poller refuses itself, then close.
    static void refuse(int fd, int status, const char* reason, const std::string& message) {
        const std::string body = "{\"error\":\"" + message + "\"}\n";
        const std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                                 "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n";
        const std::string all = head + body;
        [[maybe_unused]] auto n = ::send(fd, all.data(), all.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        close_fd(fd);
    }

    void watch(int fd, Conn c) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) return close_fd(fd);
        conns_[fd] = std::move(c);
        held_ = conns_.size();
    }
    void forget(int fd) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        conns_.erase(fd);
        held_ = conns_.size();
    }

    /// Called when a connection has new bytes or its headers may be complete.
    void progress(int fd, Conn& c) {
        if (!c.started && !c.buf.empty()) {
            c.started = true;
            c.deadline = Clock::now() + limits_.request_timeout;
        }
        if (c.buf.size() > limits_.max_header_bytes && !headers_done(c.buf)) {
            forget(fd);
            return refuse(fd, 431, "Request Header Fields Too Large",
                          "request header fields too large: the request line and headers exceed " +
                              std::to_string(limits_.max_header_bytes) + " bytes");
        }
        if (!headers_done(c.buf)) return;
        // A body announced larger than the limit is refused before a byte of it is read
        // (httplib would read and discard all of it first).
        const std::string length = raw_header(c.buf, "Content-Length");
        if (!length.empty() && length.find_first_not_of("0123456789") == std::string::npos &&
            (length.size() > 18 || std::stoull(length) > limits_.max_body)) {
            forget(fd);
            return refuse(fd, 413, "Payload Too Large",
                          "request body too large: the limit is " + std::to_string(limits_.max_body) + " bytes (--max-body)");
        }
        dispatch(fd, std::move(c));
        forget(fd);
    }

    void dispatch(int fd, Conn c) {
        const bool predict = c.buf.rfind("POST /predict ", 0) == 0 || c.buf.rfind("POST /predict?", 0) == 0;
        auto job = [this, fd, buf = std::move(c.buf), deadline = c.deadline]() mutable {
            ClientState& st = client_state();
            st = ClientState{fd, false, false};
            RequestStream strm(fd, std::move(buf), deadline, limits_.write_timeout);
            bool keep = false;
            try {
                keep = serve_(strm);
            } catch (...) {
            }
            keep = keep && !st.must_close && !st.timed_out;
            std::string rest = strm.leftover();
            st = ClientState{};
            if (keep) adopt(fd, std::move(rest));
            else close_fd(fd);
        };
        (predict ? predict_pool_ : other_pool_)->enqueue(std::move(job));
    }

    void poll_loop() {
        std::vector<epoll_event> events(256);
        for (;;) {
            // New connections (and kept-alive ones back from a worker).
            std::vector<std::pair<int, std::string>> fresh;
            bool stop = false;
            {
                std::lock_guard<std::mutex> lock(incoming_mutex_);
                fresh.swap(incoming_);
                stop = stopping_;
            }
            if (stop) {
                for (auto& [fd, b] : fresh) close_fd(fd);
                for (auto& [fd, c] : conns_) close_fd(fd);
                conns_.clear();
                held_ = 0;
                return;
            }
            const auto now = Clock::now();
            for (auto& [fd, b] : fresh) {
                Conn c{std::move(b), now + limits_.idle_timeout, false};
                watch(fd, std::move(c));
                if (conns_.count(fd)) progress(fd, conns_[fd]);  // pipelined bytes may hold a whole request
            }
            // Expired deadlines.
            Clock::time_point next = now + std::chrono::seconds(1);
            for (auto it = conns_.begin(); it != conns_.end();) {
                const int fd = it->first;
                Conn& c = it->second;
                ++it;
                if (c.deadline <= now) {
                    const bool started = c.started;
                    forget(fd);
                    if (started) refuse(fd, 408, "Request Timeout", "request timeout: the request did not arrive in time");
                    else close_fd(fd);
                } else {
                    next = std::min(next, c.deadline);
                }
            }
            const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
            const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                                       static_cast<int>(std::clamp<long long>(wait_ms + 1, 1, 1000)));
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == wake_) {
                    std::uint64_t v;
                    [[maybe_unused]] auto r = ::read(wake_, &v, sizeof v);
                    continue;
                }
                auto it = conns_.find(fd);
                if (it == conns_.end()) continue;
                char buf[4096];
                const ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got > 0) {
                    it->second.buf.append(buf, static_cast<std::size_t>(got));
                    progress(fd, it->second);
                } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    forget(fd);  // the client closed (or reset) the connection
                    close_fd(fd);
                }
            }
        }
    }

    ConnectionLimits limits_;
    Serve serve_;
    int epoll_ = -1, wake_ = -1;
    std::thread poller_;
    std::unique_ptr<httplib::ThreadPool> predict_pool_, other_pool_;
    mutable std::mutex incoming_mutex_;
    std::vector<std::pair<int, std::string>> incoming_;
    bool stopping_ = false;
    std::map<int, Conn> conns_;  // poller thread only
    std::atomic<std::size_t> held_{0};
};

/// httplib::Server whose accepted sockets go to Connections instead of one pool thread each,
/// with a listen backlog of `backlog` instead of httplib's compiled-in 5.
class HttpServer : public httplib::Server {
public:
    HttpServer() {
        new_task_queue = [] { return new InlineQueue; };
    }
    void set_connections(Connections* c) { connections_ = c; }

    /// Raises the listen backlog of the bound socket (call after bind_to_port/bind_to_any_port;
    /// Linux applies a second listen() to a listening socket).
    bool set_backlog(int backlog) {
        const socket_t s = svr_sock_;
        return s != INVALID_SOCKET && ::listen(s, backlog) == 0;
    }
    /// httplib's own request processing on one stream: parse, route, write the response.
    /// Returns true when the connection may be kept for another request.
    bool serve_one(httplib::Stream& strm, bool close_connection) {
        bool closed = false;
        const bool ok = process_request(strm, close_connection, closed, nullptr);
        return ok && !closed && !close_connection;
    }

private:
    /// Runs the accept loop's task inline: the task only hands the socket to Connections.
    struct InlineQueue : httplib::TaskQueue {
        void enqueue(std::function<void()> fn) override { fn(); }
        void shutdown() override {}
    };
    bool process_and_close_socket(socket_t sock) override {
        if (connections_) connections_->adopt(sock);
        else ::close(sock);
        return true;
    }

    Connections* connections_ = nullptr;
};

}  // namespace rgrid::serve::detail

#include "bench/floor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench/fleet.hpp"
#include "bench/machine_stats.hpp"
#include "bench/process_stats.hpp"
#include "bench/report.hpp"
#include "bench/time.hpp"

namespace bandsync::bench {
namespace {

// As the fleet does: one loopback source address per 5 000 connections, so
// ephemeral ports never run out whatever else runs on the machine.
constexpr size_t sockets_per_source_address = 5000;
// The reader gives up on its own after this long, whatever the writer does.
constexpr unsigned reader_timeout_margin_s = 120;

// The frame BandSync sends for one tick: an unmasked WebSocket text frame
// (FIN + opcode 1, 7-bit length) around a scroll_tick in its Engine.IO
// message / Socket.IO event envelope, with values of a real run's size.
std::string tick_frame() {
  std::string payload = R"(42["scroll_tick",{"sessionId":"bench-k2j9x0aa-317","positionMs":125340,)"
                        R"("tempoBpm":120,"serverTimestamp":1764612345678}])";
  std::string f;
  f += static_cast<char>(0x81);
  f += static_cast<char>(payload.size());  // < 126: the one-byte length form
  f += payload;
  return f;
}

double seconds_of(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

void sleep_until(double steady) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(steady);
  ts.tv_nsec = static_cast<long>((steady - static_cast<double>(ts.tv_sec)) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// The reading process: connects `n` sockets to `port`, tells the writer it is
// ready (one byte on `ready_fd`), then reads everything until every
// connection is closed by the writer. Never returns.
[[noreturn]] void reader_main(uint16_t port, size_t n, int ready_fd, unsigned timeout_s) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the writer
  alarm(timeout_s);                  // nor a writer that hangs
  size_t sources =
      std::max<size_t>(1, (n + sockets_per_source_address - 1) / sockets_per_source_address);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ep = epoll_create1(0);
  if (ep < 0) _exit(3);
  for (size_t i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) _exit(3);
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + static_cast<uint32_t>(i % sources));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) _exit(3);
    if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) _exit(3);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) _exit(3);
  }
  char one = 1;
  if (write(ready_fd, &one, 1) != 1) _exit(3);
  close(ready_fd);

  std::vector<epoll_event> events(1024);
  static char buf[64 * 1024];
  size_t open = n;
  while (open > 0) {
    int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    if (k < 0 && errno != EINTR) _exit(3);
    for (int e = 0; e < k; ++e) {
      int fd = events[e].data.fd;
      for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) continue;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close(fd);  // end of stream or error: the writer is done with it
        --open;
        break;
      }
    }
  }
  _exit(0);
}

class floor_run {
 public:
  floor_run(const common_options& c, const floor_options& o) : common_(c), opts_(o) {}

  ~floor_run() {
    for (int fd : conns_) close(fd);
    if (listener_ >= 0) close(listener_);
    if (reader_pid_ > 0) reap_reader();
  }

  int run() {
    if (opts_.sockets == 0 || opts_.rate_hz <= 0 || opts_.slots == 0) {
      std::cerr << "bandsync bench floor: --sockets, --rate and --slots must be positive\n";
      return 2;
    }
    size_t limit = raise_open_file_limit();
    if (limit < opts_.sockets + reserved_descriptors) {
      std::cerr << "bandsync bench floor: " << opts_.sockets << " sockets need "
                << opts_.sockets + reserved_descriptors << " open files per process; the limit is "
                << limit << "\n";
      return 2;
    }
    if (auto err = connect_all()) {
      std::cerr << "bandsync bench floor: " << *err << "\n";
      return 1;
    }
    return measure();
  }

 private:
  std::optional<std::string> connect_all() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener_ < 0) return std::string("socket: ") + std::strerror(errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener_, 4096) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return std::string("listen: ") + std::strerror(errno);

    int ready[2];
    if (pipe(ready) != 0) return std::string("pipe: ") + std::strerror(errno);
    unsigned timeout =
        static_cast<unsigned>(opts_.warmup_s + opts_.duration_s) + reader_timeout_margin_s;
    reader_pid_ = fork();
    if (reader_pid_ < 0) return std::string("fork: ") + std::strerror(errno);
    if (reader_pid_ == 0) {
      close(ready[0]);
      close(listener_);
      reader_main(ntohs(addr.sin_port), opts_.sockets, ready[1], timeout);
    }
    close(ready[1]);

    // Accept while the reader connects; each connection is set up as the
    // server's listener sets up its own (non-blocking, TCP_NODELAY).
    double deadline = steady_s() + 30 + 0.005 * static_cast<double>(opts_.sockets);
    conns_.reserve(opts_.sockets);
    while (conns_.size() < opts_.sockets) {
      pollfd p{listener_, POLLIN, 0};
      int wait_ms = static_cast<int>(std::max(0.0, deadline - steady_s()) * 1000);
      if (poll(&p, 1, std::min(wait_ms, 1000)) < 0 && errno != EINTR)
        return std::string("poll: ") + std::strerror(errno);
      if (steady_s() > deadline)
        return "only " + std::to_string(conns_.size()) + " of " + std::to_string(opts_.sockets) +
               " connections accepted in time";
      if (waitpid(reader_pid_, nullptr, WNOHANG) == reader_pid_) {
        reader_pid_ = 0;
        return "the reader process exited while connecting";
      }
      for (;;) {
        int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK);
        if (fd < 0) break;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conns_.push_back(fd);
      }
    }
    char byte = 0;
    pollfd p{ready[0], POLLIN, 0};
    bool ok = poll(&p, 1, 30000) == 1 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    if (!ok) return std::string("the reader process did not get ready");
    return std::nullopt;
  }

  // Writes the frame to every connection once per period, socket i in slot
  // i % slots, for warmup + duration; samples CPU around the window.
  int measure() {
    const std::string frame = tick_frame();
    const double period = 1.0 / opts_.rate_hz;
    const size_t slots = std::min(opts_.slots, conns_.size());
    const double slot_s = period / static_cast<double>(slots);
    process_stats reader(reader_pid_);

    uint64_t writes = 0, would_block = 0, partial = 0, failed = 0, late_slots = 0;
    uint64_t w_writes = 0, w_would_block = 0, w_partial = 0;
    rusage ru_start{}, ru_end{};
    std::optional<process_sample> reader_start, reader_end;
    std::optional<machine_stats::sample> machine_start, machine_end;
    double window_start = 0, window_end = 0;
    bool in_window = false;

    const double t0 = steady_s();
    const double measure_at = t0 + opts_.warmup_s;
    const double end_at = measure_at + opts_.duration_s;
    for (uint64_t k = 0;; ++k) {
      double due = t0 + static_cast<double>(k) * slot_s;
      if (!in_window && due >= measure_at) {
        in_window = true;
        w_writes = writes, w_would_block = would_block, w_partial = partial;
        reader_start = reader.sample();
        machine_start = machine_stats::read();
        window_start = steady_s();
        getrusage(RUSAGE_SELF, &ru_start);
      }
      if (due >= end_at) break;
      double now = steady_s();
      if (now < due)
        sleep_until(due);
      else if (now - due > period)
        ++late_slots;  // a whole period behind: the writer cannot keep up
      for (size_t i = k % slots; i < conns_.size(); i += slots) {
        ssize_t r = send(conns_[i], frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ++writes;
        if (r == static_cast<ssize_t>(frame.size())) continue;
        if (r >= 0)
          ++partial;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
          ++would_block;
        else
          ++failed;
      }
    }
    getrusage(RUSAGE_SELF, &ru_end);
    window_end = steady_s();
    reader_end = reader.sample();
    machine_end = machine_stats::read();
    double load = machine_stats::load_average();

    uint64_t n = writes - w_writes;
    double window_s = window_end - window_start;
    report r("floor");
    auto& cfg = r.section("config");
    cfg["sockets"] = conns_.size();
    cfg["duration_s"] = opts_.duration_s;
    cfg["warmup_s"] = opts_.warmup_s;
    cfg["rate_hz"] = opts_.rate_hz;
    cfg["slots"] = slots;
    cfg["frame_bytes"] = frame.size();
    auto& w = r.section("writes");
    w["in_window"] = n;
    w["per_second"] = std::round(static_cast<double>(n) / window_s);
    w["would_block"] = would_block - w_would_block;
    w["partial"] = partial - w_partial;
    w["failed"] = failed;
    w["late_slots"] = late_slots;
    auto& wr = r.section("writer");
    double user = seconds_of(ru_end.ru_utime) - seconds_of(ru_start.ru_utime);
    double sys = seconds_of(ru_end.ru_stime) - seconds_of(ru_start.ru_stime);
    wr["cpu_pct"] = std::round(1000 * (user + sys) / window_s) / 10;
    if (n) {
      auto per = [&](double s) { return round3(s * 1e6 / static_cast<double>(n)); };
      wr["cpu_us_per_write"] = per(user + sys);
      wr["user_us_per_write"] = per(user);
      wr["system_us_per_write"] = per(sys);
    }
    if (reader_start && reader_end) {
      auto& rd = r.section("reader");
      rd["pid"] = reader_pid_;
      rd["cpu_pct"] = std::round(process_stats::cpu_percent(*reader_start, *reader_end) * 10) / 10;
    }
    if (machine_start && machine_end) {
      auto m = machine_stats::between(*machine_start, *machine_end);
      m["load_average_1m"] = load;
      r.root()["machine"] = std::move(m);
    }

    for (int fd : conns_) close(fd);
    conns_.clear();
    bool reader_ok = reap_reader();
    r.print(std::cout);
    if (!common_.json_file.empty() && !r.write_json(common_.json_file)) return 1;
    if (failed || !reader_ok) {
      std::cerr << "bandsync bench floor: " << failed << " writes failed"
                << (reader_ok ? "" : "; the reader process failed") << "\n";
      return 1;
    }
    return 0;
  }

  // Waits up to 10 s for the reader to see every connection close, then
  // kills it (our own child). True when it exited on its own with 0.
  bool reap_reader() {
    pid_t pid = reader_pid_;
    reader_pid_ = 0;
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid)
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return false;
  }

  common_options common_;
  floor_options opts_;
  int listener_ = -1;
  pid_t reader_pid_ = 0;
  std::vector<int> conns_;
};

}  // namespace

int run_floor(const common_options& common, const floor_options& opts) {
  floor_run run(common, opts);
  return run.run();
}

}  // namespace bandsync::bench

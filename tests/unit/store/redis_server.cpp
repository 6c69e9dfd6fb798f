#include "redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include <hiredis/hiredis.h>

extern char** environ;

namespace bandsync::testing {
namespace {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string reply_text(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r->elements; ++i) {
        if (i) out += '\n';
        out += reply_text(r->element[i]);
      }
      return out;
    }
    case REDIS_REPLY_NIL:
      return {};
    default:
      return std::string(r->str, r->len);
  }
}

}  // namespace

bool redis_server::available() {
  return ::access(binary, X_OK) == 0;
}

std::string redis_server::skip_reason() {
  return std::string(binary) +
         " is not installed: the Redis store tests need a real redis-server (apt-get install "
         "redis-server; `make deps` does it)";
}

redis_server::redis_server(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)), port_(free_port()) {
  char tmpl[] = "/tmp/bandsync-redis-XXXXXX";
  if (char* d = ::mkdtemp(tmpl)) dir_ = d;
}

redis_server::~redis_server() {
  if (pid_ > 0) {
    resume();
    kill();
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool redis_server::start(std::string* error) {
  if (pid_ > 0) return true;
  std::vector<std::string> args{
      binary,   "--port",    std::to_string(port_), "--bind",      "127.0.0.1",
      "--save", "",          "--appendonly",        "no",          "--dir",
      dir_,     "--logfile", dir_ + "/redis.log",   "--daemonize", "no"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, binary, nullptr, nullptr, argv.data(), environ) != 0) {
    if (error) *error = "posix_spawn failed";
    return false;
  }
  pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (error) *error = "redis-server exited at start (port " + std::to_string(port_) + ")";
      return false;
    }
    timeval tv{0, 200000};
    std::unique_ptr<redisContext, void (*)(redisContext*)> c(
        redisConnectWithTimeout("127.0.0.1", port_, tv), redisFree);
    if (c && !c->err) {
      redisSetTimeout(c.get(), tv);
      auto* r = static_cast<redisReply*>(redisCommand(c.get(), "PING"));
      // NOAUTH also proves it is serving (a password-protected server).
      bool up = r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR);
      if (r) freeReplyObject(r);
      if (up) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (error) *error = "redis-server did not answer within 5 s";
  kill();
  return false;
}

void redis_server::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void redis_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void redis_server::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void redis_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::optional<std::string> redis_server::command(const std::vector<std::string>& args,
                                                 const std::string& password, int db) const {
  timeval tv{2, 0};
  std::unique_ptr<redisContext, void (*)(redisContext*)> c(
      redisConnectWithTimeout("127.0.0.1", port_, tv), redisFree);
  if (!c || c->err) return "ERR cannot connect";
  redisSetTimeout(c.get(), tv);
  auto run = [&](const std::vector<std::string>& a) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& s : a) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    }
    return static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(a.size()), argv.data(), lens.data()));
  };
  if (!password.empty()) {
    if (auto* r = run({"AUTH", password})) freeReplyObject(r);
  }
  if (db != 0) {
    if (auto* r = run({"SELECT", std::to_string(db)})) freeReplyObject(r);
  }
  auto* r = run(args);
  if (!r) return "ERR no reply";
  std::optional<std::string> out;
  if (r->type != REDIS_REPLY_NIL) out = reply_text(r);
  freeReplyObject(r);
  return out;
}

long long redis_server::ttl(const std::string& key) const {
  auto r = command({"TTL", key});
  return r ? std::atoll(r->c_str()) : -3;
}

long long redis_server::info_field(const std::string& section, const std::string& field) const {
  auto r = command({"INFO", section});
  if (!r) return -1;
  auto pos = r->find(field + ":");
  if (pos == std::string::npos) return -1;
  return std::atoll(r->c_str() + pos + field.size() + 1);
}

}  // namespace bandsync::testing

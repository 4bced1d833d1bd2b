// Runs the sansmtp CLI as a user does: real process, real argv, real exit
// codes. Shared by the CLI test files.
#pragma once

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

namespace sansmtp::test {

struct run_result {
  int status = -1;
  std::string out, err;
};

inline std::string drain(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

// Runs the CLI with exactly these arguments (no shell), NO_COLOR set and
// `input` on its standard input (small: it fits the pipe). A process still
// running after `seconds` is killed (SIGALRM): its status is then -1.
inline run_result run(std::vector<std::string> args, const std::string& input = {}, unsigned seconds = 120) {
  args.insert(args.begin(), SANSMTP_CLI_PATH);
  int in[2], out[2], err[2];
  REQUIRE(pipe(in) == 0);
  REQUIRE(pipe(out) == 0);
  REQUIRE(pipe(err) == 0);
  REQUIRE(input.size() < 60000);
  REQUIRE(write(in[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
  close(in[1]);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    setenv("NO_COLOR", "1", 1);
    setsid();  // no controlling terminal: nothing can prompt on the tester's terminal
    alarm(seconds);  // kept across execv: a process that spins or hangs ends
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  run_result r;
  r.out = drain(out[0]);  // outputs here are small: no deadlock between the pipes
  r.err = drain(err[0]);
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The UTF-8 of a C1 control (U+009B CSI, U+0085 NEL) or a bidirectional
// control (U+202E RLO, U+2066 LRI, U+200F RLM), if any is in `s`.
inline bool has_raw_unicode_control(const std::string& s) {
  for (const char* c : {"\xc2\x9b", "\xc2\x85", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\x8f"})
    if (s.find(c) != std::string::npos) return true;
  return false;
}

// `sansmtp ARGS` as a peer on the other end of its stdin and stdout sees
// it: bytes are sent when asked, either end may be closed, and the process
// runs until it exits (or the test gives up and kills it). SIGPIPE is at
// its default in the child, as under inetd.
class live_process {
 public:
  explicit live_process(std::vector<std::string> args) {
    args.insert(args.begin(), SANSMTP_CLI_PATH);
    int in[2], out[2], err[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    REQUIRE(pipe(err) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      for (const int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
      std::signal(SIGPIPE, SIG_DFL);
      setsid();  // no controlling terminal: nothing can prompt on the tester's terminal
      setenv("NO_COLOR", "1", 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    to_ = in[1];
    from_ = out[0];
    errors_ = err[0];
  }
  ~live_process() {
    close_input();
    close_output();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (errors_ >= 0) close(errors_);
  }
  void send(const std::string& text) {
    REQUIRE(to_ >= 0);
    REQUIRE(write(to_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  // The same, false when the process no longer reads (SIGPIPE must be ignored).
  bool try_send(const std::string& text) {
    return to_ >= 0 && write(to_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }
  // Reads stdout until `text` has been seen (or 20 s have passed); all read so far.
  const std::string& read_until(const std::string& text) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (from_ >= 0 && output_.find(text) == std::string::npos && std::chrono::steady_clock::now() < give_up) {
      pollfd p{from_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const auto n = read(from_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return output_;
  }
  void close_input() {
    if (to_ >= 0) close(to_);
    to_ = -1;
  }
  // The peer stops reading: the next write of the process gets EPIPE (or SIGPIPE).
  void close_output() {
    if (from_ >= 0) close(from_);
    from_ = -1;
  }
  void signal(int number) { REQUIRE(kill(pid_, number) == 0); }
  // Waits up to `limit` for the process to exit on its own: its exit status,
  // minus the signal number when a signal ended it, or 1000 when it was
  // still running (then it is killed).
  int wait_exit(std::chrono::seconds limit) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
      if (const auto r = waitpid(pid_, &status, WNOHANG); r == pid_) break;
      if (std::chrono::steady_clock::now() >= give_up) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return 1000;
      }
      usleep(20 * 1000);
    }
    pid_ = -1;
    if (from_ >= 0) read_until("\x01never");  // what is left, up to EOF
    if (errors_ >= 0) {
      error_output_ = drain(errors_);  // the process is gone: EOF comes (small: it fit the pipe)
      close(errors_);
      errors_ = -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  const std::string& output() const { return output_; }
  // Its stderr, once it has exited (wait_exit).
  const std::string& error_output() const { return error_output_; }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, errors_ = -1;
  std::string output_, error_output_;
};

inline std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto nl = s.find('\n', start);
    out.push_back(s.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace sansmtp::test

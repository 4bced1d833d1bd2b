// Runs the sansmtp CLI as a user does: real process, real argv, real exit
// codes. Shared by the CLI test files.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

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

// pipeline: runs programs connected like the shell's `a | b | c`, feeds our stdin to the
// first, streams the last one's output back line by line, and reports every exit status.
//
//   pipeline [PROGRAM [ARGS...] ['|' PROGRAM [ARGS...]]...]      (default: sort)
//   printf 'b\na\nb\n' | pipeline sort '|' uniq -c                (quote the '|')
//
// Each stage's status goes to stderr ("sort: exit status: 0", "sh: signal: 9 (SIGKILL)").
// Exit code: 0 when every stage succeeded, 1 otherwise, 127 when a program could not be
// started (the message names it and says why), 130 after SIGINT/SIGTERM (the children are
// killed and reaped first). Every stage is kill_on_drop: none outlives an early return.
//
// The stages are connected to each other directly (Stdio::from(ChildStdout)); only the
// first stage's stdin and the last stage's stdout pass through this process.
#define TOKIO_IMPLEMENTATION
#include <cstdio>
#include <string>
#include <vector>

#include "tokio.hpp"

using tokio::Task;
using tokio::process::Child;
using tokio::process::ChildStdin;
using tokio::process::Command;
using tokio::process::Stdio;
using tokio::signal::unix::SignalKind;
namespace io = tokio::io;

// Our stdin into the first stage, then end of file for it. A stage that exits without
// reading everything makes the copy fail with broken_pipe (never a SIGPIPE): that is fine.
Task<> feed(ChildStdin in) {
  auto src = io::stdin();
  (void)co_await io::copy(src, in);
  (void)co_await in.shutdown();
}

Task<int> amain(std::vector<std::vector<std::string>> stages) {
  auto sigint = tokio::signal::unix::signal(SignalKind::interrupt());
  auto sigterm = tokio::signal::unix::signal(SignalKind::terminate());
  if (!sigint || !sigterm) co_return 1;

  std::vector<Child> children;
  std::optional<Stdio> next_stdin;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    Command cmd(stages[i][0]);
    cmd.args(std::vector<std::string>(stages[i].begin() + 1, stages[i].end()));
    cmd.stdin(i == 0 ? Stdio::piped() : std::move(*next_stdin));
    cmd.stdout(Stdio::piped());
    cmd.kill_on_drop(true);
    auto child = cmd.spawn();
    if (!child) {
      std::fprintf(stderr, "pipeline: %s\n", child.error().message().c_str());
      co_return 127;  // the stages already started are killed and reaped on return
    }
    if (i + 1 < stages.size()) {
      // This stage's stdout becomes the next one's stdin.
      auto s = Stdio::from(std::move(*child->stdout));
      child->stdout.reset();
      if (!s) {
        std::fprintf(stderr, "pipeline: %s\n", s.error().message().c_str());
        co_return 1;
      }
      next_stdin.emplace(std::move(*s));
    }
    children.push_back(std::move(*child));
  }

  auto feeder = tokio::spawn(feed, std::move(*children.front().stdin));
  children.front().stdin.reset();

  // Stream the last stage's output as it comes, a line at a time.
  io::BufReader reader(std::move(*children.back().stdout));
  children.back().stdout.reset();
  auto out = io::stdout();
  std::vector<char> line;
  for (;;) {
    line.clear();
    auto ev =
        co_await tokio::select(io::read_until(reader, '\n', line), sigint->recv(), sigterm->recv());
    if (ev.index() != 0) {
      std::fprintf(stderr, "pipeline: interrupted\n");
      for (auto& c : children) (void)co_await c.kill();  // SIGKILL, then reap
      co_return 130;
    }
    auto& n = std::get<0>(ev);
    if (!n || *n == 0) break;
    if (!co_await io::write_all(out, std::string_view(line.data(), line.size()))) break;
  }
  (void)co_await out.flush();
  feeder.abort();  // the last stage is done: whatever the first did not read is moot

  int rc = 0;
  for (std::size_t i = 0; i < children.size(); ++i) {
    auto st = co_await children[i].wait();
    std::fprintf(stderr, "%s: %s\n", stages[i][0].c_str(),
                 st ? st->to_string().c_str() : st.error().message().c_str());
    if (!st || !st->success()) rc = 1;
  }
  co_return rc;
}

int main(int argc, char** argv) {
  std::vector<std::vector<std::string>> stages(1);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "|") {
      stages.emplace_back();
    } else {
      stages.back().push_back(argv[i]);
    }
  }
  if (stages.size() == 1 && stages[0].empty()) stages[0].push_back("sort");
  for (const auto& s : stages) {
    if (s.empty()) {
      std::fprintf(stderr, "usage: pipeline [PROGRAM [ARGS...] ['|' PROGRAM [ARGS...]]...]\n");
      return 2;
    }
  }
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  int rc = rt.block_on(amain(std::move(stages)));
  // A read of an interactive stdin cannot be interrupted: do not wait for it.
  rt.shutdown_background();
  return rc;
}

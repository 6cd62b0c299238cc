#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace sluice::cli {

namespace {

std::atomic<bool> g_stop_requested{false};

void OnStopSignal(int) {
  if (g_stop_requested.exchange(true)) {
    // Second signal: the user insists. Only async-signal-safe calls here.
    static const char kMessage[] = "\nsluice: second stop signal, exiting immediately\n";
    ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    (void)ignored;
    _exit(kExitInterrupted);
  }
}

}  // namespace

const std::atomic<bool>* InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A closed output pipe must surface as a write error, not kill the process mid-commit.
  signal(SIGPIPE, SIG_IGN);
  return &g_stop_requested;
}

}  // namespace sluice::cli

// CLibEdit: libedit's readline-compatible API, with its C globals hidden behind functions (Swift 6
// treats C globals as concurrency errors) and a SIGINT handler that only sets a flag.
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>

typedef char **(*aptp_completion_fn)(const char *text, int start, int end);

static char *aptp_no_entry(const char *text, int state) { (void)text; (void)state; return NULL; }

/// Installs the completion callback, turns off libedit's filename fallback and its own signal handling.
static inline void aptp_rl_setup(aptp_completion_fn fn, const char *app_name) {
  rl_readline_name = app_name;
  rl_attempted_completion_function = fn;
  rl_completion_entry_function = aptp_no_entry;
  rl_completer_word_break_characters = (char *)" \t\n\"'`(),[]{}+-*/=<>:;@%!|&";
  rl_completion_append_character = '\0';
  rl_catch_signals = 0;
  rl_initialize();
  using_history();
}

static inline const char *aptp_rl_line_buffer(void) { return rl_line_buffer ? rl_line_buffer : ""; }
static inline int aptp_rl_point(void) { return rl_point; }
static inline int aptp_stdin_is_tty(void) { return isatty(0); }
static inline int aptp_stdout_is_tty(void) { return isatty(1); }

/// The flag the SIGINT handler sets; read and cleared by Swift.
static volatile sig_atomic_t aptp_sigint_count = 0;
static void aptp_on_sigint(int sig) { (void)sig; aptp_sigint_count += 1; }

/// Installs the SIGINT handler without SA_RESTART, so a blocking read returns EINTR.
static inline void aptp_install_sigint(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = aptp_on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

static inline int aptp_take_sigint(void) {
  int n = aptp_sigint_count;
  aptp_sigint_count = 0;
  return n;
}

static inline int aptp_peek_sigint(void) { return aptp_sigint_count; }

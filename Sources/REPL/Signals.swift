// Signals: the only file that touches the C SIGINT counter. Static variables in a C header get
// one copy per Swift file that uses them (per object file in debug builds), so every access
// must go through here.

import CLibEdit

enum Signals {
  /// Installs the SIGINT handler (no SA_RESTART, so a blocking read is interrupted).
  static func installInterruptHandler() { aptp_install_sigint() }

  /// Number of Ctrl-C presses since the last call, clearing the count.
  static func takeInterrupts() -> Int { Int(aptp_take_sigint()) }
}

// Runtime: process-level set-up for fast kernels — OpenBLAS core selection and allocator tuning.

import CSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide settings that must be in place before heavy work starts.
public enum Runtime {
  /// The OpenBLAS kernel family for this CPU, from /proc/cpuinfo flags. OpenBLAS's own model-based
  /// detection falls back to its slowest kernels (Prescott) on CPUs it does not know by model
  /// number, as in many virtual machines, so the executables pick it from features instead.
  public static func preferredBLASCore() -> String? {
    guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 8192)
    while fgets(&line, Int32(line.count), file) != nil {
      let bytes = line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
      let text = String(decoding: bytes, as: UTF8.self)
      guard text.hasPrefix("flags") else { continue }
      let flags = Set(text.split(separator: " ").map(String.init))
      if flags.contains("avx512f") { return flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX" }
      if flags.contains("avx2") { return "Haswell" }
      return nil
    }
    return nil
  }

  /// Re-executes the current program with OpenBLAS's environment set when it is not (OpenBLAS reads
  /// it when the library loads, before `main`): `OPENBLAS_CORETYPE` from the CPU's features, and
  /// `OPENBLAS_THREAD_TIMEOUT=4` so its idle worker threads sleep at once instead of spinning in
  /// `sched_yield` (measured: about 28 000 calls a second, a core burnt even in scripts that never
  /// touch a tensor; the engine runs OpenBLAS single-threaded anyway). Returns normally when
  /// nothing needs to change.
  public static func relaunchWithBLASSettingsIfNeeded() {
    var changed = false
    if getenv("OPENBLAS_CORETYPE") == nil, let core = preferredBLASCore() {
      setenv("OPENBLAS_CORETYPE", core, 1)
      changed = true
    }
    if getenv("OPENBLAS_THREAD_TIMEOUT") == nil {
      setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
      changed = true
    }
    guard changed else { return }
    var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
    argv.append(nil)
    execv("/proc/self/exe", &argv)
    // execv only returns on failure: carry on with whatever settings OpenBLAS picked.
  }

  /// Keeps large freed blocks in the heap so repeated tensor allocations reuse warm pages
  /// instead of mapping and faulting in fresh memory on every op.
  static let allocatorConfigured: Bool = {
    _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
    _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
    return true
  }()
}

// MappedFile: a read-only memory map of a whole file, kept alive by whoever holds a reference to it.
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file mapped read-only into memory. The mapping lives as long as this object does.
///
/// The bytes are trusted for nothing: callers validate every offset against `size` before reading.
/// (As with any memory map, a file truncated by another process while mapped may fault on access.)
public final class MappedFile: @unchecked Sendable {
  /// The path as given by the caller (used in error messages).
  public let path: String
  /// The file's size in bytes.
  public let size: Int
  /// Start of the mapping; nil for an empty file.
  let base: UnsafeRawPointer?
  /// Kept open for bulk copies with `pread`, which beat page-faulting through the mapping.
  private let fd: Int32

  /// Maps `path` read-only.
  public init(path: String) throws {
    self.path = path
    // O_NONBLOCK: opening a FIFO must not hang; it is then rejected as not a regular file.
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { throw FormatError(.io, file: path, "cannot open: \(systemError())") }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw FormatError(.io, file: path, "not a regular file")
    }
    size = Int(info.st_size)
    if size == 0 {
      base = nil
      return
    }
    guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
      let message = systemError()
      close(fd)
      throw FormatError(.io, file: path, "cannot map \(size) bytes: \(message)")
    }
    base = UnsafeRawPointer(pointer)
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    close(fd)
  }

  /// Copies the bytes in `range` (checked by the caller) to `destination`: `pread` for large ranges, which
  /// runs at page-cache copy speed (split across the cores above 16 MB), and the mapping otherwise or if
  /// `pread` comes up short.
  func copy(_ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
    if range.count >= 1 << 24 {
      let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
      let chunk = (range.count + parts - 1) / parts
      let address = Int(bitPattern: destination), fd = self.fd, start = range.lowerBound, total = range.count
      let short = ManagedAtomicFlag()
      DispatchQueue.concurrentPerform(iterations: parts) { i in
        let begin = i * chunk, end = min(total, begin + chunk)
        guard begin < end, let target = UnsafeMutableRawPointer(bitPattern: address) else { return }
        if MappedFile.preadFully(fd, target + begin, count: end - begin, offset: start + begin) < end - begin { short.set() }
      }
      if !short.isSet { return }
    }
    var done = 0
    if range.count >= 1 << 20 {
      done = MappedFile.preadFully(fd, destination, count: range.count, offset: range.lowerBound)
    }
    if done < range.count, let base {
      (destination + done).copyMemory(from: base + range.lowerBound + done, byteCount: range.count - done)
    }
  }

  /// Reads up to `count` bytes at `offset`, retrying short reads; returns how many arrived.
  static func preadFully(_ fd: Int32, _ destination: UnsafeMutableRawPointer, count: Int, offset: Int) -> Int {
    var done = 0
    while done < count {
      let n = pread(fd, destination + done, count - done, off_t(offset + done))
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      done += n
    }
    return done
  }

  /// The mapped bytes in `range`, which the caller has checked lies within `0..<size`.
  func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
    guard let base, !range.isEmpty else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
  }

  /// Tells the kernel the bytes in `range` will be read soon, sequentially.
  func willRead(_ range: Range<Int>) {
    guard let base, !range.isEmpty else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = range.lowerBound / page * page
    madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, MADV_WILLNEED)
  }
}

/// The text of the last system error.
func systemError() -> String {
  String(cString: strerror(errno))
}

/// Reads a whole file into memory (for small files: configs, images).
public func readFileBytes(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
  let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
  guard fd >= 0 else { throw FormatError(.io, file: path, "cannot open: \(systemError())") }
  defer { close(fd) }
  var info = stat()
  guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
    throw FormatError(.io, file: path, "not a regular file")
  }
  let size = Int(info.st_size)
  guard size <= limit else { throw FormatError(.io, file: path, "file is \(size) bytes; the limit is \(limit)") }
  var bytes = [UInt8](repeating: 0, count: size)
  var done = 0
  while done < size {
    let n = bytes.withUnsafeMutableBytes { buffer -> Int in
      guard let start = buffer.baseAddress else { return 0 }
      return read(fd, start + done, size - done)
    }
    if n < 0 {
      if errno == EINTR { continue }
      throw FormatError(.io, file: path, "read failed: \(systemError())")
    }
    if n == 0 { break }
    done += n
  }
  return done == size ? bytes : Array(bytes[0..<done])
}

/// True when `path` names a regular file (following symlinks).
public func fileExists(_ path: String) -> Bool {
  var info = stat()
  return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// True when `path` names a directory (following symlinks).
public func isDirectory(_ path: String) -> Bool {
  var info = stat()
  return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// A flag set from worker threads (a short read somewhere) and read after they finish.
final class ManagedAtomicFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() { lock.withLock { value = true } }
  var isSet: Bool { lock.withLock { value } }
}

// AtomicFile: crash-safe file replacement: write a temp file in the same folder, fsync, rename, fsync the folder.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes files so that a crash leaves either the old file or the complete new one, never a partial file.
public enum AtomicFile {
  /// Writes `path` atomically: `body` writes the content through a `FileSink`; then the temp file is fsynced,
  /// renamed over `path`, and the folder is fsynced.
  public static func write(to path: String, _ body: (inout FileSink) throws -> Void) throws {
    let staged = try stage(path, body)
    try staged.commit()
  }

  /// Writes `bytes` to `path` atomically.
  public static func write(to path: String, bytes: [UInt8]) throws {
    try write(to: path) { sink in try sink.write(bytes) }
  }

  /// Creates `folder` and its missing parents (like `mkdir -p`), so saving into a new run folder works.
  static func makeFolders(_ folder: String, for path: String) throws {
    var info = stat()
    if folder.isEmpty || stat(folder, &info) == 0 { return }
    try makeFolders(splitPath(folder).folder, for: path)
    guard mkdir(folder, 0o777) == 0 || errno == EEXIST else {
      throw FormatError(.io, file: path, "cannot create the folder \(folder): \(systemError())")
    }
  }

  /// Phase one: writes and fsyncs a temp file beside `path`, leaving `path` untouched.
  /// The returned value must be committed (phase two) or discarded. A process that dies in between
  /// leaves the previous file intact plus a stray `.<name>.tmp-*` file.
  static func stage(_ path: String, _ body: (inout FileSink) throws -> Void) throws -> StagedFile {
    let (folder, name) = splitPath(path)
    try makeFolders(folder, for: path)
    var fd: Int32 = -1
    var temp = ""
    for attempt in 0..<100 {
      temp = folder + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if fd >= 0 || errno != EEXIST || attempt == 99 { break }
    }
    guard fd >= 0 else { throw FormatError(.io, file: path, "cannot create a temp file in \(folder): \(systemError())") }
    var sink = FileSink(fd: fd, path: path)
    do {
      try body(&sink)
      try sink.flush()
      guard fsync(fd) == 0 else { throw FormatError(.io, file: path, "fsync failed: \(systemError())") }
      guard close(fd) == 0 else {
        fd = -1
        throw FormatError(.io, file: path, "close failed: \(systemError())")
      }
    } catch {
      if fd >= 0 { close(fd) }
      unlink(temp)
      throw error
    }
    return StagedFile(tempPath: temp, finalPath: path, folder: folder)
  }

  static func splitPath(_ path: String) -> (folder: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
  }
}

/// A fully written and fsynced temp file waiting to replace its destination.
struct StagedFile {
  let tempPath: String
  let finalPath: String
  let folder: String

  /// Phase two: renames the temp file over the destination and fsyncs the folder so the rename is durable.
  func commit() throws {
    guard rename(tempPath, finalPath) == 0 else {
      let message = systemError()
      unlink(tempPath)
      throw FormatError(.io, file: finalPath, "cannot rename the temp file into place: \(message)")
    }
    let dirfd = open(folder, O_RDONLY | O_CLOEXEC)
    if dirfd >= 0 {
      _ = fsync(dirfd)
      close(dirfd)
    }
  }

  /// Removes the temp file, leaving the destination untouched.
  func discard() { unlink(tempPath) }
}

/// Buffered writes to a file descriptor, retrying short writes and EINTR.
public struct FileSink {
  let fd: Int32
  let path: String
  private var buffer: [UInt8] = []
  private let capacity = 1 << 20
  /// Bytes accepted so far.
  public private(set) var count = 0

  init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
    buffer.reserveCapacity(capacity)
  }

  /// Appends bytes.
  public mutating func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Appends raw bytes; large writes bypass the buffer.
  public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
    count += bytes.count
    if buffer.count + bytes.count <= capacity {
      buffer.append(contentsOf: bytes)
      return
    }
    try flush()
    if bytes.count >= capacity {
      try writeAll(bytes)
    } else {
      buffer.append(contentsOf: bytes)
    }
  }

  /// Writes out the buffer.
  public mutating func flush() throws {
    guard !buffer.isEmpty else { return }
    try buffer.withUnsafeBytes { try writeAll($0) }
    buffer.removeAll(keepingCapacity: true)
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
    guard let start = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = posixWrite(fd, start + done, bytes.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        throw FormatError(.io, file: path, "write failed after \(done) bytes: \(systemError())")
      }
      done += n
    }
  }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    return Glibc.write(fd, pointer, count)
  #else
    return Darwin.write(fd, pointer, count)
  #endif
}

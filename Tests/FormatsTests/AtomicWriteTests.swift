// AtomicWriteTests: an interrupted write (temp file written, process gone before the rename) leaves the previous
// checkpoint intact; failures clean up their temp files.
import Foundation
import XCTest

@testable import Formats

final class AtomicWriteTests: XCTestCase {
  private func strayTempFiles(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }
  }

  func testInterruptedWriteLeavesPreviousCheckpointIntact() throws {
    let folder = try makeTempFolder("atomic")
    defer { removeFolder(folder) }
    let path = folder + "/model.safetensors"
    try Safetensors.save([try TensorPayload(name: "w", shape: [2], floats: [1, 2])], to: path)
    let before = try readFileBytes(path)

    // Simulate a crash between writing and renaming: stage the new file and never commit it.
    let staged = try AtomicFile.stage(path) { sink in
      try sink.write([UInt8](repeating: 0xAB, count: 4096))
    }
    XCTAssertTrue(fileExists(staged.tempPath), "the complete new content sits in a temp file beside the target")
    XCTAssertEqual(AtomicFile.splitPath(staged.tempPath).folder, folder)
    XCTAssertEqual(try readFileBytes(staged.tempPath).count, 4096)
    XCTAssertEqual(try readFileBytes(path), before, "the previous checkpoint is untouched")
    XCTAssertEqual(try SafetensorsFile(path: path).record("w").floats(), [1, 2])

    // What the next run sees after the "crash": the old file; the stray temp file is only clutter.
    XCTAssertEqual(try strayTempFiles(folder).count, 1)
    staged.discard()
    XCTAssertEqual(try strayTempFiles(folder), [])

    // Committing replaces the file in one step.
    let second = try AtomicFile.stage(path) { sink in try sink.write(Array("new".utf8)) }
    try second.commit()
    XCTAssertEqual(try readFileBytes(path), Array("new".utf8))
    XCTAssertEqual(try strayTempFiles(folder), [])
  }

  func testFailingWriterKeepsOldFileAndRemovesTemp() throws {
    struct Boom: Error {}
    let folder = try makeTempFolder("atomic")
    defer { removeFolder(folder) }
    let path = folder + "/config.yaml"
    try AtomicFile.write(to: path, bytes: Array("old: 1\n".utf8))
    XCTAssertThrowsError(
      try AtomicFile.write(to: path) { sink in
        try sink.write(Array("half".utf8))
        throw Boom()
      })
    XCTAssertEqual(String(decoding: try readFileBytes(path), as: UTF8.self), "old: 1\n")
    XCTAssertEqual(try strayTempFiles(folder), [])
  }

  func testLargeWritesAreComplete() throws {
    let folder = try makeTempFolder("atomic")
    defer { removeFolder(folder) }
    let path = folder + "/big.bin"
    let chunk = [UInt8]((0..<255).map { UInt8($0) })
    try AtomicFile.write(to: path) { sink in
      for _ in 0..<10_000 { try sink.write(chunk) }
      try sink.write([UInt8](repeating: 7, count: 3 << 20))
    }
    let bytes = try readFileBytes(path)
    XCTAssertEqual(bytes.count, 255 * 10_000 + (3 << 20))
    XCTAssertEqual(Array(bytes[255 * 9_999..<255 * 10_000]), chunk)
  }

  func testUnwritableFolderIsAnIOError() throws {
    // A regular file where a folder should be: the folder cannot be created.
    let folder = try makeTempFolder("atomic-unwritable")
    defer { removeFolder(folder) }
    try AtomicFile.write(to: folder + "/file", bytes: [0])
    let path = folder + "/file/sub/x.safetensors"
    assertFormatError([path, "cannot create the folder"], kind: .io) {
      try AtomicFile.write(to: path, bytes: [1])
    }
  }

  func testMissingFoldersAreCreated() throws {
    let folder = try makeTempFolder("atomic-mkdir")
    defer { removeFolder(folder) }
    try AtomicFile.write(to: folder + "/a/b/c.bin", bytes: [1, 2])
    XCTAssertEqual(try readFileBytes(folder + "/a/b/c.bin"), [1, 2])
  }
}

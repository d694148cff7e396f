// ConfigFilesTests: every YAML config the project ships passes the APTP schema; the pruning ones build a PruningConfig.
import Foundation
import XCTest

@testable import Formats
@testable import Pruning

final class ConfigFilesTests: XCTestCase {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("configs").path

  func yamlFiles() throws -> [String] {
    let all = try XCTUnwrap(FileManager.default.enumerator(atPath: root)).compactMap { $0 as? String }
    return all.filter { $0.hasSuffix(".yaml") }.sorted()
  }

  func testShippedConfigsValidateWithoutWarnings() throws {
    let files = try yamlFiles()
    for required in ["pruning/sd-2-1_cc3m.yaml", "pruning/sd-2-1_coco2014.yaml", "finetuning/sd-2-1_cc3m.yaml", "pruning/shapes.yaml"] {
      XCTAssertTrue(files.contains(required), required)
    }
    for file in files {
      let config = try ConfigLoader.load(root + "/" + file)
      let report = ConfigSchema.aptp.validate(config)
      XCTAssertEqual(report.issues, [], "\(file): \(report.description)")
    }
  }

  func testPruningConfigsBuildTheirSettings() throws {
    let cc3m = try PruningConfig(try ConfigLoader.load(root + "/pruning/sd-2-1_cc3m.yaml"), file: "sd-2-1_cc3m.yaml")
    XCTAssertEqual(cc3m.codes, 8)
    XCTAssertEqual(cc3m.depthOrder, [-1, -2, 0, 1, -3, -4, 2, 3, -5, -6, 4, 5, -7, 6])
    XCTAssertEqual(cc3m.pruningTarget, 0.6)
    let single = try PruningConfig(
      try ConfigLoader.load(root + "/baselines/pruning/sd-2-1_coco2014_single_arch.yaml"), file: "single_arch.yaml")
    XCTAssertTrue(single.singleArchitecture)
    XCTAssertFalse(single.optimalTransport)
    for file in try yamlFiles() where file.hasPrefix("pruning/") || file.hasPrefix("baselines/pruning/") {
      XCTAssertNoThrow(try PruningConfig(try ConfigLoader.load(root + "/" + file), file: file).validate(), file)
    }
  }
}

// StructureTests: the APTP gate layout of SD 2.1 and of the tiny gated UNet against the reference's get_structure.
import XCTest

@testable import Diffusion
@testable import Formats
@testable import Pruning

final class StructureTests: XCTestCase {
  func testSD21StructureIs1620WithSeventyGroupsAndFourteenDepthGates() throws {
    let config = try loadConfig(UNet2DConditionConfig.self, from: goldenFixtures + "/aptp_sd21_structure/config.json")
    let s = try GateStructure(config: config, ffGateWidth: 32)
    XCTAssertEqual(s.length, 1620)
    XCTAssertEqual(s.groupCount, 70)
    XCTAssertEqual(s.sumWidth, 1606)
    XCTAssertEqual(s.depthCount, 14)
    XCTAssertEqual(s.entries.count, 38)
    let golden = try goldenJSON("aptp_sd21_structure/structure.json")
    XCTAssertEqual(s.widthList, golden["width_list"]?.listValue?.compactMap(\.intValue))
    XCTAssertEqual(s.depthList, golden["depth_list"]?.listValue?.compactMap(\.intValue))
    let order = try XCTUnwrap(golden["depth_order_config"]?.listValue?.compactMap(\.intValue))
    XCTAssertEqual(try s.depthOrder(order), [13, 12, 0, 1, 11, 10, 2, 3, 9, 8, 4, 5, 7, 6])
    // Per-block width sums from aptp-reference §3.4.
    var perBlock: [String: Int] = [:]
    for e in s.entries { perBlock[e.module.split(separator: ".").prefix(e.module.hasPrefix("mid") ? 1 : 2).joined(separator: "."), default: 0] += e.widthSum }
    XCTAssertEqual(perBlock, [
      "down_blocks.0": 148, "down_blocks.1": 168, "down_blocks.2": 208, "down_blocks.3": 64, "mid_block": 136,
      "up_blocks.0": 96, "up_blocks.1": 312, "up_blocks.2": 252, "up_blocks.3": 222,
    ])
    let depthColumns = s.entries.compactMap(\.depthColumn)
    XCTAssertEqual(depthColumns, Array(1606..<1620))
  }

  func testTinyGatedUNetColumnsMatchTheReferenceGateMap() throws {
    let map = try goldenJSON("aptp_gates/gate_map_tinyunet.json")
    let unetConfig = try XCTUnwrap(map["unet_config"])
    var config = try ConfigValueDecoder().decode(UNet2DConditionConfig.self, from: unetConfig)
    config.downBlockTypes = config.downBlockTypes.map { $0.replacingOccurrences(of: "HalfGated", with: "") }
    config.upBlockTypes = config.upBlockTypes.map { $0.replacingOccurrences(of: "HalfGated", with: "") }
    let s = try GateStructure(config: config, ffGateWidth: try XCTUnwrap(unetConfig.mapValue?["ff_gate_width"]?.intValue))
    XCTAssertEqual(s.length, map["D"]?.intValue)
    var columns: [String: Int] = [:]
    for e in s.entries {
      if e.kind == .resnet {
        columns["\(e.module).gate"] = e.widthOffset
      } else {
        let prefix = "\(e.module).transformer_blocks.0"
        columns["\(prefix).attn1.gate"] = e.widthOffset
        columns["\(prefix).attn2.gate"] = e.widthOffset + e.widths[0]
        columns["\(prefix).ff.net.0.gate"] = e.widthOffset + e.widths[0] + e.widths[1]
      }
      if let d = e.depthColumn { columns["\(e.module).depth_gate"] = d }
    }
    for gate in try XCTUnwrap(map["gates"]?.listValue) {
      let name = try XCTUnwrap(gate.mapValue?["module"]?.stringValue)
      guard let want = gate.mapValue?["column"]?.intValue, name.hasSuffix("gate") && !name.contains("depth") else { continue }
      XCTAssertEqual(columns[name], want, name)
    }
  }

  func testBadStructuresAreNamed() throws {
    var config = try loadConfig(UNet2DConditionConfig.self, from: goldenFixtures + "/aptp_sd21_structure/config.json")
    XCTAssertThrowsError(try GateStructure(config: config, ffGateWidth: 7)) { XCTAssertTrue("\($0)".contains("ff_gate_width 7"), "\($0)") }
    let s = try GateStructure(config: config)
    XCTAssertThrowsError(try s.depthOrder([0, 1])) { XCTAssertTrue("\($0)".contains("14 depth gates"), "\($0)") }
    config.transformerLayersPerBlock = .one(2)
    XCTAssertThrowsError(try GateStructure(config: config))
  }
}

// ConfigTests: the JSON parser and writer, YAML load/save, dotted get/set, command-line overrides, and schema
// validation with "did you mean" suggestions (including the APTP config schema).
import Foundation
import XCTest

@testable import Formats

final class ConfigTests: XCTestCase {
  func testJSONParserKeepsOrderAndTypes() throws {
    let value = try JSONParser.parse(#" {"z": 1, "a": [true, null, 1.5, -2, 1e3, "\u00e9\ud83d\ude00\n"], "m": {}} "#)
    XCTAssertEqual(value.mapValue?.keys, ["z", "a", "m"])
    XCTAssertEqual(value["a"], [true, nil, 1.5, -2, .double(1000), "é😀\n"])
    XCTAssertEqual(value["z"], .int(1))
    XCTAssertEqual(try JSONParser.parse("[NaN, Infinity, -Infinity]")["1"], .double(.infinity))
    XCTAssertEqual(try JSONParser.parse("9223372036854775808"), .double(9223372036854775808))
  }

  func testJSONParserRejectsMalformedInput() {
    for (text, fragment) in [
      ("{\"a\" 1}", "expected ':'"), ("[1,]", "expected a value"), ("\"abc", "unterminated string"),
      ("01", "unexpected text after"), ("{\"a\":1}}", "unexpected text after"), ("\"\u{01}\"", "control character"),
      ("\"\\ud800\"", "unpaired UTF-16 surrogate"), ("tru", "unexpected character 't'"), ("", "unexpected end"),
    ] {
      assertFormatError(["x.json", "invalid JSON", fragment], kind: .json) { _ = try JSONParser.parse(text, file: "x.json") }
    }
    assertFormatError(["x.json", "key 'a.b'", "appears twice", "line 1"], kind: .duplicate) {
      _ = try JSONParser.parse(#"{"a": {"b": 1, "b": 2}}"#, file: "x.json")
    }
  }

  func testJSONWriterRoundTrips() throws {
    let value: ConfigValue = ["b": 1, "a": [1.0, 2.5e-7, "x\"y\\\u{1}"], "n": nil, "t": true, "e": [:], "l": []]
    for pretty in [true, false] {
      XCTAssertEqual(try JSONParser.parse(JSONWriter.render(value, pretty: pretty)), value)
    }
    XCTAssertEqual(JSONWriter.render(["a": 1.0, "b": [1, 2]], pretty: false), #"{"a":1.0,"b":[1,2]}"#)
  }

  func testDottedGetAndSet() throws {
    var config: ConfigValue = ["training": ["max_train_steps": 5000, "losses": ["block_loss": ["weight": 0.2]]]]
    XCTAssertEqual(config.value(at: "training.max_train_steps"), 5000)
    XCTAssertEqual(config.value(at: "training.losses.block_loss.weight"), 0.2)
    XCTAssertNil(config.value(at: "training.nope"))
    try config.setValue(200, at: "training.max_train_steps")
    try config.setValue("x", at: "data.new.deep")
    try config.setValue([1, 2, 3], at: "model.quantizer.depth_order")
    try config.setValue(9, at: "model.quantizer.depth_order.1")
    XCTAssertEqual(config.value(at: "training.max_train_steps"), 200)
    XCTAssertEqual(config.value(at: "data.new.deep"), "x")
    XCTAssertEqual(config.value(at: "model.quantizer.depth_order"), [1, 9, 3])
    XCTAssertEqual(config.mapValue?.keys, ["training", "data", "model"])
    assertFormatError(["key 'training.max_train_steps.x'", "cannot set 'x' inside a int value"]) {
      try config.setValue(1, at: "training.max_train_steps.x")
    }
    assertFormatError(["'7' is not an index of a list of 3 elements"]) {
      try config.setValue(1, at: "model.quantizer.depth_order.7")
    }
    XCTAssertEqual(config.removeValue(at: "data.new"), ["deep": "x"])
    XCTAssertEqual(ConfigPath.split(#"a.["b.c"].d"#), ["a", "b.c", "d"])
    XCTAssertEqual(ConfigPath.join(["a", "b.c"]), #"a.["b.c"]"#)
  }

  func testOverridesUseYAMLScalarRules() throws {
    let cases: [(String, ConfigValue)] = [
      ("200", 200), ("2e-4", .double(2e-4)), ("0.5", 0.5), ("true", true), ("False", false), ("null", nil),
      ("", nil), ("~", nil), ("[1,2]", [1, 2]), ("[a, 'b c']", ["a", "b c"]), ("{x: 1}", ["x": 1]),
      ("hello world", "hello world"), ("'42'", "42"), ("\"true\"", "true"), ("-1", -1), (".inf", .double(.infinity)),
      ("v_prediction", "v_prediction"), ("path/to/logs/", "path/to/logs/"), ("a: b: c", "a: b: c"),
    ]
    for (text, want) in cases {
      XCTAssertEqual(try ConfigLoader.parseScalar(text), want, text)
    }
    var config = try ConfigLoader.load(fixtures + "/configs/aptp_pruning.yaml")
    try ConfigLoader.applyOverrides(
      ["training.max_train_steps=200", "model.quantizer.depth_order=[0,1]", "data.prompts=[a red circle]",
       "training.optim.scale_lr=false", "training.new_key=1.5"], to: &config)
    XCTAssertEqual(config.value(at: "training.max_train_steps"), 200)
    XCTAssertEqual(config.value(at: "model.quantizer.depth_order"), [0, 1])
    XCTAssertEqual(config.value(at: "data.prompts"), ["a red circle"])
    XCTAssertEqual(config.value(at: "training.optim.scale_lr"), false)
    XCTAssertEqual(config.value(at: "training.new_key"), 1.5)
    assertFormatError(["<command line>", "must look like key.path=value"]) {
      try ConfigLoader.applyOverrides(["training.max_train_steps"], to: &config)
    }
    assertFormatError(["<command line>", "key 'training.max_train_steps.a'"]) {
      try ConfigLoader.applyOverrides(["training.max_train_steps.a=1"], to: &config)
    }
    XCTAssertEqual(try ConfigLoader.parseOverride("a.b=c=d").value, "c=d")
  }

  func testYAMLLoadAndSaveRoundTrip() throws {
    let config = try ConfigLoader.load(fixtures + "/configs/aptp_pruning.yaml")
    XCTAssertEqual(config.mapValue?.keys, ["model", "data", "training"])
    XCTAssertEqual(config.value(at: "training.optim.adam_epsilon"), .double(1e-8))
    XCTAssertEqual(config.value(at: "training.optim.hypernet_learning_rate"), .double(2e-4))
    XCTAssertEqual(config.value(at: "model.quantizer.quantizer_base"), 3)
    XCTAssertEqual(config.value(at: "model.quantizer.depth_order.6"), 2)
    XCTAssertEqual(config.value(at: "model.unet.revision"), nil as ConfigValue)
    let folder = try makeTempFolder("cfg")
    defer { removeFolder(folder) }
    for name in ["resolved.yaml", "resolved.json"] {
      try ConfigLoader.save(config, to: folder + "/" + name)
      XCTAssertEqual(try ConfigLoader.load(folder + "/" + name), config, name)
    }
    let tricky: ConfigValue = [
      "yes": "yes", "num": "12", "empty": "", "colon": "a: b", "hash": "x #y", "lead": " x", "date": "2014-01-01",
      "nested": [["a": 1, "b": [1, 2]], [], [[1], [2]]], "float": 1.0, "tiny": 1e-8, "big": 1e300, "neg": -0.5,
      "quote": "it's \"q\"", "multi": "line1\nline2", "unicode": "é😀", "null": "null", "tilde": "~",
      "list": ["-", "?", "a,b", "[x]"], "long": .list((0..<40).map { .int($0) }), "dot": ".5",
    ]
    let text = YAMLWriter.render(tricky)
    XCTAssertEqual(try ConfigLoader.parseYAML(text), tricky, text)
    XCTAssertTrue(text.contains("tiny: 1.0e-08"), text)
  }

  func testYAMLErrorsNameFileAndLine() {
    assertFormatError(["cfg.yaml", "invalid YAML", "line 2"], kind: .yaml) {
      _ = try ConfigLoader.parseYAML("a: [1, 2\nb: 3\n", file: "cfg.yaml")
    }
    assertFormatError(["cfg.yaml", "key 'a.b'", "appears twice"], kind: .duplicate) {
      _ = try ConfigLoader.parseYAML("a:\n  b: 1\n  b: 2\n", file: "cfg.yaml")
    }
    XCTAssertEqual(try ConfigLoader.parseYAML(""), .map(ConfigMap()))
    assertFormatError(["deep.yaml", "nesting deeper than 256 levels"], kind: .yaml) {
      _ = try ConfigLoader.parseYAML(String(repeating: "[", count: 100_000), file: "deep.yaml")
    }
    XCTAssertEqual(
      try ConfigLoader.parseYAML("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n").value(at: "derived"),
      ["y": 3, "x": 1])
  }

  func testAPTPConfigValidatesCleanly() throws {
    let config = try ConfigLoader.load(fixtures + "/configs/aptp_pruning.yaml")
    let report = ConfigSchema.aptp.validate(config)
    XCTAssertEqual(report.issues, [], report.description)
    XCTAssertTrue(ConfigSchema.aptp.knownPaths.contains("training.losses.contrastive_loss.arch_vector_temperature"))
    XCTAssertEqual(ConfigSchema.aptp.schema(at: "model.quantizer.depth_order")?.typeDescription, "list of int or null")
  }

  func testUnknownKeysWarnWithSuggestions() throws {
    var config = try ConfigLoader.load(fixtures + "/configs/aptp_pruning.yaml")
    try ConfigLoader.applyOverrides(
      ["training.max_trian_steps=10", "training.optim.lr_warmup=5", "data.resolution=512", "training.zzz=1",
       "model.quantizer.num_arch_vq_codebook_embedding=4"], to: &config)
    let report = ConfigSchema.aptp.validate(config)
    XCTAssertTrue(report.isValid)
    let byPath = Dictionary(uniqueKeysWithValues: report.warnings.map { ($0.path, $0.suggestion) })
    XCTAssertEqual(byPath["training.max_trian_steps"], "training.max_train_steps")
    XCTAssertEqual(byPath["training.optim.lr_warmup"], .some(nil), "too far from lr_warmup_steps for a typo")
    XCTAssertEqual(byPath["data.resolution"], "model.unet.resolution", "a known key in the wrong section")
    XCTAssertEqual(byPath["training.zzz"], .some(nil))
    XCTAssertEqual(byPath["model.quantizer.num_arch_vq_codebook_embedding"], "model.quantizer.num_arch_vq_codebook_embeddings")
    XCTAssertTrue(report.description.contains("warning: key 'training.max_trian_steps': unknown key (did you mean 'training.max_train_steps'?)"))
  }

  func testWrongTypesAreErrors() throws {
    var config = try ConfigLoader.load(fixtures + "/configs/aptp_pruning.yaml")
    try ConfigLoader.applyOverrides(
      ["training.max_train_steps=abc", "data.dataloader.random_flip=3", "model.quantizer.depth_order=[1, x]",
       "training.losses.resource_loss.type=lgo", "training.optim.unet_learning_rate=null", "model.unet=5"], to: &config)
    let report = ConfigSchema.aptp.validate(config)
    let messages = Dictionary(uniqueKeysWithValues: report.errors.map { ($0.path, $0) })
    XCTAssertEqual(messages["training.max_train_steps"]?.message, "expected int or null, found string \"abc\"")
    XCTAssertEqual(messages["data.dataloader.random_flip"]?.message, "expected bool, found int 3")
    XCTAssertEqual(messages["model.quantizer.depth_order.1"]?.message, "expected int, found string \"x\"")
    XCTAssertEqual(messages["training.losses.resource_loss.type"]?.suggestion, "log")
    XCTAssertEqual(messages["training.optim.unet_learning_rate"]?.message, "expected number, found null")
    XCTAssertEqual(messages["model.unet"]?.message, "expected map, found int 5")
    assertFormatError(["cfg.yaml", "key 'training.max_train_steps'", "expected int or null"], kind: .config) {
      try report.throwIfErrors(file: "cfg.yaml")
    }
  }

  func testEditDistance() {
    XCTAssertEqual(editDistance("kitten", "sitting"), 3)
    XCTAssertEqual(editDistance("max_trian_steps", "max_train_steps"), 1)
    XCTAssertEqual(editDistance("", "abc"), 3)
    XCTAssertNil(closest("xyz", among: ["resolution", "use_ema"]))
  }

  func testTypedDecodingFromYAML() throws {
    struct Optim: Decodable, Equatable {
      var lr: Double
      var betas: [Double]
      var name: String?
    }
    let value = try ConfigLoader.parseYAML("lr: 1e-4\nbetas: [0.9, 0.999]\n")
    XCTAssertEqual(try ConfigValueDecoder().decode(Optim.self, from: value), Optim(lr: 1e-4, betas: [0.9, 0.999], name: nil))
    assertFormatError(["opt.yaml", "key 'betas.1'", "expected a number"], kind: .config) {
      _ = try ConfigValueDecoder(file: "opt.yaml").decode(Optim.self, from: try ConfigLoader.parseYAML("lr: 1\nbetas: [1, x]"))
    }
    assertFormatError(["key 'lr'", "required key is missing"]) {
      _ = try ConfigValueDecoder().decode(Optim.self, from: ["betas": []])
    }
  }
}

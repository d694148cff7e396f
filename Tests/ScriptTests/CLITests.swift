// CLI tests: the `aptp` binary's modes (file with args, -e, piped REPL input, --version) and
// exit codes (0, 64 usage, 65 syntax, 70 runtime, 74 I/O); the regression example's final loss.

import Foundation
import XCTest

/// Runs the debug `aptp` binary; returns exit status, stdout and stderr.
func runAptp(_ args: [String], stdin: String? = nil) throws -> (Int32, String, String) {
  let binary = repoRoot.appendingPathComponent(".build/debug/aptp").path
  guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("\(binary) not built") }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: binary)
  p.arguments = args
  p.currentDirectoryURL = repoRoot
  let out = Pipe(), err = Pipe(), input = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = input
  try p.run()
  if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
  try input.fileHandleForWriting.close()
  let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

final class CLITests: XCTestCase {
  func temp(_ name: String, _ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "aptp-cli-\(ProcessInfo.processInfo.processIdentifier)-" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func testFileWithArguments() throws {
    let f = try temp("args.aptp", "print(args, len(args))\n")
    let (code, out, _) = try runAptp([f, "a", "--flag", "3"])
    XCTAssertEqual(code, 0)
    XCTAssertEqual(out, "[\"a\", \"--flag\", \"3\"] 3\n")
  }

  /// scripts/prune.aptp end to end with tiny settings (random teacher weights, 3 steps), then a resume.
  func testPruneScriptRunsAndResumes() throws {
    let dir = NSTemporaryDirectory() + "aptp-prune-script-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let argv = [
      "scripts/prune.aptp", "--config", "configs/pruning/shapes.yaml",
      "model.unet.pretrained_model_name_or_path=configs/teacher/unet.json", "training.max_train_steps=3",
      "training.hypernet_pretraining_steps=1", "data.dataloader.train_batch_size=2", "training.logging.logging_dir=\(dir)",
      "training.validation_steps=2", "training.image_logging_steps=3", "training.num_inference_steps=1", "data.max_generated_samples=2",
    ]
    let (code, out, err) = try runAptp(argv)
    XCTAssertEqual(code, 0, err)
    XCTAssertTrue(out.contains("3/3 main"), out)
    for file in ["config.yaml", "checkpoint.safetensors", "router.safetensors", "log.jsonl", "validation.jsonl", "samples/step_3/expert_0.png", "samples/step_3/expert_3.png"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
    }
    let again = try runAptp(argv + ["training.max_train_steps=4"])
    XCTAssertEqual(again.0, 0, again.2)
    XCTAssertTrue(again.1.contains("resumed at step 3"), again.1)
  }

  /// Ctrl-C (SIGINT) during scripts/prune.aptp saves a checkpoint, stops with exit code 130, and a
  /// rerun resumes from the saved step.
  func testInterruptedPruningSavesAndResumes() throws {
    let binary = repoRoot.appendingPathComponent(".build/debug/aptp").path
    guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("\(binary) not built") }
    let dir = NSTemporaryDirectory() + "aptp-prune-int-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let argv = [
      "scripts/prune.aptp", "--config", "configs/pruning/shapes.yaml", "model.unet.pretrained_model_name_or_path=configs/teacher/unet.json",
      "training.max_train_steps=500", "training.hypernet_pretraining_steps=1", "data.dataloader.train_batch_size=2",
      "training.logging.logging_dir=\(dir)", "training.image_logging_steps=0",
    ]
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = argv
    p.currentDirectoryURL = repoRoot
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Wait until a few steps are logged, then interrupt.
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let lines = (try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
      if lines >= 2 { break }
      Thread.sleep(forTimeInterval: 0.2)
    }
    kill(p.processIdentifier, SIGINT)
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 130, text)
    let saved = try XCTUnwrap(text.range(of: #"interrupted at step (\d+)"#, options: .regularExpression).map { String(text[$0]) }, text)
    let step = try XCTUnwrap(saved.split(separator: " ").last.flatMap { Int($0) })
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/checkpoint.safetensors"))
    let again = try runAptp(argv.map { $0.hasPrefix("training.max_train_steps=") ? "training.max_train_steps=\(step + 1)" : $0 })
    XCTAssertEqual(again.0, 0, again.2)
    XCTAssertTrue(again.1.contains("resumed at step \(step)"), again.1)
  }

  /// After pruning: filter -> fine-tune an expert -> generate through the router (one shard) ->
  /// compare, end to end with tiny settings (random teacher weights, a few steps each).
  func testFilterFinetuneGenerateAfterPruning() throws {
    let dir = NSTemporaryDirectory() + "aptp-experts-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let teacher = "model.unet.pretrained_model_name_or_path=configs/teacher/unet.json"
    let prune = try runAptp([
      "scripts/prune.aptp", "--config", "configs/pruning/shapes.yaml", teacher, "training.max_train_steps=2",
      "training.hypernet_pretraining_steps=1", "data.dataloader.train_batch_size=2", "training.logging.logging_dir=\(dir)",
    ])
    XCTAssertEqual(prune.0, 0, prune.2)
    let filter = try runAptp(["scripts/filter_dataset.aptp", "--run", dir, "--limit", "24"])
    XCTAssertEqual(filter.0, 0, filter.2)
    XCTAssertTrue(filter.1.contains("train: 24 prompts routed"), filter.1)
    for file in ["train_mapped_indices.safetensors", "train_assignment.json", "validation_assignment.json"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
    }
    // The expert with the most prompts is fine-tuned for 2 steps (checkpoint at 1), then resumed for a third.
    let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/train_assignment.json"))) as? [String: Any]
    let counts = try XCTUnwrap(summary?["counts"] as? [Double])
    let k = try XCTUnwrap(counts.indices.max { counts[$0] < counts[$1] })
    let tune = ["scripts/finetune.aptp", "--run", dir, "--expert", String(k), teacher, "data.dataloader.train_batch_size=2", "training.checkpointing_steps=1"]
    let first = try runAptp(tune + ["training.max_train_steps=2"])
    XCTAssertEqual(first.0, 0, first.2)
    XCTAssertTrue(first.1.contains("expert \(k): fine-tuning on \(Int(counts[k])) prompts"), first.1)
    let again = try runAptp(tune + ["training.max_train_steps=3"])
    XCTAssertEqual(again.0, 0, again.2)
    XCTAssertTrue(again.1.contains("expert \(k): resumed at step 2"), again.1)
    for file in ["unet/config.json", "unet/diffusion_pytorch_model.safetensors", "trainer.safetensors", "arch_vector.safetensors", "log.jsonl"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/experts/\(k)/\(file)"), file)
    }
    try Data(#"["a red circle", "two blue squares", "a green ring"]"#.utf8).write(to: URL(fileURLWithPath: dir + "/prompts.json"))
    let generate = try runAptp([
      "scripts/generate_images.aptp", "--run", dir, "--out", dir + "/images", "--shard", "0/2", "--prompts", dir + "/prompts.json",
      teacher, "training.num_inference_steps=2",
    ])
    XCTAssertEqual(generate.0, 0, generate.2)
    XCTAssertTrue(generate.1.contains("2 images in"), generate.1)
    let listing = try String(contentsOfFile: dir + "/images/images-0-of-2.jsonl", encoding: .utf8)
    XCTAssertEqual(listing.split(separator: "\n").count, 2, listing)
    XCTAssertTrue(listing.contains("\"prompt\":\"a green ring\""), listing)
    for name in ["0.png", "2.png"] { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/images/" + name), name) }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/images/1.png"))
    // The mixture-of-experts pipeline object: images in prompt order, one expert per prompt.
    let pipe = try runAptp(["-e", """
      import aptp
      import aptp.experts as ex
      let unet = diffusion.unet("configs/teacher/unet.json", seed: 0)
      let pipe = ex.pipeline(aptp.load_run("\(dir)"), unet, diffusion.scheduler("configs/teacher/scheduler_config.json"), text.encoder())
      let out = pipe.generate(["a red circle", "two blue squares"], steps: 1)
      print(out.images.shape, len(out.experts), out.experts == pipe.route(["a red circle", "two blue squares"]))
      """])
    XCTAssertEqual(pipe.0, 0, pipe.2)
    XCTAssertTrue(pipe.1.contains("[2, 3, 32, 32] 2 true"), pipe.1)
  }

  /// scripts/demo.aptp with the CI's tiny settings: prune, route, fine-tune, generate, evaluate, report.
  func testDemoRunsEndToEndWithQuickSettings() throws {
    let dir = NSTemporaryDirectory() + "aptp-demo-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (code, out, err) = try runAptp(["scripts/demo.aptp", "--out", dir, "--size", "quick"])
    XCTAssertEqual(code, 0, err + out)
    XCTAssertTrue(out.contains("| method | MACs | share of teacher | s/image | FID | CLIP score | CMMD |"), out)
    for method in ["| teacher |", "| APTP (K=4) |", "| single architecture |"] { XCTAssertTrue(out.contains(method), method) }
    for file in ["report/README.md", "report/metrics.json", "aptp/router.safetensors", "single/router.safetensors", "images/teacher/0.png"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
    }
    // The routing tour narrates the demo's router (no pauses: stdin is not a terminal).
    let tour = try runAptp(["scripts/tour_router.aptp", "--run", dir + "/aptp"])
    XCTAssertEqual(tour.0, 0, tour.2)
    for step in ["1. The prompt encoder", "5. In training, optimal transport", "iteration 3: expert load", "6. The chosen experts"] {
      XCTAssertTrue(tour.1.contains(step), step)
    }
  }

  /// scripts/ablate.aptp varies a key with a static baseline beside it (tiny settings), writes the
  /// table in three formats and the chart, and reuses finished stages on a second run.
  func testAblationRunnerWritesItsTableAndReusesStages() throws {
    let dir = NSTemporaryDirectory() + "aptp-ablate-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let argv = ["scripts/ablate.aptp", "--vary", "model.quantizer.num_arch_vq_codebook_embeddings=1,2", "--baselines", "uniform",
                "--out", dir, "--size", "quick"]
    let first = try runAptp(argv)
    XCTAssertEqual(first.0, 0, first.2 + first.1)
    for row in ["| num_arch_vq_codebook_embeddings=1 | 0 |", "| num_arch_vq_codebook_embeddings=2 | 0 |", "| uniform | 0 |"] {
      XCTAssertTrue(first.1.contains(row), row)
    }
    for file in ["results.md", "results.csv", "results.json", "fid_vs_macs.png"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
    }
    let again = try runAptp(argv)
    XCTAssertEqual(again.0, 0, again.2)
    XCTAssertTrue(again.1.contains("reusing \(dir)/images/num_arch_vq_codebook_embeddings=2/seed0"), again.1)
  }

  /// scripts/paper_table.aptp with tiny settings and two seeds: every method of the comparison gets
  /// a mean ± std row, and the verdict on the paper's claims is written.
  func testPaperTableListsEveryMethod() throws {
    let dir = NSTemporaryDirectory() + "aptp-paper-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (code, out, err) = try runAptp(["scripts/paper_table.aptp", "--size", "quick", "--seeds", "2", "--out", dir, "--doc", dir + "/results.md"])
    XCTAssertEqual(code, 0, err + out)
    let doc = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
    for method in ["teacher (unpruned)", "APTP K=4", "APTP K=8", "APTP K=4 without OT", "single architecture", "magnitude pruning",
                   "random pruning", "uniform pruning"] {
      XCTAssertTrue(doc.contains("| \(method) |"), method)
    }
    XCTAssertTrue(doc.contains("Produced by `aptp scripts/paper_table.aptp --size quick"), doc)
    XCTAssertTrue(doc.contains("2 seed(s), mean ± std"), doc)
    XCTAssertTrue(doc.contains("## Does the paper's ordering hold here?"), doc)
    XCTAssertTrue(doc.contains("- APTP K=4 vs magnitude pruning: better in"), doc)
    XCTAssertTrue(doc.contains("- Code collapse without optimal transport:"), doc)
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/seed1/aptp-k4/router.safetensors"), dir)
  }

  /// scripts/fid.aptp on two small folders (CLIP features of the tiny golden model), with a cached
  /// reference statistics file and an unreadable image that is skipped.
  func testFIDScriptReadsFoldersCachesAndSkipsBrokenImages() throws {
    let dir = NSTemporaryDirectory() + "aptp-fid-script-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let make = """
      let w = data.shapes(seed: 0, resolution: 32, train: 10, validation: 10)
      let a = w.batch("train", [0, 1, 2, 3, 4, 5])
      let b = w.batch("validation", [0, 1, 2, 3, 4, 5])
      for k in 0..6 {
        image.save("\(dir)/real/{k}.png", a.images[k] * 0.5 + 0.5)
        image.save("\(dir)/fake/{k}.png", b.images[k] * 0.5 + 0.5)
      }
      """
    XCTAssertEqual(try runAptp(["-e", make]).0, 0)
    try Data("not a png".utf8).write(to: URL(fileURLWithPath: dir + "/fake/broken.png"))
    let argv = ["scripts/fid.aptp", dir + "/real", dir + "/fake", "--net", "Tests/Fixtures/goldens/clip_tiny/model", "--cache", dir + "/real.safetensors", "--out", dir + "/fid.json"]
    let first = try runAptp(argv)
    XCTAssertEqual(first.0, 0, first.2)
    XCTAssertTrue(first.1.contains("skipped 1 unreadable"), first.1)
    XCTAssertTrue(first.1.contains("(6 real, 6 generated)"), first.1)
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/real.safetensors"))
    let second = try runAptp(argv)
    XCTAssertEqual(second.1.split(separator: "\n").last, first.1.split(separator: "\n").last)
    let cmmd = try runAptp(["scripts/cmmd.aptp", dir + "/real", dir + "/fake", "--clip", "Tests/Fixtures/goldens/clip_tiny/model"])
    XCTAssertEqual(cmmd.0, 0, cmmd.2)
    XCTAssertTrue(cmmd.1.contains("CMMD "), cmmd.1)
    try Data("[\"a\", \"b\"]".utf8).write(to: URL(fileURLWithPath: dir + "/caps.json"))
    let score = try runAptp(["scripts/clip_score.aptp", dir + "/real", dir + "/caps.json", "--clip", "Tests/Fixtures/goldens/clip_tiny/model"])
    XCTAssertNotEqual(score.0, 0)
    XCTAssertTrue(score.2.contains("6 images but 2 captions"), score.2)
    let empty = try runAptp(["scripts/fid.aptp", dir + "/nothing", dir + "/fake", "--net", "Tests/Fixtures/goldens/clip_tiny/model"])
    XCTAssertNotEqual(empty.0, 0)
    XCTAssertTrue(empty.2.contains("no such folder"), empty.2)
  }

  func testEvalAndExitCodes() throws {
    XCTAssertEqual(try runAptp(["-e", "print(1 + 1)"]).1, "2\n")
    let syntax = try runAptp(["-e", "let = 3"])
    XCTAssertEqual(syntax.0, 65)
    XCTAssertTrue(syntax.2.contains("<-e>:1:5: error: expected a name after 'let'"), syntax.2)
    let runtime = try runAptp(["-e", "error(\"boom\")"])
    XCTAssertEqual(runtime.0, 70)
    XCTAssertTrue(runtime.2.contains("error: boom"), runtime.2)
    XCTAssertEqual(try runAptp(["/nonexistent/file.aptp"]).0, 74)
    XCTAssertEqual(try runAptp(["--no-such-option"]).0, 64)
    XCTAssertTrue(try runAptp(["--version"]).1.hasPrefix("0."))
  }

  func testPipedInputRunsTheREPLWithoutATerminal() throws {
    let (code, out, _) = try runAptp([], stdin: "let x = 20\nx * 2 + 2\nfn f() {\n  return 1\n}\nf()\n")
    XCTAssertEqual(code, 0)
    XCTAssertEqual(out, "42\n1\n")
  }

  func testRegressionExampleFitsTheFunction() throws {
    let (code, out, err) = try runAptp(["scripts/examples/regression.aptp", "600"])
    XCTAssertEqual(code, 0, err)
    let last = out.split(separator: "\n").last.map(String.init) ?? ""
    let loss = Double(last.replacingOccurrences(of: "final loss ", with: "")) ?? .infinity
    XCTAssertLessThan(loss, 0.01, out)
  }
}

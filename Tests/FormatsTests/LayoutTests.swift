// LayoutTests: typed HuggingFace configs (real files and library defaults) and folder layout detection.
import Foundation
import XCTest

@testable import Formats

final class LayoutTests: XCTestCase {
  private let configs = fixtures + "/layouts/configs"

  func testUNetConfigFromDiffusersFile() throws {
    let unet = try loadConfig(UNet2DConditionConfig.self, from: configs + "/unet_sd2_tiny.json")
    XCTAssertEqual(unet.className, "UNet2DConditionModel")
    XCTAssertEqual(unet.attentionHeadDim, .many([2, 4, 4, 6]))
    XCTAssertTrue(unet.useLinearProjection)
    XCTAssertEqual(unet.headsPerBlock, [2, 4, 4, 6])
    XCTAssertNil(unet.numAttentionHeads)
    XCTAssertEqual(unet.midBlockType, "UNetMidBlock2DCrossAttn")
    XCTAssertEqual(unet.extra["_diffusers_version"], "0.42.1")
    let sd15 = try loadConfig(UNet2DConditionConfig.self, from: configs + "/unet_sd15_tiny.json")
    XCTAssertFalse(sd15.useLinearProjection)
  }

  func testUNetDefaultsMatchDiffusers() throws {
    let unet = try ConfigValueDecoder().decode(UNet2DConditionConfig.self, from: [:])
    XCTAssertEqual(unet, UNet2DConditionConfig())
    XCTAssertEqual(unet.blockOutChannels, [320, 640, 1280, 1280])
    XCTAssertEqual(unet.crossAttentionDim, .one(1280))
    XCTAssertEqual(unet.attentionHeadDim, .one(8))
    XCTAssertEqual(unet.headsPerBlock, [8, 8, 8, 8])
    XCTAssertEqual(unet.normNumGroups, 32)
    XCTAssertEqual(unet.normEps, 1e-5)
    XCTAssertEqual(unet.midBlockType, "UNetMidBlock2DCrossAttn")
    XCTAssertEqual(unet.layersPerBlock.perBlock(4), [2, 2, 2, 2])
    XCTAssertEqual(unet.transformerLayersPerBlock, .one(1))
    XCTAssertEqual(unet.additionEmbedTypeNumHeads, 64)
    // An explicit null is passed through, as diffusers passes None to the constructor.
    let noMid = try ConfigValueDecoder().decode(UNet2DConditionConfig.self, from: ["mid_block_type": nil, "norm_num_groups": nil])
    XCTAssertNil(noMid.midBlockType)
    XCTAssertNil(noMid.normNumGroups)
    assertFormatError(["unet.json", "key 'in_channels'", "expected an integer"], kind: .config) {
      _ = try ConfigValueDecoder(file: "unet.json").decode(UNet2DConditionConfig.self, from: ["in_channels": "four"])
    }
  }

  func testVAEAndSchedulerConfigs() throws {
    let vae = try loadConfig(AutoencoderKLConfig.self, from: configs + "/vae_tiny.json")
    XCTAssertEqual(vae.className, "AutoencoderKL")
    XCTAssertEqual(AutoencoderKLConfig().scalingFactor, 0.18215)
    XCTAssertEqual(AutoencoderKLConfig().blockOutChannels, [64])
    let ddim = try loadConfig(SchedulerConfig.self, from: configs + "/scheduler_ddim.json")
    XCTAssertEqual(ddim.className, "DDIMScheduler")
    XCTAssertEqual(ddim.betaSchedule, "scaled_linear")
    XCTAssertFalse(ddim.setAlphaToOne)
    XCTAssertEqual(ddim.stepsOffset, 1)
    let euler = try loadConfig(SchedulerConfig.self, from: configs + "/scheduler_euler.json")
    XCTAssertEqual(euler.className, "EulerDiscreteScheduler")
    XCTAssertEqual(euler.extra["timestep_type"], "discrete")
    let pndm = try loadConfig(SchedulerConfig.self, from: configs + "/scheduler_pndm.json")
    XCTAssertEqual(pndm.className, "PNDMScheduler")
    // Class-dependent defaults for missing keys.
    let decode = { (name: String) in try ConfigValueDecoder().decode(SchedulerConfig.self, from: ["_class_name": .string(name)]) }
    XCTAssertTrue(try decode("DDIMScheduler").setAlphaToOne)
    XCTAssertTrue(try decode("DDIMScheduler").clipSample)
    XCTAssertEqual(try decode("DDIMScheduler").timestepSpacing, "leading")
    XCTAssertEqual(try decode("EulerDiscreteScheduler").timestepSpacing, "linspace")
    XCTAssertFalse(try decode("PNDMScheduler").setAlphaToOne)
    XCTAssertFalse(try decode("PNDMScheduler").skipPrkSteps)
    XCTAssertEqual(try decode("DDPMScheduler").varianceType, "fixed_small")
    XCTAssertEqual(try decode("DDPMScheduler").betaEnd, 0.02)
  }

  func testTransformersConfigs() throws {
    let text = try loadConfig(CLIPTextConfig.self, from: configs + "/clip_text_gelu.json")
    XCTAssertEqual(text.hiddenAct, "gelu")
    let clip = try loadConfig(CLIPConfig.self, from: configs + "/clip_tiny.json")
    XCTAssertEqual(clip.textConfig.hiddenSize, 32)
    XCTAssertEqual(clip.textConfig.eosTokenId, 999)
    XCTAssertEqual(clip.visionConfig.patchSize, 8)
    XCTAssertEqual(clip.visionConfig.imageSize, 32)
    XCTAssertEqual(clip.logitScaleInitValue, 2.5)
    XCTAssertEqual(clip.architectures, ["CLIPModel"])
    let mpnet = try loadConfig(MPNetConfig.self, from: configs + "/mpnet_tiny.json")
    XCTAssertEqual(mpnet.maxPositionEmbeddings, 514)
    XCTAssertEqual(mpnet.extra["tie_word_embeddings"], true)
    // Library defaults.
    XCTAssertEqual(CLIPTextConfig().vocabSize, 49408)
    XCTAssertEqual(CLIPTextConfig().hiddenAct, "quick_gelu")
    XCTAssertEqual(CLIPTextConfig().maxPositionEmbeddings, 77)
    XCTAssertEqual(CLIPVisionConfig().patchSize, 32)
    XCTAssertEqual(CLIPConfig().logitScaleInitValue, 2.6592)
    XCTAssertEqual(MPNetConfig().maxPositionEmbeddings, 512)
    XCTAssertEqual(MPNetConfig().vocabSize, 30527)
    XCTAssertEqual(BertConfig().layerNormEps, 1e-12)
    XCTAssertEqual(BertConfig().typeVocabSize, 2)
    XCTAssertEqual(try ConfigValueDecoder().decode(BertConfig.self, from: [:]), BertConfig())
    XCTAssertEqual(try ConfigValueDecoder().decode(CLIPConfig.self, from: [:]), CLIPConfig())
  }

  func testSentenceTransformersConfigs() throws {
    let pooling = try ConfigValueDecoder().decode(PoolingConfig.self, from: ["word_embedding_dimension": 384])
    XCTAssertEqual(pooling.modes, ["mean"])
    let cls = try ConfigValueDecoder().decode(PoolingConfig.self, from: ["word_embedding_dimension": 8, "pooling_mode": "cls"])
    XCTAssertEqual(cls.modes, ["cls"])
    assertFormatError(["key 'word_embedding_dimension'", "required key is missing"]) {
      _ = try ConfigValueDecoder().decode(PoolingConfig.self, from: [:])
    }
    let bert = try ConfigValueDecoder().decode(SentenceBertConfig.self, from: ["max_seq_length": 256, "do_lower_case": false])
    XCTAssertEqual(bert.maxSeqLength, 256)
  }

  // MARK: - Folder detection

  private func write(_ path: String, _ text: String) throws {
    try FileManager.default.createDirectory(
      atPath: AtomicFile.splitPath(path).folder, withIntermediateDirectories: true)
    try AtomicFile.write(to: path, bytes: Array(text.utf8))
  }

  private func writeWeights(_ path: String, counts: [Int]) throws {
    try FileManager.default.createDirectory(
      atPath: AtomicFile.splitPath(path).folder, withIntermediateDirectories: true)
    let payloads = try counts.enumerated().map { i, n in
      try TensorPayload(name: "t\(i)", shape: [n], floats: [Float](repeating: 0.5, count: n))
    }
    try Safetensors.save(payloads, to: path)
  }

  func testDescribesDiffusersPipeline() throws {
    let root = try makeTempFolder("pipe")
    defer { removeFolder(root) }
    try write(root + "/model_index.json", String(decoding: try readFileBytes(configs + "/model_index.json"), as: UTF8.self))
    try write(root + "/unet/config.json", String(decoding: try readFileBytes(configs + "/unet_sd2_tiny.json"), as: UTF8.self))
    try writeWeights(root + "/unet/diffusion_pytorch_model.safetensors", counts: [100, 20])
    try write(root + "/vae/config.json", String(decoding: try readFileBytes(configs + "/vae_tiny.json"), as: UTF8.self))
    try writeWeights(root + "/vae/diffusion_pytorch_model.safetensors", counts: [30])
    try write(root + "/text_encoder/config.json", #"{"architectures": ["CLIPTextModel"], "hidden_size": 32}"#)
    try writeWeights(root + "/text_encoder/model.safetensors", counts: [7])
    try write(root + "/tokenizer/vocab.json", "{}")
    try write(root + "/tokenizer/merges.txt", "#version: 0.2\n")
    try write(root + "/tokenizer/tokenizer_config.json", #"{"tokenizer_class": "CLIPTokenizer"}"#)
    try write(root + "/scheduler/scheduler_config.json", #"{"_class_name": "DDIMScheduler"}"#)
    let d = try describeFolder(root)
    XCTAssertEqual(d.kind, .diffusersPipeline)
    XCTAssertEqual(d.className, "StableDiffusionPipeline")
    XCTAssertEqual(d.parameterCount, 157)
    XCTAssertEqual(d.components.map(\.name), ["scheduler", "text_encoder", "tokenizer", "unet", "vae"])
    let unet = d.components.first { $0.name == "unet" }?.folder
    XCTAssertEqual(unet?.kind, .diffusersModel)
    XCTAssertEqual(unet?.className, "UNet2DConditionModel")
    XCTAssertEqual(unet?.parameterCount, 120)
    XCTAssertEqual(d.components.first { $0.name == "tokenizer" }?.folder?.className, "CLIPTokenizer")
    XCTAssertEqual(d.components.first { $0.name == "text_encoder" }?.folder?.kind, .transformersModel)
    XCTAssertEqual(d.components.first { $0.name == "scheduler" }?.folder?.className, "DDIMScheduler")
    let text = d.description
    XCTAssertTrue(text.hasPrefix("diffusers pipeline StableDiffusionPipeline at \(root) (157 parameters)"), text)
    XCTAssertTrue(text.contains("  unet: diffusers model UNet2DConditionModel (120 parameters; diffusion_pytorch_model.safetensors)"), text)
    XCTAssertTrue(text.contains("  tokenizer: tokenizer CLIPTokenizer (merges.txt, tokenizer_config.json, vocab.json)"), text)
    // A component listed in model_index.json but missing on disk is reported, not fatal.
    removeFolder(root + "/vae")
    let partial = try describeFolder(root)
    XCTAssertEqual(partial.notes, ["vae/ is listed in model_index.json but missing"])
    XCTAssertTrue(partial.description.contains("  vae: diffusers AutoencoderKL"), partial.description)
  }

  func testDescribesSingleAndShardedModels() throws {
    let root = try makeTempFolder("models")
    defer { removeFolder(root) }
    try write(root + "/bert/config.json", #"{"architectures": ["BertModel"], "model_type": "bert"}"#)
    try writeWeights(root + "/bert/model.safetensors", counts: [5, 5])
    try write(root + "/bert/vocab.txt", "[PAD]\n")
    let bert = try describeFolder(root + "/bert")
    XCTAssertEqual(bert.kind, .transformersModel)
    XCTAssertEqual(bert.className, "BertModel")
    XCTAssertEqual(bert.parameterCount, 10)
    // A sharded diffusers model.
    let shards = fixtures + "/safetensors/sharded"
    try write(root + "/unet/config.json", #"{"_class_name": "UNet2DConditionModel"}"#)
    for name in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
      try FileManager.default.copyItem(atPath: shards + "/" + name, toPath: root + "/unet/" + name)
    }
    try FileManager.default.copyItem(
      atPath: shards + "/model.safetensors.index.json",
      toPath: root + "/unet/diffusion_pytorch_model.safetensors.index.json")
    let unet = try describeFolder(root + "/unet")
    XCTAssertEqual(unet.kind, .diffusersModel)
    XCTAssertEqual(unet.parameterCount, 33)
    XCTAssertEqual(unet.weightFiles.count, 3)
    // Pickled weights only.
    try write(root + "/old/config.json", #"{"architectures": ["BertModel"]}"#)
    try write(root + "/old/pytorch_model.bin", "pickle")
    XCTAssertEqual(try describeFolder(root + "/old").notes.first?.contains("pickled PyTorch weights"), true)
    // A single file.
    let file = try describeFolder(root + "/bert/model.safetensors")
    XCTAssertEqual(file.kind, .safetensorsFile)
    XCTAssertEqual(file.parameterCount, 10)
  }

  func testDescribesSentenceTransformerAndTokenizer() throws {
    let root = try makeTempFolder("st")
    defer { removeFolder(root) }
    try write(root + "/modules.json", """
      [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
       {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
       {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
      """)
    try write(root + "/1_Pooling/config.json", #"{"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true}"#)
    try FileManager.default.createDirectory(atPath: root + "/2_Normalize", withIntermediateDirectories: true)
    try write(root + "/sentence_bert_config.json", #"{"max_seq_length": 256, "do_lower_case": false}"#)
    try write(root + "/config.json", #"{"architectures": ["BertModel"]}"#)
    try writeWeights(root + "/model.safetensors", counts: [12])
    try write(root + "/vocab.txt", "[PAD]\n")
    let d = try describeFolder(root)
    XCTAssertEqual(d.kind, .sentenceTransformers)
    XCTAssertEqual(d.parameterCount, 12)
    XCTAssertEqual(d.components.map(\.library), ["Transformer", "Pooling", "Normalize"])
    XCTAssertEqual(d.components[0].folder?.className, "BertModel")
    XCTAssertTrue(d.description.contains("1: Pooling(mean, dim 384)"), d.description)

    let tok = root + "/tok"
    try write(tok + "/vocab.txt", "a\n")
    try write(tok + "/tokenizer_config.json", #"{"tokenizer_class": "BertTokenizer"}"#)
    let t = try describeFolder(tok)
    XCTAssertEqual(t.kind, .tokenizer)
    XCTAssertEqual(t.className, "BertTokenizer")
    try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
    XCTAssertEqual(try describeFolder(root + "/empty").kind, .unknown)
    assertFormatError([root + "/nope", "no such file or folder"], kind: .io) { _ = try describeFolder(root + "/nope") }
    try write(root + "/bad/config.json", "{oops")
    assertFormatError([root + "/bad/config.json", "invalid JSON"], kind: .json) { _ = try describeFolder(root + "/bad") }
  }

  func testDescribesGoldenPipelineWhenPresent() throws {
    let path = goldens + "/sd_pipeline_tiny/pipeline"
    guard isDirectory(path) else { throw XCTSkip("shared goldens not present at \(goldens)") }
    let d = try describeFolder(path)
    XCTAssertEqual(d.kind, .diffusersPipeline)
    XCTAssertEqual(d.notes, [])
    XCTAssertGreaterThan(d.parameterCount ?? 0, 0)
    XCTAssertEqual(d.components.compactMap(\.folder).count, 5)
  }

  func testFormatCount() {
    XCTAssertEqual(formatCount(999), "999")
    XCTAssertEqual(formatCount(1_234_567), "1,234,567 (1.23M)")
    XCTAssertEqual(formatCount(865_910_724), "865,910,724 (865.91M)")
  }
}

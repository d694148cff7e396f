// PruningConfigLoading: a PruningConfig from the reference's YAML layout (configs/pruning/*.yaml), key by dotted key.

import Formats

extension PruningConfig {
  /// Reads the keys of the reference's pruning YAML (`model.quantizer.*`, `model.hypernet.*`,
  /// `model.unet.ff_gate_width`, `training.losses.*`, `training.optim.*`, `training.*steps`);
  /// absent keys keep the defaults, wrong types are named with their dotted key.
  public init(_ tree: ConfigValue, file: String = "<config>") throws {
    self.init()
    let reader = KeyReader(tree: tree, file: file)
    codes = try reader.int("model.quantizer.num_arch_vq_codebook_embeddings", codes)
    temperature = try reader.float("model.quantizer.quantizer_T", temperature)
    base = try reader.float("model.quantizer.quantizer_base", base)
    if let order = tree.value(at: "model.quantizer.depth_order") {
      depthOrder = order.isNull ? nil : try reader.ints("model.quantizer.depth_order", order)
    }
    nonZeroWidth = try reader.bool("model.quantizer.non_zero_width", nonZeroWidth)
    optimalTransport = try reader.bool("model.quantizer.optimal_transport", optimalTransport)
    sinkhornEpsilon = try reader.float("model.quantizer.sinkhorn_epsilon", sinkhornEpsilon)
    sinkhornIterations = try reader.int("model.quantizer.sinkhorn_iterations", sinkhornIterations)
    singleArchitecture = try reader.bool("model.hypernet.single_arch_param", singleArchitecture)
    ffGateWidth = try reader.int("model.unet.ff_gate_width", ffGateWidth)
    pruningTarget = try reader.double("training.losses.resource_loss.pruning_target", pruningTarget)
    resourceLoss = try ResourceLoss(name: try reader.string("training.losses.resource_loss.type", resourceLoss.rawValue))
    weights.resource = try reader.float("training.losses.resource_loss.weight", weights.resource)
    weights.contrastive = try reader.float("training.losses.contrastive_loss.weight", weights.contrastive)
    weights.distillation = try reader.float("training.losses.distillation_loss.weight", weights.distillation)
    weights.block = try reader.float("training.losses.block_loss.weight", weights.block)
    weights.std = try reader.float("training.losses.std_loss.weight", weights.std)
    weights.max = try reader.float("training.losses.max_loss.weight", weights.max)
    if let gamma = tree.value(at: "training.losses.diffusion_loss.snr_gamma") {
      snrGamma = gamma.isNull ? nil : try reader.float("training.losses.diffusion_loss.snr_gamma", 5)
    }
    contrastiveTau = (
      try reader.float("training.losses.contrastive_loss.arch_vector_temperature", contrastiveTau.architecture),
      try reader.float("training.losses.contrastive_loss.prompt_embedding_temperature", contrastiveTau.prompt)
    )
    hypernetLearningRate = try reader.float("training.optim.hypernet_learning_rate", hypernetLearningRate)
    quantizerLearningRate = try reader.float("training.optim.quantizer_learning_rate", quantizerLearningRate)
    scaleLearningRate = try reader.bool("training.optim.scale_lr", scaleLearningRate)
    warmupSteps = try reader.int("training.optim.lr_warmup_steps", warmupSteps)
    maxSteps = try reader.int("training.max_train_steps", maxSteps)
    pretrainSteps = try reader.int("training.hypernet_pretraining_steps", pretrainSteps)
    checkpointEvery = try reader.int("training.checkpointing_steps", checkpointEvery)
    seed = UInt64(max(0, try reader.int("training.seed", Int(seed))))
    try validate()
  }
}

/// Typed lookups of dotted keys whose errors name the file and key.
struct KeyReader {
  let tree: ConfigValue
  let file: String

  func fail(_ key: String, _ expected: String, _ v: ConfigValue) -> PruningError {
    PruningError(file: file, "key '\(key)': expected \(expected), found \(v.typeName)")
  }

  func int(_ key: String, _ d: Int) throws -> Int {
    guard let v = tree.value(at: key), !v.isNull else { return d }
    guard let i = v.intValue else { throw fail(key, "an integer", v) }
    return i
  }

  func double(_ key: String, _ d: Double) throws -> Double {
    guard let v = tree.value(at: key), !v.isNull else { return d }
    guard let x = v.doubleValue else { throw fail(key, "a number", v) }
    return x
  }

  func float(_ key: String, _ d: Float) throws -> Float { Float(try double(key, Double(d))) }

  func bool(_ key: String, _ d: Bool) throws -> Bool {
    guard let v = tree.value(at: key), !v.isNull else { return d }
    guard let b = v.boolValue else { throw fail(key, "true or false", v) }
    return b
  }

  func string(_ key: String, _ d: String) throws -> String {
    guard let v = tree.value(at: key), !v.isNull else { return d }
    guard let s = v.stringValue else { throw fail(key, "a string", v) }
    return s
  }

  func ints(_ key: String, _ v: ConfigValue) throws -> [Int] {
    guard let list = v.listValue else { throw fail(key, "a list of integers", v) }
    return try list.map { item in
      guard let i = item.intValue else { throw fail(key, "a list of integers", v) }
      return i
    }
  }
}

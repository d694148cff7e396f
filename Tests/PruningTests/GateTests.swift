// GateTests: width, head, feed-forward and depth gates against the reference's gated blocks (aptp_gates).
import XCTest

@testable import Diffusion
@testable import Formats
@testable import NN
@testable import Pruning
@testable import TensorCore

final class GateTests: XCTestCase {
  func testElementwiseGatesAndCFGTiling() throws {
    let resnet = try goldenTensors("aptp_gates/width_gate_resnet.safetensors")
    for kind in ["soft", "hard"] {
      let x = try resnet.golden("x")
      let mask = try GateOps.expand(try resnet.golden("gate_\(kind)"), channels: 16, batch: 2)
      assertClose(try x * mask.reshape([2, 16, 1, 1]), try resnet.golden("y_\(kind)"), relative: 1e-6, "resnet width gate \(kind)")
    }
    let cfgMask = try GateOps.expand(try resnet.golden("gate_soft"), channels: 16, batch: 4)
    assertClose(try resnet.golden("x_cfg") * cfgMask.reshape([4, 16, 1, 1]), try resnet.golden("y_cfg_soft"), relative: 1e-6, "cfg tiling")
    let ff = try goldenTensors("aptp_gates/linear_width_gate_ff.safetensors")
    let ffMask = try GateOps.expand(try ff.golden("gate_soft"), channels: 32, batch: 4).unsqueeze(1)
    assertClose(try ff.golden("x_cfg") * ffMask, try ff.golden("y_cfg_soft"), relative: 1e-6, "ff gate cfg")
    let depth = try goldenTensors("aptp_gates/depth_gate.safetensors")
    for kind in ["soft", "hard"] {
      let y = try GateOps.mix(try depth.golden("block_input"), try depth.golden("block_output"), depth: try depth.golden("gate_\(kind)"))
      assertClose(y, try depth.golden("y_\(kind)"), relative: 1e-6, "depth gate \(kind)")
    }
  }

  func testGatedResnetMatchesReference() throws {
    let io = try goldenTensors("aptp_gates/resnet_block_width_depth_gated.safetensors")
    let block = try ResnetBlock2D(inChannels: 16, outChannels: 16, timeChannels: 8, groups: 4, eps: 1e-6, generator: Generator(seed: 0))
    try block.load(from: try SafetensorsCheckpoint.open(goldenFixtures + "/aptp_gates/resnet_block_width_depth_gated_weights.safetensors"))
    for kind in ["soft", "hard"] {
      let x = try io.golden("x")
      let out = try block.forward(x, temb: try io.golden("temb"), widthGate: try io.golden("width_gate_\(kind)"))
      let y = try GateOps.mix(x, out, depth: try io.golden("depth_gate_\(kind)"))
      assertClose(y, try io.golden("y_\(kind)"), "gated resnet \(kind)")
    }
  }

  func testGatedCrossAttentionMatchesReference() throws {
    let io = try goldenTensors("aptp_gates/gated_cross_attention.safetensors")
    let attention = try CrossAttention(queryDim: 16, contextDim: 12, heads: 2, headDim: 8, generator: Generator(seed: 0))
    try attention.load(from: try SafetensorsCheckpoint.open(goldenFixtures + "/aptp_gates/gated_cross_attention_weights.safetensors"))
    let x = try io.golden("hidden_states"), context = try io.golden("encoder_hidden_states")
    for kind in ["soft", "hard"] {
      let y = try GradMode.noGrad { try attention.forward(x, context: context, headGate: try io.golden("gate_\(kind)")) }
      assertClose(y, try io.golden("y_\(kind)"), "gated attention \(kind)")
    }
    assertClose(try attention.forward(x, context: context), try io.golden("y_all_ones"), "ungated attention")
  }

  func testGatedGEGLUMatchesReference() throws {
    let io = try goldenTensors("aptp_gates/geglu_gated.safetensors")
    let weights = try goldenTensors("aptp_gates/geglu_gated_weights.safetensors")
    let ff = try GEGLUFeedForward(dim: 8, inner: 16, generator: Generator(seed: 0))
    try ff.proj.weight.assign(try weights.golden("proj.weight"))
    try ff.proj.bias?.assign(try weights.golden("proj.bias"))
    for kind in ["soft", "hard"] {
      let y = try GradMode.noGrad { try ff.activations(try io.golden("x"), gate: try io.golden("gate_\(kind)")) }
      assertClose(y, try io.golden("y_\(kind)"), "gated GEGLU \(kind)")
    }
  }

  /// An all-ones architecture vector gives exactly the unpruned output; gradients reach the vector.
  func testAllOnesVectorIsTheUnprunedUNetAndGradientsReachTheVector() throws {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd2_tiny/model")
    let structure = try GateStructure(unet: unet, ffGateWidth: 16)
    let g = Generator(seed: 4)
    let x = Tensor.randn([2, 4, 16, 16], generator: g), context = Tensor.randn([2, 7, 32], generator: g)
    let plain = try GradMode.noGrad { try unet.forward(x, timesteps: [10, 500], context: context).sample }
    let ones = Tensor(shape: [2, structure.length])
    try ones.fill(1)
    let gated = try GradMode.noGrad {
      try unet.forward(x, timesteps: [10, 500], context: context, gates: try structure.gates(ones, for: unet)).sample
    }
    XCTAssertEqual(gated.toArray(), plain.toArray())
    for p in unet.parameters() { p.requiresGrad = false }
    let vector = Tensor.rand([1, structure.length], generator: g)
    vector.requiresGrad = true
    // Classifier-free-guidance batch: two samples share one vector.
    let out = try unet.forward(x, timesteps: [10, 500], context: context, gates: try structure.gates(vector, for: unet)).sample
    try out.pow(2).sum().backward()
    let grad = try XCTUnwrap(vector.grad).toArray()
    XCTAssertGreaterThan(grad.filter { $0 != 0 }.count, structure.length / 2)
    XCTAssertThrowsError(try structure.gates(Tensor(shape: [1, 5]), for: unet)) { XCTAssertTrue("\($0)".contains("[batch, \(structure.length)]"), "\($0)") }
  }
}

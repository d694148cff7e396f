// SchedulerTests: DDIM, DDPM, PNDM and Euler against diffusers on the Stable Diffusion schedule (every golden case).
import XCTest

@testable import Diffusion
@testable import Formats
@testable import TensorCore

final class SchedulerTests: XCTestCase {
  let cases = ["ddim_epsilon", "ddim_v_prediction", "ddpm_epsilon", "ddpm_v_prediction", "euler_epsilon", "euler_v_prediction", "pndm_epsilon", "pndm_v_prediction"]

  func load(_ name: String) throws -> (NoiseSchedule, [String: Tensor]) {
    (try Schedulers.load(goldenFixtures + "/schedulers/\(name)"), try goldenTensors("schedulers/\(name)/io.safetensors"))
  }

  func testScheduleTensorsAndTimesteps() throws {
    for name in cases {
      let (s, io) = try load(name)
      for (key, got) in [("betas", s.betas), ("alphas", s.alphas), ("alphas_cumprod", s.alphasCumprod)] {
        let want = try io.golden(key).toArray()
        let diff = zip(got, want).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThanOrEqual(diff, 1e-6, "\(name) \(key)")
      }
      try s.setTimesteps(Int(try io.golden("timesteps").shape[0]) - (name.hasPrefix("pndm") ? 1 : 0))
      XCTAssertEqual(s.timesteps, try io.golden("timesteps").toArray(), "\(name) timesteps")
    }
  }

  func testSingleStepsAddNoiseAndVelocity() throws {
    for name in cases where name.hasPrefix("ddim") || name.hasPrefix("ddpm") {
      let (s, io) = try load(name)
      if name.hasPrefix("ddpm") {
        for k in 0..<3 { try checkStep(s, io, "train\(k)", name) }
      }
      try s.setTimesteps(50)
      for k in 0..<3 { try checkStep(s, io, "step\(k)", name) }
      let t = try io.golden("add_noise.timesteps").toArray()
      let original = try io.golden("add_noise.original"), noise = try io.golden("add_noise.noise")
      assertClose(try s.addNoise(original, noise: noise, timesteps: t), try io.golden("add_noise.noisy"), relative: 1e-5, "\(name) add_noise")
      assertClose(try s.velocity(original, noise: noise, timesteps: t), try io.golden("get_velocity.velocity"), relative: 1e-5, "\(name) velocity")
    }
  }

  func checkStep(_ s: NoiseSchedule, _ io: [String: Tensor], _ prefix: String, _ name: String) throws {
    let t = try io.golden("\(prefix).timestep").toArray()[0]
    let noise = io["\(prefix).variance_noise"]
    let out = try s.step(try io.golden("\(prefix).model_output"), timestep: t, sample: try io.golden("\(prefix).sample"), noise: noise)
    assertClose(out.prevSample, try io.golden("\(prefix).prev_sample"), relative: 1e-5, "\(name) \(prefix) prev_sample")
    if let x0 = out.predOriginal {
      assertClose(x0, try io.golden("\(prefix).pred_original_sample"), relative: 1e-5, "\(name) \(prefix) pred_original_sample")
    }
    if let ddpm = s as? DDPMScheduler, let want = io["\(prefix).variance"] {
      let v = try ddpm.variance(t), w = try want.item()
      XCTAssertEqual(v, w, accuracy: max(abs(w) * 1e-5, 1e-12), "\(name) \(prefix) variance")
    }
  }

  func testMultiStepChains() throws {
    for name in cases where name.hasPrefix("euler") || name.hasPrefix("pndm") {
      let (s, io) = try load(name)
      try s.setTimesteps(10)
      if let euler = s as? EulerDiscreteScheduler {
        XCTAssertEqual(euler.sigmas.count, 11)
        let want = try io.golden("sigmas").toArray()
        XCTAssertLessThanOrEqual(zip(euler.sigmas, want).map { abs($0 - $1) }.max() ?? 1, 1e-5, "\(name) sigmas")
        XCTAssertEqual(euler.initNoiseSigma, try io.golden("init_noise_sigma").item(), accuracy: 1e-4)
      }
      var x = try io.golden("in.sample")
      let outputs = try io.golden("in.model_outputs")
      for k in 0..<4 {
        let t = s.timesteps[k]
        if s is EulerDiscreteScheduler {
          assertClose(try s.scaleModelInput(x, timestep: t), try io.golden("out.scaled_model_inputs").narrow(0, start: k, length: 1).squeeze(0), relative: 2e-5, "\(name) scaled input \(k)")
        }
        let step = try s.step(try outputs.narrow(0, start: k, length: 1).squeeze(0), timestep: t, sample: x)
        x = step.prevSample
        assertClose(x, try io.golden("out.prev_samples").narrow(0, start: k, length: 1).squeeze(0), relative: 2e-5, "\(name) prev sample \(k)")
        if let x0 = step.predOriginal, let want = io["out.pred_original_samples"] {
          assertClose(x0, try want.narrow(0, start: k, length: 1).squeeze(0), relative: 2e-5, "\(name) x0 \(k)")
        }
      }
    }
  }

  func testBadSchedulerConfigsAndTimestepsAreNamed() throws {
    var c = SchedulerConfig()
    c.className = "LMSDiscreteScheduler"
    XCTAssertThrowsError(try Schedulers.make(c)) { XCTAssertTrue("\($0)".contains("LMSDiscreteScheduler"), "\($0)") }
    c.className = "DDIMScheduler"
    c.betaSchedule = "sigmoid"
    XCTAssertThrowsError(try Schedulers.make(c)) { XCTAssertTrue("\($0)".contains("sigmoid"), "\($0)") }
    let s = try DDPMScheduler(SchedulerConfig())
    XCTAssertThrowsError(try s.addNoise(Tensor(shape: [1, 2]), noise: Tensor(shape: [1, 2]), timesteps: [1000])) {
      XCTAssertTrue("\($0)".contains("0..<1000"), "\($0)")
    }
    XCTAssertThrowsError(try s.setTimesteps(0))
    XCTAssertEqual(try s.snr([0]).count, 1)
  }
}

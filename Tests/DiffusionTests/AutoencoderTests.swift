// AutoencoderTests: AutoencoderKL encode (mean/logvar/std) and decode against the diffusers golden.
import XCTest

@testable import Diffusion
@testable import NN
@testable import TensorCore

final class AutoencoderTests: XCTestCase {
  func testVAETinyMatchesDiffusers() throws {
    let vae = try AutoencoderKL.load(folder: goldenFixtures + "/vae_tiny/model")
    let io = try goldenTensors("vae_tiny/io.safetensors")
    try GradMode.noGrad {
      let posterior = try vae.encode(try io.golden("in.x"))
      assertClose(posterior.mean, try io.golden("out.latent_mean"), "latent mean")
      assertClose(posterior.logvar, try io.golden("out.latent_logvar"), "latent logvar")
      assertClose(try posterior.std, try io.golden("out.latent_std"), "latent std")
      assertClose(try vae.decode(try io.golden("in.z")), try io.golden("out.decoded"), "decoded")
      let sample = try posterior.sample(generator: Generator(seed: 3))
      XCTAssertEqual(sample.shape, [2, 4, 16, 16])
    }
    XCTAssertEqual(vae.scalingFactor, 0.18215)
    XCTAssertThrowsError(try vae.encode(Tensor(shape: [1, 3, 31, 32]))) { XCTAssertTrue("\($0)".contains("not divisible"), "\($0)") }
    XCTAssertThrowsError(try vae.decode(Tensor(shape: [1, 3, 8, 8]))) { XCTAssertTrue("\($0)".contains("latents must be"), "\($0)") }
  }
}

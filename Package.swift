// swift-tools-version:6.0
// The aptp package: layered targets as in DESIGN.md §1 (C shims -> TensorCore -> NN -> ... -> aptp).
import PackageDescription

/// Kernels are compiled for AVX2/FMA: every machine this project targets (Zen 3) has them.
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]

let package = Package(
  name: "aptp",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "aptp", targets: ["aptp"]),
    .library(name: "TensorCore", targets: ["TensorCore"]),
    .library(name: "NN", targets: ["NN"]),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CLibEdit", pkgConfig: "libedit",
      providers: [.apt(["libedit-dev"])]),
    .systemLibrary(
      name: "CPNG", pkgConfig: "libpng",
      providers: [.apt(["libpng-dev"])]),
    .systemLibrary(
      name: "CJPEG", pkgConfig: "libjpeg",
      providers: [.apt(["libjpeg62-turbo-dev"])]),
    .target(name: "TensorCore", dependencies: ["COpenBLAS"], swiftSettings: kernelFlags),
    .target(name: "NN", dependencies: ["TensorCore"]),
    .executableTarget(name: "aptp", dependencies: ["TensorCore", "NN"]),
    .executableTarget(name: "aptp-bench", dependencies: ["TensorCore"], swiftSettings: kernelFlags),
    .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore"]),
  ],
  swiftLanguageModes: [.v6]
)

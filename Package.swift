// swift-tools-version:6.0
// The aptp package: layered targets as in DESIGN.md §1 (C shims -> TensorCore -> NN -> ... -> aptp).
import PackageDescription

/// Kernels are compiled for AVX2/FMA, which every machine this project targets has.
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]

/// The interpreter's hot loop: no dynamic exclusivity checks (its state is confined to the
/// evaluation thread) and no overflow traps in release builds.
let interpreterFlags: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
  name: "aptp",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "aptp", targets: ["aptp"]),
    .library(name: "TensorCore", targets: ["TensorCore"]),
    .library(name: "NN", targets: ["NN"]),
  ],
  dependencies: [
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
    .systemLibrary(name: "CSystem"),
    // Optimised in debug builds too: the tests run the attention and GEMM kernels on real sizes.
    .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
    .target(name: "Formats", dependencies: ["CPNG", "CJPEG", .product(name: "Yams", package: "Yams")]),
    .target(name: "TensorCore", dependencies: ["COpenBLAS", "CSystem", "CKernels"], swiftSettings: kernelFlags),
    .target(name: "NN", dependencies: ["TensorCore", "Formats"]),
    .target(name: "Text", dependencies: ["TensorCore", "NN", "Formats"]),
    .target(name: "Diffusion", dependencies: ["TensorCore", "NN", "Formats", "Text"]),
    .target(name: "Pruning", dependencies: ["TensorCore", "NN", "Formats", "Text", "Diffusion"]),
    .target(name: "Datasets", dependencies: ["TensorCore", "Formats"]),
    .target(name: "Metrics", dependencies: ["COpenBLAS", "TensorCore", "NN", "Formats", "Text"]),
    .target(name: "Script", swiftSettings: interpreterFlags),
    .target(name: "Bindings", dependencies: ["Script", "TensorCore", "NN", "Formats", "Text", "Diffusion", "Pruning", "Datasets", "Metrics"]),
    .target(name: "REPL", dependencies: ["Script", "Bindings", "CLibEdit", "TensorCore"]),
    .executableTarget(
      name: "aptp",
      dependencies: ["REPL", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .executableTarget(name: "aptp-bench", dependencies: ["TensorCore", "COpenBLAS", "Formats", "Text", "NN", "Diffusion", "Metrics", "Pruning"], swiftSettings: kernelFlags),
    .testTarget(name: "FormatsTests", dependencies: ["Formats"]),
    .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "CKernels"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore"]),
    .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "Text", "NN", "TensorCore", "Formats"]),
    .testTarget(name: "PruningTests", dependencies: ["Pruning", "Diffusion", "NN", "TensorCore", "Formats"]),
    .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Formats", "NN", "TensorCore", "Text"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Formats", "TensorCore"]),
    .testTarget(name: "TextTests", dependencies: ["Text", "NN", "TensorCore", "Formats"]),
    .testTarget(name: "ScriptTests", dependencies: ["Script", "Bindings", "REPL"], exclude: ["cases"]),
    .testTarget(name: "REPLTests", dependencies: ["REPL", "Script", "Bindings"], exclude: ["transcripts"]),
  ],
  swiftLanguageModes: [.v6]
)

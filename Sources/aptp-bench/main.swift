// aptp-bench: kernel benchmarks against raw sgemm and PyTorch.
import TensorCore

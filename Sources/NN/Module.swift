// Module: the protocol every layer implements (named parameters, train/eval, state loading).
import TensorCore

// aptp: entry point. For now a short engine demo; the language, REPL and pruning demo arrive with later issues.

import NN
import TensorCore

print("aptp engine demo")

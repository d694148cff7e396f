"""Peer for aptp-bench's sentence-encoder case: the same prompts through sentence-transformers.

Reads {"folder", "prompts"} from the JSON file given as argv[1]; prints {"name", "seconds": median of 3}.
Threads follow APTP_NUM_THREADS so both sides use the same cores.
"""
import json
import os
import statistics
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

spec = json.load(open(sys.argv[1]))
torch.set_num_threads(int(os.environ.get("APTP_NUM_THREADS", "2")))
model = SentenceTransformer(spec["folder"], device="cpu")
prompts = spec["prompts"]
model.encode(prompts[:64], batch_size=64)
times = []
for _ in range(3):
    start = time.perf_counter()
    model.encode(prompts, batch_size=64)
    times.append(time.perf_counter() - start)
print(json.dumps({"name": "sentence_encoder", "seconds": statistics.median(times)}))

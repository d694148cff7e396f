"""Peer for aptp-bench's FID case: pytorch-fid's statistics and Fréchet distance on the same features.

argv[1]: safetensors with `a` and `b` [N, D]. Prints {"name": "fid", "seconds"} and {"name": "fid_value", "seconds": FID}.
"""
import json
import sys
import time

import numpy as np
from safetensors.numpy import load_file

try:
    from pytorch_fid.fid_score import calculate_frechet_distance
except ImportError:  # the same function (pytorch-fid 0.3.0), written out
    from scipy import linalg

    def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
        diff = mu1 - mu2
        covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
        if not np.isfinite(covmean).all():
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
        if np.iscomplexobj(covmean):
            covmean = covmean.real
        return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)

data = load_file(sys.argv[1])
start = time.perf_counter()
a, b = data["a"].astype(np.float64), data["b"].astype(np.float64)
value = calculate_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
seconds = time.perf_counter() - start
print(json.dumps({"name": "fid", "seconds": seconds}))
print(json.dumps({"name": "fid_value", "seconds": float(value)}))

#!/usr/bin/env python3
"""PyTorch peer for aptp's benchmarks.

Usage:  APTP_NUM_THREADS=2 python3 tools/bench/torch_peer.py tools/bench/cases.json

Reads a JSON list of cases (see cases.json), times each one on the CPU with
float32 random inputs, and prints one JSON object per line:
    {"name": <case name>, "seconds": <median seconds of one run>}

Timing: a few warm-up runs, then timed runs until at least MIN_RUNS runs AND
at least MIN_SECONDS of total timed work (capped at MAX_RUNS); the median of
the timed runs is reported. Both can be overridden with APTP_BENCH_MIN_RUNS
and APTP_BENCH_MIN_SECONDS.
"""

import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

WARMUP_RUNS = 2
MIN_RUNS = int(os.environ.get("APTP_BENCH_MIN_RUNS", "5"))
MIN_SECONDS = float(os.environ.get("APTP_BENCH_MIN_SECONDS", "0.5"))
MAX_RUNS = 10000


def randn(*shape, grad=False):
    t = torch.randn(*shape, dtype=torch.float32)
    if grad:
        t.requires_grad_(True)
    return t


def clear_grads(tensors):
    for t in tensors:
        t.grad = None


# Each builder returns a zero-argument callable performing one timed run.

def build_matmul(c):
    a = randn(c["m"], c["k"])
    b = randn(c["k"], c["n"])

    def run():
        with torch.inference_mode():
            torch.matmul(a, b)
    return run


def conv_tensors(c, grad):
    x = randn(c["n"], c["cin"], c["h"], c["w"], grad=grad)
    w = randn(c["cout"], c["cin"], c["k"], c["k"], grad=grad)
    b = randn(c["cout"], grad=grad)
    return x, w, b


def build_conv2d_fwd(c):
    x, w, b = conv_tensors(c, grad=False)
    stride, pad = c.get("stride", 1), c.get("pad", 0)

    def run():
        with torch.inference_mode():
            F.conv2d(x, w, b, stride=stride, padding=pad)
    return run


def build_conv2d_bwd(c):
    x, w, b = conv_tensors(c, grad=True)
    stride, pad = c.get("stride", 1), c.get("pad", 0)
    with torch.no_grad():
        out_shape = F.conv2d(x, w, b, stride=stride, padding=pad).shape
    upstream = randn(*out_shape)

    def run():
        clear_grads((x, w, b))
        out = F.conv2d(x, w, b, stride=stride, padding=pad)
        out.backward(upstream)
    return run


def sdpa_tensors(c, grad):
    q = randn(c["b"], c["heads"], c["lq"], c["d"], grad=grad)
    k = randn(c["b"], c["heads"], c["lk"], c["d"], grad=grad)
    v = randn(c["b"], c["heads"], c["lk"], c["d"], grad=grad)
    return q, k, v


def build_sdpa(c):
    q, k, v = sdpa_tensors(c, grad=False)
    causal = bool(c.get("causal", False))

    def run():
        with torch.inference_mode():
            F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return run


def build_sdpa_bwd(c):
    q, k, v = sdpa_tensors(c, grad=True)
    causal = bool(c.get("causal", False))
    upstream = randn(c["b"], c["heads"], c["lq"], c["d"])

    def run():
        clear_grads((q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        out.backward(upstream)
    return run


def build_group_norm(c):
    x = randn(c["n"], c["c"], c["h"], c["w"])
    w = randn(c["c"])
    b = randn(c["c"])
    groups = c["groups"]
    eps = c.get("eps", 1e-5)

    def run():
        with torch.inference_mode():
            F.group_norm(x, groups, w, b, eps=eps)
    return run


def build_add(c):
    a = randn(c["count"])
    b = randn(c["count"])

    def run():
        with torch.inference_mode():
            torch.add(a, b)
    return run


def build_silu(c):
    a = randn(c["count"])

    def run():
        with torch.inference_mode():
            F.silu(a)
    return run


def build_gelu(c):
    a = randn(c["count"])
    approximate = c.get("approximate", "none")

    def run():
        with torch.inference_mode():
            F.gelu(a, approximate=approximate)
    return run


BUILDERS = {
    "matmul": build_matmul,
    "conv2d_fwd": build_conv2d_fwd,
    "conv2d_bwd": build_conv2d_bwd,
    "sdpa": build_sdpa,
    "sdpa_bwd": build_sdpa_bwd,
    "group_norm": build_group_norm,
    "add": build_add,
    "silu": build_silu,
    "gelu": build_gelu,
}


def time_case(run):
    for _ in range(WARMUP_RUNS):
        run()
    samples = []
    total = 0.0
    while len(samples) < MAX_RUNS and (len(samples) < MIN_RUNS or total < MIN_SECONDS):
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        samples.append(elapsed)
        total += elapsed
    return statistics.median(samples)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: torch_peer.py CASES.json\n")
        return 2
    threads = int(os.environ.get("APTP_NUM_THREADS", os.cpu_count()))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with open(argv[1]) as fh:
        cases = json.load(fh)
    status = 0
    for c in cases:
        builder = BUILDERS.get(c.get("op"))
        if builder is None:
            sys.stderr.write("torch_peer: unknown op %r in case %r\n" % (c.get("op"), c.get("name")))
            status = 1
            continue
        seconds = time_case(builder(c))
        print(json.dumps({"name": c["name"], "seconds": seconds}), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))

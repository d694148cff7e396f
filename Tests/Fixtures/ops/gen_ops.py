#!/usr/bin/env python3
"""Generate Tests/Fixtures/ops/ops.json: reference forward outputs and gradients
computed by PyTorch (float32, CPU) for the ops that aptp implements.

Run from anywhere:  python3 Tests/Fixtures/ops/gen_ops.py

Conventions of the output file:
  * every tensor is {"shape": [...], "data": [flat row-major values]}; a 0-d
    tensor has shape [] and one value in data;
  * float tensors carry no "dtype" key (float32); index tensors carry
    "dtype": "int64" (integer data); boolean tensors carry "dtype": "bool"
    and hold 0/1 numbers;
  * inputs are drawn on a 1e-4 grid, so each printed value parses to exactly
    the float32 torch used; outputs and gradients are printed with the
    shortest decimal that round-trips the float32 torch produced;
  * "grads"[i] is d/d(input i) of sum(output * seed), or null for
    non-float inputs; "grads" and "seed" are null for non-differentiable
    cases (comparisons, argmax/argmin).
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.json")

torch.manual_seed(20240611)
torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

CASES = []


# ---------------------------------------------------------------- inputs

def grid(t, decimals=4):
    """Snap float64 values to a decimal grid and convert to float32."""
    scale = 10.0 ** decimals
    return (torch.round(t * scale) / scale).to(torch.float32)


def rand(shape, lo=-2.0, hi=2.0, avoid=(), unique=False):
    """Uniform values in [lo, hi] on a 1e-4 grid.

    avoid: points (kinks of the op) that values must stay >= 0.01 away from.
    unique: redraw until all values differ (needed where ties would make the
    reference depend on tie breaking: max/min/argmax/max_pool).
    """
    while True:
        t = torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo
        for a in avoid:
            near = (t - a).abs() < 0.01
            t = torch.where(near, t + 0.05, t)
        t = grid(t)
        if unique and torch.unique(t).numel() != t.numel():
            continue
        return t


def randint(shape, high):
    return torch.randint(0, high, shape, dtype=torch.int64)


class In:
    """One op input: a tensor plus its stored dtype tag."""

    def __init__(self, tensor, dtype="float32"):
        self.tensor = tensor
        self.dtype = dtype


def f(t):
    return In(t, "float32")


def i64(t):
    return In(t.to(torch.int64), "int64")


def boolean(t):
    return In(t.to(torch.bool), "bool")


# ---------------------------------------------------------------- encoding

def encode_float(v):
    # str() of a numpy float32 is the shortest decimal that round-trips it.
    return float(str(np.float32(v)))


def encode(t, dtype=None):
    t = t.detach()
    if dtype is None:
        if t.dtype == torch.int64:
            dtype = "int64"
        elif t.dtype == torch.bool:
            dtype = "bool"
        else:
            dtype = "float32"
    obj = {"shape": list(t.shape)}
    flat = t.reshape(-1)
    if dtype == "int64":
        obj["dtype"] = "int64"
        obj["data"] = [int(v) for v in flat.tolist()]
    elif dtype == "bool":
        obj["dtype"] = "bool"
        obj["data"] = [1 if v else 0 for v in flat.tolist()]
    else:
        arr = flat.to(torch.float32).numpy()
        if not np.all(np.isfinite(arr)):
            raise ValueError("non-finite value in fixture tensor")
        obj["data"] = [encode_float(v) for v in arr]
    return obj


# ---------------------------------------------------------------- cases

def case(name, op, inputs, attrs, fn, differentiable=True, output_dtype=None):
    """Run fn on the inputs (None entries are skipped in the stored list but
    passed through to fn), record output and, when differentiable, gradients
    of sum(output * seed)."""
    torch_args = []
    stored = []
    for inp in inputs:
        if inp is None:
            torch_args.append(None)
            continue
        t = inp.tensor.clone()
        if differentiable and inp.dtype == "float32":
            t.requires_grad_(True)
        torch_args.append(t)
        stored.append((t, inp.dtype))

    out = fn(*torch_args)
    entry = {
        "name": name,
        "op": op,
        "inputs": [encode(t, d) for t, d in stored],
        "attrs": attrs,
    }
    if output_dtype == "bool_as_float":
        entry["output"] = encode(out.to(torch.float32))
    else:
        entry["output"] = encode(out)

    if differentiable:
        seed = rand(tuple(out.shape), -1.0, 1.0)
        (out * seed).sum().backward()
        grads = []
        for t, d in stored:
            if d != "float32":
                grads.append(None)
            elif t.grad is None:
                grads.append(encode(torch.zeros_like(t)))
            else:
                grads.append(encode(t.grad))
        entry["grads"] = grads
        entry["seed"] = encode(seed)
    else:
        entry["grads"] = None
        entry["seed"] = None

    if any(c["name"] == name for c in CASES):
        raise ValueError("duplicate case name " + name)
    CASES.append(entry)


def shape_tag(shape):
    return "x".join(str(s) for s in shape) if len(shape) else "scalar"


# ---- unary elementwise -------------------------------------------------

def unary_cases():
    s = (3, 4)
    specs = [
        ("neg", {}, lambda x: torch.neg(x), dict()),
        ("abs", {}, lambda x: torch.abs(x), dict(avoid=(0.0,))),
        ("exp", {}, lambda x: torch.exp(x), dict()),
        ("log", {}, lambda x: torch.log(x), dict(lo=0.05, hi=4.0)),
        ("log1p", {}, lambda x: torch.log1p(x), dict(lo=-0.9, hi=3.0)),
        ("sqrt", {}, lambda x: torch.sqrt(x), dict(lo=0.05, hi=4.0)),
        ("rsqrt", {}, lambda x: torch.rsqrt(x), dict(lo=0.05, hi=4.0)),
        ("sin", {}, lambda x: torch.sin(x), dict(lo=-3.5, hi=3.5)),
        ("cos", {}, lambda x: torch.cos(x), dict(lo=-3.5, hi=3.5)),
        ("tanh", {}, lambda x: torch.tanh(x), dict(lo=-3.0, hi=3.0)),
        ("sigmoid", {}, lambda x: torch.sigmoid(x), dict(lo=-4.0, hi=4.0)),
        ("relu", {}, lambda x: torch.relu(x), dict(avoid=(0.0,))),
        ("silu", {}, lambda x: F.silu(x), dict(lo=-4.0, hi=4.0)),
    ]
    for op, attrs, fn, kw in specs:
        case(op, op, [f(rand(s, **kw))], attrs, fn)

    x = rand(s, -4.0, 4.0)
    case("gelu", "gelu", [f(x)], {"approximate": "none"},
         lambda t: F.gelu(t, approximate="none"))
    case("gelu_tanh", "gelu", [f(x)], {"approximate": "tanh"},
         lambda t: F.gelu(t, approximate="tanh"))
    case("clamp", "clamp", [f(rand(s, -1.5, 1.5, avoid=(-0.5, 0.7)))],
         {"min": -0.5, "max": 0.7}, lambda t: torch.clamp(t, min=-0.5, max=0.7))
    case("pow_scalar", "pow_scalar", [f(rand(s, 0.1, 3.0))], {"exponent": 2.5},
         lambda t: torch.pow(t, 2.5))


# ---- binary with broadcasting ------------------------------------------

def binary_cases():
    pairs = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1))]
    fns = {
        "add": torch.add,
        "sub": torch.sub,
        "mul": torch.mul,
        "div": torch.div,
        "pow": torch.pow,
    }
    for op, fn in fns.items():
        for sa, sb in pairs:
            if op == "div":
                a = rand(sa)
                mag = rand(sb, 0.5, 2.0)
                sign = torch.where(torch.rand(sb) < 0.5, -1.0, 1.0)
                b = mag * sign
            elif op == "pow":
                a = rand(sa, 0.2, 2.5)
                b = rand(sb, -2.0, 2.5)
            else:
                a = rand(sa)
                b = rand(sb)
            name = "%s_%s_%s" % (op, shape_tag(sa), shape_tag(sb))
            case(name, op, [f(a), f(b)], {}, fn)


def where_cases():
    cond = torch.tensor([[1.0], [0.0], [1.0]])
    a = rand((3, 4))
    b = rand((4,))
    case("where_3x1_3x4_4", "where", [boolean(cond), f(a), f(b)], {},
         lambda c, x, y: torch.where(c, x, y))


def comparison_cases():
    a = rand((3, 4))
    b = rand((3, 4))
    # Make about half of the pairs exactly equal so that lt/le and gt/ge differ.
    same = torch.tensor([[1, 0, 0, 1], [0, 1, 0, 0], [1, 0, 1, 1]], dtype=torch.bool)
    b = torch.where(same, a, b)
    ops = {"lt": torch.lt, "le": torch.le, "gt": torch.gt,
           "ge": torch.ge, "eq": torch.eq, "ne": torch.ne}
    for op, fn in ops.items():
        case(op, op, [f(a), f(b)], {}, fn, differentiable=False,
             output_dtype="bool_as_float")


# ---- reductions -------------------------------------------------------

def dims_tag(dim, keepdim):
    d = "all" if dim is None else "d" + "".join(str(x) for x in dim)
    return d + ("_keep" if keepdim else "")


def all_dims(x):
    return tuple(range(x.dim()))


def reduction_cases():
    s = (2, 3, 4)
    for op, fn in (("sum", torch.sum), ("mean", torch.mean)):
        for dim, keep in (([1], False), ([0, 2], True), (None, False)):
            x = rand(s)
            if dim is None:
                call = (lambda fn: lambda t: fn(t))(fn)
            else:
                call = (lambda fn, dim, keep: lambda t: fn(t, dim=dim, keepdim=keep))(fn, dim, keep)
            case("%s_%s" % (op, dims_tag(dim, keep)), op, [f(x)],
                 {"dim": dim, "keepdim": keep}, call)

    for op, fn in (("var", torch.var), ("std", torch.std)):
        for dim, keep, unbiased in (([1], False, True), ([0, 2], True, False), (None, False, True)):
            x = rand(s)
            corr = 1 if unbiased else 0
            if dim is None:
                call = (lambda fn, corr: lambda t: fn(t, correction=corr))(fn, corr)
            else:
                call = (lambda fn, dim, keep, corr:
                        lambda t: fn(t, dim=dim, keepdim=keep, correction=corr))(fn, dim, keep, corr)
            name = "%s_%s_%s" % (op, dims_tag(dim, keep), "unbiased" if unbiased else "biased")
            case(name, op, [f(x)], {"dim": dim, "keepdim": keep, "unbiased": unbiased}, call)

    for op, fn in (("max", torch.amax), ("min", torch.amin)):
        for dim, keep in (([1], False), ([0, 2], True), (None, False)):
            x = rand(s, unique=True)
            call = (lambda fn, dim, keep:
                    lambda t: fn(t, dim=all_dims(t) if dim is None else dim, keepdim=keep))(fn, dim, keep)
            case("%s_%s" % (op, dims_tag(dim, keep)), op, [f(x)],
                 {"dim": dim, "keepdim": keep}, call)

    for dim, keep in (([1], False), ([0, 2], True), (None, False)):
        x = rand(s, -3.0, 3.0)
        call = (lambda dim, keep:
                lambda t: torch.logsumexp(t, dim=all_dims(t) if dim is None else dim, keepdim=keep))(dim, keep)
        case("logsumexp_%s" % dims_tag(dim, keep), "logsumexp", [f(x)],
             {"dim": dim, "keepdim": keep}, call)

    for op, fn in (("argmax", torch.argmax), ("argmin", torch.argmin)):
        for dim, keep in (([1], False), ([2], True), (None, False)):
            x = rand(s, unique=True)
            call = (lambda fn, dim, keep:
                    lambda t: fn(t) if dim is None else fn(t, dim=dim[0], keepdim=keep))(fn, dim, keep)
            case("%s_%s" % (op, dims_tag(dim, keep)), op, [f(x)],
                 {"dim": dim, "keepdim": keep}, call, differentiable=False)

    case("cumsum_d1", "cumsum", [f(rand(s))], {"dim": 1}, lambda t: torch.cumsum(t, dim=1))

    for op, fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        for dim in (-1, 1):
            x = rand(s, -3.0, 3.0)
            call = (lambda fn, dim: lambda t: fn(t, dim=dim))(fn, dim)
            case("%s_d%s" % (op, "m1" if dim < 0 else str(dim)), op, [f(x)], {"dim": dim}, call)


# ---- shape ops --------------------------------------------------------

def shape_cases():
    x = rand((2, 3, 4))
    case("permute_201", "permute", [f(x)], {"dims": [2, 0, 1]}, lambda t: t.permute(2, 0, 1))
    case("permute_102", "permute", [f(rand((2, 3, 4)))], {"dims": [1, 0, 2]},
         lambda t: t.permute(1, 0, 2))
    case("transpose_0_2", "transpose", [f(rand((2, 3, 4)))], {"dim0": 0, "dim1": 2},
         lambda t: t.transpose(0, 2))
    case("transpose_m1_m2", "transpose", [f(rand((2, 3, 4)))], {"dim0": -1, "dim1": -2},
         lambda t: t.transpose(-1, -2))
    case("expand_3x1_to_2x3x4", "expand", [f(rand((3, 1)))], {"shape": [2, 3, 4]},
         lambda t: t.expand(2, 3, 4))
    case("expand_1x4_to_3x4", "expand", [f(rand((1, 4)))], {"shape": [3, 4]},
         lambda t: t.expand(3, 4))
    case("cat_d1", "cat", [f(rand((2, 3))), f(rand((2, 1))), f(rand((2, 4)))], {"dim": 1},
         lambda *ts: torch.cat(ts, dim=1))
    case("cat_d0", "cat", [f(rand((1, 2, 3))), f(rand((2, 2, 3)))], {"dim": 0},
         lambda *ts: torch.cat(ts, dim=0))
    case("stack_d1", "stack", [f(rand((2, 3))), f(rand((2, 3))), f(rand((2, 3)))], {"dim": 1},
         lambda *ts: torch.stack(ts, dim=1))
    case("stack_d0", "stack", [f(rand((2, 3))), f(rand((2, 3)))], {"dim": 0},
         lambda *ts: torch.stack(ts, dim=0))
    case("flip_02", "flip", [f(rand((2, 3, 4)))], {"dims": [0, 2]}, lambda t: torch.flip(t, [0, 2]))
    case("narrow_d1", "narrow", [f(rand((3, 5)))], {"dim": 1, "start": 1, "length": 3},
         lambda t: torch.narrow(t, 1, 1, 3))
    # Repeated index entries: the gradient must accumulate.
    case("index_select_d0", "index_select",
         [f(rand((4, 3))), i64(torch.tensor([3, 0, 3, 1]))], {"dim": 0},
         lambda t, idx: torch.index_select(t, 0, idx))
    case("index_select_d1", "index_select",
         [f(rand((2, 5))), i64(torch.tensor([4, 4, 2]))], {"dim": 1},
         lambda t, idx: torch.index_select(t, 1, idx))
    case("gather_d1", "gather", [f(rand((3, 4))), i64(randint((3, 3), 4))], {"dim": 1},
         lambda t, idx: torch.gather(t, 1, idx))
    case("gather_d0", "gather", [f(rand((3, 4))), i64(randint((2, 4), 3))], {"dim": 0},
         lambda t, idx: torch.gather(t, 0, idx))
    case("repeat_2x1x2", "repeat", [f(rand((2, 3)))], {"repeats": [2, 1, 2]},
         lambda t: t.repeat(2, 1, 2))
    case("repeat_2x3", "repeat", [f(rand((2, 3)))], {"repeats": [2, 3]},
         lambda t: t.repeat(2, 3))
    # F.pad lists pads for the LAST dim first: [w_left, w_right, h_top, h_bottom].
    case("pad_1_2_0_1", "pad", [f(rand((2, 3, 4)))], {"pad": [1, 2, 0, 1], "value": 0.0},
         lambda t: F.pad(t, [1, 2, 0, 1], mode="constant", value=0.0))
    case("pad_last_dim_value", "pad", [f(rand((2, 3)))], {"pad": [2, 1], "value": 0.5},
         lambda t: F.pad(t, [2, 1], mode="constant", value=0.5))
    case("slice_d1_1_6_2", "slice", [f(rand((5, 6)))], {"dim": 1, "start": 1, "end": 6, "step": 2},
         lambda t: t[:, 1:6:2])
    case("slice_d0_0_5_3", "slice", [f(rand((5, 3)))], {"dim": 0, "start": 0, "end": 5, "step": 3},
         lambda t: t[0:5:3])


# ---- matmul / linear ---------------------------------------------------

def matmul_cases():
    pairs = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
             ((2, 1, 3, 4), (3, 4, 2)), ((4,), (4, 5)), ((3, 4), (4,))]
    for sa, sb in pairs:
        case("matmul_%s_%s" % (shape_tag(sa), shape_tag(sb)), "matmul",
             [f(rand(sa, -1.0, 1.0)), f(rand(sb, -1.0, 1.0))], {}, torch.matmul)
    case("linear", "linear",
         [f(rand((2, 3, 4), -1.0, 1.0)), f(rand((5, 4), -1.0, 1.0)), f(rand((5,), -1.0, 1.0))],
         {}, F.linear)


# ---- conv2d -----------------------------------------------------------

def conv_cases():
    specs = [
        # name, input shape, weight shape, bias?, stride, padding, dilation, groups
        ("conv2d_3x3_pad1", (2, 3, 6, 6), (4, 3, 3, 3), True, 1, 1, 1, 1),
        ("conv2d_stride2_pad1", (2, 3, 7, 7), (4, 3, 3, 3), True, 2, 1, 1, 1),
        ("conv2d_dilation2_pad2", (1, 3, 8, 8), (2, 3, 3, 3), True, 1, 2, 2, 1),
        ("conv2d_stride2_groups2", (2, 4, 5, 5), (6, 2, 3, 3), True, 2, 1, 1, 2),
        ("conv2d_1x1_nobias", (2, 4, 4, 4), (3, 4, 1, 1), False, 1, 0, 1, 1),
        ("conv2d_5x5_7x9_pad0", (1, 2, 7, 9), (3, 2, 5, 5), True, 1, 0, 1, 1),
    ]
    for name, xs, ws, has_bias, st, pd, dl, g in specs:
        x = rand(xs, -1.0, 1.0)
        w = rand(ws, -1.0, 1.0)
        b = rand((ws[0],), -1.0, 1.0) if has_bias else None
        attrs = {"stride": [st, st], "padding": [pd, pd], "dilation": [dl, dl], "groups": g}
        inputs = [f(x), f(w)] + ([f(b)] if has_bias else [None])
        call = (lambda st, pd, dl, g:
                lambda xx, ww, bb: F.conv2d(xx, ww, bb, stride=st, padding=pd, dilation=dl, groups=g))(st, pd, dl, g)
        case(name, "conv2d", inputs, attrs, call)


# ---- interpolate / pooling --------------------------------------------

def resize_pool_cases():
    # align_corners is recorded as false for every case; torch refuses the
    # argument altogether in nearest mode, so it is not passed there.
    case("interpolate_nearest_x2", "interpolate", [f(rand((1, 2, 3, 4)))],
         {"mode": "nearest", "scale_factor": 2.0, "align_corners": False},
         lambda t: F.interpolate(t, scale_factor=2.0, mode="nearest"))
    case("interpolate_bilinear_up_7x9", "interpolate", [f(rand((1, 2, 4, 5)))],
         {"mode": "bilinear", "size": [7, 9], "align_corners": False},
         lambda t: F.interpolate(t, size=(7, 9), mode="bilinear", align_corners=False))
    case("interpolate_bilinear_down_8x8_5x3", "interpolate", [f(rand((1, 2, 8, 8)))],
         {"mode": "bilinear", "size": [5, 3], "align_corners": False},
         lambda t: F.interpolate(t, size=(5, 3), mode="bilinear", align_corners=False, antialias=False))

    case("avg_pool2d_k2_s2", "avg_pool2d", [f(rand((1, 2, 4, 6)))],
         {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "count_include_pad": True},
         lambda t: F.avg_pool2d(t, kernel_size=2, stride=2, padding=0))
    case("avg_pool2d_k3_s2_p1", "avg_pool2d", [f(rand((1, 2, 5, 7)))],
         {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "count_include_pad": True},
         lambda t: F.avg_pool2d(t, kernel_size=3, stride=2, padding=1, count_include_pad=True))
    case("max_pool2d_k2_s2", "max_pool2d", [f(rand((1, 2, 4, 6), unique=True))],
         {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]},
         lambda t: F.max_pool2d(t, kernel_size=2, stride=2, padding=0))
    # Overlapping windows: an element that wins in two windows gets both grads.
    case("max_pool2d_k3_s2_p1", "max_pool2d", [f(rand((1, 2, 5, 7), unique=True))],
         {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
         lambda t: F.max_pool2d(t, kernel_size=3, stride=2, padding=1))


# ---- normalisation / embedding / attention -----------------------------

def misc_cases():
    case("group_norm", "group_norm",
         [f(rand((2, 6, 3, 3))), f(rand((6,), 0.5, 1.5)), f(rand((6,), -0.5, 0.5))],
         {"groups": 3, "eps": 1e-5},
         lambda x, w, b: F.group_norm(x, 3, w, b, eps=1e-5))
    case("layer_norm", "layer_norm",
         [f(rand((2, 3, 8))), f(rand((8,), 0.5, 1.5)), f(rand((8,), -0.5, 0.5))],
         {"normalized_shape": [8], "eps": 1e-5},
         lambda x, w, b: F.layer_norm(x, [8], w, b, eps=1e-5))

    ids = torch.tensor([[1, 7, 3], [7, 0, 9]])  # 7 appears twice: grads accumulate
    case("embedding", "embedding", [i64(ids), f(rand((10, 4)))], {},
         lambda i, w: F.embedding(i, w))

    def sdpa(causal, scale):
        return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)

    case("sdpa", "sdpa",
         [f(rand((2, 2, 5, 4))), f(rand((2, 2, 7, 4))), f(rand((2, 2, 7, 4)))],
         {"causal": False, "scale": None}, sdpa(False, None))
    case("sdpa_causal", "sdpa",
         [f(rand((2, 2, 6, 4))), f(rand((2, 2, 6, 4))), f(rand((2, 2, 6, 4)))],
         {"causal": True, "scale": None}, sdpa(True, None))
    case("sdpa_scale", "sdpa",
         [f(rand((1, 2, 3, 4))), f(rand((1, 2, 5, 4))), f(rand((1, 2, 5, 4)))],
         {"causal": False, "scale": 0.3}, sdpa(False, 0.3))
    # torch's causal mask with Lq != Lk is aligned TOP-LEFT: query i sees keys
    # 0..i (not the bottom-right alignment some attention kernels use).
    case("sdpa_causal_lq4_lk6", "sdpa",
         [f(rand((1, 2, 4, 4))), f(rand((1, 2, 6, 4))), f(rand((1, 2, 6, 4)))],
         {"causal": True, "scale": None}, sdpa(True, None))


def main():
    unary_cases()
    binary_cases()
    where_cases()
    comparison_cases()
    reduction_cases()
    shape_cases()
    matmul_cases()
    conv_cases()
    resize_pool_cases()
    misc_cases()
    doc = {"generator": "gen_ops.py", "torch": torch.__version__, "cases": CASES}
    with open(OUT_PATH, "w") as fh:
        # One case per line keeps diffs readable while staying compact.
        fh.write('{"generator":%s,"torch":%s,"cases":[\n' % (
            json.dumps(doc["generator"]), json.dumps(doc["torch"])))
        fh.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in CASES))
        fh.write("\n]}\n")
    print("wrote %d cases to %s (%d bytes)" % (len(CASES), OUT_PATH, os.path.getsize(OUT_PATH)))


if __name__ == "__main__":
    main()

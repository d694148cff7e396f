"""Writes safetensors fixtures with the Python `safetensors` library (the reference writer) for FormatsTests.

Run from this folder: `python3 gen_safetensors.py` (needs `pip install numpy safetensors`).
Outputs (committed): all_dtypes.safetensors, sharded/ (index + 2 shards), expected.json.
"""
import json
import os

import numpy as np
import safetensors
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def bf16_bits(values):
    """Float32 -> bfloat16 bit patterns, round-to-nearest-even (as torch)."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_values(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def main():
    rng = np.random.default_rng(1234)
    tensors = {
        "f32": rng.standard_normal((2, 3)).astype(np.float32),
        "f16": np.array([0.5, -1.25, 65504.0, 6.1e-5], dtype=np.float16),
        "f64": np.array([1.0 / 3.0, -2.5e10, 1e-300], dtype=np.float64),
        "i64": np.array([[-(2**40), 7], [0, 2**62]], dtype=np.int64),
        "i32": np.array([-5, 0, 2**31 - 1], dtype=np.int32),
        "i16": np.array([-32768, 12345], dtype=np.int16),
        "i8": np.array([-128, -1, 0, 127], dtype=np.int8),
        "u8": np.array([0, 1, 128, 254, 255], dtype=np.uint8),
        "bool": np.array([True, False, True], dtype=np.bool_),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "layer.0.weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
    }
    bf16_source = np.array([[1.0, -2.0], [3.14159, 1e-3]], dtype=np.float32)
    bf16 = bf16_bits(bf16_source)
    metadata = {"format": "pt", "note": "written by gen_safetensors.py"}
    specs = {}
    keep = []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array).reshape(array.shape)
        keep.append(array)
        specs[name] = safetensors.TensorSpec(
            dtype=array.dtype.name, shape=list(array.shape), data_ptr=array.ctypes.data, data_len=array.nbytes)
    specs["bf16"] = safetensors.TensorSpec(
        dtype="bfloat16", shape=[2, 2], data_ptr=bf16.ctypes.data, data_len=bf16.nbytes)
    safetensors.serialize_file(specs, os.path.join(HERE, "all_dtypes.safetensors"), metadata=metadata)

    dtype_names = {
        "float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64", "int32": "I32", "int16": "I16",
        "int8": "I8", "uint8": "U8", "bool": "BOOL",
    }
    expected = {"metadata": metadata, "tensors": {}}
    for name, array in tensors.items():
        entry = {"dtype": dtype_names[array.dtype.name], "shape": list(array.shape)}
        entry["floats"] = [float(np.float32(v)) for v in array.astype(np.float64).ravel()]
        if array.dtype.kind in "iub":
            entry["int64s"] = [int(v) for v in array.astype(np.int64).ravel()]
        expected["tensors"][name] = entry
    expected["tensors"]["bf16"] = {
        "dtype": "BF16", "shape": [2, 2], "floats": [float(v) for v in bf16_values(bf16).ravel()],
    }

    # Sharded checkpoint as transformers/diffusers write it: two shards and an index.
    shard_dir = os.path.join(HERE, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    shards = {
        "model-00001-of-00002.safetensors": {
            "embed.weight": rng.standard_normal((4, 3)).astype(np.float32),
            "layers.0.weight": rng.standard_normal((3, 3)).astype(np.float32),
        },
        "model-00002-of-00002.safetensors": {
            "layers.1.weight": rng.standard_normal((3, 3)).astype(np.float32),
            "head.bias": np.array([1, 2, 3], dtype=np.int64),
        },
    }
    weight_map = {}
    total = 0
    sharded_expected = {}
    for shard, arrays in shards.items():
        save_file(arrays, os.path.join(shard_dir, shard), metadata={"format": "pt"})
        for name, array in arrays.items():
            weight_map[name] = shard
            total += array.nbytes
            sharded_expected[name] = {"shape": list(array.shape), "floats": [float(v) for v in array.ravel()]}
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
    expected["sharded"] = sharded_expected

    # Read everything back with the library to be sure the fixtures are what we claim.
    with safetensors.safe_open(os.path.join(HERE, "all_dtypes.safetensors"), "np") as f:
        assert f.metadata() == metadata
        for name, array in tensors.items():
            assert np.array_equal(f.get_tensor(name), array), name
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()

"""Writes image fixtures for FormatsTests: PNGs of every colour type / bit depth (plus palette, tRNS and Adam7
interlacing) with known pixels, JPEGs decoded by Pillow, and Pillow `Image.resize` results.

Run from this folder: `python3 gen_images.py` (needs `pip install "pillow>=13" numpy`; resize pass order changed in 13).
Outputs (committed): png/*.png, jpeg/*.jpg, png_expected.json, jpeg_expected.json, resize_expected.json.
Pixel arrays are hex strings (8-bit) or lists (16-bit), row-major, interleaved channels.
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """Packs one row of integer samples (already flattened per pixel) at the given bit depth."""
    if bit_depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    if bit_depth == 8:
        return bytes(int(v) for v in samples)
    out, acc, nbits = bytearray(), 0, 0
    for v in samples:
        acc = (acc << bit_depth) | int(v)
        nbits += bit_depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def write_png(path, stored, color_type, bit_depth, interlace=False, palette=None, trns=None):
    """`stored` is (H, W, C) of the values as stored in the file (palette indices for color type 3)."""
    h, w, _ = stored.shape
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = stored[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw.append(0)  # filter type None; libpng still has to un-filter nothing
            raw += pack_row(row.reshape(-1), bit_depth)
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += chunk(b"PLTE", bytes(int(v) for v in np.asarray(palette).reshape(-1)))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def entry(array, bit_depth):
    h, w, c = array.shape
    flat = array.reshape(-1)
    pixels = flat.astype(np.uint8).tobytes().hex() if bit_depth == 8 else [int(v) for v in flat]
    return {"width": w, "height": h, "channels": c, "bit_depth": bit_depth, "pixels": pixels}


def png_fixtures(rng):
    os.makedirs(os.path.join(HERE, "png"), exist_ok=True)
    expected = {}

    def add(name, stored, color_type, depth, decoded, decoded_depth, **kw):
        path = os.path.join(HERE, "png", name + ".png")
        write_png(path, stored, color_type, depth, **kw)
        expected[name] = entry(decoded, decoded_depth)
        with Image.open(path) as im:  # Pillow must agree with the known pixels where it keeps them
            im.load()
            got = np.asarray(im)
            if decoded_depth == 8 and im.mode in ("L", "LA", "RGB", "RGBA") and got.size == decoded.size:
                got = got.reshape(decoded.shape)
                assert np.array_equal(got, decoded), name

    g8 = rng.integers(0, 256, (5, 7, 1))
    add("gray8", g8, 0, 8, g8, 8)
    for depth in (1, 2, 4):
        low = rng.integers(0, 2**depth, (6, 9, 1))
        add(f"gray{depth}", low, 0, depth, low * 255 // (2**depth - 1), 8)
    g16 = rng.integers(0, 65536, (4, 6, 1))
    add("gray16", g16, 0, 16, g16, 16)
    ga8 = rng.integers(0, 256, (4, 5, 2))
    add("graya8", ga8, 4, 8, ga8, 8)
    ga16 = rng.integers(0, 65536, (3, 4, 2))
    add("graya16", ga16, 4, 16, ga16, 16)
    rgb8 = rng.integers(0, 256, (5, 7, 3))
    add("rgb8", rgb8, 2, 8, rgb8, 8)
    rgb16 = rng.integers(0, 65536, (3, 5, 3))
    add("rgb16", rgb16, 2, 16, rgb16, 16)
    rgba8 = rng.integers(0, 256, (4, 6, 4))
    add("rgba8", rgba8, 6, 8, rgba8, 8)
    rgba16 = rng.integers(0, 65536, (3, 4, 4))
    add("rgba16", rgba16, 6, 16, rgba16, 16)
    palette = rng.integers(0, 256, (16, 3))
    idx8 = rng.integers(0, 16, (5, 6, 1))
    add("palette8", idx8, 3, 8, palette[idx8[..., 0]], 8, palette=palette)
    idx4 = rng.integers(0, 16, (7, 5, 1))
    alphas = rng.integers(0, 256, 10)  # tRNS covers the first 10 entries; the rest are opaque
    full_alpha = np.concatenate([alphas, np.full(6, 255)])
    rgba_from_palette = np.concatenate([palette[idx4[..., 0]], full_alpha[idx4[..., 0]][..., None]], axis=2)
    add("palette4_trns", idx4, 3, 4, rgba_from_palette, 8, palette=palette, trns=bytes(int(a) for a in alphas))
    gray_key = rng.integers(0, 256, (4, 5, 1))
    gray_key[0, 0, 0] = gray_key[2, 3, 0] = 77
    gray_alpha = np.concatenate([gray_key, np.where(gray_key == 77, 0, 255)], axis=2)
    add("gray8_trns", gray_key, 0, 8, gray_alpha, 8, trns=struct.pack(">H", 77))
    rgb_key = rng.integers(0, 256, (3, 4, 3))
    rgb_key[1, 2] = [10, 20, 30]
    rgb_alpha = np.concatenate([rgb_key, np.where((rgb_key == [10, 20, 30]).all(axis=2), 0, 255)[..., None]], axis=2)
    add("rgb8_trns", rgb_key, 2, 8, rgb_alpha, 8, trns=struct.pack(">HHH", 10, 20, 30))
    inter = rng.integers(0, 256, (11, 13, 3))
    add("rgb8_interlaced", inter, 2, 8, inter, 8, interlace=True)
    inter16 = rng.integers(0, 65536, (9, 10, 1))
    add("gray16_interlaced", inter16, 0, 16, inter16, 16, interlace=True)
    tiny = rng.integers(0, 256, (1, 1, 4))
    add("rgba8_1x1_interlaced", tiny, 6, 8, tiny, 8, interlace=True)
    with open(os.path.join(HERE, "png_expected.json"), "w") as f:
        json.dump(expected, f)


def smooth_image(h, w, seed):
    y, x = np.mgrid[0:h, 0:w]
    r = 128 + 100 * np.sin(x / 3.0 + seed)
    g = 128 + 100 * np.cos(y / 2.5 - seed)
    b = (x * 7 + y * 11 + seed * 13) % 256
    return np.clip(np.stack([r, g, b], axis=2), 0, 255).astype(np.uint8)


def jpeg_fixtures():
    os.makedirs(os.path.join(HERE, "jpeg"), exist_ok=True)
    expected = {}
    rgb = smooth_image(12, 17, 1)
    Image.fromarray(rgb).save(os.path.join(HERE, "jpeg", "rgb.jpg"), quality=90)
    Image.fromarray(smooth_image(10, 9, 2)).save(os.path.join(HERE, "jpeg", "rgb_progressive.jpg"), quality=85,
                                                   progressive=True)
    Image.fromarray(rgb[..., 1]).save(os.path.join(HERE, "jpeg", "gray.jpg"), quality=95)
    Image.fromarray(rgb).convert("CMYK").save(os.path.join(HERE, "jpeg", "cmyk.jpg"), quality=90)
    for name in ("rgb", "rgb_progressive", "gray"):
        with Image.open(os.path.join(HERE, "jpeg", name + ".jpg")) as im:
            array = np.asarray(im)
            if array.ndim == 2:
                array = array[..., None]
            expected[name] = entry(array, 8)
    with open(os.path.join(HERE, "jpeg_expected.json"), "w") as f:
        json.dump(expected, f)


def resize_fixtures(rng):
    sources = {
        "rgb": rng.integers(0, 256, (11, 13, 3)).astype(np.uint8),
        "gray": rng.integers(0, 256, (7, 9, 1)).astype(np.uint8),
        "rgba": rng.integers(0, 256, (8, 10, 4)).astype(np.uint8),
        "la": rng.integers(0, 256, (6, 7, 2)).astype(np.uint8),
        "big": smooth_image(48, 64, 3),
        "tall": rng.integers(0, 256, (310, 3, 1)).astype(np.uint8),
    }
    modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
    filters = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR, "hamming": Image.HAMMING,
               "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
    sizes = {
        "rgb": [(5, 4), (6, 11), (29, 17), (20, 6), (13, 3), (12, 3)],
        "gray": [(4, 3), (17, 12), (9, 20)],
        "rgba": [(4, 3), (23, 13)],
        "la": [(3, 5), (11, 9)],
        "big": [(7, 5), (25, 19)],
        "tall": [(1, 306), (1, 305)],  # H - h == 2 (W - w) + {0, 1}: the two sides of Pillow 13's pass-order rule
    }
    out = {"sources": {}, "cases": []}
    for name, array in sources.items():
        out["sources"][name] = entry(array, 8)
        mode = modes[array.shape[2]]
        im = Image.fromarray(array[..., 0] if mode == "L" else array, mode)
        for size in sizes[name]:
            for fname, f in filters.items():
                if name in ("rgba", "la", "gray", "big", "tall") and fname in ("box", "hamming"):
                    continue
                result = np.asarray(im.resize(size, f))
                if result.ndim == 2:
                    result = result[..., None]
                out["cases"].append({"source": name, "filter": fname, "width": size[0], "height": size[1],
                                     "pixels": result.astype(np.uint8).tobytes().hex()})
    with open(os.path.join(HERE, "resize_expected.json"), "w") as f:
        json.dump(out, f)


def main():
    rng = np.random.default_rng(20240611)
    png_fixtures(rng)
    jpeg_fixtures()
    resize_fixtures(rng)


if __name__ == "__main__":
    main()

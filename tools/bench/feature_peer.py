"""Peer for aptp-bench's feature-network rows: pytorch-fid's FID InceptionV3 (built without
downloading weights) and transformers' CLIPVisionModel (ViT-B/32 config), random weights.

argv[1]: batch size. Prints one {"name", "seconds"} JSON line per case (median of 3 after a warm-up).
"""
import json
import os
import statistics
import sys
import time

import torch

torch.set_num_threads(int(os.environ.get("APTP_NUM_THREADS", "2")))
batch = int(sys.argv[1])


def median_seconds(fn, runs=3):
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fid_inception():
    """pytorch-fid's fid_inception_v3() without its weight download."""
    import torchvision
    from pytorch_fid import inception as pf

    net = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
    net.Mixed_5b = pf.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pf.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pf.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pf.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pf.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pf.FIDInceptionE_1(1280)
    net.Mixed_7c = pf.FIDInceptionE_2(2048)
    blocks = torch.nn.Sequential(
        net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, torch.nn.MaxPool2d(3, 2),
        net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, torch.nn.MaxPool2d(3, 2),
        net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d, net.Mixed_6e,
        net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, torch.nn.AdaptiveAvgPool2d(1)).eval()
    return blocks


with torch.no_grad():
    try:
        inception = fid_inception()
        x = torch.rand(batch, 3, 299, 299) * 2 - 1
        print(json.dumps({"name": f"inception_fid b{batch} 299", "seconds": median_seconds(lambda: inception(x))}))
    except Exception as e:  # noqa: BLE001 - report and go on with the other case
        print(f"inception peer failed: {e}", file=sys.stderr)
    try:
        from transformers import CLIPVisionConfig, CLIPVisionModel

        clip = CLIPVisionModel(CLIPVisionConfig()).eval()
        x = torch.randn(batch, 3, 224, 224)
        print(json.dumps({"name": f"clip_vit_b32 b{batch} 224", "seconds": median_seconds(lambda: clip(pixel_values=x))}))
    except Exception as e:  # noqa: BLE001
        print(f"clip peer failed: {e}", file=sys.stderr)

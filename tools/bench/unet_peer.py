"""Peer for aptp-bench's UNet cases: the same configs, shapes and steps with diffusers on PyTorch.

argv[1]: JSON list of {name, config, batch, size, tokens, train}. Prints one JSON line per case
with the median seconds of 3 timed calls after 1 warm-up. Threads follow APTP_NUM_THREADS.
"""
import json
import os
import statistics
import sys
import time

import torch
from diffusers import UNet2DConditionModel

torch.set_num_threads(int(os.environ.get("APTP_NUM_THREADS", "2")))
for case in json.load(open(sys.argv[1])):
    config = json.load(open(case["config"]))
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**config)
    width = config["cross_attention_dim"]
    width = width[0] if isinstance(width, list) else width
    b, size = case["batch"], case["size"]
    x = torch.randn(b, config["in_channels"], size, size)
    context = torch.randn(b, case["tokens"], width)
    target = torch.randn_like(x)
    t = torch.tensor([(i * 97) % 1000 for i in range(b)])
    if case["train"]:
        unet.train()
        opt = torch.optim.AdamW(unet.parameters(), lr=1e-4, weight_decay=0.01)

        def call():
            opt.zero_grad()
            loss = ((unet(x, t, encoder_hidden_states=context).sample - target) ** 2).mean()
            loss.backward()
            opt.step()
    else:
        unet.eval()

        def call():
            with torch.no_grad():
                unet(x, t, encoder_hidden_states=context)
    call()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps({"name": case["name"], "seconds": statistics.median(times)}), flush=True)

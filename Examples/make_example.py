"""Writes grpo-explosion.jsonl: a GRPO run (TRL-style flat records) whose KL to the reference model is calm,
wobbles, then explodes — the example `kltop check` runs on in the README.

Run: python3 make_example.py   (deterministic; standard library only)
"""
import json
import math
import random

rng = random.Random(2026)
with open("grpo-explosion.jsonl", "w") as f:
    for step in range(400):
        kl = 0.02 + 0.002 * rng.gauss(0, 1)
        if 180 <= step < 185:
            kl += 0.012  # a wobble: warnings
        if step >= 330:
            kl *= math.exp((step - 330) / 12)  # the policy runs away from its reference
        reward = 0.4 + 0.001 * step + 0.02 * rng.gauss(0, 1) + (0.5 if step >= 330 else 0)
        record = {"step": step, "loss": round(0.5 - 0.0005 * step, 6), "reward": reward, "kl": kl,
                  "completion_length": 180 + rng.randint(-20, 20), "epoch": round(step / 400, 4)}
        f.write(json.dumps(record) + "\n")

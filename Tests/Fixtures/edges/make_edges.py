"""Edge-case detector fixtures, decided by rlwatch 0.5.1 itself.

Run: python3 make_edges.py   (needs `pip install rlwatch==0.5.1`; numpy 2.4.6 was used)

Each case is NAME.jsonl (a run log) and NAME.expected.json in the same shape as ../conformance: rlwatch's
raw detector decisions and what its AlertManager delivers with default cooldown and maximum. The series are
built to hit the detector's edges: z-scores within a few ulps of the warning and critical thresholds,
windows where numpy's pairwise summation changes shape, frozen lock-in, NaN/Inf, missing values, huge
values, large offsets that cancel catastrophically in naive running sums, and odd step numbers.
"""
import contextlib
import io
import json
import math
import random

import numpy as np
from rlwatch.alerts import AlertManager
from rlwatch.config import AlertConfig, KLExplosionConfig
from rlwatch.detectors import KLExplosionDetector


def enc(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def decide(records, key, cfg):
    det = KLExplosionDetector(KLExplosionConfig(**cfg))
    mgr = AlertManager(AlertConfig())
    raw, delivered = [], []
    for rec in records:
        if key not in rec:
            continue
        alert = det.check(rec["step"], rec[key])
        if alert is None:
            continue
        mv = alert.metric_values
        row = {
            "step": alert.step,
            "severity": alert.severity,
            "kl_divergence": enc(float(mv["kl_divergence"])),
            "rolling_mean": enc(mv["rolling_mean"]),
            "rolling_std": enc(mv["rolling_std"]),
            "z_score": enc(mv["z_score"]),
        }
        raw.append(row)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            sent = mgr.send(alert)
        if sent:
            delivered.append(row)
    return raw, delivered


def write(name, records, cfg, key="kl"):
    full = {"sigma_multiplier": 3.0, "rolling_window": 100, "warmup_steps": 20, "baseline_mode": "rolling"}
    full.update(cfg)
    with open(f"{name}.jsonl", "w") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")  # json.dumps writes NaN/Infinity literals and None as null
    raw, delivered = decide(records, key, full)
    expected = {
        "rlwatch": "0.5.1",
        "metric_key": key,
        "config": full,
        "alert_policy": {"cooldown_steps": 100, "max_alerts_per_run": 50},
        "raw": raw,
        "delivered": delivered,
    }
    with open(f"{name}.expected.json", "w") as f:
        json.dump(expected, f, indent=1)
    print(f"{name}: {len(records)} records, {len(raw)} raw, {len(delivered)} delivered")


def near_threshold(history, window, base, thresholds, rng, frozen=None):
    """A value whose z against the baseline rlwatch will use lands within a few ulps of a threshold."""
    if frozen is not None:
        m, s = frozen
    else:
        prev = np.array(history[-(window - 1):]) if window > 1 else np.array([])
        m, s = float(np.mean(prev)), float(np.std(prev))
    s = max(s, 1e-8)
    t = rng.choice(thresholds)
    x = m + t * s
    for _ in range(rng.randint(-3, 3) if rng.random() < 0.8 else 0):
        pass
    nudges = rng.randint(-4, 4)
    x = float(np.nextafter(x, math.inf if nudges > 0 else -math.inf)) if nudges else x
    for _ in range(abs(nudges) - 1):
        x = float(np.nextafter(x, math.inf if nudges > 0 else -math.inf))
    return x


def threshold_straddle(name, sigma, window, warmup, mode, n, base, noise, seed):
    rng = random.Random(seed)
    history, records = [], []
    thresholds = [sigma, sigma * 1.5]
    frozen = None
    for step in range(n):
        samples = len(history) + 1
        eligible = samples >= warmup and min(samples, window) >= 10
        if mode == "frozen" and frozen is None and eligible and samples >= window:
            pass  # the lock includes this value; a plain value keeps the case simple
        if eligible and step % 7 == 3 and samples > window:
            x = near_threshold(history, window, base, thresholds, rng, frozen)
        else:
            x = base + noise * rng.gauss(0, 1)
        history.append(x)
        records.append({"step": step, "kl": x})
        if mode == "frozen" and frozen is None and eligible and len(history) >= window:
            arr = np.array(history[-window:])
            frozen = (float(np.mean(arr)), float(np.std(arr)))
    # Sanity: how many steps land within 1e-12 relative of a threshold, by rlwatch's own arithmetic.
    return records


def main():
    # z within a few ulps of 3.0 and 4.5, rolling, at window sizes where pairwise summation changes shape.
    for window in (8, 9, 10, 11, 100, 128, 129, 130, 257):
        recs = threshold_straddle(f"straddle_w{window}", 3.0, window, 5, "rolling", 600, 0.02, 0.003, window)
        write(f"straddle_rolling_w{window}", recs, {"rolling_window": window, "warmup_steps": 5})
    recs = threshold_straddle("f", 3.0, 60, 20, "frozen", 600, 0.05, 0.004, 7)
    write("straddle_frozen_w60", recs, {"rolling_window": 60, "baseline_mode": "frozen"})
    recs = threshold_straddle("s", 2.5, 100, 20, "rolling", 800, 0.01, 0.001, 11)
    write("straddle_sigma2_5", recs, {"sigma_multiplier": 2.5})

    # A large offset: values near 1000 with tiny noise (naive running sums of squares cancel here).
    rng = random.Random(3)
    recs = [{"step": s, "kl": 1000.0 + 1e-6 * rng.gauss(0, 1)} for s in range(500)]
    for s in (150, 300, 420):
        recs[s]["kl"] = 1000.0 + 1e-5
    write("large_offset", recs, {})

    # A constant run, so std floors at 1e-8, and values a few ulps either side of mean + 3e-8 and 4.5e-8.
    recs = [{"step": s, "kl": 0.25} for s in range(400)]
    m = 0.25
    for i, s in enumerate(range(120, 400, 9)):
        t = [3.0, 4.5][i % 2]
        x = m + t * 1e-8
        for _ in range(i % 5):
            x = float(np.nextafter(x, -math.inf if i % 3 else math.inf))
        recs[s]["kl"] = x
    write("constant_floor_edges", recs, {})

    # A huge spike far outside the usual scale, then small values: stresses error bounds of running sums.
    rng = random.Random(5)
    recs = [{"step": s, "kl": 0.02 + 0.002 * rng.gauss(0, 1)} for s in range(700)]
    recs[200]["kl"] = 1e12
    recs[350]["kl"] = 1e200
    recs[500]["kl"] = -1e12
    write("huge_values", recs, {})

    # Non-finite and missing values: NaN, +/-Infinity, null, absent key; in rolling and frozen mode.
    rng = random.Random(9)
    recs = []
    for s in range(600):
        rec = {"step": s, "kl": 0.03 + 0.003 * rng.gauss(0, 1), "entropy": 1.0}
        recs.append(rec)
    recs[40]["kl"] = float("nan")
    recs[160]["kl"] = float("inf")
    recs[161]["kl"] = float("-inf")
    recs[300]["kl"] = float("-inf")
    recs[420]["kl"] = None
    del recs[421]["kl"]
    for s in range(430, 440):
        recs[s]["kl"] = None
    recs[470]["kl"] = float("inf")
    write("nonfinite_missing_rolling", recs, {})
    recs2 = [dict(r) for r in recs]
    recs2[40]["kl"] = 0.03
    recs2[70]["kl"] = float("inf")  # in the window when the frozen baseline locks at sample 100
    write("nonfinite_frozen_poisoned", recs2, {"baseline_mode": "frozen"})
    recs3 = [dict(r) for r in recs]
    recs3[40]["kl"] = 0.03
    write("nonfinite_frozen", recs3, {"baseline_mode": "frozen", "warmup_steps": 150})

    # Odd step numbers: negative, repeating, going backwards, huge; cooldown is counted in these.
    rng = random.Random(13)
    steps = list(range(-300, -100)) + [5] * 50 + list(range(1000, 0, -5)) + [10**15 + i for i in range(100)]
    recs = []
    for i, s in enumerate(steps):
        x = 0.02 + 0.002 * rng.gauss(0, 1)
        if i % 37 == 36:
            x = 0.2
        if i % 53 == 52:
            x = 0.031
        recs.append({"step": s, "kl": x})
    write("odd_steps", recs, {"warmup_steps": 10, "rolling_window": 40})

    # Slow drift far from the first values (running sums drift from their centre), frozen and rolling.
    rng = random.Random(17)
    recs = [{"step": s, "kl": 0.01 * (1.02 ** (s / 10)) + 0.0005 * rng.gauss(0, 1)} for s in range(2000)]
    write("exponential_drift_rolling", recs, {"rolling_window": 200})
    write("exponential_drift_frozen", recs, {"rolling_window": 200, "baseline_mode": "frozen"})

    # Warmup longer than the window; zero sigma; window of 1.
    rng = random.Random(19)
    recs = [{"step": s, "kl": 0.02 + 0.002 * rng.gauss(0, 1)} for s in range(300)]
    recs[250]["kl"] = 0.05
    write("warmup_beyond_window_frozen", recs, {"rolling_window": 30, "warmup_steps": 120, "baseline_mode": "frozen"})
    write("sigma_zero", recs, {"sigma_multiplier": 0.0})
    write("window_one", recs, {"rolling_window": 1})


if __name__ == "__main__":
    main()

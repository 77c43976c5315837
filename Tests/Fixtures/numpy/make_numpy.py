"""np.sum / np.mean / np.std of deterministic pseudo-random arrays, for NumpyStatistics to match bit for bit.

Run: python3 make_numpy.py > numpy_statistics.json   (numpy 2.4.6 was used)

The arrays are not stored: both sides generate them with splitmix64 (see `values` below and
Tests/KLDetectorTests/NumpyStatisticsTests.swift), so the fixture holds only sizes, seeds and results,
written as float.hex() so that no decimal rounding gets in the way.
"""
import json

import numpy as np

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def values(seed, count, offset, scale):
    """offset + scale * u, u uniform in [0, 1) from the top 53 bits of splitmix64."""
    state = seed
    out = []
    for _ in range(count):
        state, r = splitmix64(state)
        u = (r >> 11) * (2.0 ** -53)
        out.append(offset + scale * u)
    return out


sizes = list(range(1, 18)) + [31, 63, 64, 65, 100, 127, 128, 129, 130, 135, 136, 255, 256, 257, 999, 1000,
                              1023, 1024, 1025, 4097, 8191, 8192, 8193, 10000, 20001]
cases = []
for i, n in enumerate(sizes):
    for offset, scale in ((0.0, 1.0), (0.02, 0.003), (1000.0, 1e-6), (-5.0, 10.0)):
        seed = 1000 * i + int(scale * 1000) + 7
        a = np.array(values(seed, n, offset, scale))
        cases.append({
            "seed": seed, "count": n, "offset": offset.hex(), "scale": scale.hex(),
            "sum": float(np.sum(a)).hex(), "mean": float(np.mean(a)).hex(), "std": float(np.std(a)).hex(),
        })
print(json.dumps({"numpy": np.__version__, "cases": cases}, indent=0))

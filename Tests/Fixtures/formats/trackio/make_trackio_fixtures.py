"""Writes Trackio project databases with the real Trackio, and what kltop must read from them.

    python3 -m venv venv && venv/bin/pip install trackio==0.43.0
    venv/bin/python make_trackio_fixtures.py            # rewrites kltop-fixture.db and expected.json
    python3 -m venv old && old/bin/pip install trackio==0.23.0 "huggingface_hub>=1.10,<1.16"  # 1.16 dropped what 0.23 imports
    old/bin/python make_trackio_fixtures.py --legacy    # rewrites legacy/kltop-legacy.db (no run_id column)

`TRACKIO_DIR` is set to this folder (or `legacy/`), so Trackio writes `<project>.db` here. Runs are logged
through `trackio.init(project=..., name=...)`, `trackio.log({...}, step=...)` (and without `step`: Trackio
then counts on from the run's last step) and `trackio.finish()`. Trackio keeps one JSON object per row in
`metrics.metrics` (orjson's bytes, so a BLOB), NaN and the infinities as the strings "NaN", "Infinity",
"-Infinity". Runs 0.24 and later have a `run_id` column; older files have run names only.

Trackio stores no path, user or host name in the database; the script checks that none is there, and
removes the lock files and empty media folders Trackio leaves beside it.

Tools: Python 3.11, trackio 0.43.0 (and 0.23.0 with huggingface_hub 1.15.0 for the legacy file), orjson 3.13.0, SQLite 3.40.1.
"""

import getpass
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import sys

LEGACY = "--legacy" in sys.argv
HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "legacy") if LEGACY else HERE
PROJECT = "kltop-legacy" if LEGACY else "kltop-fixture"
os.makedirs(FOLDER, exist_ok=True)
os.chdir(FOLDER)
for old in (PROJECT + ".db", PROJECT + ".db-wal", PROJECT + ".db-shm"):
    if os.path.exists(old):
        os.remove(old)
os.environ["TRACKIO_DIR"] = FOLDER
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HOME"] = os.path.join(FOLDER, ".hf-home")  # anything else Trackio keeps stays here, then goes

import trackio  # noqa: E402


def kl(step, spike=None):
    """The series of the other fixtures (../README.md): 0.020 ... 0.030, 5.0 at the spike."""
    if step == spike:
        return 5.0
    return round(0.02 + 0.001 * ((step * 37) % 11), 3)


# (run name, KL key, explicit steps or None for Trackio's own, spike, {step: special}, other keys)
RUNS = [
    ("grpo-7b", "kl", range(0, 30), 20, {9: math.nan, 25: math.inf}, ["loss", "reward"]),
    ("ppo-1b", "train/kl", range(0, 50, 5), None, {15: -math.inf}, ["train/loss"]),
    # No step given: Trackio counts 0, 1, 2... on its own.
    ("baseline", "kl", None, None, {}, ["loss"]),
    # The same name again (resume="never", the default, makes a new run): kltop must tell them apart.
    ("baseline", "kl", range(100, 110), 105, {}, ["loss"]),
]
if LEGACY:
    RUNS = [
        ("grpo-7b", "kl", range(0, 12), 6, {3: math.nan, 9: math.inf}, ["loss"]),
        ("ppo-1b", "kl", None, None, {}, ["loss"]),
    ]


def main():
    expected = []
    for name, key, steps, spike, special, others in RUNS:
        trackio.init(project=PROJECT, name=name, embed=False)
        logged = []
        for index, step in enumerate(steps if steps is not None else range(0, 15)):
            metrics = {other: round(0.3 + 0.01 * (step % 5), 3) for other in others}
            metrics[key] = special.get(step, kl(step, spike))
            if steps is None:
                trackio.log(metrics)
            else:
                trackio.log(metrics, step=step)
            logged.append([step, repr(metrics[key])])
        trackio.finish()
        expected.append({"run_name": name, "key": key, "samples": logged})

    for leftover in os.listdir("."):
        if leftover.endswith(".lock") or leftover in ("media", "artifacts", ".hf-home"):
            path = os.path.join(".", leftover)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    # Trackio's many tables and indexes take a 4 KiB page each: rebuilt with small pages (same rows, same
    # schema, WAL mode as Trackio left it), the file is a fraction of the size.
    db = sqlite3.connect(PROJECT + ".db")
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA page_size = 512")
    db.execute("VACUUM")
    db.execute(f"PRAGMA journal_mode = {mode}")
    columns = [row[1] for row in db.execute("PRAGMA table_info(metrics)")]
    db.close()
    assert ("run_id" in columns) != LEGACY, columns
    for companion in ("-wal", "-shm"):
        assert not os.path.exists(PROJECT + ".db" + companion), "Trackio left its WAL behind"

    write_expected(
        "expected.json",
        {"writer": f"trackio {trackio.__version__}", "database": PROJECT + ".db", "columns": columns, "runs": expected},
    )
    check_private([PROJECT + ".db", "expected.json"])
    print(f"wrote {FOLDER}/{PROJECT}.db and expected.json")


def write_expected(path, expected):
    """JSON with one line per run's samples, so that a diff shows which run changed."""
    text = json.dumps(expected, indent=1)
    for run in expected["runs"]:
        text = text.replace(json.dumps(run["samples"], indent=1).replace("\n", "\n   "), json.dumps(run["samples"]), 1)
    with open(path, "w") as f:
        f.write(text + "\n")
    assert json.load(open(path)) == expected


def check_private(paths):
    for path in paths:
        data = open(path, "rb").read()
        for secret in (HERE, os.path.expanduser("~"), getpass.getuser(), socket.gethostname()):
            pattern = rb"(?<![A-Za-z0-9_])" + re.escape(secret.encode()) + rb"(?![A-Za-z0-9_])"
            if re.search(pattern, data):
                sys.exit(f"{path} holds {secret!r}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write W&B transaction logs (`run-<id>.wandb`) with the real writer, wandb-core.

    python3 -m venv /tmp/wandb-venv && /tmp/wandb-venv/bin/pip install -r requirements.txt
    /tmp/wandb-venv/bin/python make_wandb_fixtures.py          # rewrites wandb/ and expected.json
    /tmp/wandb-venv/bin/python make_wandb_fixtures.py --lag    # measures how far a live file lags

Three offline runs go into one `wandb/` folder, as `wandb.init(dir=...)` lays them out: each in
`offline-run-<date>_<time>-<id>/run-<id>.wandb`, with `latest-run` a relative symlink to the last one.
Only the `.wandb` files and the symlink are kept: the debug logs wandb writes beside them hold this
machine's paths. Host name, git, code, metadata and system stats are turned off, so that the committed
bytes hold nothing of the machine (checked below). The `.wandb` files differ from run to run (wall
clocks, timestamps, random ids): `expected.json` is rewritten with them.

`expected.json` lists every value logged under the keys the tests read, as `repr()` of the Python float
(so `nan`, `inf`, `-inf` and the exact shortest decimal), with the step wandb gives it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "wandb"

os.environ["WANDB_MODE"] = "offline"
os.environ["WANDB_SILENT"] = "true"
os.environ.setdefault("WANDB_DISABLE_GIT", "true")

import wandb  # noqa: E402


def settings(**extra) -> wandb.Settings:
    return wandb.Settings(
        x_disable_meta=True,
        x_disable_stats=True,
        x_disable_machine_info=True,
        disable_code=True,
        disable_git=True,
        console="off",
        host="fixturehost",
        **extra,
    )


def kl(s: int) -> float:
    """The shared series of the other fixtures: 0.020 ... 0.030, each its own shortest decimal."""
    return round(0.02 + 0.001 * ((s * 37) % 11), 3)


EXPECTED: list[dict] = []


def expect(run: str, key: str, step: int, value: float) -> None:
    EXPECTED.append({"run": run, "key": key, "step": step, "value": repr(float(value))})


def explicit_steps(root: Path) -> None:
    """Run `grpo01`, display name `grpo-beta-0.04`: explicit `step=`, flat keys `kl` and `train/kl`,
    NaN and the infinities, extreme doubles, a step logged in two calls."""
    name = "grpo-beta-0.04"
    run = wandb.init(project="kltop-fixtures", id="grpo01", name=name, dir=str(root), settings=settings())
    specials = {
        6: math.nan,
        8: math.inf,
        10: -math.inf,
        12: 0.1 + 0.2,  # 0.30000000000000004
        14: 5e-324,  # the smallest subnormal
        16: 1.7976931348623157e308,
        18: 5.0,  # the spike
    }
    for i in range(30):
        step = 2 * i
        value = specials.get(step, kl(step))
        train_kl = kl(step + 1) / 3  # a long decimal: 0.007666666666666666
        if step == 20:
            # Two calls for one step: wandb-core merges them into one history row.
            run.log({"kl": value}, step=step)
            run.log({"train/kl": train_kl, "loss": 0.25}, step=step)
        else:
            run.log({"kl": value, "train/kl": train_kl, "loss": 0.3 + 0.01 * (i % 5)}, step=step)
        expect(name, "kl", step, value)
        expect(name, "train/kl", step, train_kl)
    run.finish()


def own_counter(root: Path) -> None:
    """Run `ppo02`, no display name: wandb's own step counter, the nested dict veRL-style loggers pass
    (`{"actor": {"kl_loss": x}}`), a flat `train/kl` beside it, an integer value, a step without KL."""
    name = "ppo02"  # no display name: the run id names it
    run = wandb.init(project="kltop-fixtures", id="ppo02", dir=str(root), settings=settings())
    step = 0
    for i in range(40):
        if i == 25:
            run.log({"reward": 0.5})  # a step with no KL key
            step += 1
            continue
        kl_loss = kl(i) if i != 31 else 0  # an int: value_json "0"
        metrics = {"actor": {"kl_loss": kl_loss, "ppo_kl": kl(i + 3) / 7}, "train/kl": kl(i + 5)}
        if i == 33:
            metrics["actor"]["kl_loss"] = math.nan
            kl_loss = math.nan
        run.log(metrics)
        expect(name, "actor/kl_loss", step, kl_loss)
        expect(name, "actor/ppo_kl", step, kl(i + 3) / 7)
        expect(name, "train/kl", step, kl(i + 5))
        step += 1
    run.finish()


def spanning_blocks(root: Path) -> None:
    """Run `big03`, display name `long-run`: enough steps for the file to span several 32 KiB blocks,
    and a config update of 70 kB, one record cut into FIRST, MIDDLE and LAST chunks."""
    name = "long-run"
    run = wandb.init(project="kltop-fixtures", id="big03", name=name, dir=str(root), settings=settings())
    for step in range(80):
        if step == 20:
            run.config.update({"notes": "x" * 70_000})
        run.log({"kl": kl(step), "entropy": 1.2 - 0.002 * (step % 50)}, step=step)
        expect(name, "kl", step, kl(step))
    run.finish()


def keep_only_transaction_logs(root: Path) -> None:
    """Copies the `.wandb` files and `latest-run` into OUT, leaving the debug logs behind."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    source = root / "wandb"
    for folder in sorted(source.iterdir()):
        if folder.is_symlink() or not folder.is_dir():
            continue
        (OUT / folder.name).mkdir()
        for log in folder.glob("*.wandb"):
            shutil.copyfile(log, OUT / folder.name / log.name)
    link = source / "latest-run"
    os.symlink(os.readlink(link), OUT / "latest-run")


def check_nothing_of_this_machine() -> None:
    needles = {socket.gethostname().encode(), str(Path.home()).encode(), tempfile.gettempdir().encode()}
    for path in OUT.rglob("*.wandb"):
        data = path.read_bytes()
        for needle in needles:
            # A host name as short as "vm" occurs by chance in binary data: look for it as protobuf
            # length-prefixed string, as the writer would store it.
            if len(needle) < 6:
                found = bytes([len(needle)]) + needle in data
            else:
                found = needle in data
            if found:
                sys.exit(f"{path}: holds {needle!r}")


def measure_lag() -> None:
    """Logs steps one by one in a live run, looking at the file's size after each, with the default
    flush interval and with x_transaction_log_flush_interval=0."""
    for interval in (None, 0.0):
        with tempfile.TemporaryDirectory() as root:
            extra = {} if interval is None else {"x_transaction_log_flush_interval": interval}
            run = wandb.init(project="lag", id="lag01", dir=root, settings=settings(**extra))
            log = next(Path(root, "wandb").glob("*/run-lag01.wandb"))
            sizes = []
            start = time.monotonic()
            for step in range(400):
                run.log({"kl": kl(step), "loss": 0.3}, step=step)
                time.sleep(0.05)
                sizes.append((step, round(time.monotonic() - start, 2), log.stat().st_size))
            run.finish()
            # With a flush interval of 0, finish() returns before wandb-core has written the last block.
            time.sleep(3)
            final = log.stat().st_size
            grown = [(s, t, n) for (s, t, n), prev in zip(sizes, [(0, 0, -1)] + sizes) if n != prev[2]]
            print(f"flush interval {interval if interval is not None else 'default (15 s)'}: size changes")
            for s, t, n in grown:
                print(f"  after step {s:4d} at {t:6.2f} s: {n} bytes")
            print(f"  at close: {final} bytes ({final - sizes[-1][2]} written at the end)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lag", action="store_true", help="measure how far a live file lags")
    arguments = parser.parse_args()
    if arguments.lag:
        measure_lag()
        return
    with tempfile.TemporaryDirectory() as root:
        explicit_steps(Path(root))
        # Run folders are named to the second: keep them apart and in order.
        time.sleep(1.1)
        own_counter(Path(root))
        time.sleep(1.1)
        spanning_blocks(Path(root))
        keep_only_transaction_logs(Path(root))
    check_nothing_of_this_machine()
    document = {"writer": f"wandb {wandb.__version__} (wandb-core), offline", "values": EXPECTED}
    (HERE / "expected.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"{len(EXPECTED)} values in expected.json")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write SwanLab run files (`run-<id>.swanlab`) with the real writer, swanlab's own SDK, offline.

    python3 -m venv /tmp/swanlab-venv && /tmp/swanlab-venv/bin/pip install -r requirements.txt
    /tmp/swanlab-venv/bin/python make_swanlab_fixtures.py      # rewrites swanlog/ and expected.json

Four runs go into one `swanlog/` folder, as `swanlab.init(mode="offline", logdir=...)` lays them out:
each in `run-<date>_<time>-<id>/run-<id>.swanlab`, beside `files/` (an empty config and metadata) and
`debug/debug.log`. SwanLab makes no latest-run link; the `.gitignore` (`*`) it puts in `swanlog/` is
left out.

What is post-processed, and why: the writer stores absolute paths of the run folder in two `save`
records (`files/swanlab-metadata.json`, `files/config.yaml`) and in `debug/debug.log`. Those paths are
rewritten relative to the run folder, and the file re-framed with swanlab's own `DataStoreWriter`, so
that the framing and CRCs are still the writer's. Nothing else is changed: every other record's bytes
are what swanlab serialised. Terminal capture (`proxy_type="none"`), hardware, runtime, requirements,
git and monitor probes are turned off, so that no host name, user or environment is recorded (checked
below).

The live run, `live-run`, is a copy of its file as it was on disk while the run was still logging,
after 600 of its steps: swanlab's writer does not flush per record (Python's buffered file writes
whole buffers), so the file ends inside a record. Its copy is cut at the same place in the re-framed
file: the records complete at that moment, then as many bytes of the next one as were on disk.

`expected.json` lists every value logged under the keys the tests read, as `repr()` of the Python
float (`nan`, `inf`, `-inf`, shortest decimals), with the step swanlab gives it; for the live run,
only the values whose records were complete on disk. Each run's values are checked against the file
with swanlab's own `DataStoreReader`.
"""
from __future__ import annotations

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
OUT = HERE / "swanlog"

import swanlab  # noqa: E402
from swanlab.proto.swanlab.record.v1.record_pb2 import Record  # noqa: E402
from swanlab.sdk.internal.core_python.store import DataStoreReader, DataStoreWriter  # noqa: E402

S = swanlab.Settings


def settings(log_dir: Path) -> swanlab.Settings:
    return S(
        log_dir=str(log_dir),
        terminal=S.Terminal(proxy_type="none"),
        probe=S.Probe(hardware=False, runtime=False, requirements=False, git=False, swanlab=False, monitor=False),
    )


def kl(s: int) -> float:
    """The shared series of the other fixtures: 0.020 ... 0.030, each its own shortest decimal."""
    return round(0.02 + 0.001 * ((s * 37) % 11), 3)


EXPECTED: list[dict] = []


def expect(run: str, key: str, step: int, value: float) -> None:
    EXPECTED.append({"run": run, "key": key, "step": step, "value": repr(float(value))})


def implicit_steps(root: Path) -> None:
    """`grpo-seed0`: swanlab's own step counter (0, 1, ...), a nested dict as veRL logs it
    (`{"actor": {"ppo_kl": .., "kl_loss": ..}}`, flattened to `actor/ppo_kl` and `actor/kl_loss`, the
    update-size key first), NaN and the infinities, extreme doubles, a boolean."""
    name = "grpo-seed0"
    swanlab.init(project="kltop-fixtures", experiment_name=name, mode="offline", settings=settings(root))
    specials = {6: math.nan, 8: math.inf, 10: -math.inf, 12: 0.1 + 0.2, 14: 5e-324, 16: 1.7976931348623157e308,
                18: 5.0, 20: 0.0, 22: -0.0}
    for step in range(40):
        kl_loss = specials.get(step, kl(step))
        ppo_kl = kl(step + 3) / 7  # a long decimal
        swanlab.log({"actor": {"ppo_kl": ppo_kl, "kl_loss": kl_loss}, "train": {"reward": 0.1 + 0.005 * step},
                     "done": step == 39})
        expect(name, "actor/ppo_kl", step, ppo_kl)
        expect(name, "actor/kl_loss", step, kl_loss)
    swanlab.finish()


def explicit_steps(root: Path) -> None:
    """`ppo-explicit`: explicit `step=` (every 8th), a step without KL, one step logged in two calls,
    then swanlab's counter again (it goes on from the largest step given)."""
    name = "ppo-explicit"
    swanlab.init(project="kltop-fixtures", experiment_name=name, mode="offline", settings=settings(root))
    for i in range(30):
        step = 8 * i
        if i == 5:
            swanlab.log({"train/reward": 0.5}, step=step)  # no KL at this step
            continue
        if i == 9:
            swanlab.log({"train/kl": kl(step)}, step=step)
            swanlab.log({"train/loss": 0.25}, step=step)
        else:
            swanlab.log({"train/kl": kl(step), "train/loss": 0.3 + 0.01 * (i % 5)}, step=step)
        expect(name, "train/kl", step, kl(step))
    for step in range(233, 238):  # implicit: 8 * 29 + 1 onwards
        swanlab.log({"train/kl": kl(step) / 3})
        expect(name, "train/kl", step, kl(step) / 3)
    swanlab.finish()


def spanning_blocks(root: Path) -> None:
    """`long-run`: enough steps and keys for the file to span several 32 KiB blocks (records cut into
    FIRST and LAST chunks at every block boundary)."""
    name = "long-run"
    swanlab.init(project="kltop-fixtures", experiment_name=name, mode="offline", settings=settings(root))
    for step in range(900):
        swanlab.log({"train/kl": kl(step), "train/entropy": 1.2 - 0.002 * (step % 50), "train/loss": 0.3})
        expect(name, "train/kl", step, kl(step))
    swanlab.finish()


LIVE_STEPS_ON_DISK = 600


def live(root: Path) -> tuple[int, int]:
    """`live-run`: logs 800 steps; after 600, the size of its file on disk is taken (the run still
    logging). Returns that size and the number of records complete in it."""
    name = "live-run"
    run = swanlab.init(project="kltop-fixtures", experiment_name=name, mode="offline", settings=settings(root))
    for step in range(800):
        swanlab.log({"train/kl": kl(step) + step * 1e-6, "train/loss": 0.3})
        if step == LIVE_STEPS_ON_DISK - 1:
            time.sleep(1.0)  # let swanlab's consumer write what it was given
            path = next(root.glob(f"run-*-{run.id}/run-{run.id}.swanlab"))
            snapshot = path.read_bytes()
    swanlab.finish()
    records = read_records(snapshot)
    for record in records:
        if record.WhichOneof("record_type") == "scalar" and record.scalar.key == "train/kl":
            expect(name, "train/kl", record.scalar.step, record.scalar.value.number)
    return len(snapshot), len(records)


def read_records(data: bytes) -> list[Record]:
    """The complete records of a file's bytes, read by swanlab's own reader (it stops at a cut one)."""
    with tempfile.NamedTemporaryFile(suffix=".swanlab") as file:
        file.write(data)
        file.flush()
        reader = DataStoreReader()
        reader.open(file.name)
        records = []
        for payload in reader:
            record = Record()
            record.ParseFromString(payload)
            records.append(record)
        reader.close()
    return records


def frame(records: list[Record], path: Path) -> list[int]:
    """Writes `records` with swanlab's writer; returns each record's start offset, and the end."""
    writer = DataStoreWriter()
    writer.open(path)
    starts = []
    for record in records:
        starts.append(writer._index)
        writer.write(record.SerializeToString())
    starts.append(writer._index)
    writer.close()
    return starts


def relative_paths(records: list[Record], run_folder: Path) -> list[Record]:
    for record in records:
        if record.WhichOneof("record_type") == "save" and record.save.source_path:
            record.save.source_path = os.path.relpath(record.save.source_path, run_folder)
    return records


def copy_runs(root: Path, live_cut: tuple[int, int]) -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    shutil.copytree(root, OUT)
    # swanlab puts a `.gitignore` of `*` in its log folder: not committed.
    (OUT / ".gitignore").unlink()
    for folder in sorted(OUT.glob("run-*")):
        log = next(folder.glob("run-*.swanlab"))
        original = log.read_bytes()
        records = relative_paths(read_records(original), root / folder.name)
        log.unlink()
        starts = frame(records, log)
        if folder.name.endswith(LIVE_ID):
            # Cut where the live file ended: inside record `complete`, as many bytes into it as were there.
            size, complete = live_cut
            original_starts = frame(read_records(original), Path(tempfile.mkdtemp()) / "x.swanlab")
            cut = starts[complete] + (size - original_starts[complete])
            log.write_bytes(log.read_bytes()[:cut])
            print(f"live-run: {size} bytes on disk after {LIVE_STEPS_ON_DISK} steps, {complete} records"
                  f" complete, {size - original_starts[complete]} bytes of the next; cut at {cut}")
        debug = folder / "debug" / "debug.log"
        if debug.exists():
            debug.write_text(debug.read_text().replace(str(root), "swanlog"))


LIVE_ID = ""


def check_nothing_of_this_machine() -> None:
    needles = {socket.gethostname().encode(), str(Path.home()).encode(), tempfile.gettempdir().encode(),
               os.environ.get("USER", "root").encode(), str(HERE).encode(), sys.prefix.encode()}
    for path in OUT.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for needle in needles:
            # A short name occurs by chance in binary data: look for it as a protobuf string.
            found = (bytes([len(needle)]) + needle in data) if len(needle) < 6 else needle in data
            if found:
                sys.exit(f"{path}: holds {needle!r}")


def check_expected() -> None:
    """Every expected value is in its run's file, read by swanlab's reader, at its step."""
    for folder in sorted(OUT.glob("run-*")):
        records = read_records(next(folder.glob("run-*.swanlab")).read_bytes())
        name = next(r.start.name for r in records if r.WhichOneof("record_type") == "start")
        written = [(r.scalar.key, r.scalar.step, repr(r.scalar.value.number)) for r in records
                   if r.WhichOneof("record_type") == "scalar"]
        wanted = [(e["key"], e["step"], e["value"]) for e in EXPECTED if e["run"] == name]
        keys = {key for key, _, _ in wanted}
        got = [w for w in written if w[0] in keys]
        if got != wanted:
            sys.exit(f"{name}: the file holds {got[:5]}..., expected {wanted[:5]}...")
        print(f"{name}: {len(wanted)} values, {len(records)} records, {folder.name}")


def main() -> None:
    global LIVE_ID
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "swanlog"
        implicit_steps(root)
        # Run folders are named to the second: keep them apart and in order.
        time.sleep(1.1)
        explicit_steps(root)
        time.sleep(1.1)
        spanning_blocks(root)
        time.sleep(1.1)
        live_cut = live(root)
        LIVE_ID = sorted(root.glob("run-*"))[-1].name.rsplit("-", 1)[1]
        copy_runs(root, live_cut)
    check_nothing_of_this_machine()
    check_expected()
    document = {"writer": f"swanlab {swanlab.__version__}, offline", "values": EXPECTED}
    (HERE / "expected.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"{len(EXPECTED)} values in expected.json")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Save what sb3/progress.csv and lightning/.../metrics.csv looked like just before each header rewrite.

    python3 make_rewrite_states.py

Both writers add a key by rewriting the whole file with a wider header. A reader following the file sees
each of these states in turn. This replays make_fixtures.make_sb3 and make_lightning (the same writer code
from the same wheels, the same calls) in a temporary folder, wrapping the writer's own write()/save() only
to copy the file after each call, and keeps the last state before every header change in rewrites/.
It checks that the final state is byte for byte the committed fixture.
"""
import builtins
import shutil
import tempfile
from pathlib import Path

import make_fixtures as mf  # re-executes this script with PYTHONHASHSEED=0

HERE = Path(__file__).resolve().parent
SNAPSHOTS: list[bytes] = []
builtins._kltop_snapshots = SNAPSHOTS

SB3_HOOK = """
_kltop_write = CSVOutputFormat.write
def _kltop_snapshot_write(self, *args, **kwargs):
    _kltop_write(self, *args, **kwargs)
    self.file.flush()
    import builtins
    with open(self.file.name, "rb") as f:
        builtins._kltop_snapshots.append(f.read())
CSVOutputFormat.write = _kltop_snapshot_write
"""

original_source = mf.upstream_source
original_defs = mf.upstream_defs


def hooked_source(requirement, relpath):
    src = original_source(requirement, relpath)
    return src + SB3_HOOK if relpath.endswith("common/logger.py") else src


def hooked_defs(requirement, relpath, names, namespace):
    result = original_defs(requirement, relpath, names, namespace)
    writer = namespace.get("_ExperimentWriter")
    if writer is not None and not hasattr(writer, "_kltop"):
        save = writer.save

        def snapshot_save(self):
            save(self)
            with open(self.metrics_file_path, "rb") as f:
                SNAPSHOTS.append(f.read())

        writer.save = snapshot_save
        writer._kltop = True
    return result


def states_before_rewrites(snapshots):
    """The last snapshot before each change of header line."""
    kept = []
    for before, after in zip(snapshots, snapshots[1:]):
        if before.split(b"\n", 1)[0] != after.split(b"\n", 1)[0]:
            kept.append(before)
    return kept


def main():
    mf.upstream_source = hooked_source
    mf.upstream_defs = hooked_defs
    with tempfile.TemporaryDirectory() as tmp:
        mf.HERE = Path(tmp)
        for make, final, out in [
            (mf.make_sb3, "sb3/progress.csv", "sb3/rewrites/progress.before_rewrite_{}.csv"),
            (mf.make_lightning, "lightning/lightning_logs/version_0/metrics.csv",
             "lightning/rewrites/metrics.before_rewrite_{}.csv"),
        ]:
            SNAPSHOTS.clear()
            make()
            assert SNAPSHOTS[-1] == (HERE / final).read_bytes(), f"replay of {final} differs from the fixture"
            target = (HERE / out).parent
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            states = states_before_rewrites(SNAPSHOTS)
            for number, state in enumerate(states, 1):
                (HERE / out.format(number)).write_bytes(state)
            print(f"{final}: {len(SNAPSHOTS)} writes, {len(states)} header rewrites")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Regenerate every fixture under Tests/Fixtures/formats/ with the REAL writers.

    python3 -m pip install -r requirements.txt
    python3 make_fixtures.py            # rewrites the fixtures in place

Deterministic and re-runnable: wall clocks, host names and pids are frozen,
PYTHONHASHSEED is pinned to 0 (SB3's CSV writer orders new columns by set
iteration), and every output is deleted before it is rewritten.  Two runs
produce byte-identical files (check with `git diff --stat`).

Writers that need torch (stable-baselines3, lightning, veRL, OpenRLHF and the
old transformers 4.46.3 callback) are NOT installed: their pinned wheels are
fetched with `pip download --no-deps` into a cache
($KLTOP_FIXTURE_WHEELS, default <tmp>/kltop-fixture-wheels) and the writer
source is executed unmodified from the wheel (only `torch` is stubbed; the
writers never touch it except for isinstance checks / annotations).
See README.md for exactly which function wrote which file.
"""
from __future__ import annotations

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import ast
import contextlib
import io
import json
import linecache
import logging
import math
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import traceback
import types
import warnings
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BASE_T = 1700000000.0          # frozen wall clock (2023-11-14T22:13:20Z)
HOST = "fixturehost"
PID = 4242

EXPECTED: dict = {}            # written to expected.json at the end

# ---------------------------------------------------------------------------
# The shared deterministic series.  Every value is the float whose shortest
# repr is the printed decimal (e.g. 0.023), so text formats show it exactly.
# ---------------------------------------------------------------------------


def kl_at(s: int, spike: int | None) -> float:
    if spike is not None and s == spike:
        return 5.0
    return float(f"{0.02 + 0.001 * ((s * 37) % 11):.3f}")   # 0.020 .. 0.030


def loss_at(s: int) -> float:
    return float(f"{0.3 + 0.01 * ((s * 7) % 5):.2f}")         # 0.30 .. 0.34


def entropy_at(s: int) -> float:
    return float(f"{1.2 - 0.002 * (s % 50):.3f}")             # 1.200 .. 1.102


def reward_at(s: int) -> float:
    return float(f"{0.1 + 0.005 * (s % 40):.3f}")             # 0.100 .. 0.295


def expect(name: str, **info) -> None:
    EXPECTED[name] = info


def fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


# ---------------------------------------------------------------------------
# Upstream source from pinned wheels (for writers that would need torch)
# ---------------------------------------------------------------------------

WHEEL_CACHE = Path(os.environ.get("KLTOP_FIXTURE_WHEELS",
                                  Path(tempfile.gettempdir()) / "kltop-fixture-wheels"))


def upstream_source(requirement: str, relpath: str) -> str:
    """Text of `relpath` inside the wheel of `requirement` (name==version)."""
    name, version = requirement.split("==")
    norm = name.replace("-", "_").lower()
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)

    def find():
        for w in WHEEL_CACHE.glob("*.whl"):
            parts = w.name.split("-")
            if parts[0].lower() == norm and parts[1] == version:
                return w
        return None

    wheel = find()
    if wheel is None:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--only-binary=:all:", requirement, "-d", str(WHEEL_CACHE)])
        wheel = find()
    with zipfile.ZipFile(wheel) as z:
        member = [n for n in z.namelist() if n == relpath or n.endswith("/purelib/" + relpath)]
        return z.read(member[0]).decode("utf-8")


def upstream_defs(requirement: str, relpath: str, names: list[str], namespace: dict) -> dict:
    """Exec the named top-level defs/assignments of an upstream file, verbatim."""
    src = upstream_source(requirement, relpath)
    tree = ast.parse(src)
    chunks = []
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in names:
            chunks.append(ast.get_source_segment(src, node))
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in names for t in node.targets):
            chunks.append(ast.get_source_segment(src, node))
    code = compile("\n\n".join(chunks), f"<{requirement}:{relpath}>", "exec")
    exec(code, namespace)
    return namespace


class _FakeTensor:               # stand-in for torch.Tensor (0-d float32 tensor)
    def __init__(self, v):
        self.v = np.float32(v)

    def item(self):
        return float(self.v)


@contextlib.contextmanager
def torch_stub():
    mod = types.ModuleType("torch")
    mod.Tensor = _FakeTensor
    saved = sys.modules.get("torch")
    sys.modules["torch"] = mod
    try:
        yield mod
    finally:
        if saved is None:
            sys.modules.pop("torch", None)
        else:
            sys.modules["torch"] = saved


class Clock:
    """Frozen, manually advanced clock usable as time.time / tqdm's timer."""

    def __init__(self, t: float = BASE_T):
        self.t = t

    def __call__(self) -> float:
        return self.t

    time = __call__


class _OsShim:
    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def getpid():
        return PID


# ---------------------------------------------------------------------------
# 1. TensorBoard event files
# ---------------------------------------------------------------------------

def make_tensorboard():
    import tensorboard
    import tensorboardX
    import tensorboardX.event_file_writer as tbx_efw
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.summary import Writer as TBWriter
    from tensorboard.summary.writer import event_file_writer as tb_efw

    clock = Clock()
    host = types.SimpleNamespace(gethostname=lambda: HOST)
    tbx_efw.time = clock                       # module attr `time` -> object with .time()
    tbx_efw.socket = host
    tb_efw.time = clock
    tb_efw.socket = host
    tb_efw.os = _OsShim()

    root = fresh(HERE / "tensorboard")

    # (a) single run, tensorboardX SummaryWriter.add_scalar -> simple_value
    d = root / "single_run"
    clock.t = BASE_T
    w = tensorboardX.SummaryWriter(str(d))
    for s in range(200):
        wt = BASE_T + s
        w.add_scalar("train/kl", kl_at(s, 137), s, walltime=wt)
        w.add_scalar("train/loss", loss_at(s), s, walltime=wt)
        w.add_scalar("train/entropy", entropy_at(s), s, walltime=wt)
        w.add_scalar("train/reward", reward_at(s), s, walltime=wt)
    w.close()
    expect("tensorboard/single_run", writer=f"tensorboardX {tensorboardX.__version__} SummaryWriter.add_scalar",
           kl_tag="train/kl", value_field="simple_value (float32)", steps=[0, 199], spike_step=137,
           other_tags=["train/loss", "train/entropy", "train/reward"], wall_time="1700000000+step",
           files=sorted(p.name for p in d.iterdir()))

    # (b) logdir with two runs
    d = root / "multi_run" / "run_a"
    clock.t = BASE_T
    w = tensorboardX.SummaryWriter(str(d))
    for s in range(100):
        w.add_scalar("train/kl", kl_at(s, 42), s, walltime=BASE_T + s)
        w.add_scalar("train/loss", loss_at(s), s, walltime=BASE_T + s)
    w.close()
    # run_b: tensorboard's own EventFileWriter (the writer torch.utils.tensorboard
    # uses) with the Summary that torch.utils.tensorboard.summary.scalar() builds
    # for new_style=False: Summary(value=[Summary.Value(tag=..., simple_value=...)]).
    d = root / "multi_run" / "run_b"
    clock.t = BASE_T
    ew = tb_efw.EventFileWriter(str(d))
    for s in range(100):
        for tag, v in (("train/kl", kl_at(s, None)), ("train/loss", loss_at(s))):
            ev = event_pb2.Event(wall_time=BASE_T + s, step=s,
                                 summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=v)]))
            ew.add_event(ev)
    ew.close()
    expect("tensorboard/multi_run", runs={
        "run_a": dict(writer=f"tensorboardX {tensorboardX.__version__}", kl_tag="train/kl", steps=[0, 99], spike_step=42,
                      files=sorted(p.name for p in (root / "multi_run/run_a").iterdir())),
        "run_b": dict(writer=f"tensorboard {tensorboard.__version__} EventFileWriter (torch.utils.tensorboard style)",
                      kl_tag="train/kl", steps=[0, 99], spike_step=None, max_kl=0.03,
                      files=sorted(p.name for p in d.iterdir()))})

    # (c) scalars stored as tensors
    d = root / "tensor_scalars" / "tb_summary_writer"
    clock.t = BASE_T
    tw = TBWriter(str(d))          # tensorboard.summary.Writer: TF-free, numpy-only
    for s in range(100):
        tw.add_scalar("train/kl", kl_at(s, 60), s, wall_time=BASE_T + s)
        tw.add_scalar("train/loss", loss_at(s), s, wall_time=BASE_T + s)
    tw.close()

    # Hand-built (labelled): the layout TF2's C++ summary writer produces for
    # tf.summary.scalar -- TensorProto with tensor_content (raw little-endian
    # bytes) instead of float_val; plugin metadata only on the first event of
    # each tag.  Written through tensorboard's real EventFileWriter.
    d2 = root / "tensor_scalars" / "tensor_content_handbuilt"
    clock.t = BASE_T
    ew = tb_efw.EventFileWriter(str(d2))
    meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DATA_CLASS_SCALAR)
    for s in range(100):
        ev = event_pb2.Event(wall_time=BASE_T + s, step=s)
        v = ev.summary.value.add(tag="train/kl")
        v.tensor.CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                                 tensor_content=struct.pack("<f", kl_at(s, 60))))
        if s == 0:
            v.metadata.CopyFrom(meta)
        v = ev.summary.value.add(tag="train/loss")
        v.tensor.CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                                 tensor_content=struct.pack("<d", loss_at(s))))
        if s == 0:
            v.metadata.CopyFrom(meta)
        ew.add_event(ev)
    ew.close()
    expect("tensorboard/tensor_scalars", runs={
        "tb_summary_writer": dict(writer=f"tensorboard {tensorboard.__version__} tensorboard.summary.Writer.add_scalar",
                                  kl_tag="train/kl", value_field="tensor.float_val[0] (DT_FLOAT, shape [])",
                                  steps=[0, 99], spike_step=60, files=sorted(p.name for p in d.iterdir())),
        "tensor_content_handbuilt": dict(writer="HAND-BUILT Event protos (tensorboard protobuf classes) via tensorboard EventFileWriter",
                                         kl_tag="train/kl", value_field="tensor.tensor_content: 4 bytes <f (DT_FLOAT); train/loss 8 bytes <d (DT_DOUBLE)",
                                         steps=[0, 99], spike_step=60, files=sorted(p.name for p in d2.iterdir()))})

    # (d) one run split over two event files (writer closed and reopened)
    d = root / "split_run"
    clock.t = BASE_T
    w = tensorboardX.SummaryWriter(str(d))
    for s in range(60):
        w.add_scalar("train/kl", kl_at(s, 90), s, walltime=BASE_T + s)
        w.add_scalar("train/loss", loss_at(s), s, walltime=BASE_T + s)
    w.close()
    clock.t = BASE_T + 600
    w = tensorboardX.SummaryWriter(str(d))
    for s in range(60, 120):
        w.add_scalar("train/kl", kl_at(s, 90), s, walltime=BASE_T + 600 + s)
        w.add_scalar("train/loss", loss_at(s), s, walltime=BASE_T + 600 + s)
    w.close()
    expect("tensorboard/split_run", writer=f"tensorboardX {tensorboardX.__version__}", kl_tag="train/kl",
           steps=[0, 119], spike_step=90, files=sorted(p.name for p in d.iterdir()),
           file_steps={"events.out.tfevents.1700000000.fixturehost": [0, 59],
                       "events.out.tfevents.1700000600.fixturehost": [60, 119]})

    # (e) DERIVED, not a writer's output: a live file caught mid-write -- the
    # first split_run file minus its last 7 bytes (the train/loss@59 record is cut).
    src = d / "events.out.tfevents.1700000000.fixturehost"
    t = root / "truncated_tail"
    t.mkdir()
    (t / src.name).write_bytes(src.read_bytes()[:-7])
    expect("tensorboard/truncated_tail", writer="DERIVED: split_run's first file with its last 7 bytes removed",
           kl_tag="train/kl", steps=[0, 59], spike_step=None, complete_records=120, total_records_before_cut=121,
           files=[src.name])


# ---------------------------------------------------------------------------
# 2a. stable-baselines3 progress.csv (real CSVOutputFormat + Logger from the wheel)
# ---------------------------------------------------------------------------

SB3 = "stable-baselines3==2.9.2"


def make_sb3():
    src = upstream_source(SB3, "stable_baselines3/common/logger.py")
    with torch_stub():
        mod = types.ModuleType("sb3_logger")
        mod.__file__ = "stable_baselines3/common/logger.py"
        exec(compile(src, "stable_baselines3/common/logger.py", "exec"), mod.__dict__)
    out = fresh(HERE / "sb3")
    out.mkdir()
    csv_fmt = mod.CSVOutputFormat(str(out / "progress.csv"))
    logger = mod.Logger(str(out), [csv_fmt])
    n_steps = 2048
    # Mirrors OnPolicyAlgorithm.learn(): dump_logs(iteration) runs BEFORE
    # self.train(), so train/* recorded by PPO.train() land in the next row.
    for it in range(1, 41):
        ts = n_steps * it
        # OnPolicyAlgorithm.dump_logs() order
        logger.record("time/iterations", it, exclude="tensorboard")
        if it >= 3:   # first episodes finish during iteration 3 -> second header rewrite
            logger.record("rollout/ep_rew_mean", np.float64(reward_at(it)))
            logger.record("rollout/ep_len_mean", np.float64(200.0 + it))
        logger.record("time/fps", 1000 + it)
        logger.record("time/time_elapsed", 2 * it, exclude="tensorboard")
        logger.record("time/total_timesteps", ts, exclude="tensorboard")
        logger.dump(step=ts)
        # PPO.train() record order
        k = it + 1        # the row of iteration it+1 carries these
        logger.record("train/entropy_loss", np.float64(-entropy_at(k)))
        logger.record("train/policy_gradient_loss", np.float64(-0.001 * (k % 7)))
        logger.record("train/value_loss", np.float64(loss_at(k)))
        logger.record("train/approx_kl", np.float64(kl_at(k, 26)))
        logger.record("train/clip_fraction", np.float64(0.01 * (k % 4)))
        logger.record("train/loss", loss_at(k) / 2)
        logger.record("train/explained_variance", np.float64(0.5))
        logger.record("train/n_updates", 10 * it, exclude="tensorboard")
        logger.record("train/clip_range", 0.2)
    logger.close()
    expect("sb3/progress.csv", writer=f"{SB3} stable_baselines3.common.logger.CSVOutputFormat (wheel source, torch stubbed)",
           kl_key="train/approx_kl", step_key="time/total_timesteps", rows=40,
           kl_present_for_iterations=[2, 40], kl_value="kl_at(time/iterations)",
           spike_step={"time/iterations": 26, "time/total_timesteps": 26 * 2048},
           header_rewrites=2, line_ending="\\n")


# ---------------------------------------------------------------------------
# 2b. Lightning metrics.csv (real lightning_fabric _ExperimentWriter from the wheel)
# ---------------------------------------------------------------------------

FABRIC = "lightning-fabric==2.6.6"


def make_lightning():
    import csv
    import fsspec
    from typing import Any, Optional, Union

    def get_filesystem(path, **kwargs):           # lightning_fabric.utilities.cloud_io.get_filesystem
        fs, _ = fsspec.core.url_to_fs(str(path), **kwargs)
        return fs

    ns = dict(csv=csv, os=os, Tensor=_FakeTensor, get_filesystem=get_filesystem,
              rank_zero_warn=warnings.warn, Any=Any, Optional=Optional, Union=Union, __name__="lightning_csv")
    upstream_defs(FABRIC, "lightning_fabric/loggers/csv_logs.py", ["_ExperimentWriter"], ns)
    out = fresh(HERE / "lightning")
    writer = ns["_ExperimentWriter"](str(out / "lightning_logs" / "version_0"))

    def log(metrics, step):
        # pytorch_lightning _LoggerConnector.log_metrics: tensors -> .item(),
        # then logger.log_metrics(...) followed by logger.save()
        writer.log_metrics(metrics, step)
        writer.save()

    for epoch in range(3):
        losses = []
        for b in range(20):
            s = epoch * 20 + b
            losses.append(loss_at(s))
            log({"train/kl": _FakeTensor(kl_at(s, 45)), "train/loss_step": _FakeTensor(loss_at(s)),
                 "train/entropy": _FakeTensor(entropy_at(s)), "epoch": epoch}, s)
        last = epoch * 20 + 19
        log({"val/reward": _FakeTensor(reward_at(epoch)), "epoch": epoch}, last)
        log({"train/loss_epoch": _FakeTensor(sum(losses) / len(losses)), "epoch": epoch}, last)
    expect("lightning/lightning_logs/version_0/metrics.csv",
           writer=f"{FABRIC} lightning_fabric.loggers.csv_logs._ExperimentWriter (wheel source, torch stubbed)",
           kl_key="train/kl", step_key="step", steps=[0, 59], spike_step=45,
           values="float32-widened (Tensor.item()): 0.023 is written 0.023000000044703484",
           sparse_rows="2 extra rows per epoch at steps 19, 39, 59 (val/reward, then train/loss_epoch)",
           line_ending="\\r\\n")


# ---------------------------------------------------------------------------
# 3. rlwatch SQLite store (rlwatch's own RLWatch monitor + MetricStore)
# ---------------------------------------------------------------------------

def make_rlwatch(console_dir: Path):
    import rlwatch
    import rlwatch.storage
    from rlwatch.config import load_config
    from rlwatch.core import RLWatch

    for k in list(os.environ):
        if k.startswith("RLWATCH_"):
            del os.environ[k]
    clock = Clock()

    class _T:            # rlwatch.storage uses time.time() for started_at / timestamps
        @staticmethod
        def time():
            clock.t += 0.5
            return clock.t

    rlwatch.storage.time = _T
    out = fresh(HERE / "rlwatch")
    out.mkdir()
    cwd = os.getcwd()
    os.chdir(out)
    err = io.StringIO()
    alerts = {}
    try:
        with contextlib.redirect_stderr(err):
            # run 1: KL spike at 70 (+ a grad-norm spike at 100); run 2: no KL spike, NaN loss at 50
            for run_id, n, spike, gn_spike, nan_loss in (("ppo_kl_spike", 120, 70, 100, None),
                                                         ("grpo_calm", 80, None, None, 50)):
                cfg = load_config(None, run_id=run_id, framework="manual", storage={"log_dir": "rlwatch_logs"})
                mon = RLWatch(cfg)
                mon.start()
                alerts[run_id] = []
                for s in range(n):
                    extra = {"kl_coef": 0.001} if run_id == "ppo_kl_spike" else {}
                    sent = mon.log_step(s, kl_divergence=kl_at(s, spike), entropy=entropy_at(s),
                                        reward_mean=reward_at(s),
                                        loss=float("nan") if s == nan_loss else loss_at(s), learning_rate=1e-6,
                                        grad_norm=50.0 if s == gn_spike else 1.0 + 0.01 * (s % 10), **extra)
                    alerts[run_id] += [(a.step, a.detector, a.severity) for a in sent]
                mon.stop()
    finally:
        os.chdir(cwd)
    db = out / "rlwatch_logs" / "metrics.db"
    assert not Path(str(db) + "-wal").exists() and not Path(str(db) + "-shm").exists()
    (console_dir / "rlwatch_alerts_stderr.log").write_text(err.getvalue(), encoding="utf-8")
    # immutable=1: a plain read-only open of a WAL-mode db would create -shm/-wal files
    con = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    schema = [r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    con.close()
    expect("rlwatch/rlwatch_logs/metrics.db", writer=f"rlwatch {rlwatch.__version__} RLWatch.log_step -> MetricStore",
           kl_column="metrics.kl_divergence", runs={
               "ppo_kl_spike": dict(steps=[0, 119], spike_step=70, grad_norm_spike_step=100,
                                    extra_json='{"kl_coef": 0.001}', alerts=alerts["ppo_kl_spike"]),
               "grpo_calm": dict(steps=[0, 79], spike_step=None, nan_loss_step=50, alerts=alerts["grpo_calm"])},
           journal_mode="wal (header bytes 18/19 = 2)", schema=schema)


# ---------------------------------------------------------------------------
# 4. TRL / transformers trainer_state.json  (+ console dicts for section 5)
# ---------------------------------------------------------------------------

def grpo_logs(s: int) -> dict:
    """What GRPOTrainer.log() hands to Trainer.log() at global_step s (logging_steps=1)."""
    logs = {"loss": loss_at(s) / 10, "grad_norm": float("nan") if s == 34 else 0.25 + 0.01 * (s % 9),
            "learning_rate": 1e-06 * (1 - s / 60)}
    logs.update({
        "num_tokens": float(4096 * s),
        "completions/mean_length": 180.0 + s,
        "completions/clipped_ratio": 0.0,
        "rewards/accuracy_reward/mean": reward_at(s),
        "reward": reward_at(s),
        "reward_std": 0.125,
        "frac_reward_zero_std": 0.25,
        "kl": kl_at(s, 33),
        "entropy": entropy_at(s),
        "clip_ratio/region_mean": 0.0,
    })
    return logs


def make_trl(console_dir: Path):
    import transformers
    from transformers.trainer_callback import TrainerControl, TrainerState

    out = fresh(HERE / "trl")

    # --- GRPO (kl) -------------------------------------------------------
    max_steps = 60
    st = TrainerState(max_steps=max_steps, logging_steps=1, eval_steps=20, save_steps=60, train_batch_size=8,
                      num_train_epochs=1, stateful_callbacks=[TrainerControl()])
    for s in range(1, max_steps + 1):
        st.global_step = s
        st.epoch = s / max_steps
        st.num_input_tokens_seen = 4096 * s
        logs = grpo_logs(s)
        logs["epoch"] = st.epoch                      # Trainer.log()
        st.log_history.append({**logs, "step": s})
        if s % 20 == 0:                               # Trainer.evaluate() -> log(metrics) with eval_ prefix
            ev = {"eval_loss": loss_at(s) / 10, "eval_runtime": 12.5, "eval_samples_per_second": 6.4,
                  "eval_steps_per_second": 0.8, "eval_reward": reward_at(s), "eval_kl": kl_at(s, None),
                  "epoch": st.epoch}
            st.log_history.append({**ev, "step": s})
    summary = {"train_runtime": 1234.5678, "train_samples_per_second": 0.389, "train_steps_per_second": 0.049,
               "total_flos": 0.0, "train_loss": 0.032, "epoch": 1.0}
    st.log_history.append({**summary, "step": max_steps})
    st.total_flos = 0.0
    d = out / "grpo" / "checkpoint-60"
    d.mkdir(parents=True)
    st.save_to_json(str(d / "trainer_state.json"))
    expect("trl/grpo/checkpoint-60/trainer_state.json",
           writer=f"transformers {transformers.__version__} TrainerState.save_to_json", kl_key="kl",
           steps=[1, 60], spike_step=33,
           nan="grad_norm at step 34 is written as bare NaN (json.dumps allow_nan) -- not valid strict JSON",
           notes="log_history also has eval entries (eval_kl, no kl) at steps 20/40/60 and a final train_runtime entry at step 60 (no kl)")

    # --- Online DPO (objective/kl), logging_steps=2 -----------------------
    max_steps = 40
    st = TrainerState(max_steps=max_steps, logging_steps=2, eval_steps=500, save_steps=40, train_batch_size=4,
                      num_train_epochs=2, stateful_callbacks=[TrainerControl()])
    for s in range(2, max_steps + 1, 2):
        st.global_step = s
        st.epoch = 2 * s / max_steps
        logs = {"loss": round(loss_at(s), 4), "grad_norm": 1.5, "learning_rate": 5e-07}   # OnlineDPOTrainer rounds loss
        logs.update({"objective/kl": kl_at(s, 24), "objective/entropy": entropy_at(s) * 100,
                     "objective/non_score_reward": -0.1 * kl_at(s, 24), "objective/rlhf_reward": reward_at(s),
                     "objective/scores": reward_at(s), "rewards/chosen": 0.5, "rewards/rejected": 0.25,
                     "rewards/margins": 0.25, "rewards/accuracies": 0.75, "beta": 0.1})
        logs["epoch"] = st.epoch
        st.log_history.append({**logs, "step": s})
    d = out / "online_dpo" / "checkpoint-40"
    d.mkdir(parents=True)
    st.save_to_json(str(d / "trainer_state.json"))
    expect("trl/online_dpo/checkpoint-40/trainer_state.json",
           writer=f"transformers {transformers.__version__} TrainerState.save_to_json", kl_key="objective/kl",
           steps=[2, 40], step_stride=2, spike_step=24)

    make_hf_console(console_dir)


# ---------------------------------------------------------------------------
# 5. Console captures
# ---------------------------------------------------------------------------

def _capture():
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="", write_through=True)


def _capture_bytes(cap) -> bytes:
    cap.flush()
    return cap.buffer.getvalue()


@contextlib.contextmanager
def console_to(cap):
    """`python train.py 2>&1 | tee log`: stdout and stderr are one stream."""
    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = cap
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old


def _fake_script(filename: str, source: str, ns: dict):
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), ns)


TRACEBACK_SCRIPT = '''\
import traceback, sys
class OutOfMemoryError(RuntimeError):
    pass
OutOfMemoryError.__module__ = "torch"
def compute_loss(model, inputs):
    logits = model(inputs)
    raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which 1.12 GiB is free. {'kl': 9.9}")
def training_step(model, inputs):
    loss = compute_loss(model, inputs)
    return loss
def train():
    for step in range(3):
        training_step(lambda x: x, {"input_ids": [1, 2, 3]})
try:
    train()
except Exception:
    traceback.print_exc()
'''


def emit_warning(message: str, category=UserWarning, filename="/usr/local/lib/python3.11/site-packages/torch/utils/checkpoint.py",
                 lineno=87, source_line="  warnings.warn(\n"):
    lines = ["\n"] * (lineno - 1) + [source_line]
    linecache.cache[filename] = (1, None, lines, filename)
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno))


def make_hf_console(console_dir: Path):
    import tqdm as tqdm_pkg
    import tqdm.std
    import transformers
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback, TrainerState

    clock = Clock()
    tqdm.std.time = clock
    tqdm_pkg.tqdm.monitor_interval = 0

    # transformers 4.46.3 ProgressCallback (floats unquoted), from the wheel
    from tqdm.auto import tqdm as auto_tqdm
    old_ns = dict(TrainerCallback=TrainerCallback, tqdm=auto_tqdm, has_length=lambda x: True)
    upstream_defs("transformers==4.46.3", "transformers/trainer_callback.py", ["ProgressCallback"], old_ns)

    max_steps = 60
    crash_at = 45
    variants = [("hf_trainer_tqdm_v4.46.3.log", old_ns["ProgressCallback"], True),
                (f"hf_trainer_tqdm_v{transformers.__version__}.log", ProgressCallback, False),
                (f"hf_trainer_printer_v{transformers.__version__}.log", PrinterCallback, False)]
    for fname, cb_cls, old in variants:
        cap = _capture()
        clock.t = BASE_T
        with console_to(cap):
            st = TrainerState(max_steps=max_steps, logging_steps=1)
            cb = cb_cls()
            cb.on_train_begin(None, st, None)
            for s in range(1, crash_at):
                clock.t += 1.7 + 0.1 * (s % 3)
                st.global_step = s
                st.epoch = s / max_steps
                cb.on_step_end(None, st, None)
                logs = grpo_logs(s)
                if old:
                    logs["loss"] = round(logs["loss"], 4)         # transformers 4.46 Trainer rounded loss
                logs["epoch"] = st.epoch
                cb.on_log(None, st, None, logs=logs)
                if s == 5:
                    emit_warning("None of the inputs have requires_grad=True. Gradients will be None")
                if s == 12:
                    sys.stderr.write("`use_cache=True` is incompatible with gradient checkpointing. Setting `use_cache=False`.\n")
                if s == 20:
                    emit_warning("kl is 0.5 here but this is a warning, not a metric: {'kl': 0.5}", FutureWarning,
                                 "/usr/local/lib/python3.11/site-packages/trl/trainer/grpo_trainer.py", 1203)
            _fake_script("/workspace/train_grpo.py", TRACEBACK_SCRIPT, {"__name__": "__main__"})
        (console_dir / fname).write_bytes(_capture_bytes(cap))
        if getattr(cb, "training_bar", None) is not None:   # the "crashed" bar: close it off the record
            cb.training_bar.close()
    expect("console/hf_trainer_*", writer=f"transformers {transformers.__version__} ProgressCallback/PrinterCallback "
           "and transformers 4.46.3 ProgressCallback (wheel source), tqdm " + tqdm_pkg.__version__,
           kl_key="kl", steps=[1, crash_at - 1], spike_step=33,
           step_note="the dict lines carry no step; step = count of dict lines (logging_steps=1) or the tqdm n/total",
           files=[v[0] for v in variants])


VERL = "verl==0.9.1"
OPENRLHF = "openrlhf==0.11.2"
ESC_CYAN, ESC_GREEN, ESC_RESET = "\x1b[36m", "\x1b[32m", "\x1b[0m"   # colorama Fore.CYAN / Fore.GREEN / Style.RESET_ALL


def ray_line(actor: str, pid: int, line: str, color: bool, ip: str | None = None) -> str:
    """ray/_private/worker.py print_worker_logs (ray 2.60.0):
        f"{color_pre}({prefix_for(data)}{pid}{ip_prefix}){color_post} {message_for(data, line)}"
    prefix_for -> f"{actor_name} pid=", ip_prefix -> "" or f", ip={ip}"."""
    pre, post = (ESC_CYAN, ESC_RESET) if color else ("", "")
    ip_prefix = "" if ip is None else f", ip={ip}"
    return f"{pre}({actor} pid={pid}{ip_prefix}){post} {line}\n"


def ray_repeated(line: str, count: int, color: bool) -> str:
    """ray/_private/ray_logging DedupState.formatted(): line + _color(f" [repeated {n}x across cluster]")"""
    suffix = f" [repeated {count}x across cluster]"
    return line.rstrip("\n") + (f"{ESC_GREEN}{suffix}{ESC_RESET}" if color else suffix) + "\n"


def verl_metrics(s: int) -> dict:
    """Shape of the dict RayPPOTrainer.fit() passes to Tracking.log(data=metrics, step=global_steps)."""
    f64 = np.float64
    return {
        "actor/entropy": f64(entropy_at(s)),
        "actor/kl_loss": f64(kl_at(s, 41)),
        "actor/kl_coef": f64(0.001),
        "actor/pg_loss": f64(-0.001 * (s % 7)),
        "actor/pg_clipfrac": f64(0.0025),
        "actor/ppo_kl": f64(0.0001 * (s % 5)),
        "actor/grad_norm": f64(0.5 + 0.01 * s),
        "actor/lr": f64(1e-06),
        "training/global_step": s,
        "training/epoch": 0,
        "critic/score/mean": reward_at(s),
        "critic/rewards/mean": reward_at(s),
        "critic/advantages/mean": 0.0,
        "response_length/mean": 200.0 + s,
        "response_length/clip_ratio": 0.0,
        "timing_s/gen": 12.5 + 0.25 * (s % 4),
        "timing_s/update_actor": 8.25,
        "timing_s/step": 30.5,
        "perf/total_num_tokens": 65536 + s,
        "perf/throughput": 1234.5,
        "perf/max_memory_allocated_gb": f64(41.5),
    }


def make_verl_console(console_dir: Path):
    import pprint, numbers
    ns = dict(numbers=numbers, pprint=pprint)
    upstream_defs(VERL, "verl/utils/logger/aggregate_logger.py", ["concat_dict_to_str"], ns)
    concat = ns["concat_dict_to_str"]
    import tqdm.std
    clock = Clock()
    tqdm.std.time = clock

    n = 60
    for fname, color in (("verl_ray_color.log", True), ("verl_ray_nocolor.log", False)):
        out = []
        out.append("2023-11-14 22:13:20,123\tINFO worker.py:1942 -- Started a local Ray instance. View the dashboard at 127.0.0.1:8265 \n")
        out.append(ray_line("TaskRunner", 2183455, "TaskRunner hostname: fixturehost, PID: 2183455", color))
        out.append(ray_line("WorkerDict", 2184101, "/usr/local/lib/python3.11/site-packages/torch/utils/checkpoint.py:87: UserWarning: None of the inputs have requires_grad=True. Gradients will be None", color))
        out.append(ray_repeated(ray_line("WorkerDict", 2184102, "  warnings.warn(", color), 7, color))
        val = {"val-core/openai/gsm8k/reward/mean@1": np.float64(0.125), "val-aux/num_turns/min": np.int64(2)}
        out.append(ray_line("TaskRunner", 2183455, concat(val, step=0), color))
        bar = _capture()
        clock.t = BASE_T
        pb = tqdm.std.tqdm(total=n, initial=0, desc="Training Progress", file=bar, ncols=120, mininterval=0)
        emitted = 0
        for s in range(1, n + 1):
            out.append(ray_line("TaskRunner", 2183455, concat(verl_metrics(s), step=s), color))
            clock.t += 30.5
            pb.update(1)
            if s % 10 == 0:   # tqdm never writes '\n': its '\r'-separated redraws reach Ray as one long "line"
                data = _capture_bytes(bar)
                out.append(ray_line("TaskRunner", 2183455, data[emitted:].decode("utf-8").strip("\n"), color))
                emitted = len(data)
            if s == 41:
                out.append(ray_line("WorkerDict", 2184101, "[WARNING] grad_norm is not finite: inf, skipping update", color, ip="10.0.0.7"))
        pb.close()
        tb = ["Traceback (most recent call last):",
              '  File "/workspace/verl/verl/trainer/main_ppo.py", line 317, in run',
              "    trainer.fit()",
              '  File "/workspace/verl/verl/trainer/ppo/ray_trainer.py", line 1802, in fit',
              "    logger.log(data=metrics, step=self.global_steps)",
              "KeyboardInterrupt"]
        for line in tb:
            out.append(ray_line("TaskRunner", 2183455, line, color))
        (console_dir / fname).write_bytes("".join(out).encode("utf-8"))
    expect("console/verl_ray_*.log", writer=f"{VERL} verl.utils.logger.aggregate_logger.concat_dict_to_str (wheel source) "
           "+ Ray 2.60.0 print_worker_logs prefix (replica)", kl_key="actor/kl_loss", steps=[1, n], spike_step=41,
           value_format="np.float64(0.023) for numpy values, plain repr for python floats/ints",
           extra_line="step:0 validation line without actor/kl_loss")


def make_openrlhf_console(console_dir: Path):
    ns = dict(logging=logging)
    upstream_defs(OPENRLHF, "openrlhf/utils/logging_utils.py", ["_FORMAT", "_DATE_FORMAT", "NewLineFormatter"], ns)
    fmt = ns["NewLineFormatter"](ns["_FORMAT"], datefmt=ns["_DATE_FORMAT"])
    fmt.converter = __import__("time").gmtime      # deterministic asctime (UTC)
    import tqdm.std
    clock = Clock()
    tqdm.std.time = clock

    def rec(msg, lineno, t, filename="ppo_trainer.py"):
        r = logging.LogRecord("openrlhf.trainer.ppo_trainer", logging.INFO, f"/x/openrlhf/trainer/{filename}",
                              lineno, msg, None, None)
        r.created, r.msecs = t, 0.0
        return fmt.format(r)

    n = 50
    out = []
    t = BASE_T
    for s in range(1, n + 1):
        t += 42.0
        # PolicyModelActor.ppo_train: tqdm(desc="Train epoch [1/1]") with set_postfix(short_status)
        bar = _capture()
        clock.t = t
        pb = tqdm.std.tqdm(range(2), desc="Train epoch [1/1]", file=bar, mininterval=0)
        for _ in pb:
            clock.t += 1.3
            pb.set_postfix({"act_loss": -0.0123, "reward": reward_at(s), "return": 0.0, "gen_len": 200.0 + s,
                            "tot_len": 320.0 + s, "kl": kl_at(s, 17), "act_lr": 5e-07, "grad_norm": 0.75})
        pb.close()
        out.append(ray_line("PolicyModelActor", 3301, _capture_bytes(bar).decode("utf-8").strip("\n"), True))
        sample = ["<|im_start|>user\nWhat is 2+2? {'kl': 7}<|im_end|>\n<|im_start|>assistant\n4<|im_end|>", 1.0]
        out.append(ray_line("PPOTrainer", 3200, rec(f"Sample: {sample}", 224, t), True))
        status = {"policy_loss": -0.0123, "kl": kl_at(s, 17), "reward": reward_at(s), "return": 0.0,
                  "response_length": 200.0 + s, "total_length": 320.0 + s, "actor_lr": 5e-07,
                  "actor_grad_norm": 0.75, "entropy_loss": entropy_at(s),
                  "timing/make_experience": 10.5, "timing/ppo_train": 20.25, "timing/broadcast": 1.5,
                  "rollout/reward_mean": reward_at(s), "rollout/reward_std": 0.25,
                  "rollout/response_length_mean": 200.0 + s, "rollout/truncated_rate": 0.0, "rollout/num_samples": 128.0,
                  "timing/generation": 9.75, "timing/step_total": 42.0}
        out.append(ray_line("PPOTrainer", 3200, rec(f"✨ Global step {s}: {status}", 551, t), True))
    # NewLineFormatter turns an embedded \n into \r\n + the log prefix; Ray then splits
    # on \n and prefixes each piece, so the first piece ends in \r.
    multi = rec("checkpoint_states: {'episode': 0,\n 'global_step': 50}", 439, t)
    for piece in multi.split("\n"):
        out.append(ray_line("PPOTrainer", 3200, piece, True))
    (console_dir / "openrlhf_ray.log").write_bytes("".join(out).encode("utf-8"))
    expect("console/openrlhf_ray.log", writer=f"{OPENRLHF} openrlhf.utils.logging_utils NewLineFormatter/_FORMAT (wheel source), "
           "message text as in PPOTrainer.fit(), Ray prefix replica, tqdm " + __import__("tqdm").__version__,
           kl_key="kl", steps=[1, n], spike_step=17, line_regex=r"✨ Global step (\d+): (\{.*\})")


# ---------------------------------------------------------------------------

def main():
    for k in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERM", "COLUMNS", "LINES"):
        os.environ.pop(k, None)
    os.environ["COLUMNS"], os.environ["LINES"] = "121", "40"   # tqdm dynamic_ncols / rich width on a pipe
    console_dir = fresh(HERE / "console")
    console_dir.mkdir()
    make_tensorboard()
    make_sb3()
    make_lightning()
    make_rlwatch(console_dir)
    make_trl(console_dir)
    make_verl_console(console_dir)
    make_openrlhf_console(console_dir)
    (HERE / "expected.json").write_text(json.dumps(EXPECTED, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    total = 0
    for p in sorted(HERE.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            total += p.stat().st_size
            print(f"{p.stat().st_size:8d}  {p.relative_to(HERE)}")
    print(f"{total:8d}  total")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the text-log fixtures of torchtune, ROLL, slime, SkyRL, ART and prime-rl (see README.md).

Where a writer is on PyPI its own source runs, unchanged, from its wheel (`pip download --no-deps` into
$KLTOP_FIXTURE_WHEELS, default /tmp/kltop-fixture-wheels): torchtune 0.6.1's DiskLogger, SkyRL 0.4.0's
ConsoleLogger (with the real loguru and SkyRL's own sink format), ART 0.5.23's Model._log_metrics. ROLL,
slime and prime-rl are not on PyPI: their print/format calls are reproduced here, quoted from their source.
Clocks, pids and paths are frozen; a re-run gives the same bytes.
"""
import ast
import datetime as dt
import io
import json
import logging
import os
import pprint
import shutil
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEELS = Path(os.environ.get("KLTOP_FIXTURE_WHEELS", "/tmp/kltop-fixture-wheels"))
TORCHTUNE = "torchtune==0.6.1"
SKYRL = "skyrl==0.4.0"
ART = "openpipe-art==0.5.23"
BASE = 1700000000


def kl(step, spike):
    return 5.0 if step == spike else round(0.02 + 0.001 * ((step * 37) % 11), 3)


def wheel_source(requirement, member):
    name = requirement.split("==")[0].replace("-", "_")
    WHEELS.mkdir(parents=True, exist_ok=True)
    found = sorted(WHEELS.glob(f"{name}-{requirement.split('==')[1]}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.12", requirement, "-d", str(WHEELS)], check=True)
        found = sorted(WHEELS.glob(f"{name}-{requirement.split('==')[1]}-*.whl"))
    with zipfile.ZipFile(found[0]) as whl:
        return whl.read(member).decode("utf-8")


expected = {}


# 1. torchtune DiskLogger -------------------------------------------------------------------------------
class StubTensor:
    """A 0-dim torch tensor as str() prints it with the default print options (precision 4): floats
    `tensor(0.0230, device='cuda:0')`, whole floats `tensor(5., device='cuda:0')`, ints `tensor(12, ...)`.
    torch itself is not installed (it imports CUDA wheels of several GB); this reproduces the repr of a
    scalar tensor only, as torch's _tensor_str formats one."""

    def __init__(self, value, device="cuda:0"):
        self.value, self.device = value, device

    def __str__(self):
        v = self.value
        if isinstance(v, int):
            body = str(v)
        elif v == int(v):
            body = f"{int(v)}."
        else:
            body = f"{v:.4f}"
        return f"tensor({body}, device='{self.device}')" if self.device != "cpu" else f"tensor({body})"


def make_torchtune():
    torch = types.ModuleType("torch")
    torch.Tensor = StubTensor
    utils = types.ModuleType("torchtune.utils")
    utils.get_logger = lambda level=None: logging.getLogger("torchtune")
    utils.get_world_size_and_rank = lambda: (1, 0)
    sys.modules.update({"torch": torch, "torchtune": types.ModuleType("torchtune"), "torchtune.utils": utils})
    source = wheel_source(TORCHTUNE, "torchtune/training/metric_logging.py")
    ns = {"__name__": "torchtune.training.metric_logging"}
    exec(compile(source, "torchtune/training/metric_logging.py", "exec"), ns)
    out = HERE / "torchtune" / "logs"
    shutil.rmtree(HERE / "torchtune", ignore_errors=True)
    real_time = ns["time"].time
    ns["time"].time = lambda: float(BASE)
    cwd = os.getcwd()
    os.chdir(HERE / ".." / "textlogs")
    try:
        with open(os.devnull, "w") as quiet:
            saved, sys.stdout = sys.stdout, quiet  # "Writing logs to <path>" goes to stdout, not the file
            disk = ns["DiskLogger"](log_dir="torchtune/logs")
            sys.stdout = saved
    finally:
        os.chdir(cwd)
    ns["time"].time = real_time
    spike = 29
    for step in range(1, 41):
        # recipes/dev/grpo_full_finetune_distributed.py log_metrics: the dict as the recipe builds it
        disk.log_dict({
            "rewards": StubTensor(round(0.1 + 0.005 * (step % 40), 3)),
            "successes": StubTensor(round(0.25 + 0.01 * (step % 7), 3)),
            "num_stop_tokens": StubTensor(12 + step % 5),
            "loss": StubTensor(round(0.30 + 0.01 * ((step * 7) % 5), 3)),
            "policy_loss": StubTensor(round(0.28 + 0.01 * ((step * 7) % 5), 3)),
            "kl_loss": StubTensor(kl(step, spike)),
            "clipfrac": StubTensor(0.0125),
            "ratios": StubTensor(1.0),
            "approx_policy_kl": StubTensor(0.0012),
            "response_lengths": StubTensor(312.5),
            "tokens_per_second_per_gpu": 1534.25,
            "peak_memory_active": 41.2378,
        }, step=step)
    disk.close()
    expected["torchtune/logs/log_1700000000.txt"] = dict(
        writer=f"{TORCHTUNE} DiskLogger.log_dict (wheel source), values as the GRPO recipe passes them (tensors)",
        kl_key="kl_loss", steps=[1, 40], spike_step=spike)


# 2. ROLL StdoutTracker ---------------------------------------------------------------------------------
class FrozenClock:
    def __init__(self):
        self.t = BASE

    def __call__(self):
        self.t += 1
        return float(self.t)


def roll_logger(stream):
    """roll/utils/logging.py get_logger (ROLL at 8eb27cc): CustomFormatter(fmt=
        f"[%(asctime)s] [%(filename)s (%(lineno)d)] [%(levelname)s] "
        f"[%(WORKER_NAME)s %(RANK)s / %(WORLD_SIZE)s]"
        f"[PID {os.getpid()}] %(message)s", datefmt="%Y-%m-%d %H:%M:%S"),
    a StreamHandler(sys.stdout) and a FileHandler(output/logs/log_rank_DRIVER_0_1.log) with it."""

    class CustomFormatter(logging.Formatter):
        def format(self, record):
            record.__dict__["RANK"] = os.environ.get("RANK", "0")
            record.__dict__["WORKER_NAME"] = os.environ.get("WORKER_NAME", "DRIVER")
            record.__dict__["WORLD_SIZE"] = os.environ.get("WORLD_SIZE", "1")
            return super().format(record)

    formatter = CustomFormatter(
        fmt=f"[%(asctime)s] [%(filename)s (%(lineno)d)] [%(levelname)s] "
        f"[%(WORKER_NAME)s %(RANK)s / %(WORLD_SIZE)s]"
        f"[PID {4242}] %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    formatter.converter = __import__("time").gmtime
    logger = logging.getLogger("log_rank_DRIVER_0_1")
    logger.handlers.clear()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    return logger


def emit(logger, clock, pathname, lineno, message, level=logging.INFO):
    record = logger.makeRecord(logger.name, level, pathname, lineno, message, None, None)
    record.created = clock()
    record.msecs = 123.0
    logger.handle(record)


def make_roll():
    stream = io.StringIO()
    logger = roll_logger(stream)
    clock = FrozenClock()
    tracking = "roll/utils/tracking.py"
    emit(logger, clock, tracking, 168, "create tracker stdout, kwargs: {}")
    spike = 17
    for step in range(0, 30):
        metrics = {
            "critic/score/mean": round(0.1 + 0.005 * step, 3),
            "actor/pg_loss@sum": round(-0.01 * (step % 3), 3),
            "actor/kl_loss@mean": kl(step, spike),
            "actor/approxkl": 0.0012,
            "actor/policykl": 0.0011,
            "system/step": step,
        }
        if step == 9:
            metrics["actor/kl_loss@mean"] = float("nan")
        # roll/utils/tracking.py _strip_metric_tag: "actor/pg_loss@sum" -> "actor/pg_loss"
        values = {k.rsplit("@", 1)[0] if "@" in k else k: v for k, v in metrics.items()}
        # StdoutTracker.log: logger.info(f"metrics_tag: {json.dumps({'step': step, 'metrics': values})}")
        emit(logger, clock, tracking, 161, f"metrics_tag: {json.dumps({'step': step, 'metrics': values})}")
        if step == 5:
            emit(logger, clock, "roll/pipeline/rlvr/rlvr_pipeline.py", 700,
                 "warning: metrics_tag: {\"step\": 5, \"metrics\": {\"actor/kl_loss\": 9.9}} was logged twice",
                 logging.WARNING)
    (HERE / "roll_stdout.log").write_text(stream.getvalue(), encoding="utf-8")
    expected["roll_stdout.log"] = dict(
        writer="ROLL StdoutTracker.log's logger.info(f\"metrics_tag: {json.dumps(...)}\") through ROLL's "
        "CustomFormatter format (reproduced, stdlib logging)",
        kl_key="actor/kl_loss", steps=[0, 29], spike_step=spike, nan_step=9)


# 3. slime ------------------------------------------------------------------------------------------------
def make_slime():
    """slime/observability/logging_utils.py configure_logger: logging.basicConfig(level=INFO,
    format=f"[%(asctime)s{prefix}] %(filename)s:%(lineno)d - %(message)s", datefmt="%Y-%m-%d %H:%M:%S").
    The FSDP actor (slime/backends/fsdp_utils/actor.py, until March 2026) logs both series:
    logger.info(f"rollout {rollout_id}: {log_dict}") per rollout and logger.info(f"step {self.global_step}:
    {log_dict}") per train step (python floats), after its kl_info line; the Megatron backend logs the same
    `step N:` (model.py, `{role_tag}step {accumulated_step_id}:`) and `perf N:` per rollout. Ray prefixes
    each line."""
    stream = io.StringIO()
    logger = logging.getLogger("slime.backends.megatron_utils.model")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(stream)
    fmt = logging.Formatter("[%(asctime)s] %(filename)s:%(lineno)d - %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    fmt.converter = __import__("time").gmtime
    handler.setFormatter(fmt)
    logger.addHandler(handler)
    clock = FrozenClock()
    lines = []

    def out(actor):
        text = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        for line in text.splitlines():
            lines.append(f"\x1b[36m({actor} pid=4242)\x1b[0m {line}\n")

    spike = 23
    steps_per_rollout = 2
    kl_loss_coef = 0.001
    for rollout_id in range(0, 20):
        # slime/backends/fsdp_utils/actor.py (before "Remove FSDP support", e4faf63): _log_rollout_data
        log_dict = {"rollout/raw_reward": round(0.1 + 0.01 * rollout_id, 3),
                    "rollout/log_probs": -0.512, "rollout/ref_log_probs": -0.498}
        emit(logger, clock, "slime/backends/fsdp_utils/actor.py", 489, f"rollout {rollout_id}: {log_dict}")
        out("FSDPTrainRayActor")
        for step_id in range(steps_per_rollout):
            global_step = rollout_id * steps_per_rollout + step_id
            aggregated = {
                "loss": round(0.30 + 0.01 * ((global_step * 7) % 5), 3),
                "pg_loss": -0.0123,
                "entropy_loss": 1.234,
                "pg_clipfrac": 0.0125,
                "ppo_kl": 0.0011,
                "kl_loss": kl(global_step, spike),
            }
            log_dict = {f"train/{k}": val for k, val in aggregated.items()}
            log_dict["train/grad_norm"] = 0.75
            log_dict["train/lr-pg_0"] = 1e-06
            # kl_info = f", kl_loss: {aggregated['kl_loss']:.4f}, kl_penalty: {...:.4f}"; logger.info(kl_info)
            kl_info = (f", kl_loss: {aggregated['kl_loss']:.4f}, "
                       f"kl_penalty: {aggregated['kl_loss'] * kl_loss_coef:.4f}")
            emit(logger, clock, "slime/backends/fsdp_utils/actor.py", 717, kl_info)
            emit(logger, clock, "slime/backends/fsdp_utils/actor.py", 718, f"step {global_step}: {log_dict}")
            out("FSDPTrainRayActor")
        if rollout_id == 7:
            emit(logger, clock, "slime/backends/fsdp_utils/actor.py", 903,
                 "CI check failed: log_dict={'train/kl_loss': 9.9}", logging.WARNING)
            out("FSDPTrainRayActor")
    (HERE / "slime_ray.log").write_text("".join(lines), encoding="utf-8")
    expected["slime_ray.log"] = dict(
        writer="slime FSDP actor's logger.info(f\"step {self.global_step}: {log_dict}\") and f\"rollout {rollout_id}: "
        "{log_dict}\" through configure_logger's format (reproduced, stdlib logging), Ray prefix replica",
        kl_key="train/kl_loss", steps=[0, 39], spike_step=spike, rollout_records=20)


# 4. SkyRL ConsoleLogger ----------------------------------------------------------------------------------
def make_skyrl(live_cut: bool):
    import loguru
    import loguru._logger

    config = types.ModuleType("skyrl.train.config")
    config.SkyRLTrainConfig = object
    config.get_config_as_dict = lambda cfg: {}
    for name in ["skyrl", "skyrl.train"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["skyrl.train.config"] = config
    source = wheel_source(SKYRL, "skyrl/train/utils/tracking.py")
    ns = {"__name__": "skyrl.train.utils.tracking"}
    exec(compile(source, "skyrl/train/utils/tracking.py", "exec"), ns)

    start = loguru._logger.aware_now().replace(2026, 8, 21, 18, 2, 38, 123000)
    ticks = [0]

    def frozen_now():
        ticks[0] += 1
        return start + dt.timedelta(seconds=ticks[0])

    loguru._logger.aware_now = frozen_now
    sink = io.StringIO()
    logger = loguru.logger
    logger.remove()
    logger.level("INFO", color="<bold><green>")
    # skyrl/train/utils/utils.py configure_ray_worker_logging's sink, to a buffer (enqueue off: same bytes)
    logger.add(sink, colorize=True, level="INFO", enqueue=False, backtrace=False, diagnose=False,
               format="<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | "
               "<level>{level: <8}</level> | "
               "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> - "
               "<level>{message}</level>")
    console = ns["ConsoleLogger"]()
    lines = []

    def out():
        text = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        for line in text.splitlines():
            lines.append(f"\x1b[36m(skyrl_entrypoint pid=4242)\x1b[0m {line}\n")

    spike = 12
    for step in range(1, 26):
        data = {
            "generate/avg_num_tokens": 312,
            "generate/avg_response_length": 298.5,
            # use_kl_loss (SkyRL's default): the KL loss, worker.py status["policy_kl"] = kl_loss.item();
            # loss/avg_kl is logged only with use_kl_in_reward, which excludes it.
            "policy/policy_kl": kl(step, spike),
            "policy/ppo_clip_ratio": 0.0125,
            "policy/policy_loss": round(0.30 + 0.01 * ((step * 7) % 5), 3),
            "policy/grad_norm": 0.75,
            "reward/avg_raw_reward": round(0.1 + 0.005 * step, 3),
            "timing/step": 12.25,
            "trainer/epoch": 0,
        }
        if step == 5:
            data = {"policy/policy_kl": kl(step, spike), "policy/grad_norm": 0.75}  # fits one line
        console.log(data, step)
        out()
        if step == 8:
            logger.warning("vLLM engine 1 restarted: {'policy/policy_kl': 9.9}")
            out()
            lines.append("\x1b[36m(AsyncVLLMInferenceEngine pid=5151)\x1b[0m INFO 08-21 18:02:50 "
                         "[engine.py:310] Added request 17.\n")
    text = "".join(lines)
    name = "skyrl_ray.log"
    if live_cut:
        # A live file caught while step 25's dict is being written: cut after its fourth line.
        cut = text.rindex("Step 25:")
        for _ in range(5):
            cut = text.index("\n", cut) + 1
        text = text[:cut]
        name = "skyrl_ray_live.log"
    (HERE / name).write_text(text, encoding="utf-8")
    expected[name] = dict(
        writer=f"{SKYRL} ConsoleLogger.log (wheel source) through loguru {loguru.__version__} with SkyRL's "
        "Ray-worker sink format (colorize=True), Ray prefix replica",
        kl_key="policy/policy_kl", steps=[1, 24 if live_cut else 25], spike_step=spike)


# 5. ART history.jsonl -------------------------------------------------------------------------------------
def make_art():
    source = wheel_source(ART, "art/model.py")
    tree = ast.parse(source)
    names = {"METRIC_SECTIONS", "METRIC_SPLITS", "SFT_METRIC_PREFIX"}
    body = [node for node in tree.body if isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") in names for t in node.targets)]
    model_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model")
    methods = [n for n in model_class.body
               if isinstance(n, ast.FunctionDef) and n.name in ("_log_metrics", "_qualify_metric_key")]
    body.append(ast.ClassDef(name="Model", bases=[], keywords=[], body=methods, decorator_list=[],
                             type_params=[]))
    module = ast.Module(body=body, type_ignores=[])
    clock = [BASE]

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            clock[0] += 1
            return dt.datetime.fromtimestamp(clock[0], dt.timezone.utc).replace(tzinfo=None)

    class FrozenTime:
        @staticmethod
        def time():
            return float(clock[0])

    # art/metrics_taxonomy.py: SFT_METRIC_PREFIX = "sft" (model.py imports it from there)
    ns = {"json": json, "os": os, "time": FrozenTime, "datetime": FrozenDatetime, "SFT_METRIC_PREFIX": "sft"}
    exec(compile(ast.fix_missing_locations(module), "art/model.py", "exec"), ns)
    out = HERE / "art" / "models" / "grpo-agent-001"
    shutil.rmtree(HERE / "art", ignore_errors=True)
    out.mkdir(parents=True)
    model = ns["Model"]()
    model.report_metrics = []
    model._run_start_time = float(BASE)
    model._get_output_dir = lambda: os.path.relpath(out)
    spike = 7
    for step in range(1, 16):
        model._log_metrics({"reward/mean": round(0.1 + 0.01 * step, 3),
                                   "loss/kl_policy_ref": kl(step, spike),
                                   "loss/policy": -0.0123, "loss/entropy": 1.234}, "train", step)
        if step % 5 == 0:
            model._log_metrics({"reward": round(0.2 + 0.01 * step, 3)}, "val", step)
    expected["art/models/grpo-agent-001/history.jsonl"] = dict(
        writer=f"{ART} Model._log_metrics (wheel source): training_step and step both the trainer step",
        kl_key="loss/kl_policy_ref", steps=[1, 15], spike_step=spike, val_records=3)


# 6. prime-rl metrics.jsonl --------------------------------------------------------------------------------
def make_prime_rl():
    """src/prime_rl/monitors/file.py FileMonitor.log_metrics (prime-rl at 559b447), reproduced:
        row = {"step": step, "time": time.time(), **sanitized}
        self.file.write(json.dumps(row) + "\\n")
    with the trainer's keys (src/prime_rl/trainer/rl/train.py: loss/mean, entropy/all/mean,
    mismatch_kl/all/mean, optim/grad_norm)."""
    out = HERE / "prime_rl" / "metrics.jsonl"
    out.parent.mkdir(exist_ok=True)
    with open(out, "w", buffering=1) as f:
        for step in range(0, 20):
            sanitized = {"loss/mean": round(0.30 + 0.01 * ((step * 7) % 5), 3), "entropy/all/mean": 1.2,
                         "mismatch_kl/all/mean": kl(step, 11), "optim/grad_norm": 0.75}
            row = {"step": step, "time": float(BASE + step), **sanitized}
            f.write(json.dumps(row) + "\n")
    expected["prime_rl/metrics.jsonl"] = dict(
        writer="prime-rl FileMonitor.log_metrics (reproduced)", kl_key=None, steps=[0, 19],
        mismatch_key="mismatch_kl/all/mean")


if __name__ == "__main__":
    os.environ.update(RANK="0", WORLD_SIZE="1", WORKER_NAME="DRIVER")
    make_torchtune()
    make_roll()
    make_slime()
    make_skyrl(live_cut=False)
    make_skyrl(live_cut=True)
    make_art()
    make_prime_rl()
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    print("wrote", ", ".join(sorted(expected)))

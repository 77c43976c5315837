#!/usr/bin/env python3
"""Regenerate Tests/Fixtures/experiments/outputs/: an experiments folder written by real training runs.

    python3 -m venv VENV                       # outside the repository (torch is large)
    VENV/bin/pip install -r requirements.txt
    VENV/bin/python make_experiments.py        # about 3 minutes on 2 cores; byte-identical on re-run

Every run is a real training run of the real framework on CPU (TRL GRPO on a tiny randomly initialised
Qwen2, stable-baselines3 PPO on CartPole-v1, a Lightning module), started as its own process the way a
person starts `python train.py > stdout.log 2>&1`, in a temporary working folder, so every path the
frameworks write is relative (`outputs/...`). veRL is not run (it needs Ray, vLLM and a GPU): its real
`FileLogger` class is executed from the pinned wheel (`pip download --no-deps verl==0.9.1`) on metrics
made here. See README.md.

What is frozen, so that a re-run gives the same bytes: the seeds (torch, numpy, the envs); PYTHONHASHSEED=0
(SB3's CSV writer orders new columns by set iteration); the host name (`fixturehost`) and pid (4242) the
TensorBoard writer puts in file names; the clocks the writers and progress bars read (a fake clock that
rises a fixed amount per call); one torch thread. After each run only what a log reader reads is kept
(`trainer_state.json`, event files, CSV/JSON logs, stdout.log, hparams.yaml): weights, optimizer state,
tokenizer files and the like are deleted. Paths of the Python installation in warnings are replaced by
`<venv>`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUTS = HERE / "outputs"
HOST = "fixturehost"
PID = 4242
BASE_T = 1765065600.0  # 2025-12-07T00:00:00Z
WHEELS = Path(os.environ.get("KLTOP_FIXTURE_WHEELS", Path(tempfile.gettempdir()) / "kltop-fixture-wheels"))
VERL_VERSION = "0.9.1"

GRPO_RUNS = [  # name, beta, seed
    ("grpo_beta0.04_seed0", 0.04, 0),
    ("grpo_beta0.04_seed1", 0.04, 1),
    ("grpo_beta0.0_seed0", 0.0, 0),
]
SB3_RUNS = [("sb3_ppo_cartpole_lr3e-4", 3e-4), ("sb3_ppo_cartpole_lr1e-3", 1e-3)]
GRPO_STEPS = 30
GRPO_SAVE_STEPS = 15
SB3_N_STEPS = 64
SB3_ROLLOUTS = 6
TB_LOGDIR = "runs/Dec07_00-00-00_" + HOST  # what transformers' default_logdir() makes at BASE_T on HOST

# ---------------------------------------------------------------------------------------------------------
# Inside a run's process: frozen clocks, host and pid
# ---------------------------------------------------------------------------------------------------------


class FakeTime:
    """Stands in for the `time` module where a writer or progress bar reads the clock: every reading is a
    fixed `tick` later than the one before, so that the sequence of readings (and so every rate, runtime and
    wall time written) is the same on every run. Anything else is the real module's."""

    def __init__(self, start: float, tick: float):
        self.t = start
        self.tick = tick

    def time(self) -> float:
        self.t += self.tick
        return self.t

    __call__ = time  # tqdm.std imports the function `time` itself

    def perf_counter(self) -> float:
        return self.time() - BASE_T

    monotonic = perf_counter

    def time_ns(self) -> int:
        return int(round(self.time() * 1e9))

    def __getattr__(self, name):
        import time

        return getattr(time, name)


class FakeOs:
    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def getpid():
        return PID


def freeze_writers() -> None:
    """Freezes host, pid and clocks in torch's TensorBoard writer (tensorboard's EventFileWriter: file name
    `events.out.tfevents.<secs>.<host>.<pid>.<uid>`) and in tqdm."""
    import socket

    socket.gethostname = lambda: HOST
    import tqdm
    import tqdm.std
    from tensorboard.summary.writer import event_file_writer
    from torch.utils.tensorboard import writer as torch_writer

    # The event file writer's own clock (the file name, the first event, and its flushing thread, which reads
    # it as often as the thread is woken) stands still; the wall times of events come from torch's writer.
    event_file_writer.time = FakeTime(BASE_T, 0.0)
    event_file_writer.socket = types.SimpleNamespace(gethostname=lambda: HOST)
    event_file_writer.os = FakeOs()
    torch_writer.time = FakeTime(BASE_T, 0.25)
    tqdm.std.time = FakeTime(BASE_T, 0.5)
    tqdm.tqdm.monitor_interval = 0


def seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------------------------------------------------
# TRL GRPO
# ---------------------------------------------------------------------------------------------------------

WORDS = [chr(c) for c in range(ord("a"), ord("a") + 20)]


def build_tiny_model(path: str) -> None:
    """A 2-layer Qwen2 with a 24-token vocabulary, randomly initialised, and a word-level tokenizer made with
    `tokenizers` (nothing is downloaded), saved where GRPOTrainer loads the policy and its reference from."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, "<bos>": 3}
    for word in WORDS:
        vocab[word] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>", bos_token="<bos>"
    )
    config = Qwen2Config(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=64, tie_word_embeddings=True,
        pad_token_id=0, eos_token_id=1, bos_token_id=3,
    )
    torch.manual_seed(1234)
    model = Qwen2ForCausalLM(config)
    model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = 1
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def reward_a_words(completions, **kwargs):
    """The share of `a` among a completion's letters: a reward the policy can learn, so that KL moves."""
    rewards = []
    for text in completions:
        letters = text.replace(" ", "")
        rewards.append(letters.count("a") / max(1, len(letters)))
    return rewards


def run_grpo(name: str, beta: float, seed: int) -> None:
    seed_everything(seed)
    freeze_writers()
    import transformers.trainer
    import transformers.trainer_utils
    import trl.trainer.grpo_trainer
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    trainer_clock = FakeTime(BASE_T, 0.125)
    transformers.trainer.time = trainer_clock
    transformers.trainer_utils.time = trainer_clock
    trl.trainer.grpo_trainer.time = trainer_clock

    build_tiny_model("tiny-qwen2")
    prompts = [" ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(4)) for i in range(64)]
    dataset = Dataset.from_dict({"prompt": prompts})
    args = GRPOConfig(
        output_dir=f"outputs/{name}",
        report_to="tensorboard",
        beta=beta,
        learning_rate=5e-3,
        max_steps=GRPO_STEPS,
        logging_steps=1,
        save_steps=GRPO_SAVE_STEPS,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        use_cpu=True,
        bf16=False,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        log_completions=False,
    )
    trainer = GRPOTrainer(
        model="tiny-qwen2", reward_funcs=reward_a_words, args=args, train_dataset=dataset,
    )
    trainer.train()


# ---------------------------------------------------------------------------------------------------------
# stable-baselines3 PPO
# ---------------------------------------------------------------------------------------------------------


def run_sb3(name: str, learning_rate: float) -> None:
    seed_everything(0)
    freeze_writers()
    import stable_baselines3.common.base_class as base_class
    import stable_baselines3.common.on_policy_algorithm as on_policy_algorithm
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure

    clock = FakeTime(BASE_T, 0.0625)
    base_class.time = clock
    on_policy_algorithm.time = clock

    folder = f"outputs/{name}"
    logger = configure(folder, ["stdout", "csv", "json", "tensorboard"])
    model = PPO(
        "MlpPolicy", "CartPole-v1", n_steps=SB3_N_STEPS, batch_size=32, n_epochs=4,
        learning_rate=learning_rate, seed=0, verbose=1, device="cpu",
    )
    model.set_logger(logger)
    model.learn(total_timesteps=SB3_N_STEPS * SB3_ROLLOUTS)
    logger.close()


# ---------------------------------------------------------------------------------------------------------
# Lightning
# ---------------------------------------------------------------------------------------------------------


def run_lightning(name: str) -> None:
    seed_everything(0)
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.loggers import CSVLogger
    from torch.utils.data import DataLoader, TensorDataset

    class TinyPolicy(pl.LightningModule):
        """A softmax policy over 8 actions fitted to targets; logs `kl`, the KL from its first weights."""

        def __init__(self):
            super().__init__()
            self.save_hyperparameters({"lr": 0.05, "actions": 8})
            self.net = torch.nn.Linear(4, 8)
            self.reference = torch.nn.Linear(4, 8)
            self.reference.load_state_dict(self.net.state_dict())
            self.reference.requires_grad_(False)

        def training_step(self, batch, batch_idx):
            x, y = batch
            logits = self.net(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            logp = torch.log_softmax(logits, -1)
            ref_logp = torch.log_softmax(self.reference(x), -1)
            kl = (logp.exp() * (logp - ref_logp)).sum(-1).mean()
            self.log("kl", kl)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.net.parameters(), lr=0.05)

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(160, 4, generator=generator)
    y = (x[:, 0] > 0).long() * 3 + (x[:, 1] > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False)
    trainer = pl.Trainer(
        max_epochs=3, accelerator="cpu", devices=1, log_every_n_steps=1,
        logger=CSVLogger(f"outputs/{name}"), enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, deterministic=True,
    )
    trainer.fit(TinyPolicy(), loader)


# ---------------------------------------------------------------------------------------------------------
# veRL: its FileLogger, from the wheel, on made-up metrics
# ---------------------------------------------------------------------------------------------------------


def verl_tracking_module():
    import importlib.util
    import zipfile

    wheel = WHEELS / f"verl-{VERL_VERSION}-py3-none-any.whl"
    if not wheel.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(WHEELS),
                        f"verl=={VERL_VERSION}"], check=True)
    source_dir = Path(tempfile.mkdtemp(prefix="verl-src-"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extract("verl/utils/tracking.py", source_dir)
    spec = importlib.util.spec_from_file_location("verl_tracking", source_dir / "verl/utils/tracking.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERL_PROJECT = "verl_project"
VERL_EXPERIMENTS = ["qwen2_7b_grpo_kl0.001", "qwen2_7b_grpo_kl0.01"]
VERL_STEPS = 30


def verl_metrics(step: int, kl_coef: float, rng) -> dict:
    """Metrics with the names and kinds (numpy and Python numbers) `RayPPOTrainer.fit` logs, when
    `actor.use_kl_loss=True`; the values are made up (a slow drift with noise)."""
    import numpy as np

    drift = 0.0005 * step / kl_coef ** 0.25
    return {
        "actor/entropy": np.float64(1.2 - 0.01 * step + 0.01 * rng.standard_normal()),
        "actor/kl_loss": np.float64(round(drift + 0.0002 * abs(rng.standard_normal()), 6)),
        "actor/kl_coef": kl_coef,
        "actor/pg_loss": np.float64(0.01 * rng.standard_normal()),
        "actor/ppo_kl": np.float64(abs(0.0001 * rng.standard_normal())),
        "actor/grad_norm": float(0.5 + 0.1 * abs(rng.standard_normal())),
        "actor/lr": 1e-6,
        "critic/score/mean": np.float64(0.2 + 0.01 * step),
        "critic/rewards/mean": np.float64(0.2 + 0.01 * step),
        "response_length/mean": np.float64(300 + step),
        "training/global_step": step,
        "training/epoch": 0,
    }


def run_verl() -> None:
    import numpy as np

    tracking = verl_tracking_module()
    os.environ["VERL_FILE_LOGGER_ROOT"] = "outputs"
    for index, experiment in enumerate(VERL_EXPERIMENTS):
        kl_coef = [0.001, 0.01][index]
        rng = np.random.default_rng(index)
        logger = tracking.Tracking(project_name=VERL_PROJECT, experiment_name=experiment, default_backend=["file"])
        for step in range(1, VERL_STEPS + 1):
            logger.log(data=verl_metrics(step, kl_coef, rng), step=step)
        logger.logger["file"].finish()
        del logger.logger["file"]


# ---------------------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------------------

KEEP_SUFFIXES = (".csv", ".json", ".jsonl", ".log", ".yaml")


def prune(folder: Path) -> None:
    """Keeps only what a log reader reads: event files, trainer_state.json, CSV/JSON(L) logs, stdout.log,
    hparams.yaml. Weights, optimizer and scheduler state, RNG state, tokenizer and model config files,
    training_args.bin and model cards go."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
            continue
        keep = path.name.startswith("events.out.tfevents.") or path.name == "trainer_state.json" or (
            path.suffix in KEEP_SUFFIXES and path.name not in (
                "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "chat_template.json"))
        if not keep:
            path.unlink()
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def scrub(folder: Path, work: Path) -> None:
    """Replaces the Python installation's path (in warnings) and the temporary working folder with
    placeholders, in every text file."""
    venv = str(Path(sys.prefix))
    replacements = [(str(work) + "/", ""), (str(work), "."), (venv, "<venv>"),
                    (str(Path(sys.base_prefix)), "<python>")]
    for path in folder.rglob("*"):
        if not path.is_file() or path.name.startswith("events.out.tfevents."):
            continue
        text = path.read_bytes()
        new = text
        for old, replacement in replacements:
            new = new.replace(old.encode(), replacement.encode())
        if new != text:
            path.write_bytes(new)


def child_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "WANDB", "TENSORBOARD"))}
    env.update({
        "PYTHONHASHSEED": "0", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false", "COLUMNS": "120", "LINES": "40",
        "PYTHONUNBUFFERED": "1", "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    })
    env.update(extra)
    return env


def run_child(work: Path, name: str, argv: list[str], extra_env: dict, capture: bool) -> None:
    """Runs one training as `python make_experiments.py --child ...` in `work`, stdout and stderr into
    outputs/NAME/stdout.log when `capture` (as `python train.py > stdout.log 2>&1` would)."""
    out = work / "outputs" / name
    out.mkdir(parents=True, exist_ok=True)
    env = child_env({"HF_HOME": str(work / "hf-home"), **extra_env})
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *argv]
    if capture:
        with open(out / "stdout.log", "wb") as log:
            subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    else:
        subprocess.run(command, cwd=work, env=env, stdout=subprocess.DEVNULL, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "grpo":
            run_grpo(rest[0], float(rest[1]), int(rest[2]))
        elif kind == "sb3":
            run_sb3(rest[0], float(rest[1]))
        elif kind == "lightning":
            run_lightning(rest[0])
        elif kind == "verl":
            run_verl()
        return

    work = Path(tempfile.mkdtemp(prefix="kltop-experiments-"))
    try:
        for name, beta, seed in GRPO_RUNS:
            run_child(work, name, ["grpo", name, str(beta), str(seed)],
                      {"TENSORBOARD_LOGGING_DIR": f"outputs/{name}/{TB_LOGDIR}"}, capture=True)
        for name, lr in SB3_RUNS:
            run_child(work, name, ["sb3", name, repr(lr)], {}, capture=True)
        run_child(work, "lightning_run", ["lightning", "lightning_run"], {}, capture=False)
        run_child(work, VERL_PROJECT, ["verl"], {}, capture=False)
        produced = work / "outputs"
        prune(produced)
        scrub(produced, work)
        if OUTPUTS.exists():
            shutil.rmtree(OUTPUTS)
        shutil.copytree(produced, OUTPUTS)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_expected()
    for path in sorted(OUTPUTS.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            print(f"{digest}  {path.stat().st_size:8d}  {path.relative_to(HERE)}")


# ---------------------------------------------------------------------------------------------------------
# expected.json: per training run, from the full-precision source
# ---------------------------------------------------------------------------------------------------------


def last_checkpoint_state(folder: Path) -> Path:
    checkpoints = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return checkpoints[-1] / "trainer_state.json"


def write_expected() -> None:
    import csv

    import numpy as np

    runs = []
    for name, beta, seed in GRPO_RUNS:
        folder = OUTPUTS / name
        state_path = last_checkpoint_state(folder)
        state = json.loads(state_path.read_text())
        series = [[e["step"], e["kl"]] for e in state["log_history"] if "kl" in e]
        events = sorted(str(p.relative_to(folder)) for p in folder.rglob("events.out.tfevents.*"))
        runs.append({
            "folder": f"outputs/{name}", "framework": "trl GRPO", "beta": beta, "seed": seed,
            "kl_key": "kl" if series else None,
            "kl_key_tensorboard": "train/kl" if series else None,
            "source": str(state_path.relative_to(folder)),
            "checkpoints": sorted(p.name for p in folder.glob("checkpoint-*")),
            "event_files": events, "console": "stdout.log",
            "steps": [s for s, _ in series], "values": [v for _, v in series],
            "max_step": state["global_step"],
        })
    for name, lr in SB3_RUNS:
        folder = OUTPUTS / name
        with open(folder / "progress.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        series = [[int(r["time/total_timesteps"]), float(r["train/approx_kl"])]
                  for r in rows if r.get("train/approx_kl")]
        runs.append({
            "folder": f"outputs/{name}", "framework": "stable-baselines3 PPO", "learning_rate": lr,
            "kl_key": "train/approx_kl", "step_key": "time/total_timesteps", "source": "progress.csv",
            "also": ["progress.json", "stdout.log"] + sorted(
                str(p.relative_to(folder)) for p in folder.rglob("events.out.tfevents.*")),
            "rows": len(rows), "steps": [s for s, _ in series], "values": [v for _, v in series],
        })
    folder = OUTPUTS / "lightning_run"
    metrics = folder / "lightning_logs/version_0/metrics.csv"
    with open(metrics, newline="") as f:
        rows = list(csv.DictReader(f))
    series = [[int(r["step"]), float(r["kl"])] for r in rows if r.get("kl")]
    runs.append({
        "folder": "outputs/lightning_run", "framework": "lightning CSVLogger", "kl_key": "kl", "step_key": "step",
        "source": "lightning_logs/version_0/metrics.csv",
        "steps": [s for s, _ in series], "values": [v for _, v in series],
    })
    for experiment in VERL_EXPERIMENTS:
        path = OUTPUTS / VERL_PROJECT / f"{experiment}.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()]
        runs.append({
            "folder": f"outputs/{VERL_PROJECT}", "file": f"{experiment}.jsonl",
            "framework": f"veRL {VERL_VERSION} FileLogger (made-up metrics)", "kl_key": "actor/kl_loss",
            "kl_key_as_read": "data.actor/kl_loss",
            "steps": [r["step"] for r in records], "values": [r["data"]["actor/kl_loss"] for r in records],
        })
    for run in runs:
        # repr() of each double: the shortest text that reads back as it. Text, not a JSON number, so that no
        # JSON parser's rounding comes between (Foundation's on Linux misreads some by one ulp).
        run["values"] = [repr(float(v)) for v in run["values"]]
    expected = {
        "note": "One entry per training run (folder, and file where a folder holds several runs). steps and "
                "values are the KL series as the full-precision source holds it (source: trainer_state.json, "
                "progress.csv, metrics.csv, the .jsonl), values as decimal text (Python repr of the double). "
                "TensorBoard holds their float32; transformers' console prints f'{v:.4g}'; SB3's console "
                "prints approx_kl (a numpy float32) with str(), as progress.csv does, and its float64 "
                "values with 3 significant digits.",
        "runs": runs,
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()

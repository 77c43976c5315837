"""Writes MLflow's two tracking stores with the real MLflow, and what kltop must read from them.

    python3 -m venv venv && venv/bin/pip install mlflow-skinny==3.18.0 sqlalchemy==2.1.9 alembic==1.20.1
    venv/bin/python make_mlflow_fixtures.py        # rewrites mlflow.db, mlruns/ and expected.json

Run from anywhere: it works in this script's folder. Both stores get the same runs, logged through
MLflow's fluent API (`mlflow.start_run(run_name=...)`, `mlflow.log_metrics({...}, step=...)`), the way
trainers' MLflow callbacks log (transformers' `MLflowCallback`, veRL's MLflow logger):

- `mlflow.db`: the SQLite store (tracking URI `sqlite:///mlflow.db`, MLflow's default since 3.7).
- `mlruns/`: the legacy file store (tracking URI `file:./mlruns`).

MLflow records where it ran: absolute artifact paths (`artifact_uri`, `artifact_location`), the user
name (`mlflow.user`) and the script's path (`mlflow.source.name`). After writing, this script scrubs them
(SQL UPDATE on the database, edits of meta.yaml and tag files in the file store) so that no machine path,
user or host name is committed; it then checks that none is left.

Tools: Python 3.11, mlflow-skinny 3.18.0, SQLAlchemy 2.1.9, alembic 1.20.1, SQLite 3.40.1.
"""

import getpass
import json
import math
import os
import shutil
import socket
import sqlite3
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
# MLflow 3.18 refuses the file store unless asked: it is deprecated, but still found on disks.
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
warnings.filterwarnings("ignore")

import mlflow  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def kl(step, spike=None):
    """The series of the other fixtures (../README.md): 0.020 ... 0.030, 5.0 at the spike."""
    if step == spike:
        return 5.0
    return round(0.02 + 0.001 * ((step * 37) % 11), 3)


def loss(step):
    return round(0.30 + 0.01 * ((step * 7) % 5), 3)


# (experiment, run name, KL key, steps, spike, {step: special KL value}, other keys)
RUNS = [
    ("ppo-sweep", "ppo-lr3e-6", "train/kl", range(0, 40), 30, {17: math.nan, 35: math.inf}, ["train/loss"]),
    ("ppo-sweep", "ppo-lr1e-5", "train/kl", range(0, 60, 2), None, {8: -math.inf}, ["train/loss"]),
    # The same run name in two experiments: kltop must tell them apart.
    ("ppo-sweep", "baseline", "train/kl", range(1, 21), None, {}, ["train/loss"]),
    # `approx_kl` is logged too, before `kl`: kltop prefers `kl` (KL to the reference model).
    ("grpo", "baseline", "kl", range(0, 25), 12, {}, ["approx_kl", "loss"]),
]


def log_runs():
    """The runs, through the fluent API, into whatever store the tracking URI names."""
    for experiment, name, key, steps, spike, special, others in RUNS:
        mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name=name):
            mlflow.log_param("lr", name)
            for step in steps:
                metrics = {}
                for other in others:
                    metrics[other] = kl(step + 1) * 0.5 if "kl" in other else loss(step)
                metrics[key] = special.get(step, kl(step, spike))
                mlflow.log_metrics(metrics, step=step)


def expected_runs():
    """(run name, experiment) -> [[step, repr(value)], ...] of the KL key, as logged."""
    runs = []
    for experiment, name, key, steps, spike, special, _ in RUNS:
        values = [[step, repr(special.get(step, kl(step, spike)))] for step in steps]
        runs.append({"experiment": experiment, "run_name": name, "key": key, "samples": values})
    return runs


PRIVATE = [HERE, os.path.expanduser("~"), getpass.getuser(), socket.gethostname()]


def scrub_text(text):
    """Absolute paths become relative, the user `fixture`, the script its bare name."""
    for prefix in ("file://" + HERE + "/", HERE + "/", "file://" + HERE, HERE):
        text = text.replace(prefix, "./" if prefix.endswith("/") else ".")
    return text


def scrub_database(path):
    db = sqlite3.connect(path)
    db.execute("UPDATE experiments SET artifact_location = 'mlartifacts/' || experiment_id")
    db.execute("UPDATE runs SET artifact_uri = 'mlartifacts/' || experiment_id || '/' || run_uuid || '/artifacts'")
    db.execute("UPDATE runs SET user_id = 'fixture', source_name = ''")
    db.execute("UPDATE tags SET value = 'fixture' WHERE key = 'mlflow.user'")
    db.execute("UPDATE tags SET value = 'make_mlflow_fixtures.py' WHERE key = 'mlflow.source.name'")
    db.execute("DELETE FROM tags WHERE key LIKE 'mlflow.source.git.%'")
    db.commit()
    # MLflow makes some fifty tables and their indexes, a page each at least: small pages keep the file small.
    db.execute("PRAGMA page_size = 512")
    db.execute("VACUUM")
    db.close()


def scrub_file_store(root):
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if os.path.basename(folder) == "tags" and name == "mlflow.user":
                text = "fixture"
            elif os.path.basename(folder) == "tags" and name == "mlflow.source.name":
                text = "make_mlflow_fixtures.py"
            elif os.path.basename(folder) == "tags" and name.startswith("mlflow.source.git."):
                os.remove(path)
                continue
            elif name == "meta.yaml":
                lines = []
                for line in text.splitlines(keepends=True):
                    if line.startswith("user_id:"):
                        line = "user_id: fixture\n"
                    if line.startswith("source_name:"):
                        line = "source_name: ''\n"
                    lines.append(line)
                text = scrub_text("".join(lines))
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)


def check_private(paths):
    for path in paths:
        for folder, _, files in os.walk(path) if os.path.isdir(path) else [("", [], [path])]:
            for name in files:
                data = open(os.path.join(folder, name), "rb").read()
                for secret in PRIVATE:
                    # names are checked as words: a short host or user name is also a piece of random ids
                    needle = secret.encode()
                    if len(secret) < 6:
                        import re

                        if re.search(rb"(?<![A-Za-z0-9_])" + re.escape(needle) + rb"(?![A-Za-z0-9_])", data):
                            sys.exit(f"{folder}/{name} still holds {secret!r}")
                    elif needle in data:
                        sys.exit(f"{folder}/{name} still holds {secret!r}")


def write_expected(path, expected):
    """JSON with one line per run's samples, so that a diff shows which run changed."""
    text = json.dumps(expected, indent=1)
    for run in expected["runs"]:
        text = text.replace(json.dumps(run["samples"], indent=1).replace("\n", "\n   "), json.dumps(run["samples"]), 1)
    with open(path, "w") as f:
        f.write(text + "\n")
    assert json.load(open(path)) == expected


def main():
    for old in ("mlflow.db", "mlflow.db-journal", "mlruns", "mlartifacts"):
        if os.path.isdir(old):
            shutil.rmtree(old)
        elif os.path.exists(old):
            os.remove(old)

    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    log_runs()
    scrub_database("mlflow.db")

    mlflow.set_tracking_uri("file:./mlruns")
    log_runs()
    scrub_file_store("mlruns")
    # MLflow makes the artifact folder of each run even when nothing is logged to it.
    for extra in ("mlartifacts",):
        if os.path.isdir(extra):
            shutil.rmtree(extra)

    # The SQLite store's run ids, so that a test can name a run by id.
    db = sqlite3.connect("mlflow.db")
    ids = {}
    for uuid, name, experiment in db.execute(
        "SELECT r.run_uuid, r.name, e.name FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id"
    ):
        ids[f"{experiment}/{name}"] = uuid
    db.close()
    expected = {
        "writer": f"mlflow-skinny {mlflow.__version__}",
        "note": "values are repr() of the logged double; MLflow's SQL store keeps +-inf as +-1.7976931348623157e308 "
        "and NaN as value 0 with is_nan = 1; kltop reads both back as logged",
        "runs": expected_runs(),
        "sqlite_run_ids": ids,
    }
    write_expected("expected.json", expected)
    check_private(["mlflow.db", "mlruns", "expected.json"])
    print("wrote mlflow.db, mlruns/, expected.json")


if __name__ == "__main__":
    main()

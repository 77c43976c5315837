#!/usr/bin/env bash
# kltop's benchmark: builds everything in release mode, then prints this machine's figures.
#   Scripts/bench.sh                 every section (the idle-CPU one takes a minute per program)
#   Scripts/bench.sh detector jsonl  some sections
# KLTOP_BENCH_IDLE_SECONDS shortens the idle-CPU measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kltop >/dev/null
swift build -c release --product kltop-bench >/dev/null
exec .build/release/kltop-bench "$@"

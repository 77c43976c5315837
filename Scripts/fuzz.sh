#!/usr/bin/env bash
# Fuzzes kltop's parsers with libFuzzer and AddressSanitizer, one target after another, each for a bounded
# time, starting from a seed corpus made of the repository's own logs, configs and themes.
#   Scripts/fuzz.sh                   every target, 60 s each
#   Scripts/fuzz.sh 300 csv console   some targets, 300 s each
# The targets: jsonl csv console tensorboard trainer-state wandb swanlab decompression format-detection
# rlwatch-config theme yaml mlflow-metric-lines store-rows remote-stream.
#
# Each target's harness (Tests/Fuzzing/Harnesses) checks promises that hold for every input, not only that
# nothing crashes (the same samples however the input is cut into chunks, and so on). The first input that
# crashes, leaks, hangs or breaks a promise stops the run: it is copied to
# Tests/Fixtures/fuzz/regressions/TARGET/, from where `swift test` (FuzzingTests) replays it from then on.
# Working files (the corpus, which grows from run to run, and libFuzzer's logs) stay in .build-fuzz/.
set -euo pipefail
export LANG=C.UTF-8
cd "$(dirname "$0")/.."

seconds=60
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi

# The replay build of kltop-fuzz writes the seed corpus and lists the targets.
swift build --product kltop-fuzz >/dev/null
replay=.build/debug/kltop-fuzz
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <("$replay" targets)

# The fuzzing build, in its own scratch path. The toolchain's lld links it: the system's gold stops with an
# internal error (in format_file_lineno) on the ASan and libFuzzer runtimes.
mkdir -p .build-fuzz/logs
toolset=.build-fuzz/lld-toolset.json
printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' \
    "$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld" >"$toolset"
echo "building kltop-fuzz with -sanitize=fuzzer,address (a few minutes the first time)"
swift build -c release --product kltop-fuzz --scratch-path .build-fuzz --toolset "$toolset" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >.build-fuzz/logs/build.log 2>&1 || {
    tail -30 .build-fuzz/logs/build.log
    exit 2
}
fuzzer=.build-fuzz/release/kltop-fuzz

for target in "${targets[@]}"; do
    corpus=.build-fuzz/corpus/$target
    seeds=.build-fuzz/seeds/$target
    artifacts=.build-fuzz/artifacts/$target
    log=.build-fuzz/logs/$target.log
    rm -rf "$seeds" "$artifacts"
    mkdir -p "$corpus" "$seeds" "$artifacts"
    "$replay" seeds "$target" "$seeds"
    # Swift's own crash backtracer is off: it reads memory that AddressSanitizer guards and would report
    # itself. Inputs are at most 8 KiB (the seeds are cut to that): the parsers' limits are exercised by
    # the harnesses' small limits instead, and short inputs keep the fuzzer fast. The dictionary holds the
    # tokens the parsers look for.
    if SWIFT_BACKTRACE=enable=no KLTOP_FUZZ_TARGET=$target "$fuzzer" "$corpus" "$seeds" \
        -max_total_time="$seconds" -max_len=8192 -timeout=20 -rss_limit_mb=2048 -dict=Tests/Fuzzing/kltop.dict \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
        echo "$target: ${seconds} s, $runs inputs, $coverage edges covered, every promise kept"
        continue
    fi
    found=$(ls -t "$artifacts" 2>/dev/null | head -1 || true)
    echo
    # A broken promise says what broke on its Fatal error line; a crash in optimized code names the check
    # that failed in its stack (Swift runtime failure: ...).
    grep -m1 -A2 -E 'Fatal error|ERROR: (AddressSanitizer|LeakSanitizer)|Swift runtime failure' "$log" ||
        tail -20 "$log"
    if [[ -z $found ]]; then
        echo "$target: the fuzzer stopped without an input to keep; see $log"
        exit 1
    fi
    regressions=Tests/Fixtures/fuzz/regressions/$target
    mkdir -p "$regressions"
    cp "$artifacts/$found" "$regressions/$found"
    cat <<MESSAGE

$target: $found broke the harness (the whole report: $log).
It is now $regressions/$found, which swift test replays. Next:
  - see it again:  $replay $target $regressions/$found
  - make it small: SWIFT_BACKTRACE=enable=no KLTOP_FUZZ_TARGET=$target $fuzzer -minimize_crash=1 \\
                     -max_total_time=60 -exact_artifact_path=$regressions/$found $regressions/$found
  - fix the parser (or the harness, if the promise was wrong), give the file a name that says what it
    holds, and commit both.
MESSAGE
    exit 1
done

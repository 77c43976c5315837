#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and under ThreadSanitizer, each build in its own scratch
# path (.build-asan, .build-tsan), and prints what they reported.
#   Scripts/sanitize.sh                  both (several minutes each)
#   Scripts/sanitize.sh thread           one
#   Scripts/sanitize.sh address --filter CSVReaderTests   extra arguments go to swift test
#
# The end-to-end tests run the kltop built beside the tests, so it is sanitized too. Every sanitized process
# (the test runner and each kltop it starts, in tmux or not) writes its reports to SCRATCH/reports/, since a
# report from a child process would otherwise only reach a pipe or a tmux pane; the summary counts them.
# A run fails when a test fails or any report was written. Every test runs under both sanitizers, the
# end-to-end ones included (their timeouts leave room: the suite takes about 80 s under ASan and 100 s under
# TSan here). Known reports from the toolchain's own libraries are suppressed in Scripts/sanitizers/, each
# with its reason.
set -euo pipefail
export LANG=C.UTF-8
cd "$(dirname "$0")/.."

sanitizers=()
while (($#)) && [[ $1 == address || $1 == thread ]]; do
    sanitizers+=("$1")
    shift
done
((${#sanitizers[@]})) || sanitizers=(address thread)
suppressions=$PWD/Scripts/sanitizers

failed=0
for sanitizer in "${sanitizers[@]}"; do
    case $sanitizer in
    address)
        scratch=.build-asan
        export ASAN_OPTIONS="log_path=$PWD/$scratch/reports/report:detect_leaks=1"
        export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
        ;;
    thread)
        scratch=.build-tsan
        export TSAN_OPTIONS="log_path=$PWD/$scratch/reports/report:suppressions=$suppressions/tsan.supp:print_suppressions=0"
        ;;
    esac
    reports=$scratch/reports
    rm -rf "$reports"
    mkdir -p "$reports"
    echo "== $sanitizer: building (in $scratch)"
    if ! swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$scratch/build.log" 2>&1; then
        tail -30 "$scratch/build.log"
        failed=1
        continue
    fi
    echo "== $sanitizer: testing"
    started=$SECONDS
    testStatus=0
    # Swift's own crash backtracer is off: it reads memory AddressSanitizer guards and would be reported.
    SWIFT_BACKTRACE=enable=no swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "$@" \
        >"$scratch/test.log" 2>&1 || testStatus=$?
    grep -E "Test run with [0-9]+ tests" "$scratch/test.log" | sed 's/^/   /' || true
    grep -E "^✘ Test [^r]|error: .*failed" "$scratch/test.log" | head -20 | sed 's/^/   /' || true
    shopt -s nullglob
    files=("$reports"/report*)
    shopt -u nullglob
    echo "   $((SECONDS - started)) s; swift test exited with $testStatus; ${#files[@]} sanitizer report files in $reports"
    if ((${#files[@]})); then
        # Each report ends with a SUMMARY line naming the kind and where; count the distinct ones.
        cat "${files[@]}" | grep -h "^SUMMARY:" | sort | uniq -c | sort -rn | sed 's/^/   /'
    fi
    if ((testStatus != 0 || ${#files[@]} != 0)); then failed=1; fi
done
exit $failed

#!/usr/bin/env bash
# Builds kltop as one binary that needs no Swift toolchain (the Swift runtime and Foundation linked in,
# stripped) and installs it with its man page and shell completions:
#
#   Scripts/install.sh [PREFIX]        PREFIX defaults to ~/.local
#
# Installs PREFIX/bin/kltop, PREFIX/share/man/man1/kltop.1 and completions for bash, zsh and fish under
# PREFIX/share. The binary needs only glibc, libstdc++, ncurses, SQLite, zlib, libzstd and libcurl at run
# time, so it can be copied to machines that have no Swift (scp PREFIX/bin/kltop gpu-node:.local/bin/).
# KLTOP_SCRATCH_PATH sets SwiftPM's build folder (default: .build/install in the package).
set -euo pipefail

prefix="${1:-$HOME/.local}"
if [ "$#" -gt 1 ] || [[ "$prefix" == -* ]]; then
    echo "usage: Scripts/install.sh [PREFIX]   (default: ~/.local)" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
# A build folder of its own: SwiftPM relinks a binary as it was last linked, so a folder shared with
# plain release builds could hand back a kltop that needs the Swift runtime.
scratch="${KLTOP_SCRATCH_PATH:-$root/.build/install}"
cd "$root"

build=(swift build -c release --static-swift-stdlib --product kltop --scratch-path "$scratch")
built="$("${build[@]}" --show-bin-path)/kltop"
echo "kltop: building the release binary (Swift runtime linked in)..." >&2
"${build[@]}" >&2
if command -v readelf >/dev/null 2>&1 && readelf -d "$built" | grep -q 'libswiftCore'; then
    echo "kltop: $built links the Swift runtime dynamically; it would not run without the toolchain" >&2
    echo "kltop: remove $scratch (a build without --static-swift-stdlib was made there) and run again" >&2
    exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$built" "$stage/kltop"
if command -v strip >/dev/null 2>&1; then
    strip "$stage/kltop"
else
    echo "kltop: strip not found (binutils): the binary is installed unstripped" >&2
fi

# The man page from the command-line definitions: swift-argument-parser's generate-manual plugin.
echo "kltop: generating the man page..." >&2
# It builds every release product without --static-swift-stdlib: in a folder of its own, since SwiftPM
# links the binary in a shared folder as it was last linked (a dynamic kltop, once the plugin has run).
swift package --scratch-path "$scratch/manual" generate-manual >&2
manual="$scratch/manual/plugins/GenerateManual/outputs/kltop/kltop.1"
[ -f "$manual" ] || { echo "kltop: the generate-manual plugin wrote no $manual" >&2; exit 1; }

"$stage/kltop" --generate-completion-script bash >"$stage/kltop.bash"
"$stage/kltop" --generate-completion-script zsh >"$stage/_kltop"
"$stage/kltop" --generate-completion-script fish >"$stage/kltop.fish"

install -D -m 755 "$stage/kltop" "$prefix/bin/kltop"
install -D -m 644 "$manual" "$prefix/share/man/man1/kltop.1"
install -D -m 644 "$stage/kltop.bash" "$prefix/share/bash-completion/completions/kltop"
install -D -m 644 "$stage/_kltop" "$prefix/share/zsh/site-functions/_kltop"
install -D -m 644 "$stage/kltop.fish" "$prefix/share/fish/vendor_completions.d/kltop.fish"

size=$(($(stat -c %s "$prefix/bin/kltop") / 1024 / 1024))
echo "kltop: installed $("$prefix/bin/kltop" --version) into $prefix (binary ${size} MB)" >&2
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "kltop: $prefix/bin is not on PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" >&2 ;;
esac

#!/usr/bin/env bash
# Regenerates link/startup-order.txt: the functions the release daemon runs, in the order it
# first runs them (start-up, idle polling, one /help, shutdown), for lld's
# --symbol-ordering-file (build.rs passes it). Placing them together keeps the code the idle
# daemon touches on few pages instead of spread over all of .text (BENCHMARKS.md, "Binary size
# and idle memory").
#
# Needs valgrind (callgrind) and an unstripped release build of the same sources and toolchain:
#
#   CARGO_PROFILE_RELEASE_STRIP=false cargo build --release && link/profile-startup.sh
#
# It runs the footprint bench once (FOOTPRINT_RUNS=1) with the binary under callgrind, asks every
# running callgrind for a dump twice a second, and orders the functions by the first dump they
# appear in. Symbol names carry hashes tied to the toolchain and Cargo.lock: after either
# changes, rerun this (stale names are skipped by the linker, so a stale list only loses the
# effect).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
binary="${CARGO_TARGET_DIR:-$root/target}/release/minicrew"
out="$root/link/startup-order.txt"
if ! nm "$binary" >/dev/null 2>&1 || [ "$(nm "$binary" 2>/dev/null | wc -l)" -lt 1000 ]; then
    echo "$binary has no symbols; build with CARGO_PROFILE_RELEASE_STRIP=false" >&2
    exit 1
fi
work=$(mktemp -d)
cp "$binary" "$work/minicrew.real"
cleanup() {
    [ -n "${dumper:-}" ] && kill "$dumper" 2>/dev/null || true
    cp "$work/minicrew.real" "$binary"
}
trap cleanup EXIT
rm -f "$binary"
cat >"$binary" <<WRAP
#!/bin/sh
exec valgrind -q --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
    --callgrind-out-file=$work/cg.%p "$work/minicrew.real" "\$@"
WRAP
chmod +x "$binary"
(while true; do callgrind_control -d >/dev/null 2>&1 || true; sleep 0.5; done) &
dumper=$!
(cd "$root" && FOOTPRINT_RUNS=1 cargo bench --bench footprint --profile dev)
kill "$dumper"
dumper=
sleep 1

# The binary's own function symbols, to drop libc's and valgrind's names.
nm --defined-only "$work/minicrew.real" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$work/own"
python3 - "$work" "$out" <<'PY'
import os, re, sys
work, out = sys.argv[1], sys.argv[2]
own = set(open(os.path.join(work, "own")).read().split())
# Files: cg.<pid>.<n> for the dumps taken while running, cg.<pid> for the one at exit.
def key(name):
    parts = name.split(".")
    pid = int(parts[1])
    n = int(parts[2]) if len(parts) > 2 else 10**9
    return (n, pid)
files = sorted((f for f in os.listdir(work) if f.startswith("cg.")), key=key)
seen, order = set(), []
fn = re.compile(r"^c?fn=(?:\(\d+\) )?(\S+)")
for f in files:
    for line in open(os.path.join(work, f), errors="replace"):
        m = fn.match(line)
        if m and m.group(1) in own and m.group(1) not in seen:
            seen.add(m.group(1))
            order.append(m.group(1))
with open(out, "w") as o:
    o.write("\n".join(order) + "\n")
print(f"{len(order)} functions from {len(files)} dumps -> {out}")
PY

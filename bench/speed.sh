#!/usr/bin/env bash
# Reproduces the numbers of issue 18 for one slab binary, on the embedded
# sandbox, isolated from the user's own state:
#   slab do --all on a fresh sandbox, then again (everything correct);
#   slab check of the whole lab, N runs (default 50): p50, p95, max;
#   slab package zip sizes; the binary's size.
# Usage: bench/speed.sh [BINARY] [RUNS]   (BINARY defaults to a fresh build of ./cmd/slab)
# The Go benchmarks cover the rest (see README, "Development").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
runs=${2:-50}
work=$(mktemp -d /tmp/slab-speed.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -z "$bin" ]; then
  bin=$work/slab
  go build -o "$bin" ./cmd/slab
fi
export GOCACHE=${GOCACHE:-$(go env GOCACHE)} GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)}
export HOME=$work/home XDG_CONFIG_HOME=$work/cfg XDG_DATA_HOME=$work/data XDG_CACHE_HOME=$work/cache
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=$work/none AWS_SHARED_CREDENTIALS_FILE=$work/none NO_COLOR=1
mkdir -p "$HOME"
state=$work/state
ms() { date +%s%N; }
pct() { # pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE
  sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(p*NR+0.999999); if(i<1)i=1; if(i>NR)i=NR; printf "%.1f", a[i]}'
}
echo "binary: $bin ($(stat -c %s "$bin") bytes)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(ms); "$bin" --state-dir "$state" do --all >"$work/do1.out" 2>&1 || { cat "$work/do1.out"; exit 1; }; t1=$(ms)
"$bin" --state-dir "$state" do --all >"$work/do2.out" 2>&1 || { cat "$work/do2.out"; exit 1; }; t2=$(ms)
echo "do --all fresh: $(( (t1-t0)/1000000 )) ms; second run: $(( (t2-t1)/1000000 )) ms"

: >"$work/check.ms"
for i in $(seq "$runs"); do
  a=$(ms)
  "$bin" --state-dir "$state" check --format json >"$work/check.out" 2>&1 || true
  b=$(ms)
  echo "$(( (b-a)/1000 ))" | awk '{printf "%.3f\n", $1/1000}' >>"$work/check.ms"
done
grep -q '"kind": "sandbox"' "$work/check.out" || { echo "check did not run:"; cat "$work/check.out"; exit 1; }
echo "check x$runs (ms): p50 $(pct "$work/check.ms" 0.50) p95 $(pct "$work/check.ms" 0.95) max $(pct "$work/check.ms" 1.0)"

for arch in x86_64 arm64; do
  if timeout 60 "$bin" --state-dir "$state" package s3-processor --arch "$arch" -o "$work/s3-$arch.zip" >"$work/pkg.out" 2>&1; then
    echo "package s3-processor $arch: $(stat -c %s "$work/s3-$arch.zip") bytes ($(sed -n 1p "$work/pkg.out" | cut -c1-120))"
  else
    echo "package s3-processor $arch: failed or over 60 s ($(tail -n 1 "$work/pkg.out" | cut -c1-160))"
  fi
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

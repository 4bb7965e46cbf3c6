#!/usr/bin/env bash
# The linux/amd64 release archive as .goreleaser.yaml makes it (before hooks,
# then slab with -tags slab_prebuilt, tar.gz with README.md and LICENSE),
# built by hand so it takes one target's time; prints the sizes.
# Usage: bench/release-size.sh [SOURCE_DIR]   (default: this checkout)
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d /tmp/slab-release.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/src"
cd "$work/src"
rm -rf dist lambdas/prebuilt/*.gz
# The before hooks, as the release runs them.
grep -E '^    - (env |gzip )' .goreleaser.yaml | sed -e 's/^    - //' -e 's/{{ *\.Version *}}/0.0.0/g; s/{{ *\.ShortCommit *}}/none/g; s/{{ *\.Date *}}/unknown/g' >"$work/hooks.sh"
bash -e "$work/hooks.sh"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -tags slab_prebuilt -trimpath -ldflags "-s -w" -o "$work/slab" ./cmd/slab
cp README.md LICENSE "$work/"
tar -C "$work" -czf "$work/slab_linux_amd64.tar.gz" slab README.md LICENSE
for f in lambdas/prebuilt/bootstrap-linux-amd64.gz lambdas/prebuilt/bootstrap-linux-arm64.gz; do
  echo "$(basename "$f"): $(stat -c %s "$f") bytes"
done
echo "slab (release, linux/amd64): $(stat -c %s "$work/slab") bytes"
echo "archive slab_linux_amd64.tar.gz: $(stat -c %s "$work/slab_linux_amd64.tar.gz") bytes"

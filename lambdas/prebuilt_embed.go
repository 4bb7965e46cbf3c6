//go:build slab_prebuilt

package lambdas

import _ "embed"

// Release builds embed a static linux bootstrap (cmd/bootstrap) per
// architecture, built by goreleaser's before hooks into prebuilt/ and
// compressed there with `gzip -n -9` (see .goreleaser.yaml), so `slab
// package` works on any OS without a Go toolchain. They are embedded compressed, which halves what
// they add to the release binary, and their deflate stream goes into the
// zip as it is, so packaging compresses nothing.

//go:embed prebuilt/bootstrap-linux-amd64.gz
var prebuiltAMD64 []byte

//go:embed prebuilt/bootstrap-linux-arm64.gz
var prebuiltARM64 []byte

func prebuiltBootstrap(goarch string) ([]byte, bool) {
	switch goarch {
	case "amd64":
		return prebuiltAMD64, len(prebuiltAMD64) > 0
	case "arm64":
		return prebuiltARM64, len(prebuiltARM64) > 0
	}
	return nil, false
}

// HasPrebuilt reports whether this build embeds linux bootstraps.
const HasPrebuilt = true

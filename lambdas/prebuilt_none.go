//go:build !slab_prebuilt

package lambdas

// prebuiltBootstrap returns the gzip of the bootstrap for goarch: none in
// this build (built without the slab_prebuilt tag, as every build but a
// release is).
func prebuiltBootstrap(goarch string) ([]byte, bool) { return nil, false }

// HasPrebuilt reports whether this build embeds linux bootstraps.
const HasPrebuilt = false

package lambdas

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
)

// ManifestName is the file beside `bootstrap` in a Go function's zip. The
// sandbox reads it to run the host's own slab in bootstrap mode instead of
// the linux binary in the zip, which it may not be able to execute.
const ManifestName = "slab-manifest.json"

// Manifest describes a Go function's zip.
type Manifest struct {
	Handler     string `json:"handler"`
	SlabVersion string `json:"slab_version"`
	Arch        string `json:"arch"`
	// SandboxOnly marks a package whose bootstrap is not a build of the
	// handlers: the sandbox runs its own slab for it, AWS cannot.
	SandboxOnly bool `json:"sandbox_only,omitempty"`
}

// Runtimes and architectures, as `aws lambda create-function` spells them.
const (
	RuntimeGo     = "go"
	RuntimeNodejs = "nodejs"

	ArchARM64 = "arm64"
	ArchX8664 = "x86_64"

	LambdaRuntimeGo     = "provided.al2023"
	LambdaRuntimeNodejs = "nodejs22.x"
)

// ErrInvalidOption wraps every error about the options themselves (unknown
// function, architecture or runtime), as opposed to a failed build.
var ErrInvalidOption = errors.New("invalid package option")

// ZipOptions say what to package.
type ZipOptions struct {
	Function string // s3-processor, event-processor or queue-processor
	Arch     string // arm64 (default) or x86_64; Go only
	Runtime  string // go (default) or nodejs
	// Version is slab's version: recorded in the manifest and stamped into a
	// bootstrap built from source. "" means "dev".
	Version string
	// Progress, when set, gets a line before slow work (a cross-compile).
	Progress io.Writer
	// Sandbox says the package is for slab's sandbox, which runs slab-made
	// packages with its own slab executable whatever their bootstrap: a
	// slab without embedded bootstraps then makes a sandbox-only package at
	// once instead of cross-compiling one.
	Sandbox bool
}

// Source says where a zip's code came from.
type Source string

const (
	SourceSandbox  Source = "sandbox"  // a sandbox-only package: the sandbox runs its own slab's handlers
	SourcePrebuilt Source = "prebuilt" // a bootstrap embedded in this release build
	SourceCache    Source = "cache"    // cross-compiled from source earlier
	SourceBuilt    Source = "built"    // cross-compiled from source now
	SourceNodejs   Source = "nodejs"   // the embedded index.mjs
)

// PackInfo describes a zip Zip made.
type PackInfo struct {
	Function      string
	Runtime       string // go or nodejs
	LambdaRuntime string // provided.al2023 or nodejs22.x
	Handler       string // create-function's --handler
	Arch          string // "" for nodejs: the zip runs on either architecture
	Source        Source
	Detail        string // one line for people: which path was taken and why
	BootstrapPath string // the file the bootstrap was read from, if any
	BootstrapSize int64
	BuildTime     time.Duration // the cross-compile, when Source is SourceBuilt
	Manifest      *Manifest
}

// CodeSha256 is the zip's SHA-256 in base64, as Lambda reports it in
// CodeSha256, so a deployed function can be compared with a local zip.
func CodeSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// NormalizeArch returns the Lambda architecture for "" (arm64), arm64 or x86_64.
func NormalizeArch(arch string) (string, error) {
	switch arch {
	case "", ArchARM64:
		return ArchARM64, nil
	case ArchX8664:
		return ArchX8664, nil
	}
	return "", fmt.Errorf("%w: architecture %q: use arm64 or x86_64", ErrInvalidOption, arch)
}

// goarch is GOARCH for a Lambda architecture.
func goarch(arch string) string {
	if arch == ArchX8664 {
		return "amd64"
	}
	return "arm64"
}

// Zip builds a function's deployment package. Both runtimes' zips are
// deterministic: the same code gives the same bytes, hence the same
// CodeSha256, so re-deploying an unchanged function is visibly a no-op.
//
// For Go the bootstrap (cmd/bootstrap: the handlers and the Runtime API
// loop) comes from the first of: a prebuilt one embedded in a release build;
// for the sandbox, when slab itself is running, none at all (a sandbox-only
// package, see ZipOptions.Sandbox); a cross-compile of ./cmd/bootstrap with
// the local Go toolchain when slab runs from its source tree (cached per
// source hash). Zips with a bootstrap are cached by content in the user's
// cache directory, so each is compressed once per version.
func Zip(ctx context.Context, o ZipOptions) ([]byte, PackInfo, error) {
	if !IsFunction(o.Function) {
		return nil, PackInfo{}, fmt.Errorf("%w: unknown function %q: use one of %s", ErrInvalidOption, o.Function, strings.Join(Functions(), ", "))
	}
	switch o.Runtime {
	case "", RuntimeGo:
		return zipGo(ctx, o)
	case RuntimeNodejs:
		src, ok := NodeSource(o.Function)
		if !ok {
			return nil, PackInfo{}, fmt.Errorf("no Node.js source for %s", o.Function)
		}
		z, err := deterministicZip([]zipEntry{{name: "index.mjs", mode: 0o644, data: []byte(src)}})
		return z, PackInfo{
			Function: o.Function, Runtime: RuntimeNodejs, LambdaRuntime: LambdaRuntimeNodejs, Handler: "index.handler",
			Source: SourceNodejs, Detail: "index.mjs embedded in slab (AWS SDK for JavaScript v3, provided by the runtime)",
		}, err
	}
	return nil, PackInfo{}, fmt.Errorf("%w: runtime %q: use go or nodejs", ErrInvalidOption, o.Runtime)
}

func zipGo(ctx context.Context, o ZipOptions) ([]byte, PackInfo, error) {
	arch, err := NormalizeArch(o.Arch)
	if err != nil {
		return nil, PackInfo{}, err
	}
	version := o.Version
	if version == "" {
		version = "dev"
	}
	info := PackInfo{
		Function: o.Function, Runtime: RuntimeGo, LambdaRuntime: LambdaRuntimeGo, Handler: o.Function, Arch: arch,
		Manifest: &Manifest{Handler: o.Function, SlabVersion: version, Arch: arch},
	}
	if _, ok := prebuiltBootstrap(goarch(arch)); !ok && o.Sandbox && runningSlab() {
		return sandboxZip(o.Function, arch, version, &info)
	}
	bin, err := bootstrapBinary(ctx, arch, version, o.Progress, &info)
	if err != nil {
		return nil, info, err
	}
	info.BootstrapSize = int64(len(bin))
	manifest, err := json.MarshalIndent(info.Manifest, "", "  ")
	if err != nil {
		return nil, info, err
	}
	manifest = append(manifest, '\n')
	// An embedded bootstrap's deflate stream goes into the zip as it is, so
	// only a source build's zip is worth keeping on disk.
	key := ""
	if info.Source != SourcePrebuilt {
		key = zipCacheKey(bin, manifest)
		if z, ok := cachedZip(key); ok {
			return z, info, nil
		}
	}
	z, err := deterministicZip([]zipEntry{
		{name: "bootstrap", mode: 0o755, data: bin},
		{name: ManifestName, mode: 0o644, data: manifest},
	})
	if err == nil && key != "" {
		storeZip(key, z)
	}
	return z, info, err
}

// runningSlab reports whether this process is slab itself (not a test
// binary or another program using the package): a sandbox it starts runs
// slab-made packages through it.
func runningSlab() bool {
	bi, ok := debug.ReadBuildInfo()
	return ok && bi.Path == mainPackage
}

// sandboxZip is the package slab makes for its sandbox when it embeds no
// bootstrap: the manifest, and a `bootstrap` script that only explains
// itself. The sandbox runs such packages with its own slab (that is what the
// manifest asks for), so there is nothing to build: packaging takes no
// toolchain and no time, and the zip is a few hundred bytes. Deployed to AWS
// by mistake, every invocation fails with the script's message, which says
// how to make a package for AWS.
func sandboxZip(function, arch, version string, info *PackInfo) ([]byte, PackInfo, error) {
	info.Manifest.SandboxOnly = true
	info.Source = SourceSandbox
	info.Detail = "a sandbox-only package: slab's sandbox runs it with its own build of the handlers (for AWS: a release build of slab, or Go in slab's source tree, with --aws)"
	manifest, err := json.MarshalIndent(info.Manifest, "", "  ")
	if err != nil {
		return nil, *info, err
	}
	script := fmt.Sprintf(`#!/bin/sh
# Made by slab %s for slab's sandbox, which runs %s (linux/%s) with its own
# build of the lab's handlers: see slab-manifest.json. It is not a build of
# the handlers and cannot run anywhere else.
echo "bootstrap: this %s package was made for slab's sandbox only; for AWS, package it with a release build of slab or from slab's source tree with Go: slab --aws package %s --arch %s -o %s.zip" >&2
exit 1
`, version, function, goarch(arch), function, function, arch, function)
	info.BootstrapSize = int64(len(script))
	z, err := deterministicZip([]zipEntry{
		{name: "bootstrap", mode: 0o755, data: []byte(script)},
		{name: ManifestName, mode: 0o644, data: append(manifest, '\n')},
	})
	return z, *info, err
}

// zipCacheVersion changes whenever the zip layout does, so that no cached
// zip outlives the code that made it.
const zipCacheVersion = "slab-zip 1"

func zipCacheKey(bootstrap, manifest []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n", zipCacheVersion, len(bootstrap))
	h.Write(bootstrap)
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil))
}

func zipCacheDir() (string, bool) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "slab", "zips"), true
}

// cachedZip returns a zip made earlier from the same bootstrap and
// manifest. Its name is the hash of those inputs, and its own hash is
// checked against the name's companion, so a damaged file is rebuilt.
func cachedZip(key string) ([]byte, bool) {
	dir, ok := zipCacheDir()
	if !ok {
		return nil, false
	}
	z, err := os.ReadFile(filepath.Join(dir, key+".zip"))
	if err != nil || len(z) < sha256.Size {
		return nil, false
	}
	body, sum := z[:len(z)-sha256.Size], z[len(z)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(filepath.Join(dir, key+".zip"), now, now)
	return body, true
}

// zipCacheKeep bounds the cache: three functions times a few versions.
const zipCacheKeep = 12

// storeZip keeps a zip for cachedZip (with its SHA-256 appended), written
// atomically; a cache that cannot be written only costs time.
func storeZip(key string, z []byte) {
	dir, ok := zipCacheDir()
	if !ok || os.MkdirAll(dir, 0o755) != nil {
		return
	}
	f, err := os.CreateTemp(dir, key+".tmp-*")
	if err != nil {
		return
	}
	defer os.Remove(f.Name())
	sum := sha256.Sum256(z)
	_, werr := f.Write(append(z[:len(z):len(z)], sum[:]...))
	if cerr := f.Close(); werr != nil || cerr != nil {
		return
	}
	if os.Rename(f.Name(), filepath.Join(dir, key+".zip")) != nil {
		return
	}
	pruneLRU(dir, zipCacheKeep, func(name string) bool { return strings.HasSuffix(name, ".zip") })
}

// bootstrapBinary finds or builds the linux/<arch> executable.
func bootstrapBinary(ctx context.Context, arch, version string, progress io.Writer, info *PackInfo) ([]byte, error) {
	ga := goarch(arch)
	platform := "linux/" + ga
	// A release build's embedded bootstrap comes first: the release binary
	// itself carries both bootstraps and is three times the size.
	if gz, ok := prebuiltBootstrap(ga); ok {
		b, err := unpackPrebuilt(gz)
		if err != nil {
			return nil, fmt.Errorf("the %s bootstrap embedded in this slab is damaged: %w", platform, err)
		}
		info.Source = SourcePrebuilt
		info.Detail = fmt.Sprintf("%s bootstrap embedded in this release of slab", platform)
		return b, nil
	}
	root, rootErr := SourceRoot()
	goTool, goErr := exec.LookPath("go")
	if rootErr == nil && goErr == nil {
		return buildFromSource(ctx, goTool, root, arch, version, progress, info)
	}
	var why []string
	why = append(why, "this slab has no embedded bootstraps (only release builds do)")
	if rootErr != nil {
		why = append(why, rootErr.Error())
	}
	if goErr != nil {
		why = append(why, "no Go toolchain on PATH")
	}
	return nil, fmt.Errorf("cannot make a %s bootstrap: %s. Install a release build of slab "+
		"(https://github.com/slab-lab/slab/releases; they embed the bootstraps), or install Go 1.26+ and run slab from its source tree "+
		"(go run ./cmd/slab --aws package ...), or package the Node.js version with --runtime nodejs",
		platform, strings.Join(why, "; "))
}

// mainPackage is the import path of slab's main package, whose binaries
// answer bootstrap mode and start sandboxes that run slab-made packages.
const mainPackage = "github.com/slab-lab/slab/cmd/slab"

// SourceRoot finds slab's source tree: $SLAB_SOURCE_DIR, else the directory
// this package was compiled from (known to binaries built without -trimpath,
// as `go run` and `go test` build them).
func SourceRoot() (string, error) {
	if d := os.Getenv("SLAB_SOURCE_DIR"); d != "" {
		if isSlabRoot(d) {
			return d, nil
		}
		return "", fmt.Errorf("SLAB_SOURCE_DIR=%s is not slab's source tree (no go.mod of github.com/slab-lab/slab)", d)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if d := filepath.Dir(filepath.Dir(file)); isSlabRoot(d) {
			return d, nil
		}
	}
	return "", errors.New("slab's source tree was not found (set SLAB_SOURCE_DIR to a checkout)")
}

func isSlabRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == "github.com/slab-lab/slab"
		}
	}
	return false
}

// buildMu keeps one process from cross-compiling the same thing several
// times at once (slab do packages the three functions from one bootstrap).
var buildMu sync.Mutex

// bootstrapBuildPackage is what a source build compiles: the bootstrap-only
// main. bootstrapTags drop aws-lambda-go's RPC mode (the retired go1.x
// runtime's), which halves the binary: provided.al2023 speaks the Runtime
// API. The release's hooks (.goreleaser.yaml) build it the same way.
const (
	bootstrapBuildPackage = "./cmd/bootstrap"
	bootstrapTags         = "lambda.norpc"
)

func buildFromSource(ctx context.Context, goTool, root, arch, version string, progress io.Writer, info *PackInfo) ([]byte, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	ga := goarch(arch)
	env := crossEnv(ga)
	key, goVersion, err := sourceKey(ctx, goTool, root, env, arch)
	if err != nil {
		return nil, err
	}
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("no user cache directory for the built bootstrap: %w", err)
	}
	dir := filepath.Join(cacheDir, "slab", "bootstrap")
	cached := filepath.Join(dir, key)
	info.BootstrapPath = cached
	if b, err := os.ReadFile(cached); err == nil && len(b) > 0 {
		now := time.Now()
		_ = os.Chtimes(cached, now, now) // most recently used: kept by pruneCache
		info.Source = SourceCache
		info.Detail = fmt.Sprintf("linux/%s bootstrap cross-compiled from %s with %s earlier (cached at %s)", ga, root, goVersion, cached)
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if progress != nil {
		fmt.Fprintf(progress, "cross-compiling %s for linux/%s with %s (the first build takes a minute)...\n", bootstrapBuildPackage, ga, goVersion)
	}
	tmp, err := os.CreateTemp(dir, key+".tmp-*")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool, "build", "-tags", bootstrapTags, "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w", "-o", tmp.Name(), bootstrapBuildPackage)
	cmd.Dir = root
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cross-compiling the linux/%s bootstrap (GOOS=linux GOARCH=%s CGO_ENABLED=0 go build %s in %s): %w\n%s",
			ga, ga, bootstrapBuildPackage, root, err, strings.TrimSpace(stderr.String()))
	}
	info.BuildTime = time.Since(start)
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), cached); err != nil {
		return nil, err
	}
	pruneCache(dir, arch, key)
	info.Source = SourceBuilt
	info.Detail = fmt.Sprintf("linux/%s bootstrap cross-compiled from %s with %s in %s (cached at %s)",
		ga, root, goVersion, info.BuildTime.Round(100*time.Millisecond), cached)
	return b, nil
}

// cacheKeep is how many source builds per architecture the cache keeps: every
// edit of the source makes a new one of some 10 MB.
const cacheKeep = 3

// pruneCache removes all but the most recently used builds for arch (the
// one just built is the newest), and temporary files of builds that died.
func pruneCache(dir, arch, keep string) {
	pruneLRU(dir, cacheKeep, func(name string) bool {
		return name == keep || strings.HasPrefix(name, "src-") && strings.HasSuffix(name, "-"+arch)
	})
}

// pruneLRU keeps the n most recently used files of dir that match, and
// removes the other matching ones and temporary files over an hour old.
func pruneLRU(dir string, n int, match func(name string) bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		mod  time.Time
	}
	var files []entry
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		switch name := e.Name(); {
		case strings.Contains(name, ".tmp-"):
			if time.Since(fi.ModTime()) > time.Hour {
				os.Remove(filepath.Join(dir, name))
			}
		case match(name):
			files = append(files, entry{name, fi.ModTime()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
	for i, f := range files {
		if i >= n {
			os.Remove(filepath.Join(dir, f.name))
		}
	}
}

// crossEnv is the environment of a static linux/<ga> build.
func crossEnv(ga string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOARM64", "GOAMD64":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOOS=linux", "GOARCH="+ga, "CGO_ENABLED=0")
}

// sourceKey names a source build in the cache: a hash of the Go version, the
// build tags, go.mod, go.sum and every file of the main module that goes
// into the linux build (go list), so an edit anywhere rebuilds. slab's
// version is not in it: the bootstrap does not carry one (the manifest does).
func sourceKey(ctx context.Context, goTool, root string, env []string, arch string) (key, goVersion string, err error) {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = root
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	gv, err := run("env", "GOVERSION")
	if err != nil {
		return "", "", err
	}
	goVersion = strings.TrimSpace(string(gv))
	out, err := run("list", "-tags", bootstrapTags, "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", bootstrapBuildPackage)
	if err != nil {
		return "", "", err
	}
	files := []string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			Dir        string
			GoFiles    []string
			EmbedFiles []string
			Module     *struct{ Main bool }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", "", fmt.Errorf("go list: %w", err)
		}
		if p.Module == nil || !p.Module.Main {
			continue // the standard library and dependencies: pinned by GOVERSION and go.sum
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			files = append(files, filepath.Join(p.Dir, f))
		}
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "slab-bootstrap 2\n%s\n%s\n%s\n%s\n", goVersion, goarch(arch), bootstrapTags, bootstrapBuildPackage)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) && strings.HasSuffix(f, "go.sum") {
			continue
		}
		if err != nil {
			return "", "", err
		}
		rel, _ := filepath.Rel(root, f)
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s %x\n", filepath.ToSlash(rel), sum)
	}
	return "src-" + hex.EncodeToString(h.Sum(nil))[:16] + "-" + arch, goVersion, nil
}

type zipEntry struct {
	name string
	mode fs.FileMode
	data []byte
}

// zipTime is every entry's modification time, 1980-01-01 00:00 (the zip
// format's epoch) in MS-DOS form, so the archive depends on nothing but its
// contents.
const (
	zipDOSDate = 1<<5 | 1 // day 1, month 1, year 1980
	zipDOSTime = 0
)

var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// deterministicZip writes the entries sorted by name with fixed times and
// modes (Unix attributes, so Lambda sees bootstrap as executable), each
// compressed up front so no data descriptors are needed.
func deterministicZip(entries []zipEntry) ([]byte, error) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		comp, err := deflated(e.data)
		if err != nil {
			return nil, err
		}
		h := &zip.FileHeader{
			Name: e.name, Method: zip.Deflate,
			ModifiedDate: zipDOSDate, ModifiedTime: zipDOSTime,
			CRC32:            crc32.ChecksumIEEE(e.data),
			CompressedSize64: uint64(len(comp)), UncompressedSize64: uint64(len(e.data)),
		}
		h.SetMode(e.mode)
		w, err := zw.CreateRaw(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(comp); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unpackPrebuilt gunzips an embedded bootstrap and remembers its deflate
// stream, which then goes into the zip without being compressed again.
func unpackPrebuilt(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	// The reader checked the trailer's CRC and size; find the raw stream
	// between the header (RFC 1952 section 2.3) and the 8-byte trailer.
	start, err := gzipHeaderLen(gz)
	if err != nil || len(gz)-8 < start {
		return data, nil // fine, just compressed again
	}
	rememberDeflated(data, gz[start:len(gz)-8])
	return data, nil
}

func gzipHeaderLen(gz []byte) (int, error) {
	const (
		fhcrc    = 1 << 1
		fextra   = 1 << 2
		fname    = 1 << 3
		fcomment = 1 << 4
	)
	if len(gz) < 10 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8 {
		return 0, errors.New("not a gzip stream")
	}
	flg, n := gz[3], 10
	if flg&fextra != 0 {
		if len(gz) < n+2 {
			return 0, io.ErrUnexpectedEOF
		}
		n += 2 + (int(gz[n]) | int(gz[n+1])<<8)
	}
	for _, f := range []byte{fname, fcomment} {
		if flg&f != 0 {
			i := bytes.IndexByte(gz[min(n, len(gz)):], 0)
			if i < 0 {
				return 0, io.ErrUnexpectedEOF
			}
			n += i + 1
		}
	}
	if flg&fhcrc != 0 {
		n += 2
	}
	if n > len(gz) {
		return 0, io.ErrUnexpectedEOF
	}
	return n, nil
}

// deflateMemo keeps the last few large compressed entries: the three
// functions share one bootstrap, which takes seconds to compress.
var deflateMemo struct {
	sync.Mutex
	keys []string
	vals map[string][]byte
}

const memoMin, memoEntries = 1 << 20, 2

func memoKey(data []byte) string {
	sum := sha256.Sum256(data)
	return string(sum[:])
}

func rememberDeflated(data, comp []byte) {
	if len(data) < memoMin {
		return
	}
	key := memoKey(data)
	deflateMemo.Lock()
	defer deflateMemo.Unlock()
	if deflateMemo.vals == nil {
		deflateMemo.vals = map[string][]byte{}
	}
	if _, ok := deflateMemo.vals[key]; ok {
		return
	}
	deflateMemo.keys = append(deflateMemo.keys, key)
	deflateMemo.vals[key] = comp
	for len(deflateMemo.keys) > memoEntries {
		delete(deflateMemo.vals, deflateMemo.keys[0])
		deflateMemo.keys = deflateMemo.keys[1:]
	}
}

func deflated(data []byte) ([]byte, error) {
	if len(data) >= memoMin {
		deflateMemo.Lock()
		c, ok := deflateMemo.vals[memoKey(data)]
		deflateMemo.Unlock()
		if ok {
			return c, nil
		}
	}
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(data); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	rememberDeflated(data, buf.Bytes())
	return buf.Bytes(), nil
}

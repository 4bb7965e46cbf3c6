package lambdas

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/slab-lab/slab/sandbox"
)

// isolateCache points os.UserCacheDir at a temporary directory while keeping
// Go's build cache where it is (it defaults to a directory under the user
// cache), so only slab's bootstrap cache starts empty.
func isolateCache(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(out)))
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	return dir
}

type zipFile struct {
	name     string
	mode     os.FileMode
	modified time.Time
	data     []byte
}

func readZip(t *testing.T, z []byte) []zipFile {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var files []zipFile
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, zipFile{f.Name, f.Mode(), f.Modified, b})
	}
	return files
}

func TestZipGoIsDeterministicAndCached(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no Go toolchain: the source build path cannot run")
	}
	isolateCache(t)
	// A snapshot of the source, so edits made while the test runs cannot
	// change what the second Zip sees.
	t.Setenv("SLAB_SOURCE_DIR", snapshotSource(t))
	ctx := context.Background()
	start := time.Now()
	z1, info1, err := Zip(ctx, ZipOptions{Function: S3Processor, Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	if info1.Source != SourceBuilt || info1.Arch != ArchARM64 || info1.Handler != S3Processor || info1.LambdaRuntime != "provided.al2023" {
		t.Fatalf("first zip: %+v", info1)
	}
	start = time.Now()
	z2, info2, err := Zip(ctx, ZipOptions{Function: S3Processor, Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	second := time.Since(start)
	if info2.Source != SourceCache {
		t.Errorf("second zip: source %s, want the cache", info2.Source)
	}
	if !bytes.Equal(z1, z2) || CodeSha256(z1) != CodeSha256(z2) {
		t.Fatalf("two zips of the same code differ: %s vs %s", CodeSha256(z1), CodeSha256(z2))
	}
	t.Logf("s3-processor arm64: zip %d bytes, bootstrap %d bytes, CodeSha256 %s", len(z1), info1.BootstrapSize, CodeSha256(z1))
	if len(z1) >= 8<<20 {
		t.Errorf("the zip is %d bytes: cmd/bootstrap should keep it under 8 MiB", len(z1))
	}
	t.Logf("cross-compile %s (go build %s), cached %s", first.Round(time.Millisecond), info1.BuildTime.Round(time.Millisecond), second.Round(time.Millisecond))
	t.Logf("%s", info1.Detail)

	files := readZip(t, z1)
	if len(files) != 2 || files[0].name != "bootstrap" || files[1].name != ManifestName {
		t.Fatalf("entries %v", files)
	}
	for _, f := range files {
		if !f.modified.Equal(zipTime) {
			t.Errorf("%s modified %v", f.name, f.modified)
		}
	}
	if files[0].mode != 0o755 || files[1].mode != 0o644 {
		t.Errorf("modes %v %v", files[0].mode, files[1].mode)
	}
	var m Manifest
	if err := json.Unmarshal(files[1].data, &m); err != nil || m != (Manifest{Handler: S3Processor, SlabVersion: "v0.0.0-test", Arch: ArchARM64}) {
		t.Errorf("manifest %s (%v)", files[1].data, err)
	}
	ef, err := elf.NewFile(bytes.NewReader(files[0].data))
	if err != nil {
		t.Fatalf("bootstrap is not ELF: %v", err)
	}
	if ef.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap machine %v, want arm64", ef.Machine)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked")
		}
	}

	// Another function: the same bootstrap, its own manifest.
	z3, info3, err := Zip(ctx, ZipOptions{Function: QueueProcessor, Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	if info3.Source != SourceCache || bytes.Equal(z1, z3) || !bytes.Equal(readZip(t, z3)[0].data, files[0].data) {
		t.Errorf("queue-processor: %+v", info3)
	}
}

// snapshotSource copies slab's source tree (without .git and build output).
func snapshotSource(t *testing.T) string {
	t.Helper()
	root, err := SourceRoot()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "dist" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || rel == "slab" || strings.HasSuffix(rel, ".test") || strings.HasPrefix(filepath.Base(rel), "bootstrap-linux-") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestZipNodejsIsDeterministic(t *testing.T) {
	for _, fn := range Functions() {
		z1, info, err := Zip(context.Background(), ZipOptions{Function: fn, Runtime: RuntimeNodejs})
		if err != nil {
			t.Fatal(err)
		}
		z2, _, _ := Zip(context.Background(), ZipOptions{Function: fn, Runtime: RuntimeNodejs, Arch: ArchX8664})
		if !bytes.Equal(z1, z2) {
			t.Errorf("%s: zips differ", fn)
		}
		if info.Source != SourceNodejs || info.Handler != "index.handler" || info.LambdaRuntime != "nodejs22.x" || info.Manifest != nil {
			t.Errorf("%s: %+v", fn, info)
		}
		files := readZip(t, z1)
		src, _ := NodeSource(fn)
		if len(files) != 1 || files[0].name != "index.mjs" || string(files[0].data) != src || files[0].mode != 0o644 {
			t.Errorf("%s: entries %v", fn, files)
		}
	}
}

func TestZipRejectsBadOptions(t *testing.T) {
	for _, o := range []ZipOptions{
		{Function: "nope"},
		{Function: "s3-to-dynamodb-processor"},
		{Function: S3Processor, Arch: "amd64"},
		{Function: S3Processor, Runtime: "python"},
	} {
		if _, _, err := Zip(context.Background(), o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%+v: err %v, want ErrInvalidOption", o, err)
		}
	}
}

func TestCodeSha256(t *testing.T) {
	// Lambda's CodeSha256 of an empty file.
	if got := CodeSha256(nil); got != "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" {
		t.Errorf("CodeSha256(empty) = %s", got)
	}
}

// lambdaArch is the Lambda architecture of the host, if Lambda has it.
func lambdaArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return ArchX8664
	case "arm64":
		return ArchARM64
	}
	return ""
}

// TestPackageCommandOnTheSandboxNeedsNoToolchain runs `slab package` from a
// slab without embedded bootstraps and without Go on PATH: for the sandbox
// (the default target) it writes a small sandbox-only package at once, the
// same bytes every time, which a sandbox running that slab executes; for
// AWS it says what to do instead.
func TestPackageCommandOnTheSandboxNeedsNoToolchain(t *testing.T) {
	bin := slabBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "fn.zip")
	pkg := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HOME=" + dir, "XDG_CACHE_HOME=" + dir, "PATH="}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	stdout, stderr, err := pkg("package", "sqs-processor", "-o", out)
	if err != nil {
		t.Fatalf("slab package: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "queue-processor (provided.al2023, arm64, handler queue-processor): a sandbox-only package") || !strings.Contains(stdout, "CodeSha256: ") {
		t.Errorf("output:\n%s", stdout)
	}
	z, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, CodeSha256(z)) {
		t.Errorf("printed CodeSha256 is not the file's %s", CodeSha256(z))
	}
	if len(z) > 4<<10 {
		t.Errorf("a sandbox-only zip of %d bytes", len(z))
	}
	files := readZip(t, z)
	if len(files) != 2 || files[0].name != "bootstrap" || files[1].name != ManifestName || files[0].mode != 0o755 {
		t.Fatalf("entries %v", files)
	}
	var m Manifest
	if err := json.Unmarshal(files[1].data, &m); err != nil || m != (Manifest{Handler: QueueProcessor, SlabVersion: "dev", Arch: ArchARM64, SandboxOnly: true}) {
		t.Errorf("manifest %s (%v)", files[1].data, err)
	}
	if !strings.HasPrefix(string(files[0].data), "#!/bin/sh\n") || !strings.Contains(string(files[0].data), "slab --aws package queue-processor --arch arm64") {
		t.Errorf("bootstrap:\n%s", files[0].data)
	}
	if _, _, err := pkg("package", QueueProcessor, "-o", out+"2"); err != nil {
		t.Fatal(err)
	}
	if z2, _ := os.ReadFile(out + "2"); !bytes.Equal(z, z2) {
		t.Error("two packages of the same function differ")
	}

	// The sandbox runs it with that slab: the handler answers.
	sb, err := sandbox.New(sandbox.Options{SelfExe: bin})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(sb.URL())}
	lc := lambdasvc.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateFunction(ctx, &lambdasvc.CreateFunctionInput{
		FunctionName: aws.String("sqs-processor"), Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String(QueueProcessor),
		Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &ltypes.FunctionCode{ZipFile: z}, Architectures: []ltypes.Architecture{ltypes.ArchitectureArm64},
	}); err != nil {
		t.Fatal(err)
	}
	if err := lambdasvc.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambdasvc.GetFunctionInput{FunctionName: aws.String("sqs-processor")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := lc.Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: aws.String("sqs-processor"), Payload: []byte(`{"Records":[]}`)})
	if err != nil || res.FunctionError != nil || !strings.Contains(string(res.Payload), "batchItemFailures") {
		t.Fatalf("invoke: %v %s", err, res.Payload)
	}

	// For AWS a sandbox-only package will not do, and there is nothing to
	// build a real one with.
	_, stderr, err = pkg("--aws", "package", EventProcessor, "-o", out+"3")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2; stderr %s", err, stderr)
	}
	for _, want := range []string{"cannot make a linux/", "no Go toolchain", "Install a release build", "--runtime nodejs"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out + "3"); err == nil {
		t.Error("a zip was written despite the error")
	}

	// Usage errors exit 2 too.
	for _, args := range [][]string{{"package", "nope", "-o", out}, {"package", S3Processor, "-o", out, "--arch", "amd64"}, {"package", S3Processor}} {
		_, _, err := pkg(args...)
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("slab %v: %v, want exit 2", args, err)
		}
	}
}

func TestPrebuiltGzipGoesIntoTheZipUncompressedAgain(t *testing.T) {
	base := make([]byte, 3<<20)
	for i := range base {
		base[i] = byte(i*7919>>5) ^ byte(i>>11)
	}
	// Each case compresses different bytes: the memo keeps the first stream
	// it sees for given content.
	var gzs, datas [][]byte
	variant := func() []byte {
		d := append([]byte{byte(len(datas))}, base...)
		datas = append(datas, d)
		return d
	}
	// What the release hooks make (gzip -n -9), and a header with every
	// optional field (name, comment, extra).
	if gzipTool, err := exec.LookPath("gzip"); err == nil {
		cmd := exec.Command(gzipTool, "-n", "-9", "-c")
		cmd.Stdin = bytes.NewReader(variant())
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		gzs = append(gzs, out)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Name, zw.Comment, zw.Extra = "bootstrap-linux-arm64", "test", []byte{1, 2, 3, 4}
	zw.Write(variant())
	zw.Close()
	gzs = append(gzs, buf.Bytes())

	for i, gz := range gzs {
		data := datas[i]
		got, err := unpackPrebuilt(gz)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("gzip %d: unpack: %v", i, err)
		}
		start, err := gzipHeaderLen(gz)
		if err != nil {
			t.Fatal(err)
		}
		comp, _ := deflated(data)
		if !bytes.Equal(comp, gz[start:len(gz)-8]) {
			t.Fatalf("gzip %d: the zip would compress the bootstrap again", i)
		}
		z, err := deterministicZip([]zipEntry{{name: "bootstrap", mode: 0o755, data: data}})
		if err != nil {
			t.Fatal(err)
		}
		if files := readZip(t, z); len(files) != 1 || !bytes.Equal(files[0].data, data) {
			t.Fatalf("gzip %d: zip content differs", i)
		}
	}
	if _, err := unpackPrebuilt([]byte("not gzip")); err == nil {
		t.Error("no error for a damaged embed")
	}
}

func TestPruneCacheKeepsTheMostRecentBuilds(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	write := func(name string, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, now.Add(-age), now.Add(-age))
	}
	write("src-new-arm64", 0)
	write("src-a-arm64", time.Minute)
	write("src-b-arm64", 2*time.Minute)
	write("src-c-arm64", 3*time.Minute)
	write("src-d-x86_64", 4*time.Minute)
	write("src-e-arm64.tmp-1", 2*time.Hour)
	write("src-f-arm64.tmp-2", time.Minute)
	pruneCache(dir, ArchARM64, "src-new-arm64")
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if got, want := strings.Join(left, " "), "src-a-arm64 src-b-arm64 src-d-x86_64 src-f-arm64.tmp-2 src-new-arm64"; got != want {
		t.Errorf("left %s, want %s", got, want)
	}
}

// The zip cache returns what it stored, and nothing once the file is
// damaged (its SHA-256 no longer matches), so a bad file is rebuilt.
func TestZipCacheChecksItsFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	z, err := deterministicZip([]zipEntry{{name: "bootstrap", mode: 0o755, data: []byte("#!/bin/sh\n")}})
	if err != nil {
		t.Fatal(err)
	}
	key := zipCacheKey([]byte("#!/bin/sh\n"), []byte("{}"))
	if _, ok := cachedZip(key); ok {
		t.Fatal("a hit in an empty cache")
	}
	storeZip(key, z)
	got, ok := cachedZip(key)
	if !ok || !bytes.Equal(got, z) {
		t.Fatalf("cached %v, %d bytes; stored %d", ok, len(got), len(z))
	}
	path := filepath.Join(dir, "slab", "zips", key+".zip")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := cachedZip(key); ok {
		t.Error("a damaged cached zip was returned")
	}
	if zipCacheKey([]byte("a"), []byte("bc")) == zipCacheKey([]byte("ab"), []byte("c")) {
		t.Error("the key does not separate the bootstrap from the manifest")
	}
}

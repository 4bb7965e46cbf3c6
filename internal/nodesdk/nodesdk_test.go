package nodesdk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func fakeSDK(t *testing.T, pkgs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range pkgs {
		d := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name":"`+p+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func noNPM(string) (string, error) { return "", errors.New("not found") }

func TestFindOrder(t *testing.T) {
	full := fakeSDK(t, Packages...)
	partial := fakeSDK(t, Packages[:2]...)
	cache := t.TempDir()
	ctx := context.Background()

	// A configured directory first; a partial one does not count.
	if dir, err := Resolve(ctx, Options{Dir: full, LookPath: noNPM}); err != nil || dir != full {
		t.Errorf("configured: %q %v", dir, err)
	}
	if dir, err := Resolve(ctx, Options{Dir: partial, NodePath: partial + string(os.PathListSeparator) + full, LookPath: noNPM}); err != nil || dir != full {
		t.Errorf("NODE_PATH after a partial configured dir: %q %v", dir, err)
	}
	// slab's cache, from an earlier install.
	cached := filepath.Join(cache, "node_modules")
	if err := os.Rename(fakeSDK(t, Packages...), cached); err != nil {
		t.Fatal(err)
	}
	if dir, err := Resolve(ctx, Options{CacheDir: cache, LookPath: noNPM}); err != nil || dir != cached {
		t.Errorf("cache: %q %v", dir, err)
	}
}

// Nowhere, and no npm: an error at once naming what to install and where
// slab looked.
func TestMissingNamesWhatToInstall(t *testing.T) {
	partial := fakeSDK(t, Packages[:1]...)
	_, err := Resolve(context.Background(), Options{Dir: partial, CacheDir: t.TempDir(), LookPath: noNPM})
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"apt-get install npm", EnvDir, "@aws-sdk/client-dynamodb", partial, "--runtime go"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

// An npm that fails says so, with its last line and the manual command.
func TestInstallFailureIsExplained(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake npm is a shell script")
	}
	bin := t.TempDir()
	npm := filepath.Join(bin, "npm")
	script := "#!/bin/sh\nif [ \"$1\" = root ]; then echo /nonexistent; exit 0; fi\necho 'npm error network request to https://registry.npmjs.org failed' >&2\nexit 1\n"
	if err := os.WriteFile(npm, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	cache := t.TempDir()
	_, err := Resolve(context.Background(), Options{CacheDir: cache, Progress: &progress, LookPath: func(string) (string, error) { return npm, nil }})
	if err == nil || !strings.Contains(err.Error(), "registry.npmjs.org failed") || !strings.Contains(err.Error(), "npm install --prefix "+cache) {
		t.Errorf("got %v", err)
	}
	if !strings.Contains(progress.String(), "Installing the AWS SDK v3 clients") {
		t.Errorf("no progress: %q", progress.String())
	}
}

// Once answers the same for every caller and resolves once.
func TestOnce(t *testing.T) {
	full := fakeSDK(t, Packages...)
	o := &Once{O: Options{Dir: full, LookPath: noNPM}}
	a, err1 := o.Get(context.Background())
	o.O.Dir = ""
	b, err2 := o.Get(context.Background())
	if a != full || b != full || err1 != nil || err2 != nil {
		t.Errorf("%q %v, %q %v", a, err1, b, err2)
	}
}

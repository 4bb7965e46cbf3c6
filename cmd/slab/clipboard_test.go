package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyOutUsesAClipboardProgramOrAFile(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "clipboard")
	// A stand-in xclip that keeps what it is given.
	script := "#!/bin/sh\n[ \"$1 $2\" = \"-selection clipboard\" ] || exit 3\n/bin/cat > " + got + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xclip"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("DISPLAY", ":0")
	const text = "aws --endpoint-url http://127.0.0.1:4566 sts get-caller-identity"
	how, err := copyOut(context.Background(), text)
	if err != nil || how != "xclip" {
		t.Fatalf("with xclip: %q %v", how, err)
	}
	if b, _ := os.ReadFile(got); string(b) != text {
		t.Errorf("xclip got %q", b)
	}
	// No display: no clipboard program can work, so a private file.
	t.Setenv("DISPLAY", "")
	t.Setenv("TMPDIR", t.TempDir())
	how, err = copyOut(context.Background(), text)
	if err != nil || !strings.HasPrefix(how, "file ") {
		t.Fatalf("without a clipboard: %q %v", how, err)
	}
	path := strings.TrimPrefix(how, "file ")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != text+"\n" {
		t.Errorf("file %s: %q %v", path, b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
}

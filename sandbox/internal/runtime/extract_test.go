package runtime

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/slab-lab/slab/sandbox/internal/lambda"
)

// entry is one member of a test zip: a file, a directory (name ends in /)
// or a link (link set).
type entry struct {
	name, body, link string
}

func makeZip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Store}
		body := e.body
		switch {
		case e.link != "":
			h.SetMode(os.ModeSymlink | 0o777)
			body = e.link
		case strings.HasSuffix(e.name, "/"):
			h.SetMode(fs.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tree lists what lies under root, as relative paths.
func tree(t testing.TB, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != root {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// The escape: an absolute link was joined onto the code directory,
// passed the "is local" test, and a later entry wrote through it. Every
// link leading outside, however it gets there, is refused.
func TestExtractRefusesEscapingLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	os.Mkdir(outside, 0o755)
	tests := map[string][]entry{
		"absolute":       {{name: "evil", link: outside}, {name: "evil/pwned", body: "x"}},
		"relative":       {{name: "a/evil", link: "../../outside"}, {name: "a/evil/pwned", body: "x"}},
		"through links":  {{name: "d", link: "."}, {name: "m", link: "d/x"}, {name: "x/", body: ""}, {name: "l", link: "m/../../outside"}, {name: "l/pwned", body: "x"}},
		"dot collapsing": {{name: "d", link: "."}, {name: "m", link: "d/d/d/.."}, {name: "m/pwned", body: "x"}},
		"loop":           {{name: "a", link: "b"}, {name: "b", link: "a"}},
		"windows volume": {{name: "v", link: `C:\Windows`}},
		"backslashes":    {{name: "w", link: `..\..\outside`}, {name: `w\pwned`, body: "x"}},
	}
	for name, entries := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, "pkg-"+strings.ReplaceAll(name, " ", "-"))
			z := makeZip(t, entries)
			err := extract(z, dir)
			if !errors.Is(err, lambda.ErrZipEscapes) {
				t.Errorf("extract: %v, want ErrZipEscapes", err)
			}
			if got := tree(t, outside); len(got) != 0 {
				t.Fatalf("written outside the package: %v", got)
			}
		})
	}
}

// Links that stay inside the package, as node_modules/.bin's do, are kept.
func TestExtractKeepsInsideLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	z := makeZip(t, []entry{
		{name: "node_modules/.bin/tool", link: "../tool/bin/cli.js"},
		{name: "node_modules/tool/bin/cli.js", body: "console.log(1)"},
		{name: "self", link: "."},
		{name: "index.js", body: "exports.handler = async () => 1"},
	})
	if err := extract(z, dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules/.bin/tool"))
	if err != nil || string(b) != "console.log(1)" {
		t.Fatalf("link not followed: %q %v", b, err)
	}
}

// FuzzExtractZipLayouts unpacks zips of files, directories and links in
// any order, named from the fuzzer's text; "@OUT@" stands for an absolute
// path outside the package. Whatever the layout, nothing may appear outside
// the package, and a package lambda.CheckLinks accepts must unpack.
func FuzzExtractZipLayouts(f *testing.F) {
	if runtime.GOOS == "windows" {
		f.Skip("symbolic links need privileges on Windows")
	}
	f.Add("L evil @OUT@\nF evil/pwned")
	f.Add("L a/evil ../../outside\nF a/evil/pwned")
	f.Add("L d .\nL m d/x\nD x/\nL l m/../../outside\nF l/pwned")
	f.Add("L d .\nL m d/d/d/..\nF m/pwned")
	f.Add("L a b\nL b a\nF a/x")
	f.Add("L node_modules/.bin/t ../t/cli.js\nF node_modules/t/cli.js\nF index.js")
	f.Add("F ../x\nF /abs\nL ./l ..\nF l/y")
	f.Fuzz(func(t *testing.T, layout string) {
		root := t.TempDir()
		outside := filepath.Join(root, "outside")
		os.Mkdir(outside, 0o755)
		var entries []entry
		for _, line := range strings.Split(layout, "\n") {
			fields := strings.Fields(strings.ReplaceAll(line, "@OUT@", outside))
			if len(fields) < 2 || len(entries) > 20 {
				continue
			}
			switch fields[0] {
			case "F":
				entries = append(entries, entry{name: fields[1], body: "x"})
			case "D":
				entries = append(entries, entry{name: strings.TrimSuffix(fields[1], "/") + "/"})
			case "L":
				if len(fields) == 3 {
					entries = append(entries, entry{name: fields[1], link: fields[2]})
				}
			}
		}
		z := makeZip(t, entries)
		zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if err != nil {
			t.Fatal(err)
		}
		checkErr := lambda.CheckLinks(zr)
		err = extract(z, filepath.Join(root, "pkg"))
		if got := tree(t, outside); len(got) != 0 {
			t.Fatalf("layout %q wrote outside the package: %v", layout, got)
		}
		for _, p := range tree(t, root) {
			if p != "outside" && p != "pkg" && !strings.HasPrefix(p, "pkg"+string(filepath.Separator)) {
				t.Fatalf("layout %q made %s beside the package", layout, p)
			}
		}
		if checkErr == nil && errors.Is(err, lambda.ErrZipEscapes) {
			t.Fatalf("layout %q: CheckLinks accepted what extract refused: %v", layout, err)
		}
	})
}

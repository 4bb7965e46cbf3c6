package lambda

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path"
	"strings"
)

// Zip packages may hold symbolic links (node_modules/.bin has them), and
// Lambda keeps them. A link whose target leaves the package, absolute
// ("/etc") or relative ("../../x", or through other links: d -> ".",
// m -> "d/x", l -> "m/../.."), would let a later entry be written outside
// the code directory when the package is unpacked, so such packages are
// refused as unreadable, with the error Lambda gives a zip it cannot unpack.
const msgBadZip = "Could not unzip uploaded file. Please check your file, then try to upload again."

// ErrZipEscapes says a package's links or paths leave its directory.
var ErrZipEscapes = errors.New("a symbolic link or path in the package leads outside it")

// maxLinkTarget bounds a link's target; Linux's own limit is 4,095 bytes.
const maxLinkTarget = 4096

// maxResolveSteps bounds the work of resolving links: nested links can make
// naive resolution exponential, and a package needing more is refused.
const maxResolveSteps = 100000

// CheckLinks resolves every entry of a package the way the file system
// would after unpacking, following the package's own links, and fails when
// any entry or link target leads outside the package or the links loop.
func CheckLinks(zr *zip.Reader) error {
	links := map[string]string{}
	for _, f := range zr.File {
		if f.Mode()&os.ModeSymlink == 0 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
		rc.Close()
		if err != nil {
			return err
		}
		if len(b) > maxLinkTarget {
			return ErrZipEscapes
		}
		name := path.Clean(zipName(f.Name))
		if name == "." {
			return ErrZipEscapes // a link in place of the package itself
		}
		links[name] = string(b)
	}
	r := resolver{links: links}
	for _, f := range zr.File {
		if _, err := r.resolve(zipName(f.Name), 0); err != nil {
			return err
		}
	}
	return nil
}

// zipName is an entry's name with the separators a zip may carry made '/'.
// Leading slashes are dropped, as the unpacker drops them.
func zipName(n string) string {
	return strings.TrimLeft(strings.ReplaceAll(n, `\`, "/"), "/")
}

// isAbsTarget tells a link target that names a place outside any package:
// "/x", `\x` and Windows volumes ("C:x", "C:\x").
func isAbsTarget(t string) bool {
	t = strings.ReplaceAll(t, `\`, "/")
	return strings.HasPrefix(t, "/") || (len(t) >= 2 && t[1] == ':')
}

type resolver struct {
	links map[string]string
	steps int
}

// resolve returns the components p reaches inside the package, following
// links, or ErrZipEscapes when it leaves the package.
func (r *resolver) resolve(p string, depth int) ([]string, error) {
	if depth > 40 {
		return nil, ErrZipEscapes // a loop, or nesting no real package has
	}
	var out []string
	for _, c := range strings.Split(strings.ReplaceAll(p, `\`, "/"), "/") {
		r.steps++
		if r.steps > maxResolveSteps {
			return nil, ErrZipEscapes
		}
		switch c {
		case "", ".":
			continue
		case "..":
			if len(out) == 0 {
				return nil, ErrZipEscapes
			}
			out = out[:len(out)-1]
			continue
		}
		out = append(out, c)
		t, ok := r.links[strings.Join(out, "/")]
		if !ok {
			continue
		}
		if isAbsTarget(t) {
			return nil, ErrZipEscapes
		}
		base := strings.Join(out[:len(out)-1], "/")
		res, err := r.resolve(base+"/"+t, depth+1)
		if err != nil {
			return nil, err
		}
		out = res
	}
	return out, nil
}

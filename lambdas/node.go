// This file carries the functions' Node.js 22 versions (ES modules on the
// AWS SDK for JavaScript v3), embedded so the lessons can show them in full
// and `slab do --runtime nodejs` can deploy them.

package lambdas

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed node/*/index.mjs
var nodeFS embed.FS

// NodeSource returns the full index.mjs of the named function ("s3-processor",
// "event-processor" or "queue-processor") and whether it exists.
func NodeSource(name string) (string, bool) {
	if name == "" || path.Base(name) != name || name == "." || name == ".." {
		return "", false
	}
	b, err := nodeFS.ReadFile("node/" + name + "/index.mjs")
	if err != nil {
		return "", false
	}
	return string(b), true
}

// NodeFunctions lists the functions that have a Node.js source, sorted by name.
func NodeFunctions() []string {
	entries, err := fs.ReadDir(nodeFS, "node")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

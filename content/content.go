// Package content holds the lesson text of the lab, embedded in the binary: an
// overview, one lesson per step (named by step id), troubleshooting, cleanup and
// exam tips.
//
// Each lesson is Markdown written as a Go text/template. The caller renders it
// with the lab's names and target (fields .Target, .Region, .Account, .Bucket,
// .QueueURL, ...) and the functions aws, nodeSource and json; this package only
// stores the text so that it depends on nothing else in the project.
package content

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

//go:embed lessons/*.md
var lessons embed.FS

// TroubleshootingLesson is the name of the lesson whose sections carry the ids
// returned by TroubleshootingIDs.
const TroubleshootingLesson = "troubleshooting"

// Lesson returns the template text of the named lesson (the file name without .md).
func Lesson(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".md") {
		return "", fmt.Errorf("content: invalid lesson name %q", name)
	}
	b, err := lessons.ReadFile("lessons/" + name + ".md")
	if err != nil {
		return "", fmt.Errorf("content: no lesson %q", name)
	}
	return string(b), nil
}

// Names lists every lesson, sorted by name.
func Names() []string {
	entries, err := fs.ReadDir(lessons, "lessons")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".md"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// idMarker is the line that introduces a troubleshooting section; the ### heading
// follows on the next line. Checks link their hints to these ids.
var idMarker = regexp.MustCompile(`^<!--\s*id:\s*([a-z0-9][a-z0-9-]*)\s*-->$`)

// TroubleshootingIDs lists the section ids of the troubleshooting lesson in the
// order they appear.
func TroubleshootingIDs() []string {
	text, err := Lesson(TroubleshootingLesson)
	if err != nil {
		return nil
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if m := idMarker.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			ids = append(ids, m[1])
		}
	}
	return ids
}

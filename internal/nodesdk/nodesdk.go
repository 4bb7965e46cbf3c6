// Package nodesdk finds, or installs, the AWS SDK for JavaScript v3 that
// Lambda's Node.js runtimes include, so that the sandbox's nodejs functions
// import @aws-sdk/* as they would on AWS.
//
// Where it looks, in order: a configured directory (SLAB_NODE_MODULES),
// NODE_PATH, the global npm packages, and slab's own cache; when none holds
// the lab's clients and npm is on PATH, it installs them into the cache
// (once, saying so). Without npm it fails at once, naming what to install.
//
// This package is a leaf: standard library only.
package nodesdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Packages are the SDK v3 clients the lab's Node.js handlers import.
var Packages = []string{"@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb", "@aws-sdk/client-s3", "@aws-sdk/client-sns"}

// EnvDir names the environment variable of a configured directory.
const EnvDir = "SLAB_NODE_MODULES"

// Options say where to look and how to report.
type Options struct {
	Dir      string    // a configured node_modules directory ("" for none)
	NodePath string    // NODE_PATH's value
	CacheDir string    // slab's cache for an installed SDK ("" for no install)
	Progress io.Writer // where the install says what it does (nil: nowhere)
	// LookPath finds npm (exec.LookPath when nil).
	LookPath func(string) (string, error)
}

// FromEnv is Options from the environment and the user's cache directory.
func FromEnv(progress io.Writer) Options {
	o := Options{Dir: os.Getenv(EnvDir), NodePath: os.Getenv("NODE_PATH"), Progress: progress}
	if c, err := os.UserCacheDir(); err == nil {
		o.CacheDir = filepath.Join(c, "slab", "node-sdk-v3")
	}
	return o
}

// Has reports whether dir is a node_modules directory holding every
// package of Packages.
func Has(dir string) bool {
	if dir == "" {
		return false
	}
	for _, p := range Packages {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p), "package.json")); err != nil {
			return false
		}
	}
	return true
}

// MissingError says the SDK is nowhere and cannot be installed.
type MissingError struct{ Looked []string }

func (e *MissingError) Error() string {
	looked := "nowhere"
	if len(e.Looked) > 0 {
		looked = strings.Join(e.Looked, ", ")
	}
	return fmt.Sprintf("Node.js functions need the AWS SDK for JavaScript v3 that Lambda's Node.js runtime includes, "+
		"and it is not installed (looked in %s). Install npm (Debian/Ubuntu: sudo apt-get install npm; or from https://nodejs.org) "+
		"and slab installs the lab's clients into its cache, or set %s to a node_modules directory holding %s; "+
		"or deploy the Go build (--runtime go)", looked, EnvDir, strings.Join(Packages, ", "))
}

// Find returns a node_modules directory holding the lab's clients, looking
// but never installing.
func Find(ctx context.Context, o Options) (string, []string) {
	var looked []string
	try := func(dir string) bool {
		if dir == "" {
			return false
		}
		looked = append(looked, dir)
		return Has(dir)
	}
	if try(o.Dir) {
		return o.Dir, looked
	}
	for _, d := range filepath.SplitList(o.NodePath) {
		if try(d) {
			return d, looked
		}
	}
	if g := npmRoot(ctx, o); try(g) {
		return g, looked
	}
	for _, d := range []string{"/usr/local/lib/node_modules", "/usr/lib/node_modules", "/opt/homebrew/lib/node_modules"} {
		if try(d) {
			return d, looked
		}
	}
	if o.CacheDir != "" && try(filepath.Join(o.CacheDir, "node_modules")) {
		return filepath.Join(o.CacheDir, "node_modules"), looked
	}
	return "", looked
}

func (o Options) lookPath(name string) (string, error) {
	if o.LookPath != nil {
		return o.LookPath(name)
	}
	return exec.LookPath(name)
}

// npmRoot is `npm root -g`, "" when npm is absent or slow.
func npmRoot(ctx context.Context, o Options) string {
	npm, err := o.lookPath("npm")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "root", "-g").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Resolve finds the SDK or installs it into o.CacheDir with npm.
func Resolve(ctx context.Context, o Options) (string, error) {
	if dir, looked := Find(ctx, o); dir != "" {
		return dir, nil
	} else if o.CacheDir == "" {
		return "", &MissingError{Looked: looked}
	} else if npm, err := o.lookPath("npm"); err != nil {
		return "", &MissingError{Looked: looked}
	} else {
		return install(ctx, o, npm)
	}
}

func install(ctx context.Context, o Options, npm string) (string, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "Installing the AWS SDK v3 clients Lambda's Node.js runtime includes (%s) into %s with npm; once only...\n",
		strings.Join(Packages, ", "), o.CacheDir)
	args := []string{"install", "--prefix", o.CacheDir, "--no-audit", "--no-fund", "--no-save", "--no-package-lock", "--loglevel=error"}
	for _, p := range Packages {
		args = append(args, p+"@3")
	}
	cmd := exec.CommandContext(ctx, npm, args...)
	var stderr bytes.Buffer
	cmd.Stdout = progress
	cmd.Stderr = io.MultiWriter(progress, &stderr)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("npm install of the AWS SDK v3 clients into %s failed (%v): %s; install them by hand (npm install --prefix %s %s) or set %s",
			o.CacheDir, err, strings.TrimSpace(lastLine(stderr.String())), o.CacheDir, strings.Join(Packages, " "), EnvDir)
	}
	dir := filepath.Join(o.CacheDir, "node_modules")
	if !Has(dir) {
		return "", fmt.Errorf("npm install finished but %s lacks some of %s", dir, strings.Join(Packages, ", "))
	}
	fmt.Fprintf(progress, "Installed the AWS SDK v3 clients in %s.\n", time.Since(start).Round(100*time.Millisecond))
	return dir, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Once resolves at most once per process: the sandbox's first nodejs
// function and `slab do --runtime nodejs` share one answer (and one
// install).
type Once struct {
	O    Options
	once sync.Once
	dir  string
	err  error
}

// Get resolves (the first time) and returns the answer.
func (r *Once) Get(ctx context.Context) (string, error) {
	r.once.Do(func() { r.dir, r.err = Resolve(ctx, r.O) })
	return r.dir, r.err
}

package runtime

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
)

// function is the runtime's state of one function: its concurrency slots,
// the pool of environments for its current revision, and the pools of
// earlier revisions whose environments are still finishing an invocation.
type function struct {
	key   string // scope key of the function
	scope core.Scope
	name  string
	sem   chan struct{}
	cur   *pool
	old   map[*pool]bool
	creds credentials
	role  string // execution role ARN the credentials are a session of
}

// credentials are what a function's environments sign their calls with.
type credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// pool holds the environments of one revision (RevisionId) of a function.
type pool struct {
	f    *function
	cfg  lambda.FunctionConfig
	zip  []byte // until the code is unzipped
	code *codeDir
	idle []*env
	live map[*env]bool
	// starting counts environments being started, which will join live.
	starting int
	retired  bool
}

// codeDir is a deployment package unzipped once per CodeSha256 and shared
// by the environments running it.
type codeDir struct {
	sha  string
	dir  string
	refs int
	once sync.Once
	err  error
}

// lease is an environment taken for one invocation.
type lease struct {
	f    *function
	p    *pool
	e    *env
	cold bool
}

// cleanup is work found under the lock and done after it: stopping
// processes and removing directories.
type cleanup struct {
	envs []*env
	dirs []string
}

func (c *cleanup) run() {
	for _, e := range c.envs {
		e.kill()
	}
	for _, d := range c.dirs {
		_ = os.RemoveAll(d)
	}
}

// functionLocked returns the state of cfg's function, making it.
func (r *Runtime) functionLocked(cfg lambda.FunctionConfig) *function {
	key := cfg.Scope.Key(cfg.Name)
	f := r.funcs[key]
	if f == nil {
		f = &function{key: key, scope: cfg.Scope, name: cfg.Name, sem: make(chan struct{}, r.o.MaxConcurrency), old: map[*pool]bool{},
			creds: credentials{
				AccessKeyID:     "ASIA" + strings.ToUpper(core.RandomHex(8)),
				SecretAccessKey: base64.RawStdEncoding.EncodeToString([]byte(core.RandomHex(15))),
				SessionToken:    base64.StdEncoding.EncodeToString([]byte(core.RandomHex(48))),
			}}
		r.funcs[key] = f
		f.role = cfg.Role
		r.keys.Store(f.creds.AccessKeyID, f)
	}
	return f
}

// acquire takes a concurrency slot of the function and an environment for
// its current revision: a warm one when there is one, else a new one. A
// *startError says the environment could not start (the invocation fails
// with it); other errors come from ctx, Close or a vanished function.
func (r *Runtime) acquire(ctx context.Context, cfg lambda.FunctionConfig) (*lease, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errClosed
	}
	f := r.functionLocked(cfg)
	r.mu.Unlock()
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.stop:
		return nil, errClosed
	}
	l, err := r.take(f, cfg)
	if err != nil {
		<-f.sem
		return nil, err
	}
	return l, nil
}

func (r *Runtime) take(f *function, cfg lambda.FunctionConfig) (*lease, error) {
	var cl cleanup
	defer cl.run()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errClosed
	}
	p := f.cur
	if p == nil || p.cfg.RevisionID != cfg.RevisionID {
		// The caller's snapshot may be older or newer than the pool:
		// the store decides, read together with the code it goes with.
		r.mu.Unlock()
		fresh, zipBytes, ok := r.lookupWithCode(f.scope, f.name)
		r.mu.Lock()
		if !ok {
			r.mu.Unlock()
			return nil, functionNotFound(f.scope, f.name)
		}
		if r.closed {
			r.mu.Unlock()
			return nil, errClosed
		}
		p = f.cur
		if p == nil || p.cfg.RevisionID != fresh.RevisionID {
			if p != nil {
				r.retireLocked(p, &cl)
			}
			p = &pool{f: f, cfg: fresh, zip: zipBytes, live: map[*env]bool{}}
			f.cur = p
		}
	}
	for len(p.idle) > 0 {
		e := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if e.dead() {
			delete(p.live, e)
			cl.envs = append(cl.envs, e)
			continue
		}
		r.mu.Unlock()
		return &lease{f: f, p: p, e: e}, nil
	}
	code := p.code
	if code == nil {
		sha := p.cfg.CodeSha256
		code = r.codes[sha]
		if code == nil {
			code = &codeDir{sha: sha}
			r.codes[sha] = code
		}
		code.refs++
		p.code = code
	}
	zipBytes := p.zip
	p.starting++
	r.mu.Unlock()

	var started *env
	err := r.unzip(code, zipBytes)
	if err == nil {
		started, err = r.startEnv(p, code)
	}
	r.mu.Lock()
	p.starting--
	if err == nil && r.closed {
		cl.envs = append(cl.envs, started)
		err = errClosed
	}
	if err != nil {
		r.maybeDropLocked(p, &cl)
		r.mu.Unlock()
		return nil, err
	}
	p.zip = nil
	p.live[started] = true
	r.mu.Unlock()
	return &lease{f: f, p: p, e: started, cold: true}, nil
}

// release gives the environment back after an invocation: to the idle list
// when it is healthy and its revision current, else it is stopped.
func (r *Runtime) release(l *lease, healthy bool) {
	var cl cleanup
	r.mu.Lock()
	if healthy && !l.p.retired && !r.closed && !l.e.dead() {
		l.e.lastUsed = time.Now()
		l.p.idle = append(l.p.idle, l.e)
	} else {
		r.dropEnvLocked(l.p, l.e, &cl)
	}
	r.mu.Unlock()
	cl.run()
	<-l.f.sem
}

// dropEnvLocked forgets an environment, to be killed by cl, and the pool's
// code once a retired pool has no environment left.
func (r *Runtime) dropEnvLocked(p *pool, e *env, cl *cleanup) {
	delete(p.live, e)
	cl.envs = append(cl.envs, e)
	r.maybeDropLocked(p, cl)
}

// maybeDropLocked lets go of a retired pool once no environment of it runs.
func (r *Runtime) maybeDropLocked(p *pool, cl *cleanup) {
	if p.retired && len(p.live) == 0 && p.starting == 0 {
		delete(p.f.old, p)
		r.dropCodeLocked(p, cl)
	}
}

// retireLocked stops using a pool: its idle environments are killed and the
// busy ones when their invocation ends.
func (r *Runtime) retireLocked(p *pool, cl *cleanup) {
	if p.retired {
		return
	}
	p.retired = true
	if p.f.cur == p {
		p.f.cur = nil
	}
	for _, e := range p.idle {
		delete(p.live, e)
		cl.envs = append(cl.envs, e)
	}
	p.idle = nil
	p.zip = nil
	p.f.old[p] = true
	r.maybeDropLocked(p, cl)
}

func (r *Runtime) dropCodeLocked(p *pool, cl *cleanup) {
	c := p.code
	p.code = nil
	if c == nil {
		return
	}
	c.refs--
	if c.refs <= 0 {
		delete(r.codes, c.sha)
		if c.dir != "" {
			cl.dirs = append(cl.dirs, c.dir)
		}
	}
}

// lookupWithCode reads a function's configuration and its zip in one view,
// so that the code is the one the configuration's CodeSha256 names.
func (r *Runtime) lookupWithCode(sc core.Scope, name string) (lambda.FunctionConfig, []byte, bool) {
	var cfg lambda.FunctionConfig
	var zipBytes []byte
	var ok bool
	_ = r.c.Store.View(func(tx *core.Tx) error {
		cfg, ok = r.fns.Function(tx, sc, name)
		if ok {
			zipBytes, ok = r.fns.FunctionCode(tx, sc, name)
		}
		return nil
	})
	return cfg, zipBytes, ok
}

// reaper stops the environments of deleted or changed functions, idle
// ones past IdleTimeout and dead ones, so that no process outlives its
// function for long.
func (r *Runtime) reaper() {
	defer r.wg.Done()
	t := time.NewTicker(r.o.ReapInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.reap()
		}
	}
}

func (r *Runtime) reap() {
	type probe struct {
		f        *function
		revision string
	}
	r.mu.Lock()
	probes := make([]probe, 0, len(r.funcs))
	for _, f := range r.funcs {
		rev := ""
		if f.cur != nil {
			rev = f.cur.cfg.RevisionID
		}
		probes = append(probes, probe{f, rev})
	}
	r.mu.Unlock()
	current := make([]string, len(probes))
	exists := make([]bool, len(probes))
	_ = r.c.Store.View(func(tx *core.Tx) error {
		for i, pr := range probes {
			cfg, ok := r.fns.Function(tx, pr.f.scope, pr.f.name)
			current[i], exists[i] = cfg.RevisionID, ok
		}
		return nil
	})
	var cl cleanup
	now := time.Now()
	r.mu.Lock()
	for i, pr := range probes {
		f := pr.f
		if f.cur != nil && (!exists[i] || f.cur.cfg.RevisionID != current[i]) {
			r.retireLocked(f.cur, &cl)
		}
		if p := f.cur; p != nil {
			keep := p.idle[:0]
			for _, e := range p.idle {
				if e.dead() || now.Sub(e.lastUsed) > r.o.IdleTimeout {
					delete(p.live, e)
					cl.envs = append(cl.envs, e)
					continue
				}
				keep = append(keep, e)
			}
			p.idle = keep
		}
		if !exists[i] && f.cur == nil && len(f.old) == 0 && len(f.sem) == 0 {
			// Its access key stays mapped: an invocation that took this
			// state just before may still start an environment with it.
			delete(r.funcs, f.key)
		}
	}
	r.mu.Unlock()
	cl.run()
}

// unzip extracts a package once per CodeSha256.
func (r *Runtime) unzip(c *codeDir, zipBytes []byte) error {
	c.once.Do(func() {
		base, err := r.baseDir()
		if err != nil {
			c.err = err
			return
		}
		sum := sha256.Sum256(zipBytes)
		if base64.StdEncoding.EncodeToString(sum[:]) != c.sha {
			c.err = &startError{Type: "Runtime.Unknown", Message: "the function's code changed while its environment was starting"}
			return
		}
		// A fresh name each time: the directory of an earlier copy of the
		// same code may still be being removed.
		dir, err := os.MkdirTemp(base, "task-"+hex.EncodeToString(sum[:6])+"-")
		if err != nil {
			c.err = err
			return
		}
		if err := extract(zipBytes, dir); err != nil {
			_ = os.RemoveAll(dir)
			c.err = &startError{Type: "Runtime.Unknown", Message: "unzipping the deployment package: " + err.Error()}
			return
		}
		r.mu.Lock()
		c.dir = dir
		r.mu.Unlock()
	})
	return c.err
}

// extract unzips into dir, keeping the files' permissions (Lambda runs a
// bootstrap only if the zip marks it executable) and refusing entries that
// would land outside dir. A package whose links lead outside it is refused
// whole (lambda.CheckLinks; CreateFunction refuses it too, this guards
// packages stored before that check). Links are made last, and never under
// another link, so no entry is ever written through one.
func extract(zipBytes []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return err
	}
	if err := lambda.CheckLinks(zr); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var links []*zip.File
	for _, f := range zr.File {
		name := filepath.FromSlash(strings.TrimLeft(f.Name, "/"))
		if name == "" || !filepath.IsLocal(name) {
			continue
		}
		target := filepath.Join(dir, name)
		mode := f.Mode()
		switch {
		case mode&os.ModeSymlink != 0:
			links = append(links, f)
			continue
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		perm := mode.Perm()
		if perm == 0 {
			perm = 0o644
		}
		if err := writeEntry(f, target, perm|0o400); err != nil {
			return err
		}
	}
	for _, f := range links {
		name := filepath.FromSlash(strings.TrimLeft(f.Name, "/"))
		if err := extractSymlink(f, dir, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func writeEntry(f *zip.File, target string, perm os.FileMode) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// OpenFile's mode is filtered by the umask; the zip's is what counts.
	return os.Chmod(target, perm)
}

// extractSymlink recreates a link (node_modules/.bin has them). Its target
// stays inside the package (CheckLinks), and it is not made beneath another
// link, which could have taken it elsewhere.
func extractSymlink(f *zip.File, dir, target string) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	link, err := io.ReadAll(io.LimitReader(rc, 4096))
	rc.Close()
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, filepath.Dir(target))
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return lambda.ErrZipEscapes
	}
	p := dir
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		if c == "." {
			continue
		}
		p = filepath.Join(p, c)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s: %w", f.Name, lambda.ErrZipEscapes)
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(string(link), target); err != nil && !os.IsExist(err) {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

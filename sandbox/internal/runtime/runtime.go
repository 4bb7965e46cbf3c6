// Package runtime executes the sandbox's Lambda functions for real: each
// execution environment is a child process that talks to its own Lambda
// Runtime API server (GET /2018-06-01/runtime/invocation/next, POST
// .../invocation/{id}/response, .../invocation/{id}/error, .../init/error) on
// 127.0.0.1, exactly the contract aws-lambda-go's lambda.Start and AWS's
// runtime clients speak, with the environment variables Lambda sets and
// credentials of the function's account, plus AWS_ENDPOINT_URL pointing back
// at the sandbox so SDK code runs unchanged.
//
// provided.al2023/provided.al2 functions run their `bootstrap` when this
// host can execute it, or, for zips built by slab (slab-manifest.json), the
// host's own slab executable in bootstrap mode. nodejs* functions run on the
// host's node through an embedded runtime client (node/bootstrap.mjs).
//
// Environments stay warm between invocations (one invocation at a time
// each, at most MaxConcurrency per function), the function's timeout is
// enforced, output goes to CloudWatch Logs with Lambda's START/END/REPORT
// lines, and asynchronous invocations are retried twice as Lambda does. The
// runtime serves the Lambda service's Invoke (lambda.InvokeHook) and the
// event engine (core.HookInvoker).
package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/logs"
)

// Options configure the runtime. Zero values take the defaults.
type Options struct {
	// SelfExe is the host's slab executable, run in bootstrap mode for zips
	// that carry slab-manifest.json. The sandbox cannot import the lab's
	// handlers, so without it such a zip runs only if its bootstrap can.
	SelfExe string
	// NodePath is the node executable for nodejs* functions; "" looks for
	// `node` on PATH when a Node.js function is first started.
	NodePath string
	// NodeModules is a node_modules directory standing in for the one AWS's
	// nodejs runtimes ship (the AWS SDK for JavaScript v3): bare imports a
	// function does not bundle are resolved there. "" means none, so
	// importing @aws-sdk/* fails unless the zip bundles it.
	NodeModules string
	// NodeModulesFunc, when NodeModules is "", is asked for that directory
	// when a Node.js function first starts (it may find or install the
	// SDK, which the sandbox itself never does); an error fails the start
	// with its message.
	NodeModulesFunc func() (string, error)
	// MaxConcurrency caps the environments of one function (default 10);
	// invocations beyond it wait for a free environment.
	MaxConcurrency int
	// AsyncRetryDelay is the wait before the first retry of a failed
	// asynchronous invocation; the second waits twice as long. Lambda waits
	// 1 and 2 minutes (the default).
	AsyncRetryDelay time.Duration
	// IdleTimeout stops an environment unused for that long (default 10m).
	IdleTimeout time.Duration
	// ReapInterval is how often environments of deleted or changed
	// functions and idle ones are stopped (default 1s).
	ReapInterval time.Duration
	// InitTimeout bounds the init phase (default 10s, as on Lambda); a
	// slower init goes on within the invocation's own timeout.
	InitTimeout time.Duration
	// TempDir holds the unzipped code (default os.TempDir()).
	TempDir string
	// Restrict runs each function in a restricted child, for a sandbox
	// shared by students (--accounts): as an unprivileged uid when the
	// sandbox is root, with its own temporary directory as TMPDIR and
	// HOME, and rlimits on CPU time, memory, processes, open files and
	// file size. The environment is scrubbed in any case.
	Restrict bool
}

// Defaults of Options.
const (
	DefaultMaxConcurrency = 10
	defaultRetryDelay     = time.Minute
	defaultIdleTimeout    = 10 * time.Minute
	defaultReapInterval   = time.Second
	defaultInitTimeout    = 10 * time.Second
)

// Runtime runs functions. Build it with New after the services, and Close
// it before the store.
type Runtime struct {
	c    *core.Core
	fns  *lambda.Service
	logs *logs.Service // nil: function output is not kept
	o    Options

	mu      sync.Mutex
	base    string // temporary directory, made on first use
	funcs   map[string]*function
	codes   map[string]*codeDir
	keys    sync.Map // access key id -> *function, for the router (read on every call a function makes)
	closed  bool
	stop    chan struct{}
	wg      sync.WaitGroup // invocations in flight, async retries, the reaper
	prevKey core.SessionLookup

	nodeMu   sync.Mutex
	nodeExe  string
	nodeErr  error
	nodeDone bool
	nodeDir  string
}

// New builds the runtime and registers it as the Lambda service's invoker
// (lambda.InvokeHook) and the event engine's (core.HookInvoker). logSvc may
// be nil. It wraps the "sts.session-account" hook so that the credentials it
// gives functions map to their account whatever the accounts file says, so
// New must run after sts.New.
func New(c *core.Core, fns *lambda.Service, logSvc *logs.Service, o Options) *Runtime {
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = DefaultMaxConcurrency
	}
	if o.AsyncRetryDelay <= 0 {
		o.AsyncRetryDelay = defaultRetryDelay
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = defaultIdleTimeout
	}
	if o.ReapInterval <= 0 {
		o.ReapInterval = defaultReapInterval
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = defaultInitTimeout
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	r := &Runtime{
		c: c, fns: fns, logs: logSvc, o: o,
		funcs: map[string]*function{}, codes: map[string]*codeDir{},
		stop: make(chan struct{}),
	}
	r.prevKey, _ = c.Hook(core.HookSessions).(core.SessionLookup)
	c.SetHook(core.HookSessions, core.SessionLookup(r.session))
	c.SetHook(lambda.InvokeHook, lambda.InvokeFunc(r.HandleInvoke))
	c.SetHook(core.HookInvoker, core.Invoker(r))
	r.wg.Add(1)
	go r.reaper()
	return r
}

// session resolves the access keys given to functions (a session of the
// function's execution role named after the function), then defers to
// STS's temporary credentials.
func (r *Runtime) session(accessKey string) (core.Credential, bool) {
	if v, ok := r.keys.Load(accessKey); ok {
		f := v.(*function)
		return core.Credential{Secret: f.creds.SecretAccessKey, SessionToken: f.creds.SessionToken, Principal: r.rolePrincipal(f)}, true
	}
	if r.prevKey != nil {
		return r.prevKey(accessKey)
	}
	return core.Credential{}, false
}

// rolePrincipal is the assumed-role session a function's code runs as.
func (r *Runtime) rolePrincipal(f *function) core.Principal {
	acct := f.scope.Account
	role := f.role[strings.LastIndex(f.role, "/")+1:]
	id := "AROA" + strings.ToUpper(f.creds.AccessKeyID[4:])
	if iam, ok := r.c.Hook(core.HookIAM).(core.IAMView); ok {
		_ = r.c.Store.View(func(tx *core.Tx) error {
			if info, found := iam.RoleByARN(tx, acct, f.role); found && info.RoleID != "" {
				id = info.RoleID
			}
			return nil
		})
	}
	return core.Principal{
		Account: acct, Type: "assumed-role", Name: role, Session: f.name, ID: id + ":" + f.name,
		ARN:     "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + f.name,
		RoleARN: f.role,
	}
}

// errClosed is returned once Close has begun.
var errClosed = &core.Error{Code: "ServiceException", Status: 500, Receiver: true, Message: "The sandbox is shutting down."}

// Close stops every environment (killing the processes), abandons queued
// asynchronous retries, waits for invocations in flight to write their logs
// and removes the unzipped code.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.stop)
	var cl cleanup
	for _, f := range r.funcs {
		if f.cur != nil {
			r.retireLocked(f.cur, &cl)
		}
		// Busy environments die now; their invocations end with an
		// error and release them.
		for p := range f.old {
			for e := range p.live {
				cl.envs = append(cl.envs, e)
			}
		}
	}
	r.mu.Unlock()
	cl.run()
	r.wg.Wait()
	r.mu.Lock()
	base := r.base
	r.mu.Unlock()
	if base != "" {
		return os.RemoveAll(base)
	}
	return nil
}

// baseDir is the runtime's temporary directory.
func (r *Runtime) baseDir() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.base != "" {
		return r.base, nil
	}
	if err := os.MkdirAll(r.o.TempDir, 0o700); err != nil {
		return "", err
	}
	removeStale(r.o.TempDir)
	d, err := os.MkdirTemp(r.o.TempDir, "slab-lambda-")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return "", err
	}
	r.base = d
	return d, nil
}

// ownerFile names the process that owns a runtime directory.
const ownerFile = "owner.pid"

// removeStale deletes the directories of runtimes whose process died
// without closing (SIGKILL): the unzipped code would otherwise pile up.
func removeStale(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, "slab-lambda-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid != os.Getpid() && processGone(pid) {
			_ = os.RemoveAll(d)
		}
	}
}

// lookup reads a function's current configuration.
func (r *Runtime) lookup(sc core.Scope, nameOrArn string) (lambda.FunctionConfig, bool) {
	var cfg lambda.FunctionConfig
	var ok bool
	_ = r.c.Store.View(func(tx *core.Tx) error {
		cfg, ok = r.fns.Function(tx, sc, nameOrArn)
		return nil
	})
	return cfg, ok
}

func functionNotFound(sc core.Scope, ref string) *core.Error {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = sc.ARN("lambda", "function:"+ref)
	}
	return &core.Error{Code: "ResourceNotFoundException", Status: 404, Message: "Function not found: " + arn}
}

// waitActive waits for a Pending function to become Active, as Lambda's
// event sources do before delivering to a new function.
func (r *Runtime) waitActive(ctx context.Context, sc core.Scope, ref string) (lambda.FunctionConfig, error) {
	for {
		cfg, ok := r.lookup(sc, ref)
		if !ok {
			return cfg, functionNotFound(sc, ref)
		}
		if cfg.State != "Pending" {
			return cfg, nil
		}
		select {
		case <-ctx.Done():
			return cfg, ctx.Err()
		case <-r.stop:
			return cfg, errClosed
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startError is an environment that could not start: the invocation fails
// with it, as Lambda fails one whose runtime cannot start.
type startError struct {
	Type    string
	Message string
}

func (e *startError) Error() string { return e.Type + ": " + e.Message }

func invalidEntrypoint(format string, args ...any) *startError {
	return &startError{Type: "Runtime.InvalidEntrypoint", Message: fmt.Sprintf(format, args...)}
}

func asStartError(err error) *startError {
	var se *startError
	if errors.As(err, &se) {
		return se
	}
	return &startError{Type: "Runtime.Unknown", Message: err.Error()}
}

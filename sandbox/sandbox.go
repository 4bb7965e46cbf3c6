// Package sandbox is slab's embedded AWS emulator: the lab's services (IAM,
// STS, S3, DynamoDB, Lambda, SNS, SQS, EventBridge, CloudWatch Logs) served
// on 127.0.0.1 with their real wire protocols, so the unmodified AWS SDKs and
// AWS CLI v2 work against it. It knows nothing about the lab itself.
//
// Each service lives in its own package under internal/, on one shared core
// (internal/core): a state store whose every committed transaction is
// appended to an fsynced journal before the response is sent (so an
// acknowledged write survives SIGKILL), compacted into a snapshot on open
// and close. See core's Store for why a journal rather than an embedded
// database.
package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slab-lab/slab/internal/atomicfile"
	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/dynamodb"
	"github.com/slab-lab/slab/sandbox/internal/engine"
	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/iam"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/logs"
	lambdaruntime "github.com/slab-lab/slab/sandbox/internal/runtime"
	"github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sns"
	"github.com/slab-lab/slab/sandbox/internal/sqs"
	"github.com/slab-lab/slab/sandbox/internal/sts"
)

// DefaultAddr is where `slab sandbox` listens, LocalStack's customary port.
const DefaultAddr = "127.0.0.1:4566"

// Options configure a sandbox.
type Options struct {
	// Addr to listen on; "127.0.0.1:0" picks a free port.
	Addr string
	// DataDir persists state across restarts; "" keeps it in memory.
	DataDir string
	// AccountsFile lists the accepted access keys with their secrets and
	// accounts (CSV access_key_id,secret_access_key,account_id[,user]).
	// Without one the sandbox takes only test/test, in DefaultAccount.
	AccountsFile string
	// Latency and Jitter are added to every call.
	Latency, Jitter time.Duration
	// Region applies to requests that carry none.
	Region string
	// TimeScale runs EventBridge schedules faster than real time: 60 fires
	// a rate(5 minutes) rule every 5 seconds. Zero means real time.
	TimeScale float64

	// SelfExe is slab's own executable: Lambda functions packaged by slab
	// (zips with slab-manifest.json) run it in bootstrap mode. Without it
	// they run only when their bootstrap is a binary of this host.
	SelfExe string
	// NodePath is the node executable for nodejs* functions ("" finds
	// node on PATH); NodeModules a node_modules directory standing in for
	// the AWS SDK v3 AWS's Node.js runtimes include ("" for none).
	NodePath, NodeModules string
	// NodeModulesFunc, when NodeModules is "", finds (or installs) that
	// directory when a Node.js function first starts.
	NodeModulesFunc func() (string, error)
	// MaxConcurrency caps the execution environments of each function
	// (default 10); further invocations wait for one.
	MaxConcurrency int
	// AsyncRetryDelay is the wait before retrying a failed asynchronous
	// invocation; the second retry waits twice as long. Zero means
	// Lambda's 1 minute.
	AsyncRetryDelay time.Duration
	// RuntimesAsOf makes Lambda accept and refuse runtimes as it did on
	// that day (zero: today), so that a function made before a runtime's
	// create block (a student's nodejs20.x function from the summer) can
	// be set up and checked. Nothing else about the clock changes.
	RuntimesAsOf time.Time
	// Consistency is how quickly changes take effect: Instant (the zero
	// value) or AWS, whose table of delays and their AWS sources is in
	// docs/timing.md. TimingScale multiplies every delay of the table
	// (tests shrink AWS's seconds; 0 means 1).
	Consistency Consistency
	TimingScale float64
	// AllowHosts are host names, besides loopback addresses and
	// localhost, that requests may name in Host and Origin: the name a
	// shared sandbox is reached by. Any other is refused (DNS rebinding).
	AllowHosts []string
}

// Consistency names a timing mode; see core.Consistency.
type Consistency = core.Consistency

// The timing modes.
const (
	Instant = core.Instant
	AWS     = core.AWS
)

// ParseConsistency accepts "aws" or "instant".
func ParseConsistency(s string) (Consistency, error) { return core.ParseConsistency(s) }

// Timing is the table of delays a mode applies.
type Timing = core.Timing

// TimingFor returns the table of a mode scaled by scale (0 means 1).
func TimingFor(c Consistency, scale float64) Timing { return core.TimingFor(c, scale) }

// AuditEntry is one served call.
type AuditEntry = core.AuditEntry

// CorruptStateError says a data directory's state is damaged where replay
// must not guess (a bad journal record followed by others, a missing
// snapshot beside a journal): the sandbox refuses to start on it, and
// Repair makes it usable again.
type CorruptStateError = core.CorruptError

// RepairReport says what Repair kept and dropped.
type RepairReport = core.RepairReport

// Repair makes a damaged data directory usable: it keeps a copy of the
// original snapshot and journal in a repair-<time> directory inside dir,
// drops exactly the damaged journal records (keeping every readable record
// after them) and compacts the rest into a fresh snapshot. It takes the
// directory's lock, so it refuses while a sandbox uses dir.
func Repair(dir string) (RepairReport, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return RepairReport{}, err
	}
	defer lock.release()
	c := core.New()
	buildServices(c)
	return c.Store.Repair(dir)
}

// Server is a running sandbox.
type Server struct {
	core    *core.Core
	handler http.Handler
	ln      net.Listener
	srv     *http.Server
	conns   *connTracker
	url     string
	lock    *dirLock
	engine  *engine.Engine
	runtime *lambdaruntime.Runtime
	closed  sync.Once
	err     error
	// consistency is the timing mode, reported by /_slab/health so that
	// another slab knows whether to allow for propagation.
	consistency Consistency
	// token guards /_slab/*; written to AdminTokenFile in the data dir.
	token string
}

// AdminTokenFile is the file in the data directory holding the token that
// /_slab/* requires (mode 0600: only the sandbox's user reads it).
const AdminTokenFile = "admin-token"

// ReadAdminToken reads the admin token of the sandbox that uses dataDir,
// for slab's own commands.
func ReadAdminToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		return "", fmt.Errorf("sandbox admin token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// AdminToken is the token /_slab/* requires, sent as
// "Authorization: Bearer <token>".
func (s *Server) AdminToken() string { return s.token }

// New builds a sandbox and loads its state, without listening yet.
func New(o Options) (*Server, error) {
	c := core.New()
	if o.Region != "" {
		c.DefaultRegion = o.Region
	}
	c.RuntimesAsOf = o.RuntimesAsOf
	var accounts core.Accounts
	if o.AccountsFile != "" {
		a, err := core.LoadAccounts(o.AccountsFile)
		if err != nil {
			return nil, fmt.Errorf("accounts file: %w", err)
		}
		accounts = a
	}
	services := buildServices(c)
	if o.TimingScale < 0 {
		return nil, fmt.Errorf("timing scale %g: must not be negative", o.TimingScale)
	}
	if _, err := core.ParseConsistency(string(o.Consistency)); err != nil {
		return nil, err
	}
	applyTiming(c, services, core.TimingFor(o.Consistency, o.TimingScale))
	s := &Server{core: c, consistency: Instant, token: core.RandomHex(32)}
	if o.Consistency != "" {
		s.consistency = o.Consistency
	}
	// The event engine registers the hooks S3 and SNS call and reads the
	// other services; its goroutines start with Listen.
	s.engine = engine.New(c, services, engine.Options{TimeScale: o.TimeScale})
	if o.DataDir != "" {
		lock, err := lockDir(o.DataDir)
		if err != nil {
			return nil, err
		}
		s.lock = lock
		if err := c.Store.Open(o.DataDir); err != nil {
			lock.release()
			return nil, err
		}
		if err := atomicfile.Write(filepath.Join(o.DataDir, AdminTokenFile), []byte(s.token+"\n"), 0o600); err != nil {
			_ = c.Store.Close()
			lock.release()
			return nil, fmt.Errorf("sandbox admin token: %w", err)
		}
	}
	s.runtime = startRuntime(c, services, o)
	s.handler = core.NewHandler(c, core.HandlerOptions{
		Services: services, Accounts: accounts, Latency: o.Latency, Jitter: o.Jitter, Extra: s.extra(), Hosts: o.AllowHosts,
	})
	return s, nil
}

// applyTiming makes the table the one source of every delay: the services'
// own life-cycle knobs are set from it, and the propagation delays are read
// from the core when a change is made.
func applyTiming(c *core.Core, services []core.Service, t core.Timing) {
	c.Timing = t
	for _, svc := range services {
		switch v := svc.(type) {
		case *dynamodb.Service:
			v.CreateDelay, v.DeleteDelay = t.TableCreating, t.TableDeleting
		case *lambda.Service:
			v.CreateDelay, v.UpdateDelay, v.MappingDelay = t.FunctionPending, t.FunctionUpdate, t.MappingState
		}
	}
}

func buildServices(c *core.Core) []core.Service {
	return []core.Service{
		sts.New(c),
		iam.New(c),
		dynamodb.New(c),
		s3.New(c),
		sqs.New(c),
		sns.New(c),
		lambda.New(c),
		events.New(c),
		logs.New(c),
	}
}

// startRuntime attaches the Lambda runtime, which executes functions for
// Invoke and the event engine. It comes after the services (it wraps STS's
// session hook) and after the store is loaded (it reads functions).
func startRuntime(c *core.Core, services []core.Service, o Options) *lambdaruntime.Runtime {
	var fns *lambda.Service
	var lg *logs.Service
	for _, svc := range services {
		switch v := svc.(type) {
		case *lambda.Service:
			fns = v
		case *logs.Service:
			lg = v
		}
	}
	return lambdaruntime.New(c, fns, lg, lambdaruntime.Options{
		SelfExe: o.SelfExe, NodePath: o.NodePath, NodeModules: o.NodeModules, NodeModulesFunc: o.NodeModulesFunc,
		MaxConcurrency: o.MaxConcurrency, AsyncRetryDelay: o.AsyncRetryDelay,
		// A sandbox shared by students runs each one's code: confined.
		Restrict: o.AccountsFile != "",
	})
}

// Start builds a sandbox and serves it on o.Addr until Close.
func Start(o Options) (*Server, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	if err := s.Listen(addr); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Listen binds addr and serves in the background.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	s.ln = limitPerClient(ln, maxConnsPerClient)
	s.url = "http://" + ln.Addr().String()
	s.core.Endpoint = s.url
	if s.lock != nil {
		s.lock.setURL(s.url)
	}
	s.conns = newConnTracker()
	s.srv = newHTTPServer(s.handler)
	s.srv.ConnState = s.conns.hook
	go func() { _ = s.srv.Serve(s.ln) }()
	s.engine.Start()
	return nil
}

// Notices are what loading the state dropped safely and says so (a torn
// final journal record, left by a crash before it was acknowledged).
func (s *Server) Notices() []string { return s.core.Store.Notices() }

// URL is the endpoint, e.g. http://127.0.0.1:4566.
func (s *Server) URL() string { return s.url }

// Handler serves the sandbox (for embedding in another server or tests).
// The event engine starts with it, as it does with Listen.
func (s *Server) Handler() http.Handler {
	s.engine.Start()
	return s.handler
}

// Close stops serving, flushes state into a snapshot and releases the data dir.
func (s *Server) Close() error {
	s.closed.Do(func() {
		// The event engine stops taking events and polling first, so that
		// nothing it starts meets a closed runtime.
		s.engine.Stop()
		// Function processes go first: an Invoke in flight then ends at
		// once instead of holding the HTTP shutdown.
		if s.runtime != nil {
			_ = s.runtime.Close()
		}
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			s.shutdown(ctx)
			cancel()
		}
		// The engine's goroutines end before the store they write to.
		s.engine.Close()
		s.err = s.core.Store.Close()
		if s.lock != nil {
			s.lock.release()
		}
	})
	return s.err
}

// shutdownGrace bounds how long Close waits for requests in flight.
var shutdownGrace = 5 * time.Second

// shutdown stops the HTTP server: connections that carry no request (never
// used, or idle between requests) are closed at once, and requests in flight
// get until ctx ends. http.Server.Shutdown alone counts a connection that
// has not sent its first request as active for its first 5 seconds, and SDK
// clients open such connections (a dial that lost the race to an idle
// connection goes to the pool unused), so every embedded command used to
// stall for up to 5 s at exit.
func (s *Server) shutdown(ctx context.Context) {
	s.conns.closeUnused()
	_ = s.srv.Shutdown(ctx)
	// Shutdown returned, or gave up on a request in flight: either way no
	// connection outlives Close. Closed connections end at once (a
	// handler's context ends with its connection), so this wait is short;
	// its bound only keeps a handler that ignores its context from hanging
	// the exit.
	_ = s.srv.Close()
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	s.conns.wait(wctx)
	cancel()
}

// connTracker follows the server's connections through their states, so
// that shutdown can close the ones carrying no request.
type connTracker struct {
	mu      sync.Mutex
	conns   map[net.Conn]http.ConnState
	closing bool
	gone    *sync.Cond
}

func newConnTracker() *connTracker {
	t := &connTracker{conns: map[net.Conn]http.ConnState{}}
	t.gone = sync.NewCond(&t.mu)
	return t
}

// hook is the server's ConnState callback. Once closing, a connection that
// arrives or goes idle is closed at once: it holds no request to finish.
func (t *connTracker) hook(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
		t.gone.Broadcast()
		return
	}
	t.conns[c] = st
	if t.closing && (st == http.StateNew || st == http.StateIdle) {
		_ = c.Close()
	}
}

// closeUnused closes every connection without a request in flight, and
// every such one from now on.
func (t *connTracker) closeUnused() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for c, st := range t.conns {
		if st == http.StateNew || st == http.StateIdle {
			_ = c.Close()
		}
	}
}

// wait returns when the server has let go of every connection, or ctx ends.
func (t *connTracker) wait(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.gone.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.conns) > 0 && ctx.Err() == nil {
		t.gone.Wait()
	}
}

// open is how many connections the server holds.
func (t *connTracker) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// AuditMark returns a position in the audit log.
func (s *Server) AuditMark() uint64 { return s.core.Audit.Mark() }

// AuditSince returns the calls served after mark.
func (s *Server) AuditSince(mark uint64) []AuditEntry { return s.core.Audit.Since(mark) }

// MutatingSince returns the mutating calls served after mark.
func (s *Server) MutatingSince(mark uint64) []AuditEntry {
	return core.Mutating(s.core.Audit.Since(mark))
}

// extra serves the sandbox-only endpoints under /_slab/.
func (s *Server) extra() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_slab/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "service": "slab-sandbox", "consistency": string(s.consistency)})
	})
	mux.HandleFunc("GET /_slab/audit", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		entries := s.core.Audit.Since(since)
		if r.URL.Query().Get("mutating") == "true" {
			entries = core.Mutating(entries)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"mark": s.core.Audit.Mark(), "entries": entries})
	})
	s.engine.Mount(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Health says only that a sandbox is there (slab finds a running
		// one with it); everything else needs the admin token.
		if r.URL.Path != "/_slab/health" && !s.adminAuthorized(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "/_slab/* needs the sandbox's admin token: curl -H \"Authorization: Bearer $(cat <data dir>/" + AdminTokenFile + ")\" ..."})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) adminAuthorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.token)) == 1
}

// dirLock keeps two sandboxes from journaling into one data directory. The
// lock file holds the owner's pid, the process's start time and the URL, so
// a second slab can find and use the running sandbox instead, and a lock left
// by a dead sandbox whose pid was since reused does not block start-up.
type dirLock struct {
	path  string
	mu    sync.Mutex
	pid   int
	start string
}

const lockName = "sandbox.lock"

type lockInfo struct {
	PID int `json:"pid"`
	// Start is the owner's start time as processStart reports it; empty
	// where that is unknown.
	Start string `json:"start,omitempty"`
	URL   string `json:"url,omitempty"`
}

// ownerAlive reports whether the process that wrote info still runs: its
// pid is alive and, where start times are known, started when the lock says.
func (info lockInfo) ownerAlive() bool {
	if !processAlive(info.PID) {
		return false
	}
	if info.Start == "" {
		return true
	}
	now := processStart(info.PID)
	return now == "" || now == info.Start
}

// ErrLocked says another live sandbox owns the data directory.
var ErrLocked = errors.New("sandbox data directory in use")

// held are the lock files this process owns: a pid check cannot tell two
// sandboxes of one process apart.
var (
	heldMu sync.Mutex
	held   = map[string]bool{}
)

func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox data dir: %w", err)
	}
	path := filepath.Join(dir, lockName)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	heldMu.Lock()
	defer heldMu.Unlock()
	if held[path] {
		info, _ := readLock(path)
		return nil, fmt.Errorf("%w: %s is used by another sandbox of this process at %s", ErrLocked, dir, info.URL)
	}
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			l := &dirLock{path: path, pid: os.Getpid()}
			l.start = processStart(l.pid)
			_ = json.NewEncoder(f).Encode(lockInfo{PID: l.pid, Start: l.start})
			f.Close()
			held[path] = true
			return l, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("sandbox data dir: %w", err)
		}
		info, rerr := readLock(path)
		if rerr == nil && info.PID != os.Getpid() && info.ownerAlive() {
			where := ""
			if info.URL != "" {
				where = " at " + info.URL
			}
			return nil, fmt.Errorf("%w: %s is used by a running sandbox (pid %d)%s", ErrLocked, dir, info.PID, where)
		}
		_ = os.Remove(path) // stale: its owner died without releasing it
	}
	return nil, fmt.Errorf("%w: could not take %s", ErrLocked, path)
}

func readLock(path string) (lockInfo, error) {
	var info lockInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(b, &info)
	return info, err
}

func (l *dirLock) setURL(url string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, _ := json.Marshal(lockInfo{PID: l.pid, Start: l.start, URL: url})
	_ = os.WriteFile(l.path, b, 0o600)
}

func (l *dirLock) release() {
	heldMu.Lock()
	delete(held, l.path)
	heldMu.Unlock()
	_ = os.Remove(l.path)
}

// Running reports the URL of a live sandbox that owns dataDir, if any.
func Running(dataDir string) (string, bool) {
	info, err := readLock(filepath.Join(dataDir, lockName))
	if err != nil || info.URL == "" || !info.ownerAlive() {
		return "", false
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(strings.TrimRight(info.URL, "/") + "/_slab/health")
	if err != nil {
		return "", false
	}
	resp.Body.Close()
	return info.URL, resp.StatusCode == http.StatusOK
}

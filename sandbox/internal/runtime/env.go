package runtime

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/logs"
)

// maxResponse is the largest synchronous response Lambda returns.
const maxResponse = 6291556

// env is one execution environment: a function process, its Runtime API
// server and its log stream.
type env struct {
	r      *Runtime
	p      *pool
	stream string
	group  string
	scope  core.Scope

	cmd     *exec.Cmd
	pid     int
	ln      net.Listener
	srv     *http.Server
	out     *output
	started time.Time

	readyAt atomic.Int64     // UnixNano of the first GET next; 0 before
	next    chan *invocation // the invocation waiting for GET next
	active  atomic.Pointer[invocation]

	initOnce   sync.Once
	initFailed chan struct{} // closed on POST init/error
	initBody   []byte
	initType   string

	exited  chan struct{}
	exitErr error
	closing chan struct{}
	killed  sync.Once

	lastUsed time.Time // guarded by Runtime.mu

	tmp string // a restricted child's own temporary directory

	logMu   sync.Mutex
	cur     *invocation // collects the lines printed while it runs
	pending []logs.Event
	timer   *time.Timer
	flushMu sync.Mutex
}

// invocation is one request handed to an environment.
type invocation struct {
	id            string
	payload       []byte
	arn           string
	trace         string
	clientContext string
	timeout       time.Duration

	picked   chan struct{} // closed when the runtime takes it (GET next)
	pickedAt time.Time
	done     chan outcome
	answered atomic.Bool
	log      []string // guarded by env.logMu
}

// outcome is how an invocation ended.
type outcome struct {
	payload []byte
	errType string // "" on success
	// status and statusType go to the REPORT line when the environment
	// failed rather than the handler ("timeout", "error").
	status     string
	statusType string
}

func newInvocation(id string, payload []byte, arn, clientContext string, timeout time.Duration) *invocation {
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	return &invocation{
		id: id, payload: payload, arn: arn, clientContext: clientContext, timeout: timeout,
		trace:  fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), core.RandomHex(12), core.RandomHex(8)),
		picked: make(chan struct{}), done: make(chan outcome, 1),
	}
}

// startEnv starts a process for the pool's function.
func (r *Runtime) startEnv(p *pool, code *codeDir) (*env, error) {
	cfg := p.cfg
	l, err := r.plan(cfg, code.dir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &env{
		r: r, p: p, scope: cfg.Scope, group: logGroup(cfg),
		stream: r.c.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + core.RandomHex(16),
		ln:     ln, next: make(chan *invocation, 1), initFailed: make(chan struct{}),
		exited: make(chan struct{}), closing: make(chan struct{}),
	}
	e.out, err = newOutput(core.RandomHex(8), e.addLine)
	if err != nil {
		ln.Close()
		return nil, err
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()

	cmd := exec.Command(l.path, l.args...)
	cmd.Dir = code.dir
	cmd.Env = r.environ(cfg, p.f.creds, ln.Addr().String(), e.stream, code.dir, l)
	cmd.Stdout, cmd.Stderr = e.out.w, e.out.w
	isolate(cmd)
	postLimits := false
	if r.o.Restrict {
		var err error
		if postLimits, err = r.restrict(cmd, e, code.dir, cfg.MemorySize); err != nil {
			_ = e.srv.Close()
			e.out.close()
			return nil, err
		}
	}
	e.cmd = cmd
	e.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = e.srv.Close()
		e.out.close()
		e.removeTmp()
		return nil, invalidEntrypoint("%v", err)
	}
	e.pid = cmd.Process.Pid
	if postLimits {
		if err := restrictLimits(e.pid, cfg.MemorySize); err != nil {
			killTree(cmd)
			_ = cmd.Wait()
			_ = e.srv.Close()
			e.out.close()
			e.removeTmp()
			return nil, &core.Error{Code: "ServiceException", Status: 500, Receiver: true, Message: "could not restrict the function's process: " + err.Error()}
		}
	}
	go func() {
		e.exitErr = cmd.Wait()
		close(e.exited)
	}()
	return e, nil
}

// initDuration is the time from the process's start to its first GET next.
func (e *env) initDuration() time.Duration {
	if at := e.readyAt.Load(); at != 0 {
		return time.Unix(0, at).Sub(e.started)
	}
	return time.Since(e.started)
}

// dead reports whether the process is gone.
func (e *env) dead() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// kill stops the process (and its process group), the Runtime API server
// and the output reader, and writes out the pending log lines.
func (e *env) kill() {
	e.killed.Do(func() {
		close(e.closing)
		killTree(e.cmd)
		<-e.exited
		_ = e.srv.Close()
		e.out.close()
		e.flush()
		e.removeTmp()
	})
}

// restrict prepares a restricted child: its own temporary directory (as
// TMPDIR, TMP, TEMP and HOME) and, when the sandbox is root, nobody's uid.
func (r *Runtime) restrict(cmd *exec.Cmd, e *env, code string, memoryMB int) (postLimits bool, err error) {
	base, err := r.baseDir()
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(base, "tmp-")
	if err != nil {
		return false, err
	}
	e.tmp = tmp
	if postLimits, err = restrictCmd(cmd, base, code, tmp, memoryMB); err != nil {
		e.removeTmp()
		return false, &core.Error{Code: "ServiceException", Status: 500, Receiver: true, Message: "could not restrict the function's process: " + err.Error()}
	}
	env := cmd.Env[:0:0]
	for _, kv := range cmd.Env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "TMPDIR", "TMP", "TEMP", "HOME":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "TMPDIR="+tmp, "TMP="+tmp, "TEMP="+tmp, "HOME="+tmp)
	return postLimits, nil
}

func (e *env) removeTmp() {
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// --- logs ---

func (e *env) addLine(msg string) {
	ev := logs.Event{Time: e.r.c.Now(), Message: msg}
	e.logMu.Lock()
	e.pending = append(e.pending, ev)
	if e.cur != nil {
		e.cur.log = append(e.cur.log, msg)
	}
	// Lines printed outside an invocation, or during a long one, are
	// written out shortly rather than at the invocation's end.
	if e.timer == nil {
		e.timer = time.AfterFunc(500*time.Millisecond, e.flush)
	}
	e.logMu.Unlock()
}

// flush appends the pending lines to the environment's log stream.
func (e *env) flush() {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.logMu.Lock()
	events := e.pending
	e.pending = nil
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.logMu.Unlock()
	if len(events) > 0 && e.r.logs != nil && e.r.logsAllowed(e.scope, e.p.cfg.Role, e.group, e.stream) {
		_ = e.r.logs.Append(e.scope, e.group, e.stream, events)
	}
}

// logsAllowed: as on AWS, a function's output reaches CloudWatch Logs only
// when its execution role may create the stream and put events in it, and
// create the group when there is none. Lambda itself writes nothing else:
// a role without these permissions leaves no log at all.
func (r *Runtime) logsAllowed(sc core.Scope, roleArn, group, stream string) bool {
	iam, ok := r.c.Hook(core.HookIAM).(core.RoleDecider)
	if !ok {
		return true
	}
	docs := core.RolePolicies(r.c, iam, sc.Account, roleArn)
	groupArn := sc.ARN("logs", "log-group:"+group)
	streamArn := sc.ARN("logs", "log-group:"+group+":log-stream:"+stream)
	may := func(action string, resources ...string) bool {
		for _, res := range resources {
			if policy.Evaluate(policy.Request{Action: action, Resource: res}, docs...).Allowed() {
				return true
			}
		}
		return false
	}
	return may("logs:CreateLogStream", streamArn, groupArn+":*") && may("logs:PutLogEvents", streamArn, groupArn+":*") &&
		(r.logs.GroupExists(sc, group) || may("logs:CreateLogGroup", groupArn, groupArn+":*"))
}

// --- Runtime API ---

const runtimeAPIPrefix = "/2018-06-01/runtime/"

// ServeHTTP is the environment's Lambda Runtime API.
func (e *env) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, runtimeAPIPrefix)
	if !ok {
		apiError(w, http.StatusNotFound, "InvalidRequest", "Unknown Runtime API path "+req.URL.Path)
		return
	}
	switch {
	case rest == "invocation/next":
		if req.Method != http.MethodGet {
			apiError(w, http.StatusMethodNotAllowed, "InvalidRequest", "GET is the method of invocation/next")
			return
		}
		e.handleNext(w, req)
	case rest == "init/error":
		if req.Method != http.MethodPost {
			apiError(w, http.StatusMethodNotAllowed, "InvalidRequest", "POST is the method of init/error")
			return
		}
		e.handleInitError(w, req)
	case strings.HasPrefix(rest, "invocation/"):
		id, action, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		if !ok || (action != "response" && action != "error") {
			apiError(w, http.StatusNotFound, "InvalidRequest", "Unknown Runtime API path "+req.URL.Path)
			return
		}
		if req.Method != http.MethodPost {
			apiError(w, http.StatusMethodNotAllowed, "InvalidRequest", "POST is the method of invocation/{id}/"+action)
			return
		}
		e.handleResult(w, req, id, action == "error")
	default:
		apiError(w, http.StatusNotFound, "InvalidRequest", "Unknown Runtime API path "+req.URL.Path)
	}
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": typ})
	_, _ = w.Write(b)
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (e *env) handleNext(w http.ResponseWriter, req *http.Request) {
	e.readyAt.CompareAndSwap(0, time.Now().UnixNano())
	var inv *invocation
	select {
	case inv = <-e.next:
	case <-e.closing:
		apiError(w, http.StatusInternalServerError, "Runtime.Shutdown", "The execution environment is shutting down.")
		return
	case <-req.Context().Done():
		return
	}
	inv.pickedAt = time.Now()
	e.active.Store(inv)
	e.addLine("START RequestId: " + inv.id + " Version: $LATEST")
	close(inv.picked)
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.pickedAt.Add(inv.timeout).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.trace)
	if inv.clientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (e *env) handleResult(w http.ResponseWriter, req *http.Request, id string, isError bool) {
	inv := e.active.Load()
	if inv == nil || inv.id != id {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxResponse+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	if !inv.answered.CompareAndSwap(false, true) {
		apiError(w, http.StatusBadRequest, "InvalidStateTransition", "The invocation "+id+" was already answered")
		return
	}
	var o outcome
	switch {
	case len(body) > maxResponse && !isError:
		o = outcome{errType: "Function.ResponseSizeTooLarge",
			payload: errorDoc("Function.ResponseSizeTooLarge", fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse))}
		inv.done <- o
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", maxResponse))
		return
	case isError:
		typ := req.Header.Get("Lambda-Runtime-Function-Error-Type")
		o = errorOutcome(body, typ)
	case req.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// aws-lambda-go streams a response and reports a failure to read
		// it in trailers.
		typ := req.Trailer.Get("Lambda-Runtime-Function-Error-Type")
		doc, _ := base64.StdEncoding.DecodeString(req.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		o = errorOutcome(doc, typ)
	default:
		o = outcome{payload: body}
	}
	inv.done <- o
	accepted(w)
}

func (e *env) handleInitError(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxResponse))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	first := false
	e.initOnce.Do(func() {
		o := errorOutcome(body, req.Header.Get("Lambda-Runtime-Function-Error-Type"))
		e.initBody, e.initType = o.payload, o.errType
		close(e.initFailed)
		first = true
	})
	if !first {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "The init error was already reported")
		return
	}
	accepted(w)
}

// errorOutcome turns an error posted by a runtime into the invocation's
// error document: the body as is when it is JSON, else wrapped.
func errorOutcome(body []byte, typ string) outcome {
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil && doc != nil {
		if typ == "" {
			typ, _ = doc["errorType"].(string)
		}
		if typ == "" {
			typ = "Unhandled"
		}
		return outcome{payload: body, errType: typ}
	}
	if typ == "" {
		typ = "Unhandled"
	}
	return outcome{payload: errorDoc(typ, string(body)), errType: typ}
}

func errorDoc(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{typ, msg})
	return b
}

// --- running an invocation ---

// run hands inv to the environment and waits for its end. healthy is false
// when the environment must not be reused (it failed, timed out or died).
func (e *env) run(inv *invocation) (o outcome, healthy bool) {
	e.logMu.Lock()
	e.cur = inv
	e.logMu.Unlock()
	e.next <- inv
	// A cold environment first has the init phase's own limit; the
	// function's timeout counts from when the runtime takes the request.
	limit := inv.timeout
	if e.readyAt.Load() == 0 {
		limit = time.Until(e.started.Add(e.r.o.InitTimeout)) + inv.timeout
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	picked := inv.picked
	for {
		select {
		case <-picked:
			picked = nil
			timer.Reset(time.Until(inv.pickedAt.Add(inv.timeout)))
		case o := <-inv.done:
			e.out.sync()
			return o, true
		case <-e.initFailed:
			e.out.sync()
			return e.initOutcome(), false
		case <-e.exited:
			e.out.sync()
			select {
			case o := <-inv.done:
				return o, false
			case <-e.initFailed:
				return e.initOutcome(), false
			default:
			}
			return e.exitOutcome(inv), false
		case <-timer.C:
			msg := fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())
			return outcome{errType: "Sandbox.Timedout", payload: errorDoc("Sandbox.Timedout", msg), status: "timeout"}, false
		}
	}
}

func (e *env) initOutcome() outcome {
	return outcome{payload: e.initBody, errType: e.initType, status: "error", statusType: e.initType}
}

func (e *env) exitOutcome(inv *invocation) outcome {
	reason := "exit status 0"
	var ee *exec.ExitError
	switch {
	case errors.As(e.exitErr, &ee):
		reason = ee.String()
	case e.exitErr != nil:
		reason = e.exitErr.Error()
	}
	msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", inv.id, reason)
	if e.exitErr == nil {
		msg = fmt.Sprintf("RequestId: %s Error: Runtime exited without providing a reason", inv.id)
	}
	return outcome{errType: "Runtime.ExitError", payload: errorDoc("Runtime.ExitError", msg), status: "error", statusType: "Runtime.ExitError"}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/nodesdk"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/lambdas"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

// session is a command's view of its target: the AWS config, the identity,
// the state file and the learner's names. With the sandbox target it may own
// an in-process sandbox, closed by close().
type session struct {
	env       *awsenv.Env
	server    *sandbox.Server
	stateFile *state.File // nil when the target's identity is unknown
	st        *state.State
	names     lab.Names
	// identityErr is why the account is unknown (offline sessions only).
	identityErr error
	// nodeSDK finds or installs the AWS SDK v3 for the sandbox's Node.js
	// functions, once: the in-process sandbox asks it at its first Node.js
	// function, `slab do --runtime nodejs` before it starts.
	nodeSDK *nodesdk.Once
	// consistency is the timing of an in-process sandbox ("" otherwise);
	// changedAt the end of this process's last perform that changed
	// something (see checkTiming).
	consistency sandbox.Consistency
	changedAt   time.Time
}

type sessionMode int

const (
	// offline: no AWS call is required; the account may stay unknown.
	offline sessionMode = iota
	// online: the target must answer sts:GetCallerIdentity (exit 3 otherwise).
	online
)

// openSession resolves the target. On the sandbox target an online session
// uses a sandbox already serving the data directory (`slab sandbox` in
// another terminal), or starts one in-process on preferAddr (falling back to
// a free port).
func openSession(ctx context.Context, ios *IOStreams, g *globalOptions, mode sessionMode, preferAddr string) (*session, error) {
	overrides, err := g.nameOverrides()
	if err != nil {
		return nil, err
	}
	s := &session{nodeSDK: &nodesdk.Once{O: nodesdk.FromEnv(ios.ErrOut)}}
	t := awsenv.Target{Region: g.Region, Profile: g.Profile}
	switch {
	case g.AWS:
		t.Kind = awsenv.AWS
	case g.EndpointURL != "":
		t.Kind = awsenv.Endpoint
		t.Endpoint = g.EndpointURL
	default:
		t.Kind = awsenv.Sandbox
		if t.Region == "" {
			t.Region = awsenv.DefaultRegion
		}
		dataDir, err := g.sandboxDataDir()
		if err != nil {
			return nil, err
		}
		if url, ok := sandbox.Running(dataDir); ok {
			t.Endpoint = url
		} else if mode == online {
			consistency, scale, err := g.sandboxTiming("", 0)
			if err != nil {
				return nil, err
			}
			srv, err := startSandbox(sandbox.Options{DataDir: dataDir, Region: t.Region, Consistency: consistency, TimingScale: scale}, preferAddr, s.nodeSDK)
			if err != nil {
				return nil, err
			}
			s.server = srv
			s.consistency = consistency
			t.Endpoint = srv.URL()
		} else {
			t.Endpoint = "http://" + sandbox.DefaultAddr
		}
	}
	env, err := awsenv.Load(ctx, t)
	if err != nil {
		s.close()
		return nil, err
	}
	s.env = env
	if t.Kind != awsenv.Sandbox || mode == online {
		if err := env.Identify(ctx); err != nil {
			if mode == online {
				s.close()
				return nil, err
			}
			s.identityErr = err
		}
	}
	if env.Account != "" {
		dir, err := g.stateDir()
		if err != nil {
			s.close()
			return nil, err
		}
		f := state.ForTarget(dir, state.TargetKey(string(t.Kind), t.Endpoint, env.Account, env.Region))
		st, notice, err := f.Load(string(t.Kind))
		if err != nil {
			s.close()
			return nil, usageErr("%v", err)
		}
		if notice != "" {
			fmt.Fprintln(ios.ErrOut, "slab: "+notice)
		}
		s.stateFile, s.st = &f, st
		changed := notice != ""
		for k, v := range overrides {
			if st.Names[k] != v {
				st.Names[k] = v
				changed = true
			}
		}
		if changed {
			if err := f.Save(st); err != nil {
				s.close()
				return nil, fmt.Errorf("save state: %w", err)
			}
		}
		overrides = st.Names
	} else {
		s.st = state.New(string(t.Kind))
	}
	names, err := lab.DefaultNames().Apply(overrides)
	if err != nil {
		s.close()
		return nil, usageErr("state file names: %v", err)
	}
	s.names = names
	return s, nil
}

// slabInvocation is how a learner's shell runs this slab, so the lessons'
// `slab package` lines work pasted whichever way slab was started: "slab"
// when PATH finds this executable, `go run ./cmd/slab` (relative to the
// working directory) when `go run` built it from a checkout, else the
// executable's absolute path.
func slabInvocation() string {
	exe, err := os.Executable()
	if err != nil {
		return "slab"
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	if onPath, err := exec.LookPath("slab"); err == nil {
		if p, err := filepath.EvalSymlinks(onPath); err == nil && sameFile(p, exe) {
			return "slab"
		}
	}
	if goRunBinary(exe) {
		if root, err := lambdas.SourceRoot(); err == nil {
			if inv, ok := goRunFrom(root); ok {
				return inv
			}
		}
	}
	return shellQuote(exe)
}

// goRunBinary reports whether exe was built by `go run`: a temporary
// …/go-build123/b001/exe/slab, or (Go 1.24 on) one cached in the build cache
// as …/go-build/ab/<hash>-d/slab.
func goRunBinary(exe string) bool {
	dir := filepath.Dir(exe)
	sep := string(filepath.Separator)
	if filepath.Base(dir) == "exe" && strings.Contains(exe, sep+"go-build") {
		return true
	}
	if !strings.HasSuffix(filepath.Base(dir), "-d") || len(filepath.Base(filepath.Dir(dir))) != 2 {
		return false
	}
	cache := os.Getenv("GOCACHE")
	return strings.Contains(exe, sep+"go-build"+sep) || (cache != "" && strings.HasPrefix(exe, filepath.Clean(cache)+sep))
}

// goRunFrom is `go run <path to cmd/slab>` from the working directory, when
// that directory is inside the checkout at root (go run needs the module).
func goRunFrom(root string) (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	if rel, err := filepath.Rel(root, wd); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	pkg, err := filepath.Rel(wd, filepath.Join(root, "cmd", "slab"))
	if err != nil {
		return "", false
	}
	pkg = filepath.ToSlash(pkg)
	if !strings.HasPrefix(pkg, "../") {
		pkg = "./" + pkg
	}
	return "go run " + shellQuote(pkg), true
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// shellQuote leaves plain words alone and single-quotes the rest.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' || r == '=' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// selfExe is this slab's executable, which the sandbox runs in bootstrap
// mode for Lambda functions packaged by slab; "" when it cannot be found.
// A `go test` binary is not slab: started as a function it would run the
// tests again, each starting sandboxes of its own.
func selfExe() string {
	exe, err := os.Executable()
	if err != nil || strings.HasSuffix(strings.TrimSuffix(filepath.Base(exe), ".exe"), ".test") {
		return ""
	}
	return exe
}

func startSandbox(o sandbox.Options, preferAddr string, sdk *nodesdk.Once) (*sandbox.Server, error) {
	o.SelfExe = selfExe()
	o.NodeModulesFunc = func() (string, error) { return sdk.Get(context.Background()) }
	srv, err := sandbox.New(o)
	if err != nil {
		if errors.Is(err, sandbox.ErrLocked) {
			return nil, &awsenv.Error{Kind: awsenv.ErrUnreachable, Err: fmt.Errorf("%v; it does not answer: stop it, or remove its lock file if it crashed", err)}
		}
		var ce *sandbox.CorruptStateError
		if errors.As(err, &ce) {
			return nil, usageErr("start the sandbox: %v\n`slab sandbox --repair` keeps a copy of the damaged state, drops exactly the damaged records and says which.", err)
		}
		return nil, usageErr("start the sandbox: %v", err)
	}
	if preferAddr == "" {
		preferAddr = "127.0.0.1:0"
	}
	if err := srv.Listen(preferAddr); err != nil {
		var opErr *net.OpError
		if preferAddr == "127.0.0.1:0" || !errors.As(err, &opErr) {
			srv.Close()
			return nil, usageErr("start the sandbox: %v", err)
		}
		if err := srv.Listen("127.0.0.1:0"); err != nil {
			srv.Close()
			return nil, usageErr("start the sandbox: %v", err)
		}
	}
	return srv, nil
}

// close stops an in-process sandbox, flushing its state.
func (s *session) close() {
	// The SDK's pooled connections go first, so the in-process sandbox
	// finds none left open at its shutdown.
	s.env.CloseConnections()
	if s.server != nil {
		_ = s.server.Close()
		s.server = nil
	}
}

// renderContext is what lessons are rendered for. The bucket name is chosen
// once, when the account is known, and remembered.
func (s *session) renderContext() (steps.Context, error) {
	c := steps.Context{Target: string(s.env.Target.Kind), Region: s.env.Region, Account: s.env.Account, StateID: s.st.ID, Names: s.names, Slab: slabInvocation()}
	if s.env.Target.Kind != awsenv.AWS {
		c.Endpoint = s.env.Target.Endpoint
	}
	if c.Account == "" {
		c.Account = steps.AccountPlaceholder
	}
	if c.Names.Bucket == "" {
		// Without an account there is no state to remember the name in;
		// one timestamp for the whole lesson keeps every block consistent.
		c.Names.Bucket = c.Names.BucketFor(c.Account, time.Now().Unix())
	}
	return c, nil
}

// ensureBucket chooses the lab bucket name once per target and saves it.
func (s *session) ensureBucket(unix int64) error {
	if s.names.Bucket != "" || s.env.Account == "" || s.stateFile == nil {
		return nil
	}
	s.names.Bucket = s.names.BucketFor(s.env.Account, unix)
	s.st.Names["bucket"] = s.names.Bucket
	return s.stateFile.Save(s.st)
}

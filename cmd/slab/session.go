package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
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
	s := &session{}
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
			srv, err := startSandbox(dataDir, t.Region, preferAddr)
			if err != nil {
				return nil, err
			}
			s.server = srv
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

func startSandbox(dataDir, region, preferAddr string) (*sandbox.Server, error) {
	srv, err := sandbox.New(sandbox.Options{DataDir: dataDir, Region: region, SelfExe: selfExe()})
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
	c := steps.Context{Target: string(s.env.Target.Kind), Region: s.env.Region, Account: s.env.Account, StateID: s.st.ID, Names: s.names}
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

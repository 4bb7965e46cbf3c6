// Package testenv gives integration tests their target: an in-process
// sandbox by default, or the endpoint named by SLAB_TEST_ENDPOINT ("aws" for
// real AWS with the usual credential chain, or any AWS-compatible URL such as
// a `slab sandbox` elsewhere or LocalStack). Assertions only the in-process
// sandbox can make (its audit log) skip elsewhere, saying so.
package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/sandbox"
)

// EnvVar names the variable that selects the target.
const EnvVar = "SLAB_TEST_ENDPOINT"

// Open returns the test's target. srv is the in-process sandbox, nil when
// the tests run against an external endpoint or AWS. The sandbox is closed
// when the test ends.
func Open(t testing.TB) (*awsenv.Env, *sandbox.Server) {
	t.Helper()
	return OpenWith(t, sandbox.Options{})
}

// OpenWith is Open with options for the in-process sandbox (latency,
// region); they do not apply to an external endpoint.
func OpenWith(t testing.TB, o sandbox.Options) (*awsenv.Env, *sandbox.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch ep := os.Getenv(EnvVar); ep {
	case "":
	case "aws":
		env, err := awsenv.Load(ctx, awsenv.Target{Kind: awsenv.AWS, Profile: os.Getenv("AWS_PROFILE"), Region: os.Getenv("AWS_REGION")})
		if err != nil {
			t.Fatalf("%s=aws: %v", EnvVar, err)
		}
		if err := env.Identify(ctx); err != nil {
			t.Fatalf("%s=aws: %v", EnvVar, err)
		}
		return env, nil
	default:
		tgt := awsenv.Target{Kind: awsenv.Endpoint, Endpoint: ep, Region: os.Getenv("AWS_REGION")}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			tgt.AccessKeyID, tgt.SecretAccessKey = awsenv.SandboxAccessKey, awsenv.SandboxSecretKey
		}
		env, err := awsenv.Load(ctx, tgt)
		if err != nil {
			t.Fatalf("%s=%s: %v", EnvVar, ep, err)
		}
		if err := env.Identify(ctx); err != nil {
			t.Fatalf("%s=%s: %v", EnvVar, ep, err)
		}
		return env, nil
	}
	srv, err := sandbox.New(o)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := srv.Listen(addr); err != nil {
		srv.Close()
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	region := o.Region
	if region == "" {
		region = awsenv.DefaultRegion
	}
	env, err := awsenv.Load(ctx, awsenv.Target{Kind: awsenv.Sandbox, Endpoint: srv.URL(), Region: region})
	if err != nil {
		t.Fatalf("sandbox env: %v", err)
	}
	return env, srv
}

// External reports whether the tests target something other than an
// in-process sandbox.
func External() bool { return os.Getenv(EnvVar) != "" }

// RequireSandbox skips the test unless srv is the in-process sandbox.
func RequireSandbox(t testing.TB, srv *sandbox.Server, why string) {
	t.Helper()
	if srv == nil {
		t.Skipf("%s=%s: %s needs the in-process sandbox", EnvVar, os.Getenv(EnvVar), why)
	}
}

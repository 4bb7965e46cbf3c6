// Package sbtest starts a sandbox made of chosen services on a loopback port
// for tests, with an aws.Config that points the real SDK at it.
package sbtest

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Env is a running test sandbox.
type Env struct {
	URL    string
	Core   *core.Core
	Config aws.Config
}

// Start serves the services that build returns on 127.0.0.1 until the test
// ends. build gets the Core so services can register their tables.
func Start(t testing.TB, build func(c *core.Core) []core.Service) *Env {
	t.Helper()
	return StartWith(t, core.HandlerOptions{}, build)
}

// StartWith is Start with router options (accounts, latency).
func StartWith(t testing.TB, o core.HandlerOptions, build func(c *core.Core) []core.Service) *Env {
	t.Helper()
	c := core.New()
	// Registered first, so it runs after the server has stopped: it
	// removes the temporary directory of S3's body files.
	t.Cleanup(func() { _ = c.Store.Close() })
	o.Services = build(c)
	srv := httptest.NewServer(core.NewHandler(c, o))
	t.Cleanup(srv.Close)
	c.Endpoint = srv.URL
	return &Env{URL: srv.URL, Core: c, Config: Config(srv.URL, "AKIDSANDBOXTEST", "us-east-1")}
}

// Config is an SDK config for endpoint with static credentials.
func Config(endpoint, accessKey, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// For returns a copy of the config with other credentials or region.
func (e *Env) For(accessKey, region string) aws.Config {
	return Config(e.URL, accessKey, region)
}

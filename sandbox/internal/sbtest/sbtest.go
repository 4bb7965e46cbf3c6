// Package sbtest starts a sandbox made of chosen services on a loopback port
// for tests, with an aws.Config that points the real SDK at it.
package sbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

// Secret is the secret access key of every key of a test sandbox.
const Secret = "secret"

// AnyKey is the accounts of a test sandbox unless told otherwise: every
// access key exists, with the secret Secret, as the root of the account its
// 12 digits name or else of core.DefaultAccount. Signatures are still
// verified, so every service test also tests that the SDK's and the CLI's
// signatures verify.
type AnyKey struct{}

// Lookup implements core.Accounts.
func (AnyKey) Lookup(accessKey string) (core.Credential, bool) {
	acct := core.DefaultAccount
	if core.IsAccountID(accessKey) {
		acct = accessKey
	}
	return core.Credential{Secret: Secret, Principal: core.RootPrincipal(acct)}, true
}

// Expect implements core.Accounts.
func (AnyKey) Expect() string {
	return "This test sandbox accepts any access key with the secret \"secret\"."
}

// Keys is an accounts table of the given keys (key -> account id), each
// the account's root with the secret Secret.
func Keys(keys map[string]string) core.KeyTable {
	out := core.KeyTable{}
	for k, acct := range keys {
		out[k] = core.Credential{Secret: Secret, Principal: core.RootPrincipal(acct)}
	}
	return out
}

// StartWith is Start with router options (accounts, latency).
func StartWith(t testing.TB, o core.HandlerOptions, build func(c *core.Core) []core.Service) *Env {
	t.Helper()
	if o.Accounts == nil {
		o.Accounts = AnyKey{}
	}
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
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, Secret, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// For returns a copy of the config with other credentials or region.
func (e *Env) For(accessKey, region string) aws.Config {
	return Config(e.URL, accessKey, region)
}

// Sign signs a hand-built request as the SDK does, dated now, in
// us-east-1. S3 requests get the x-amz-content-sha256 header S3 requires
// (the body's hash unless the test named a payload mode).
// A server-side request (RequestURI set, as httptest.NewRequest makes)
// has its RequestURI brought in line with a URL the test changed, and is
// addressed to localhost.
func Sign(t testing.TB, req *http.Request, body []byte, service, accessKey, secret string) {
	t.Helper()
	SignAt(t, req, body, service, accessKey, secret, time.Now())
}

// SignAt is Sign dated at.
func SignAt(t testing.TB, req *http.Request, body []byte, service, accessKey, secret string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if service == "s3" {
		// A payload mode the test chose (UNSIGNED-PAYLOAD, a streaming
		// mode) is signed as it is.
		if declared := req.Header.Get("X-Amz-Content-Sha256"); declared != "" && len(declared) != 64 {
			hash = declared
		}
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if req.RequestURI != "" {
		req.RequestURI = req.URL.RequestURI()
		// httptest.NewRequest addresses example.com, a name the sandbox
		// refuses (DNS rebinding); a local client names localhost.
		if req.Host == "example.com" {
			req.Host = "localhost"
		}
	}
	req.Header.Del("Authorization")
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, req, hash, service, "us-east-1", at); err != nil {
		t.Fatalf("sign: %v", err)
	}
}

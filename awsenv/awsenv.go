// Package awsenv builds the aws.Config for a target (the embedded sandbox,
// real AWS through the SDK's standard chain, or any AWS-compatible endpoint)
// and resolves who the caller is there. Every command reaches AWS through an
// Env, so "which target am I talking to" has one answer.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/awserr"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// Kind is the kind of target.
type Kind string

// Target kinds.
const (
	Sandbox  Kind = "sandbox"
	AWS      Kind = "aws"
	Endpoint Kind = "endpoint"
)

// Sandbox credentials: any key works against the sandbox; these are the
// ones slab uses and prints in the export line.
const (
	SandboxAccessKey = "test"
	SandboxSecretKey = "test"
	SandboxAccount   = "000000000000"
	DefaultRegion    = "us-east-1"
)

// Target says where to go.
type Target struct {
	Kind     Kind
	Profile  string // --profile (aws and endpoint)
	Region   string // --region; "" means the SDK chain's region, else us-east-1
	Endpoint string // the sandbox URL, or --endpoint-url
	// AccessKeyID/SecretAccessKey pin static credentials (sandbox, graders'
	// roster rows for LocalStack-style endpoints).
	AccessKeyID, SecretAccessKey, SessionToken string
	// Adaptive selects the SDK's adaptive retryer (client-side rate
	// limiting), for graders hitting many accounts.
	Adaptive bool
}

// Env is a target with its config and, once identified, its identity.
type Env struct {
	Target    Target
	Config    aws.Config
	Account   string
	Region    string
	Partition string
	Arn       string

	conns *connSet // the SDK's connections to a sandbox or endpoint
}

// Describe is the one-line target description every screen and report shows.
func (e *Env) Describe() string {
	acct := e.Account
	if acct == "" {
		acct = "account unknown"
	}
	switch e.Target.Kind {
	case Sandbox:
		return fmt.Sprintf("SANDBOX %s %s (%s)", acct, e.Region, e.Target.Endpoint)
	case Endpoint:
		return fmt.Sprintf("ENDPOINT %s account %s %s", e.Target.Endpoint, acct, e.Region)
	default:
		return fmt.Sprintf("AWS account %s %s", acct, e.Region)
	}
}

// IsAWS reports whether the target is real AWS (costs money).
func (e *Env) IsAWS() bool { return e.Target.Kind == AWS }

// Load builds the config. It does not call AWS.
func Load(ctx context.Context, t Target) (*Env, error) {
	// The SDK's own log lines (IMDS fallbacks, retries) would interleave
	// with slab's output; failures reach the learner through errors instead.
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if t.Region != "" {
		opts = append(opts, config.WithRegion(t.Region))
	}
	if t.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(t.Profile))
	}
	if t.Adaptive {
		opts = append(opts, config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode()
		}))
	}
	switch t.Kind {
	case Sandbox:
		if t.Endpoint == "" {
			return nil, errors.New("sandbox target without an endpoint")
		}
		if t.AccessKeyID == "" {
			t.AccessKeyID, t.SecretAccessKey = SandboxAccessKey, SandboxSecretKey
		}
		if t.Region == "" {
			opts = append(opts, config.WithRegion(DefaultRegion))
		}
	case Endpoint:
		if t.Endpoint == "" {
			return nil, errors.New("--endpoint-url is empty")
		}
	}
	if t.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(t.AccessKeyID, t.SecretAccessKey, t.SessionToken)))
	}
	var conns *connSet
	if t.Kind != AWS {
		opts = append(opts, config.WithBaseEndpoint(t.Endpoint))
		conns = &connSet{m: map[*trackedConn]struct{}{}}
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(conns.track)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &Error{Kind: ErrConfig, Err: fmt.Errorf("load AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	// Every client keeps the first bytes of error bodies, so an answer
	// that is not AWS's (an HTML 404) reads as an error naming its status,
	// never as "not found".
	cfg.APIOptions = append(cfg.APIOptions, awserr.Capture)
	env := &Env{Target: t, Config: cfg, Region: cfg.Region, Partition: PartitionOf(cfg.Region), conns: conns}
	if t.Kind == Sandbox {
		env.Account = SandboxAccount
	}
	return env, nil
}

// PartitionOf names the partition of a region.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ErrKind classifies target errors for exit codes.
type ErrKind int

// Error kinds.
const (
	ErrConfig      ErrKind = iota // a usage/config problem: exit 2
	ErrUnreachable                // network, endpoint down: exit 3
	ErrAuth                       // no or bad credentials: exit 3
)

// Error is a target problem with a message a learner can act on.
type Error struct {
	Kind ErrKind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Identify calls sts:GetCallerIdentity and records the account and ARN.
func (e *Env) Identify(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := sts.NewFromConfig(e.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return e.classify(err)
	}
	e.Account = aws.ToString(out.Account)
	e.Arn = aws.ToString(out.Arn)
	return nil
}

func (e *Env) classify(err error) error {
	msg := err.Error()
	var apiErr smithy.APIError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "get identity: get credentials"):
		hint := "run `aws configure` (or `aws configure sso` and `aws sso login`), or pass --profile NAME; slab reads the same credentials as the AWS CLI"
		if e.Target.Profile != "" {
			hint = fmt.Sprintf("check profile %q in ~/.aws/config and ~/.aws/credentials (for SSO: `aws sso login --profile %s`)", e.Target.Profile, e.Target.Profile)
		}
		return &Error{Kind: ErrAuth, Err: fmt.Errorf("no usable AWS credentials for %s: %s", e.where(), hint)}
	case errors.As(err, &apiErr):
		switch apiErr.ErrorCode() {
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException", "AccessDenied", "InvalidAccessKeyId":
			return &Error{Kind: ErrAuth, Err: fmt.Errorf("%s refused the credentials (%s: %s); check them, or your --profile", e.where(), apiErr.ErrorCode(), apiErr.ErrorMessage())}
		}
		return &Error{Kind: ErrUnreachable, Err: fmt.Errorf("%s: sts:GetCallerIdentity failed: %s: %s", e.where(), apiErr.ErrorCode(), apiErr.ErrorMessage())}
	case errors.As(err, &opErr), errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: ErrUnreachable, Err: fmt.Errorf("cannot reach %s: %v", e.where(), rootCause(err))}
	}
	return &Error{Kind: ErrUnreachable, Err: fmt.Errorf("%s: %v", e.where(), err)}
}

func (e *Env) where() string {
	switch e.Target.Kind {
	case Sandbox:
		return "the sandbox at " + e.Target.Endpoint
	case Endpoint:
		return e.Target.Endpoint
	}
	return "AWS (" + e.Region + ")"
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

package sts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	stssvc "github.com/slab-lab/slab/sandbox/internal/sts"
)

func start(t *testing.T, o core.HandlerOptions) *sbtest.Env {
	return sbtest.StartWith(t, o, func(c *core.Core) []core.Service { return []core.Service{stssvc.New(c)} })
}

func TestGetCallerIdentityDefaultAccount(t *testing.T) {
	env := start(t, core.HandlerOptions{})
	out, err := sts.NewFromConfig(env.Config).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != core.DefaultAccount || aws.ToString(out.Arn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("got %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
}

func TestAccountsFileRefusesUnknownKey(t *testing.T) {
	env := start(t, core.HandlerOptions{Accounts: sbtest.Keys(map[string]string{"AKIDSTUDENT1": "111111111111"})})
	out, err := sts.NewFromConfig(env.For("AKIDSTUDENT1", "eu-west-1")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "111111111111" {
		t.Fatalf("mapped key: %v %v", out, err)
	}
	_, err = sts.NewFromConfig(env.For("AKIDNOBODY", "us-east-1")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
		t.Fatalf("unknown key: want InvalidClientTokenId, got %v", err)
	}
}

func TestAssumeRoleCredentialsMapToRoleAccount(t *testing.T) {
	env := start(t, core.HandlerOptions{Accounts: sbtest.Keys(map[string]string{"AKIDGRADER": "999999999999"})})
	cli := sts.NewFromConfig(env.For("AKIDGRADER", "us-east-1"))
	out, err := cli.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/grader"), RoleSessionName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(session(env, out.Credentials)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "222222222222" {
		t.Fatalf("assumed identity: %v %v", id, err)
	}
	if got := aws.ToString(id.Arn); got != "arn:aws:sts::222222222222:assumed-role/grader/g" {
		t.Fatalf("arn %s", got)
	}
	_, err = cli.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("nope"), RoleSessionName: aws.String("g")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Fatalf("bad arn: %v", err)
	}
}

// session is a config signing with temporary credentials.
func session(env *sbtest.Env, c *ststypes.Credentials) aws.Config {
	cfg := env.For(aws.ToString(c.AccessKeyId), "us-east-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	return cfg
}

// TestExpiredSessionToken: temporary credentials end at their Expiration,
// with ExpiredToken, as on AWS.
func TestExpiredSessionToken(t *testing.T) {
	env := start(t, core.HandlerOptions{})
	now := time.Now()
	env.Core.Now = func() time.Time { return now }
	out, err := sts.NewFromConfig(env.Config).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/r"), RoleSessionName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	cli := sts.NewFromConfig(session(env, out.Credentials))
	if _, err := cli.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	now = aws.ToTime(out.Credentials.Expiration).Add(time.Second)
	_, err = cli.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ExpiredToken" {
		t.Fatalf("after expiry: %v", err)
	}
}

package iam_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
	iamsvc "github.com/slab-lab/slab/sandbox/internal/iam"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// The five policies the guide attaches to lambda-integration-role.
var guidePolicies = []string{
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
	"arn:aws:iam::aws:policy/AmazonS3FullAccess",
	"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
	"arn:aws:iam::aws:policy/AmazonSNSFullAccess",
	"arn:aws:iam::aws:policy/AmazonSQSFullAccess",
}

var ctx = context.Background()

func start(t *testing.T) (*sbtest.Env, *iam.Client) {
	t.Helper()
	env := sbtest.Start(t, func(c *core.Core) []core.Service { return []core.Service{iamsvc.New(c)} })
	return env, iam.NewFromConfig(env.Config)
}

func createRole(t *testing.T, cli *iam.Client, name string) *types.Role {
	t.Helper()
	out, err := cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	return out.Role
}

// wantErr asserts err is the SDK's typed error T with the given HTTP status
// and, when msg is not empty, message.
func wantErr[T error](t *testing.T, err error, status int, msg string) T {
	t.Helper()
	var typed T
	if !errors.As(err, &typed) {
		t.Fatalf("want %T, got %v", typed, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
	var ae smithy.APIError
	if msg != "" && (!errors.As(err, &ae) || ae.ErrorMessage() != msg) {
		t.Fatalf("want message %q, got %v", msg, err)
	}
	return typed
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func decode(t *testing.T, doc string) string {
	t.Helper()
	s, err := url.QueryUnescape(doc)
	if err != nil {
		t.Fatalf("document is not URL-encoded: %v", err)
	}
	return s
}

func TestCreateAndGetRole(t *testing.T) {
	env, cli := start(t)
	before := time.Now().Add(-time.Second)
	out, err := cli.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("lambda-integration-role"), Path: aws.String("/lab/"),
		AssumeRolePolicyDocument: aws.String(lambdaTrust), Description: aws.String("the lab's role"),
		Tags: []types.Tag{{Key: aws.String("project"), Value: aws.String("slab")}, {Key: aws.String("empty"), Value: aws.String("")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if got := aws.ToString(r.Arn); got != "arn:aws:iam::000000000000:role/lab/lambda-integration-role" {
		t.Errorf("Arn %s", got)
	}
	if id := aws.ToString(r.RoleId); len(id) != 21 || !strings.HasPrefix(id, "AROA") || strings.ToUpper(id) != id {
		t.Errorf("RoleId %q", id)
	}
	if r.CreateDate == nil || r.CreateDate.Before(before) || r.CreateDate.After(time.Now().Add(time.Second)) {
		t.Errorf("CreateDate %v", r.CreateDate)
	}
	if got := decode(t, aws.ToString(r.AssumeRolePolicyDocument)); got != lambdaTrust {
		t.Errorf("trust policy %s", got)
	}
	if aws.ToInt32(r.MaxSessionDuration) != 3600 || aws.ToString(r.Path) != "/lab/" || len(r.Tags) != 2 {
		t.Errorf("role %+v", r)
	}

	// Names are unique without regard to case, and found that way.
	got, err := cli.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Lambda-Integration-Role")})
	if err != nil {
		t.Fatal(err)
	}
	g := got.Role
	if aws.ToString(g.RoleName) != "lambda-integration-role" || aws.ToString(g.RoleId) != aws.ToString(r.RoleId) ||
		aws.ToString(g.Description) != "the lab's role" || len(g.Tags) != 2 || aws.ToString(g.Tags[0].Key) != "project" || g.RoleLastUsed == nil {
		t.Errorf("GetRole %+v", g)
	}
	if decode(t, aws.ToString(g.AssumeRolePolicyDocument)) != lambdaTrust {
		t.Error("GetRole trust policy differs")
	}
	// The core.IAMView hook sees the same role.
	view := env.Core.Hook(core.HookIAM).(core.IAMView)
	_ = env.Core.Store.View(func(tx *core.Tx) error {
		info, ok := view.RoleByARN(tx, core.DefaultAccount, aws.ToString(r.Arn))
		if !ok || info.RoleID != aws.ToString(r.RoleId) || info.AssumeRolePolicy != lambdaTrust {
			t.Errorf("RoleByARN: %+v %v", info, ok)
		}
		if _, ok := view.RoleByARN(tx, core.DefaultAccount, "arn:aws:iam::000000000000:role/lambda-integration-role"); ok {
			t.Error("RoleByARN must match the path too")
		}
		if _, ok := view.RoleByARN(tx, "111111111111", aws.ToString(r.Arn)); ok {
			t.Error("RoleByARN must not find another account's role")
		}
		return nil
	})
}

func TestCreateRoleErrors(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "dup")
	_, err := cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("DUP"), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	wantErr[*types.EntityAlreadyExistsException](t, err, 409, "Role with name DUP already exists.")

	malformed := map[string]string{
		`{"Version": "2012-10-17", "Statement": [`: "This policy contains invalid Json",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}`: "Has prohibited field Resource",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`:                                                               policy.MsgNoPrincipalInTrust,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lamda.amazonaws.con"},"Action":"sts:AssumeRole"}]}`:                 `Invalid principal in policy: "SERVICE":"lamda.amazonaws.con"`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`:               "Syntax errors in policy.",
	}
	for doc, msg := range malformed {
		_, err := cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad-trust"), AssumeRolePolicyDocument: aws.String(doc)})
		wantErr[*types.MalformedPolicyDocumentException](t, err, 400, msg)
	}

	for _, name := range []string{"has space", "slash/inside", strings.Repeat("r", 65)} {
		_, err := cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
		wantCode(t, err, "ValidationError")
	}
	_, err = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("p"), Path: aws.String("no-slashes"), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	wantCode(t, err, "ValidationError")
	_, err = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("m"), MaxSessionDuration: aws.Int32(60), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	wantCode(t, err, "ValidationError")
	_, err = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("t"), AssumeRolePolicyDocument: aws.String(lambdaTrust),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}})
	wantErr[*types.InvalidInputException](t, err, 400, "")
	_, err = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("t"), AssumeRolePolicyDocument: aws.String(lambdaTrust),
		Tags: []types.Tag{{Key: aws.String("bad*key"), Value: aws.String("1")}}})
	wantCode(t, err, "ValidationError")
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 2100) + `","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("big"), AssumeRolePolicyDocument: aws.String(big)})
	wantErr[*types.LimitExceededException](t, err, 409, "")

	// Nothing failed half-way: only the first role exists.
	list, err := cli.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(list.Roles) != 1 {
		t.Fatalf("roles after failures: %v %v", list, err)
	}
}

func TestGetRoleNotFound(t *testing.T) {
	_, cli := start(t)
	_, err := cli.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("lambda-integration-role")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role with name lambda-integration-role cannot be found.")
	_, err = cli.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("nope")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role with name nope cannot be found.")
}

func TestRoleExistsWaiter(t *testing.T) {
	_, cli := start(t)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("later"), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	}()
	w := iam.NewRoleExistsWaiter(cli, func(o *iam.RoleExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := w.Wait(ctx, &iam.GetRoleInput{RoleName: aws.String("later")}, 10*time.Second); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	err := w.Wait(ctx, &iam.GetRoleInput{RoleName: aws.String("never")}, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "exceeded max wait time") {
		t.Fatalf("waiter for a role that never comes: %v", err)
	}
}

func TestListRolesPaginator(t *testing.T) {
	_, cli := start(t)
	var want []string
	for i := 0; i < 7; i++ {
		name := fmt.Sprintf("role-%d", i)
		want = append(want, name)
		createRole(t, cli, name)
	}
	_, err := cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("svc"), Path: aws.String("/service-role/"), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "svc")
	p := iam.NewListRolesPaginator(cli, &iam.ListRolesInput{MaxItems: aws.Int32(3)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Roles) > 3 || page.IsTruncated != p.HasMorePages() {
			t.Fatalf("page %d: %d roles, truncated %v", pages, len(page.Roles), page.IsTruncated)
		}
		for _, r := range page.Roles {
			got = append(got, aws.ToString(r.RoleName))
			if r.AssumeRolePolicyDocument == nil || len(r.Tags) != 0 {
				t.Errorf("ListRoles entry %+v", r)
			}
		}
	}
	sort.Strings(want)
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages: %v", pages, got)
	}
	out, err := cli.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/service-role")})
	if err != nil || len(out.Roles) != 1 || aws.ToString(out.Roles[0].RoleName) != "svc" {
		t.Fatalf("PathPrefix: %v %v", out, err)
	}
	_, err = cli.ListRoles(ctx, &iam.ListRolesInput{Marker: aws.String("!!not-a-marker!!")})
	wantCode(t, err, "ValidationError")
	_, err = cli.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1001)})
	wantCode(t, err, "ValidationError")
}

func TestRoleTags(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "tagged")
	_, err := cli.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("lab")}, {Key: aws.String("owner"), Value: aws.String("ana")}, {Key: aws.String("cost"), Value: aws.String("0")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Re-tagging a key (any case) replaces its value.
	if _, err := cli.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("ENV"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("tagged"), TagKeys: []string{"owner", "absent"}}); err != nil {
		t.Fatal(err)
	}
	p := iam.NewListRoleTagsPaginator(cli, &iam.ListRoleTagsInput{RoleName: aws.String("tagged"), MaxItems: aws.Int32(1)})
	var tags []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page.Tags {
			tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
	}
	if strings.Join(tags, ",") != "ENV=prod,cost=0" {
		t.Fatalf("tags %v", tags)
	}
	_, err = cli.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	_, err = cli.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("nope")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	_, err = cli.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("nope"), TagKeys: []string{"a"}})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
}

func TestUpdateAssumeRolePolicyAndUpdateRole(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "r")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := cli.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	out, err := cli.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	if err != nil || decode(t, aws.ToString(out.Role.AssumeRolePolicyDocument)) != trust {
		t.Fatalf("after update: %v %v", out, err)
	}
	_, err = cli.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}]}`)})
	wantErr[*types.MalformedPolicyDocumentException](t, err, 400, "Has prohibited field Resource")
	_, err = cli.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("nope"), PolicyDocument: aws.String(trust)})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")

	if _, err := cli.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("r"), Description: aws.String("d"), MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	out, _ = cli.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	if aws.ToString(out.Role.Description) != "d" || aws.ToInt32(out.Role.MaxSessionDuration) != 7200 {
		t.Fatalf("UpdateRole: %+v", out.Role)
	}
}

func TestAttachAndDetachRolePolicies(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "lambda-integration-role")
	role := aws.String("lambda-integration-role")
	for _, arn := range guidePolicies {
		if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("attach %s: %v", arn, err)
		}
	}
	// Attaching again is accepted and changes nothing.
	if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String(guidePolicies[0])}); err != nil {
		t.Fatal(err)
	}
	p := iam.NewListAttachedRolePoliciesPaginator(cli, &iam.ListAttachedRolePoliciesInput{RoleName: role, MaxItems: aws.Int32(2)})
	var arns []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.AttachedPolicies {
			arns = append(arns, aws.ToString(a.PolicyArn))
			if !strings.HasSuffix(aws.ToString(a.PolicyArn), "/"+aws.ToString(a.PolicyName)) {
				t.Errorf("attached %+v", a)
			}
		}
	}
	if strings.Join(arns, ",") != strings.Join(guidePolicies, ",") {
		t.Fatalf("attached %v", arns)
	}
	filtered, err := cli.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: role, PathPrefix: aws.String("/service-role/")})
	if err != nil || len(filtered.AttachedPolicies) != 1 {
		t.Fatalf("PathPrefix: %v %v", filtered, err)
	}

	pol, err := cli.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")})
	if err != nil || aws.ToInt32(pol.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy: %v %v", pol, err)
	}
	ents, err := cli.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")})
	if err != nil || len(ents.PolicyRoles) != 1 || aws.ToString(ents.PolicyRoles[0].RoleName) != "lambda-integration-role" {
		t.Fatalf("ListEntitiesForPolicy: %v %v", ents, err)
	}

	users, err := cli.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess"), EntityFilter: types.EntityTypeUser})
	if err != nil || len(users.PolicyRoles) != 0 {
		t.Fatalf("EntityFilter=User: %v %v", users, err)
	}
	_, err = cli.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess"), EntityFilter: "Robot"})
	wantCode(t, err, "ValidationError")

	_, err = cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAcess")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "Policy arn:aws:iam::aws:policy/AmazonSQSFullAcess does not exist or is not attachable.")
	_, err = cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String("AmazonSQSFullAccess")})
	wantErr[*types.InvalidInputException](t, err, 400, "ARN AmazonSQSFullAccess is not valid.")
	_, err = cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("nope"), PolicyArn: aws.String(guidePolicies[1])})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role with name nope cannot be found.")

	for _, arn := range guidePolicies {
		if _, err := cli.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("detach %s: %v", arn, err)
		}
	}
	_, err = cli.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: aws.String(guidePolicies[0])})
	wantErr[*types.NoSuchEntityException](t, err, 404, "Policy "+guidePolicies[0]+" was not found.")
	left, err := cli.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: role})
	if err != nil || len(left.AttachedPolicies) != 0 || left.AttachedPolicies == nil {
		t.Fatalf("after detach: %+v %v", left, err)
	}
}

func TestInlineRolePolicies(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "r")
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Consume","Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:us-east-1:000000000000:lambda-integration-queue"}]}`
	for _, name := range []string{"sqs-consume", "b-second"} {
		if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cli.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("sqs-consume")})
	if err != nil {
		t.Fatal(err)
	}
	raw := aws.ToString(got.PolicyDocument)
	if strings.Contains(raw, "{") || decode(t, raw) != doc || aws.ToString(got.RoleName) != "r" || aws.ToString(got.PolicyName) != "sqs-consume" {
		t.Fatalf("GetRolePolicy %q", raw)
	}
	if _, err := policy.Parse(raw); err != nil {
		t.Fatalf("package policy reads IAM's encoding: %v", err)
	}
	p := iam.NewListRolePoliciesPaginator(cli, &iam.ListRolePoliciesInput{RoleName: aws.String("r"), MaxItems: aws.Int32(1)})
	var names []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, page.PolicyNames...)
	}
	if strings.Join(names, ",") != "b-second,sqs-consume" {
		t.Fatalf("ListRolePolicies %v", names)
	}
	if _, err := cli.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("b-second")}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("b-second")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role policy with name b-second cannot be found.")
	_, err = cli.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("b-second")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role policy with name b-second cannot be found.")
	_, err = cli.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("nope"), PolicyName: aws.String("x")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role with name nope cannot be found.")

	_, err = cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("trust-by-mistake"), PolicyDocument: aws.String(lambdaTrust)})
	wantErr[*types.MalformedPolicyDocumentException](t, err, 400, "Policy document should not specify a principal.")
	_, err = cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("x"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
	wantErr[*types.MalformedPolicyDocumentException](t, err, 400, "Policy statement must contain resources.")
	huge := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("s", 10300) + `","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	_, err = cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("huge"), PolicyDocument: aws.String(huge)})
	wantErr[*types.LimitExceededException](t, err, 409, "Maximum policy size of 10240 bytes exceeded for role r")
	list, _ := cli.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("r")})
	if len(list.PolicyNames) != 1 {
		t.Fatalf("failed puts must leave nothing behind: %v", list.PolicyNames)
	}
}

func TestDeleteRoleConflicts(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "lambda-integration-role")
	role := aws.String("lambda-integration-role")
	if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String(guidePolicies[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String("inline"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: role}); err != nil {
		t.Fatal(err)
	}

	_, err := cli.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
	wantErr[*types.DeleteConflictException](t, err, 409, "Cannot delete entity, must detach all policies first.")
	if _, err := cli.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: aws.String(guidePolicies[0])}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
	wantErr[*types.DeleteConflictException](t, err, 409, "Cannot delete entity, must delete policies first.")
	if _, err := cli.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String("inline")}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
	wantErr[*types.DeleteConflictException](t, err, 409, "Cannot delete entity, must remove roles from instance profile first.")
	_, err = cli.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("ip")})
	wantErr[*types.DeleteConflictException](t, err, 409, "Cannot delete entity, must remove roles from instance profile first.")
	if _, err := cli.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: role}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.GetRole(ctx, &iam.GetRoleInput{RoleName: role})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	if _, err := cli.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("ip")}); err != nil {
		t.Fatal(err)
	}
}

func TestInstanceProfiles(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "r1")
	createRole(t, cli, "r2")
	out, err := cli.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web"), Path: aws.String("/lab/")})
	if err != nil {
		t.Fatal(err)
	}
	ip := out.InstanceProfile
	if aws.ToString(ip.Arn) != "arn:aws:iam::000000000000:instance-profile/lab/web" || !strings.HasPrefix(aws.ToString(ip.InstanceProfileId), "AIPA") || ip.Roles == nil {
		t.Fatalf("%+v", ip)
	}
	_, err = cli.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("WEB")})
	wantErr[*types.EntityAlreadyExistsException](t, err, 409, "Instance Profile WEB already exists.")
	w := iam.NewInstanceProfileExistsWaiter(cli, func(o *iam.InstanceProfileExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	if _, err := cli.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	wantErr[*types.LimitExceededException](t, err, 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	_, err = cli.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nope"), RoleName: aws.String("r2")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "Instance Profile nope cannot be found.")
	_, err = cli.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("nope")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role with name nope cannot be found.")

	list, err := cli.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("r1")})
	if err != nil || len(list.InstanceProfiles) != 1 || len(list.InstanceProfiles[0].Roles) != 1 || aws.ToString(list.InstanceProfiles[0].Roles[0].RoleName) != "r1" {
		t.Fatalf("ListInstanceProfilesForRole: %+v %v", list, err)
	}
	none, err := cli.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("r2")})
	if err != nil || len(none.InstanceProfiles) != 0 {
		t.Fatalf("r2: %+v %v", none, err)
	}
	_, err = cli.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("nope")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	_, err = cli.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	_, err = cli.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nope")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "Instance Profile nope cannot be found.")
	_, err = cli.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("nope")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
}

func TestManagedPolicies(t *testing.T) {
	_, cli := start(t)
	want := map[string]string{ // ARN -> an action its document must allow
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":    "logs:PutLogEvents",
		"arn:aws:iam::aws:policy/AmazonS3FullAccess":                          "s3:PutObject",
		"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess":                    "dynamodb:PutItem",
		"arn:aws:iam::aws:policy/AmazonSNSFullAccess":                         "sns:Publish",
		"arn:aws:iam::aws:policy/AmazonSQSFullAccess":                         "sqs:SendMessage",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": "sqs:ReceiveMessage",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": "dynamodb:GetRecords",
	}
	for arn, action := range want {
		out, err := cli.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("GetPolicy %s: %v", arn, err)
		}
		p := out.Policy
		if aws.ToString(p.Arn) != arn || !strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") || len(aws.ToString(p.PolicyId)) != 21 ||
			!p.IsAttachable || p.CreateDate == nil || p.UpdateDate == nil || aws.ToString(p.Description) == "" || aws.ToInt32(p.AttachmentCount) != 0 {
			t.Errorf("GetPolicy %s: %+v", arn, p)
		}
		v, err := cli.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.DefaultVersionId})
		if err != nil {
			t.Fatalf("GetPolicyVersion %s: %v", arn, err)
		}
		if !v.PolicyVersion.IsDefaultVersion || strings.Contains(aws.ToString(v.PolicyVersion.Document), "{") {
			t.Errorf("version %+v", v.PolicyVersion)
		}
		doc, err := policy.Parse(decode(t, aws.ToString(v.PolicyVersion.Document)))
		if err != nil || doc.ValidateIdentity() != nil {
			t.Fatalf("%s document: %v", arn, err)
		}
		if !policy.Evaluate(policy.Request{Action: action, Resource: "*"}, doc).Allowed() {
			t.Errorf("%s does not allow %s", arn, action)
		}
	}
	_, err := cli.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(guidePolicies[4]), VersionId: aws.String("v99")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	_, err = cli.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "Policy arn:aws:iam::aws:policy/NoSuchPolicy was not found.")
	_, err = cli.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("not-an-arn")})
	wantErr[*types.InvalidInputException](t, err, 400, "")
	pw := iam.NewPolicyExistsWaiter(cli)
	if err := pw.Wait(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(guidePolicies[1])}, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	p := iam.NewListPoliciesPaginator(cli, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(3)})
	seen := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range page.Policies {
			seen[aws.ToString(pol.Arn)] = true
		}
	}
	for arn := range want {
		if !seen[arn] {
			t.Errorf("ListPolicies Scope=AWS lacks %s", arn)
		}
	}
	local, err := cli.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})
	if err != nil || len(local.Policies) != 0 {
		t.Fatalf("Scope=Local: %v %v", local, err)
	}
	createRole(t, cli, "r")
	if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(guidePolicies[2])}); err != nil {
		t.Fatal(err)
	}
	attached, err := cli.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true})
	if err != nil || len(attached.Policies) != 1 || aws.ToInt32(attached.Policies[0].AttachmentCount) != 1 {
		t.Fatalf("OnlyAttached: %+v %v", attached, err)
	}
	svcRole, err := cli.ListPolicies(ctx, &iam.ListPoliciesInput{PathPrefix: aws.String("/service-role/")})
	if err != nil || len(svcRole.Policies) != 3 {
		t.Fatalf("PathPrefix: %v %v", svcRole, err)
	}
	_, err = cli.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Everything"})
	wantCode(t, err, "ValidationError")
}

func TestStatePersists(t *testing.T) {
	dir := t.TempDir()
	build := func(c *core.Core) []core.Service {
		s := iamsvc.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Store.Close() })
		return []core.Service{s}
	}
	env := sbtest.Start(t, build)
	cli := iam.NewFromConfig(env.Config)
	createRole(t, cli, "kept")
	if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("kept"), PolicyArn: aws.String(guidePolicies[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("kept"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	if err := env.Core.Store.Close(); err != nil {
		t.Fatal(err)
	}

	env2 := sbtest.Start(t, build)
	cli2 := iam.NewFromConfig(env2.Config)
	out, err := cli2.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("kept")})
	if err != nil || decode(t, aws.ToString(out.Role.AssumeRolePolicyDocument)) != lambdaTrust {
		t.Fatalf("after reopen: %v %v", out, err)
	}
	att, err := cli2.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("kept")})
	if err != nil || len(att.AttachedPolicies) != 1 {
		t.Fatalf("attachments after reopen: %v %v", att, err)
	}
	if _, err := cli2.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("kept"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownActionAndAccounts(t *testing.T) {
	env, cli := start(t)
	_, err := cli.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "InvalidAction")
	// Roles are per account.
	createRole(t, cli, "mine")
	other := iam.NewFromConfig(env.For("111111111111", "eu-west-1"))
	_, err = other.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("mine")})
	wantErr[*types.NoSuchEntityException](t, err, 404, "")
	// IAM is global: the same account sees its roles from any region.
	sameAcct := iam.NewFromConfig(env.For("AKIDSANDBOXTEST", "ap-southeast-2"))
	if _, err := sameAcct.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("mine")}); err != nil {
		t.Fatal(err)
	}
}

// Size quotas come before parsing: a document over the quota is refused
// with LimitExceeded even when it is not JSON at all (parsing first made a
// 5 MB PutRolePolicy take two minutes), while the URL-encoded form IAM
// itself returns is measured decoded.
func TestPolicyQuotasBeforeParsing(t *testing.T) {
	_, cli := start(t)
	createRole(t, cli, "r")
	garbage := strings.Repeat("{[", 6000) // 12,000 characters, not JSON
	_, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("g"), PolicyDocument: aws.String(garbage)})
	wantErr[*types.LimitExceededException](t, err, 409, "Maximum policy size of 10240 bytes exceeded for role r")
	big := strings.Repeat(" {[ ", 75000) // 300 KB (900 KB encoded, under the request limit), 150,000 characters without whitespace
	_, err = cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("g"), PolicyDocument: aws.String(big)})
	wantErr[*types.LimitExceededException](t, err, 409, "Maximum policy size of 10240 bytes exceeded for role r")
	_, err = cli.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("t"), AssumeRolePolicyDocument: aws.String(strings.Repeat("[", 2049))})
	wantErr[*types.LimitExceededException](t, err, 409, "Cannot exceed quota for ACLSizePerRole: 2048")
	_, err = cli.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(strings.Repeat("[", 2049))})
	wantErr[*types.LimitExceededException](t, err, 409, "Cannot exceed quota for ACLSizePerRole: 2048")
	// Whitespace does not count, and an encoded document is measured decoded:
	// 3,000 characters encode to about 9,000.
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("A", 2900) + `","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	encoded := strings.NewReplacer("{", "%7B", "}", "%7D", `"`, "%22", ":", "%3A", ",", "%2C", "[", "%5B", "]", "%5D", "*", "%2A", "A", "%41").Replace(doc)
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("enc"), PolicyDocument: aws.String(encoded)}); err != nil {
		t.Fatalf("encoded document of %d characters (%d decoded): %v", len(encoded), len(doc), err)
	}
	spaced := strings.ReplaceAll(doc, ",", ",\n"+strings.Repeat(" ", 4000))
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("spaced"), PolicyDocument: aws.String(spaced)}); err != nil {
		t.Fatalf("indented document: %v", err)
	}
}

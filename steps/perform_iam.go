package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/policy"
)

// InlinePolicyName is the least-privilege inline policy of the role.
const InlinePolicyName = lab.InlinePolicyName

// The managed policies of the two ways to grant the role its permissions.
const (
	policyBasic    = "service-role/AWSLambdaBasicExecutionRole"
	policySQSExec  = "service-role/AWSLambdaSQSQueueExecutionRole"
	policyS3Full   = "AmazonS3FullAccess"
	policyDDBFull  = "AmazonDynamoDBFullAccess"
	policySNSFull  = "AmazonSNSFullAccess"
	policySQSFull  = "AmazonSQSFullAccess"
	roleDescribing = "Execution role of the serverless integration patterns lab"
)

var guidePolicies = []string{policyS3Full, policyDDBFull, policySNSFull, policySQSFull}

const lambdaTrustPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": { "Service": "lambda.amazonaws.com" },
      "Action": "sts:AssumeRole"
    }
  ]
}`

// labAccessPolicy is the lesson's slab-lab-access document.
func (p *performer) labAccessPolicy() string {
	type stmt struct {
		Sid      string `json:"Sid"`
		Effect   string `json:"Effect"`
		Action   any    `json:"Action"`
		Resource string `json:"Resource"`
	}
	doc := struct {
		Version   string `json:"Version"`
		Statement []stmt `json:"Statement"`
	}{"2012-10-17", []stmt{
		{"ReadUploadedObjects", "Allow", []string{"s3:GetObject", "s3:GetObjectVersion"}, p.bucketArn() + "/*"},
		{"ReadWriteLabTable", "Allow", []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Scan"}, p.tableArn()},
		{"PublishSummaries", "Allow", "sns:Publish", p.topicArn()},
	}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

func performIAMRole(p *performer) error {
	c := p.c.iam
	roleArn := p.roleArn()
	r := p.resource("IAM role "+p.n.Role, "role", roleArn)
	got, err := c.GetRole(p.ctx, &iam.GetRoleInput{RoleName: str(p.n.Role)})
	exists := err == nil
	switch {
	case isCode(err, "NoSuchEntity"):
		if err := r.create("does not exist", func(ctx context.Context) error {
			var tags []iamtypes.Tag
			for k, v := range p.tags() {
				tags = append(tags, iamtypes.Tag{Key: str(k), Value: str(v)})
			}
			sort.Slice(tags, func(i, j int) bool { return *tags[i].Key < *tags[j].Key })
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: str(p.n.Role), AssumeRolePolicyDocument: str(lambdaTrustPolicy),
				Description: str(roleDescribing), Tags: tags,
			})
			if isCode(err, "EntityAlreadyExists") {
				return nil // created by a concurrent run
			}
			return err
		}); err != nil {
			return err
		}
		if !p.o.DryRun {
			start := time.Now()
			w := iam.NewRoleExistsWaiter(c, func(o *iam.RoleExistsWaiterOptions) { o.MinDelay, o.MaxDelay = time.Second, 5*time.Second })
			if err := w.Wait(p.ctx, &iam.GetRoleInput{RoleName: str(p.n.Role)}, 2*time.Minute); err != nil {
				return r.fail(err)
			}
			r.note("exists after %s", roundDur(time.Since(start)))
		}
	case err != nil:
		return r.fail(err)
	default:
		r.id = aws.ToString(got.Role.Arn)
		roleArn = r.id
		if have := aws.ToString(got.Role.AssumeRolePolicyDocument); !trustsLambda(have, roleArn) {
			trust := mergedTrust(have, roleArn)
			if err := r.update("trust policy does not let lambda.amazonaws.com assume the role", func(ctx context.Context) error {
				_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: str(p.n.Role), PolicyDocument: str(trust)})
				return err
			}); err != nil {
				return err
			}
		}
		have := map[string]string{}
		for _, t := range got.Role.Tags {
			have[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if why, set := p.missingTags(have); why != "" {
			if err := r.update(why, func(ctx context.Context) error {
				var tags []iamtypes.Tag
				for k, v := range set {
					tags = append(tags, iamtypes.Tag{Key: str(k), Value: str(v)})
				}
				_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: str(p.n.Role), Tags: tags})
				return err
			}); err != nil {
				return err
			}
		}
	}
	r.finish()

	// The permissions: what is attached now.
	attached := map[string]bool{}
	inline := map[string]bool{}
	if exists {
		pg := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: str(p.n.Role)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(p.ctx)
			if err != nil {
				return p.resource("managed policies of "+p.n.Role, "", roleArn).fail(err)
			}
			for _, ap := range page.AttachedPolicies {
				attached[aws.ToString(ap.PolicyArn)] = true
			}
		}
		ip := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: str(p.n.Role)})
		for ip.HasMorePages() {
			page, err := ip.NextPage(p.ctx)
			if err != nil {
				return p.resource("inline policies of "+p.n.Role, "", roleArn).fail(err)
			}
			for _, n := range page.PolicyNames {
				inline[n] = true
			}
		}
	}
	var learners []string
	for name := range inline {
		if name != InlinePolicyName {
			learners = append(learners, name)
		}
	}
	sort.Strings(learners)
	for _, name := range learners {
		if err := p.liftDenies(name, roleArn); err != nil {
			return err
		}
	}
	least := p.o.LeastPrivilege
	if !least && inline[InlinePolicyName] {
		// The role already has the least-privilege setup (the learner chose
		// it earlier): keep it rather than widen it to the guide's way.
		least = true
		p.out.Notes = append(p.out.Notes, fmt.Sprintf("role %s keeps its least-privilege policies (%s); the guide's FullAccess policies are not added", p.n.Role, InlinePolicyName))
	}
	want := []string{policyBasic}
	if least {
		want = append(want, policySQSExec)
	} else {
		want = append(want, guidePolicies...)
	}
	for _, path := range want {
		arn := p.managedPolicyArn(path)
		pr := p.resource(fmt.Sprintf("managed policy %s on role %s", shortPolicy(path), p.n.Role), "", arn)
		if !attached[arn] {
			if err := pr.create("not attached", func(ctx context.Context) error {
				_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: str(p.n.Role), PolicyArn: str(arn)})
				return err
			}); err != nil {
				return err
			}
		}
		pr.finish()
	}
	if !least {
		return nil
	}
	doc := p.labAccessPolicy()
	ir := p.resource(fmt.Sprintf("inline policy %s on role %s", InlinePolicyName, p.n.Role), "", roleArn)
	put := func(ctx context.Context) error {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: str(p.n.Role), PolicyName: str(InlinePolicyName), PolicyDocument: str(doc)})
		return err
	}
	if !inline[InlinePolicyName] {
		if err := ir.create("not on the role", put); err != nil {
			return err
		}
	} else {
		gp, err := c.GetRolePolicy(p.ctx, &iam.GetRolePolicyInput{RoleName: str(p.n.Role), PolicyName: str(InlinePolicyName)})
		if err != nil {
			return ir.fail(err)
		}
		if why := samePolicy(aws.ToString(gp.PolicyDocument), doc); why != "" {
			if err := ir.update(why, put); err != nil {
				return err
			}
		}
	}
	ir.finish()
	if p.o.LeastPrivilege {
		// Asked for least privilege: the guide's wide policies go.
		for _, path := range guidePolicies {
			arn := p.managedPolicyArn(path)
			if !attached[arn] {
				continue
			}
			dr := p.resource(fmt.Sprintf("managed policy %s on role %s", shortPolicy(path), p.n.Role), "", arn)
			if err := dr.update("detached: --least-privilege replaces it with "+InlinePolicyName, func(ctx context.Context) error {
				_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: str(p.n.Role), PolicyArn: str(arn)})
				if isCode(err, "NoSuchEntity") {
					return nil
				}
				return err
			}); err != nil {
				return err
			}
			dr.finish()
		}
	}
	return nil
}

// roleNeeds are the requests the functions make as the role, the ones the
// iam-role checks evaluate: a Deny over any of them breaks the lab whatever
// the role is also allowed.
func (p *performer) roleNeeds() []policy.Request {
	var out []policy.Request
	add := func(action string, resources ...string) {
		for _, r := range resources {
			out = append(out, policy.Request{Action: action, Resource: r})
		}
	}
	for _, fn := range []string{p.n.S3Function, p.n.EventFunction, p.n.QueueFunction} {
		group := p.arn("logs", "log-group:/aws/lambda/"+fn)
		stream := group + ":log-stream:2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
		add("logs:CreateLogGroup", group, group+":*")
		add("logs:CreateLogStream", stream, group)
		add("logs:PutLogEvents", stream)
	}
	bucket := p.n.Bucket
	if bucket == "" {
		bucket = p.n.BucketFor(p.account(), 0) // any of the lab's buckets; choosing one is step 3's
	}
	obj := fmt.Sprintf("arn:%s:s3:::%s/test-data.json", p.partition(), bucket)
	add("s3:GetObject", obj)
	add("s3:GetObjectVersion", obj)
	add("dynamodb:PutItem", p.tableArn())
	add("dynamodb:Scan", p.tableArn())
	add("sns:Publish", p.topicArn())
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
		add(a, p.queueArn())
	}
	return out
}

// liftDenies removes from a learner's inline policy the Deny statements
// that stop the functions' own calls (roleNeeds): the checks fail the role
// over them, so keeping them would leave a repair that is not one. The
// rest of the learner's policy stays; a policy left empty is deleted.
func (p *performer) liftDenies(name, roleArn string) error {
	c := p.c.iam
	r := p.resource(fmt.Sprintf("inline policy %s on role %s", name, p.n.Role), "", roleArn)
	gp, err := c.GetRolePolicy(p.ctx, &iam.GetRolePolicyInput{RoleName: str(p.n.Role), PolicyName: str(name)})
	if err != nil {
		return r.fail(err)
	}
	raw, _ := url.PathUnescape(aws.ToString(gp.PolicyDocument))
	var doc map[string]any
	if json.Unmarshal([]byte(raw), &doc) != nil {
		r.finish()
		return nil
	}
	var stmts []any
	switch st := doc["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	}
	needs := p.roleNeeds()
	var kept []any
	var lifted []string
	for _, st := range stmts {
		m, ok := st.(map[string]any)
		if ok {
			if req, denied := statementDenies(m, false, needs...); denied {
				lifted = append(lifted, req.Action)
				continue
			}
		}
		kept = append(kept, st)
	}
	if len(lifted) == 0 {
		r.finish()
		return nil
	}
	why := "denies what the functions need: " + strings.Join(lifted, ", ")
	if len(kept) == 0 {
		if err := r.update(why+"; the policy held nothing else and is deleted", func(ctx context.Context) error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: str(p.n.Role), PolicyName: str(name)})
			return err
		}); err != nil {
			return err
		}
	} else {
		doc["Statement"] = kept
		b, _ := json.Marshal(doc)
		if err := r.update(why+"; those statements are removed, the rest kept", func(ctx context.Context) error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: str(p.n.Role), PolicyName: str(name), PolicyDocument: str(string(b))})
			return err
		}); err != nil {
			return err
		}
	}
	r.finish()
	return nil
}

// statementDenies returns the first request a Deny statement, alone,
// explicitly denies (judged as a resource policy or an identity policy).
func statementDenies(stmt map[string]any, resourceBased bool, reqs ...policy.Request) (policy.Request, bool) {
	if fmt.Sprint(stmt["Effect"]) != "Deny" {
		return policy.Request{}, false
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{stmt}})
	if err != nil {
		return policy.Request{}, false
	}
	d, err := policy.Parse(string(b))
	if err != nil {
		return policy.Request{}, false
	}
	for _, r := range reqs {
		res := policy.Evaluate(r, d)
		if resourceBased {
			res = policy.EvaluateResource(r, d)
		}
		if res.Decision == policy.ExplicitDeny {
			return r, true
		}
	}
	return policy.Request{}, false
}

func shortPolicy(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

// trustsLambda reports whether a trust policy lets Lambda assume the role.
// mergedTrust is the learner's trust policy with Lambda let in: the
// statements that deny Lambda go, the lab's statement is added, the rest
// (other services, conditions of their own) stays. When that still does
// not trust Lambda, the lab's policy replaces it.
func mergedTrust(have, roleArn string) string {
	if u, err := url.PathUnescape(have); err == nil {
		have = u
	}
	var doc map[string]any
	if json.Unmarshal([]byte(have), &doc) != nil {
		return lambdaTrustPolicy
	}
	var stmts []any
	switch st := doc["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	}
	assume := []policy.Request{{Principal: policy.ServicePrincipal("lambda.amazonaws.com"), Action: "sts:AssumeRole", Resource: roleArn}}
	var kept []any
	for _, st := range stmts {
		m, ok := st.(map[string]any)
		if !ok {
			continue
		}
		if _, denied := statementDenies(m, true, assume...); denied {
			continue
		}
		// A statement meant for Lambda that does not let it in (a
		// condition Lambda never meets) is replaced by the lab's.
		if strings.Contains(fmt.Sprint(m["Principal"]), "lambda.amazonaws.com") && fmt.Sprint(m["Effect"]) == "Allow" {
			continue
		}
		kept = append(kept, st)
	}
	doc["Version"] = "2012-10-17"
	doc["Statement"] = append(kept, map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
	b, err := json.Marshal(doc)
	if err != nil || !trustsLambda(string(b), roleArn) {
		return lambdaTrustPolicy
	}
	return string(b)
}

func trustsLambda(doc, roleArn string) bool {
	d, err := policy.Parse(doc)
	if err != nil {
		return false
	}
	return policy.EvaluateResource(policy.Request{
		Principal: policy.ServicePrincipal("lambda.amazonaws.com"), Action: "sts:AssumeRole", Resource: roleArn,
	}, d).Allowed()
}

// samePolicy compares two identity policy documents by meaning (statement
// order, Sids, string-or-list and the order of actions and resources do not
// matter); it returns "" when they match, else what differs.
func samePolicy(have, want string) string {
	h, err := policy.Parse(have)
	if err != nil {
		return "the document does not parse: " + err.Error()
	}
	w, err := policy.Parse(want)
	if err != nil {
		return "want: " + err.Error()
	}
	hs, ws := canonStatements(h), canonStatements(w)
	if strings.Join(hs, "\n") == strings.Join(ws, "\n") {
		return ""
	}
	return "document differs from the lab's (bucket, table and topic ARNs)"
}

func canonStatements(d *policy.Document) []string {
	var out []string
	for _, s := range d.Statements {
		a := append([]string{}, s.Action...)
		for i := range a {
			a[i] = strings.ToLower(a[i])
		}
		res := append([]string{}, s.Resource...)
		sort.Strings(a)
		sort.Strings(res)
		var conds []string
		for _, c := range s.Conditions {
			v := append([]string{}, c.Values...)
			sort.Strings(v)
			conds = append(conds, c.Operator+"|"+strings.ToLower(c.Key)+"|"+strings.Join(v, ","))
		}
		sort.Strings(conds)
		out = append(out, fmt.Sprintf("%s %v %v %v %v %v", s.Effect, a, s.NotAction, res, s.NotResource, conds))
	}
	sort.Strings(out)
	return out
}

func roundDur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

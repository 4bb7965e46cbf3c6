package core

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/slab-lab/slab/policy"
)

// Authorization of role sessions. A role session (a function running as
// its execution role, or a grader's AssumeRole) may do only what the
// role's identity-based policies allow, as on AWS; the account root may do
// everything in its account. The router decides before the service runs,
// from the action and resource each protocol names: the X-Amz-Target or
// Action, and the table, queue, topic, log group, bucket or key the
// request addresses.

// authorize returns the service's AccessDenied for a role session whose
// role does not allow the request, nil otherwise.
func (h *handler) authorize(r *Request, proto string) *Error {
	p := r.Principal
	if p.Type != "assumed-role" {
		return nil
	}
	iam, ok := h.core.Hook(HookIAM).(RoleDecider)
	if !ok {
		return nil
	}
	action, resource := requestAction(r, proto)
	// GetCallerIdentity needs no permission, even under an explicit deny.
	if action == "" || action == "sts:GetCallerIdentity" {
		return nil
	}
	roleArn := p.RoleARN
	if roleArn == "" {
		roleArn = "arn:aws:iam::" + p.Account + ":role/" + p.Name
	}
	ctx := map[string][]string{
		"aws:PrincipalAccount": {p.Account},
		"aws:PrincipalArn":     {roleArn},
		"aws:RequestedRegion":  {r.Scope.Region},
		"aws:userid":           {p.ID},
	}
	docs := RolePolicies(h.core, iam, p.Account, roleArn)
	res := policy.Evaluate(policy.Request{Action: action, Resource: resource, Context: ctx}, docs...)
	if res.Allowed() {
		return nil
	}
	return accessDenied(r.Service, proto, p.ARN, action, resource, res.Decision == policy.ExplicitDeny)
}

// accessDenied words the refusal as each service does.
func accessDenied(service, proto, who, action, resource string, explicit bool) *Error {
	because := " because no identity-based policy allows the " + action + " action"
	if explicit {
		because = " with an explicit deny in an identity-based policy"
	}
	res := resource
	if service == "s3" {
		res = `"` + resource + `"`
	}
	msg := "User: " + who + " is not authorized to perform: " + action + " on resource: " + res + because
	switch {
	case service == "sns":
		return &Error{Code: "AuthorizationError", Status: 403, Message: msg}
	case service == "sqs":
		e := &Error{Code: "AccessDenied", Status: 403, Message: msg}
		if proto == "json" {
			e.QueryCode = "AccessDenied"
		}
		return e
	case proto == "json":
		return &Error{Code: "AccessDeniedException", Status: 400, Message: msg}
	case proto == "restjson":
		return &Error{Code: "AccessDeniedException", Status: 403, Message: msg}
	}
	return &Error{Code: "AccessDenied", Status: 403, Message: msg}
}

// actionFields are the request fields that name the resource acted on.
type actionFields struct {
	TableName     string
	QueueURL      string `json:"QueueUrl"`
	QueueName     string
	QueueOwner    string `json:"QueueOwnerAWSAccountId"`
	TopicArn      string
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
	RequestItems  map[string]json.RawMessage
	Name          string
	EventBusName  string
	RoleName      string
	PolicyArn     string
	Rule          string
}

// requestAction names the IAM action and resource of a request.
func requestAction(r *Request, proto string) (action, resource string) {
	sc := r.Scope
	var f actionFields
	var op string
	switch proto {
	case "json":
		t := r.HTTP.Header.Get("X-Amz-Target")
		op = t[strings.LastIndexByte(t, '.')+1:]
		_ = json.Unmarshal(r.Body, &f)
	case "query":
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return "", ""
		}
		for k, v := range r.HTTP.URL.Query() {
			if _, ok := form[k]; !ok {
				form[k] = v
			}
		}
		op = form.Get("Action")
		f.QueueURL, f.TopicArn = form.Get("QueueUrl"), form.Get("TopicArn")
		f.QueueName, f.QueueOwner = form.Get("QueueName"), form.Get("QueueOwnerAWSAccountId")
		f.RoleName, f.PolicyArn = form.Get("RoleName"), form.Get("PolicyArn")
		if f.PolicyArn == "" {
			f.PolicyArn = form.Get("PolicySourceArn")
		}
		if f.TopicArn == "" {
			f.TopicArn = form.Get("TargetArn")
		}
	case "restxml":
		return s3Action(r)
	case "restjson":
		return lambdaAction(r)
	}
	if op == "" {
		return "", ""
	}
	resource = "*"
	switch r.Service {
	case "dynamodb":
		table := f.TableName
		for t := range f.RequestItems {
			table = t
			break
		}
		if table != "" {
			resource = sc.ARN("dynamodb", "table/"+table)
		}
	case "sqs":
		if f.QueueURL != "" {
			if u, err := url.Parse(f.QueueURL); err == nil {
				parts := strings.Split(strings.Trim(u.Path, "/"), "/")
				if len(parts) == 2 {
					resource = "arn:aws:sqs:" + sc.Region + ":" + parts[0] + ":" + parts[1]
				}
			}
		} else if f.QueueName != "" {
			// GetQueueUrl and CreateQueue name the queue, not its URL;
			// AWS authorizes them on the queue's ARN all the same.
			owner := f.QueueOwner
			if owner == "" {
				owner = sc.Account
			}
			resource = "arn:aws:sqs:" + sc.Region + ":" + owner + ":" + f.QueueName
		}
	case "sns":
		if f.TopicArn != "" {
			resource = f.TopicArn
		}
	case "logs":
		if f.LogGroupName != "" {
			resource = sc.ARN("logs", "log-group:"+f.LogGroupName+":*")
			if f.LogStreamName != "" {
				resource = sc.ARN("logs", "log-group:"+f.LogGroupName+":log-stream:"+f.LogStreamName)
			}
		}
	case "iam":
		// A role's path is not in the request; roles of the lab have none.
		switch {
		case f.RoleName != "":
			resource = "arn:aws:iam::" + sc.Account + ":role/" + f.RoleName
		case f.PolicyArn != "":
			resource = f.PolicyArn
		}
	case "events":
		if f.Name == "" {
			f.Name = f.Rule
		}
		if f.Name != "" {
			resource = sc.ARN("events", "rule/"+f.Name)
		}
	}
	return r.Service + ":" + op, resource
}

// s3Action maps the common object and bucket calls to their actions.
func s3Action(r *Request) (string, string) {
	hr := r.HTTP
	bucket, key := "", ""
	host := strings.ToLower(hr.Host)
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	path := strings.TrimPrefix(hr.URL.Path, "/")
	if b, ok := strings.CutSuffix(host, ".localhost"); ok && b != "" {
		bucket, key = b, path
	} else {
		bucket, key, _ = strings.Cut(path, "/")
	}
	if bucket == "" {
		return "s3:ListAllMyBuckets", "*"
	}
	q := hr.URL.Query()
	if key == "" {
		switch {
		case hr.Method == "GET" && (len(q) == 0 || q.Has("list-type") || q.Has("prefix")):
			return "s3:ListBucket", "arn:aws:s3:::" + bucket
		case hr.Method == "GET" && q.Has("versions"):
			return "s3:ListBucketVersions", "arn:aws:s3:::" + bucket
		case hr.Method == "HEAD":
			return "s3:ListBucket", "arn:aws:s3:::" + bucket
		case hr.Method == "PUT" && len(q) == 0:
			return "s3:CreateBucket", "arn:aws:s3:::" + bucket
		case hr.Method == "DELETE" && len(q) == 0:
			return "s3:DeleteBucket", "arn:aws:s3:::" + bucket
		case hr.Method == "POST" && q.Has("delete"):
			return "s3:DeleteObject", "arn:aws:s3:::" + bucket + "/*"
		}
		for _, sub := range []string{"versioning", "notification", "tagging", "location", "policy"} {
			if q.Has(sub) {
				verb := "Get"
				if hr.Method == "PUT" {
					verb = "Put"
				}
				name := map[string]string{"versioning": "BucketVersioning", "notification": "BucketNotification", "tagging": "BucketTagging", "location": "BucketLocation", "policy": "BucketPolicy"}[sub]
				return "s3:" + verb + name, "arn:aws:s3:::" + bucket
			}
		}
		return "", ""
	}
	obj := "arn:aws:s3:::" + bucket + "/" + key
	switch hr.Method {
	case "GET", "HEAD":
		if q.Has("tagging") {
			return "s3:GetObjectTagging", obj
		}
		return "s3:GetObject", obj
	case "PUT", "POST":
		if q.Has("tagging") {
			return "s3:PutObjectTagging", obj
		}
		return "s3:PutObject", obj
	case "DELETE":
		return "s3:DeleteObject", obj
	}
	return "", ""
}

// lambdaAction covers Invoke and the function calls by name; the rest are
// decided against "*".
func lambdaAction(r *Request) (string, string) {
	segs := strings.Split(strings.Trim(r.HTTP.URL.EscapedPath(), "/"), "/")
	if len(segs) < 2 {
		return "", ""
	}
	m := r.HTTP.Method
	if segs[1] == "functions" {
		if len(segs) == 2 {
			if m == "POST" {
				return "lambda:CreateFunction", "*"
			}
			return "lambda:ListFunctions", "*"
		}
		name, _ := url.PathUnescape(segs[2])
		fn := name
		if !strings.HasPrefix(fn, "arn:") {
			fn = r.Scope.ARN("lambda", "function:"+name)
		}
		switch {
		case len(segs) == 4 && segs[3] == "invocations":
			return "lambda:InvokeFunction", fn
		case len(segs) == 3 && m == "GET":
			return "lambda:GetFunction", fn
		case len(segs) == 3 && m == "DELETE":
			return "lambda:DeleteFunction", fn
		}
	}
	return "", ""
}

// CrossAccountAllows is the resource side of AWS's cross-account rule: a
// principal of one account reaches a resource of another only when the
// resource's policy (doc, "" for none) also allows it. Within one account
// it is true: there the identity policy suffices.
func CrossAccountAllows(doc, principalAccount, principalArn, action, resourceArn string) bool {
	parts := strings.SplitN(resourceArn, ":", 6)
	if len(parts) == 6 && (parts[4] == "" || parts[4] == principalAccount) {
		return true
	}
	if doc == "" {
		return false
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return false
	}
	return policy.EvaluateResource(policy.Request{
		Principal: policy.Principal{Type: "AWS", ID: principalArn}, Action: action, Resource: resourceArn,
		Context: map[string][]string{"aws:PrincipalAccount": {principalAccount}, "aws:PrincipalArn": {principalArn}},
	}, d).Allowed()
}

// RolePolicies copies a role's identity policies in a read transaction of
// its own and parses them after it, for the caller to evaluate.
func RolePolicies(c *Core, iam RoleDecider, account, roleArn string) []*policy.Document {
	var docs func() []*policy.Document
	_ = c.Store.View(func(tx *Tx) error {
		docs, _ = iam.RoleDocuments(tx, account, roleArn)
		return nil
	})
	if docs == nil {
		return nil
	}
	return docs()
}

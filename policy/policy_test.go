package policy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const queueArn = "arn:aws:sqs:us-east-1:111122223333:lambda-integration-queue"
const topicArn = "arn:aws:sns:us-east-1:111122223333:lambda-integration-notifications"

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want func(t *testing.T, d *Document)
	}{
		{"statement object, strings", `{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
			func(t *testing.T, d *Document) {
				if len(d.Statements) != 1 || d.Statements[0].Sid != "One" || d.Statements[0].Action[0] != "s3:GetObject" || !d.Statements[0].HasResource {
					t.Fatalf("%+v", d.Statements[0])
				}
			}},
		{"statement list, lists", `{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},{"Effect":"Allow","Action":["sqs:*"],"Resource":["*"]}]}`,
			func(t *testing.T, d *Document) {
				s := d.Statements
				if len(s) != 2 || d.ID != "x" || !s[0].HasNotAction || len(s[0].NotAction) != 2 || !s[0].HasNotResource || s[1].Index != 1 || s[0].Effect != Deny {
					t.Fatalf("%+v %+v", s[0], s[1])
				}
			}},
		{"principal star", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`,
			func(t *testing.T, d *Document) {
				if !d.Statements[0].Principal.Any {
					t.Fatal("want Any")
				}
			}},
		{"principal maps", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::210987654321:root"],"Service":"sns.amazonaws.com","Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			func(t *testing.T, d *Document) {
				p := d.Statements[0].Principal
				if len(p.AWS) != 2 || p.Service[0] != "sns.amazonaws.com" || p.Federated[0] != "cognito-identity.amazonaws.com" {
					t.Fatalf("%+v", p)
				}
			}},
		{"not principal", `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:role/admin"},"Action":"*","Resource":"*"}]}`,
			func(t *testing.T, d *Document) {
				if d.Statements[0].NotPrincipal == nil || d.Statements[0].Principal != nil {
					t.Fatal("NotPrincipal not parsed")
				}
			}},
		{"condition values of every JSON type", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10},"StringEquals":{"aws:SourceAccount":["1","2"]}}}]}`,
			func(t *testing.T, d *Document) {
				cs := d.Statements[0].Conditions
				if len(cs) != 3 || cs[0].Base != "Bool" || cs[0].Values[0] != "false" || cs[1].Values[0] != "10" || len(cs[2].Values) != 2 {
					t.Fatalf("%+v", cs)
				}
			}},
		{"qualified operator", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":"env*"}}}]}`,
			func(t *testing.T, d *Document) {
				c := d.Statements[0].Conditions[0]
				if c.Base != "StringLike" || c.Set != "ForAllValues" || !c.IfExists || c.Key != "aws:TagKeys" {
					t.Fatalf("%+v", c)
				}
			}},
		{"URL-encoded as IAM returns it", url.PathEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/a+b"}]}`),
			func(t *testing.T, d *Document) {
				if d.Statements[0].Resource[0] != "arn:aws:logs:*:*:log-group:/aws/lambda/a+b" {
					t.Fatalf("%q", d.Statements[0].Resource[0])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, d)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ doc, msg string }{
		{`{"Statement": [`, MsgInvalidJSON},
		{`not json`, MsgInvalidJSON},
		{`{"Version":"2012-10-17"}`, MsgSyntax},
		{`{"Version":"2019-01-01","Statement":[]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, MsgSyntax},
		{`{"Statement":[{"Action":"*","Resource":"*"}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Principal":"me","Action":"*"}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"*"}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringSortOf":{"a":"b"}}}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":{"b":"c"}}}}]}`, MsgSyntax},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}]}`, MsgSyntax},
		{`{"Statement":"Allow"}`, MsgSyntax},
		{`{"Statement":["Allow"]}`, MsgSyntax},
	}
	for _, tt := range tests {
		_, err := Parse(tt.doc)
		var pe *Error
		if !errors.As(err, &pe) || pe.Msg != tt.msg {
			t.Errorf("Parse(%s) = %v, want %q", tt.doc, err, tt.msg)
		}
	}
}

func TestStatementPositions(t *testing.T) {
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"s3:DeleteBucket\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
	d := MustParse(doc)
	s0, s1 := d.Statements[0], d.Statements[1]
	if s0.Start != (Position{4, 5}) || s0.End.Line != 4 {
		t.Errorf("statement 0 at %+v-%+v", s0.Start, s0.End)
	}
	if s1.Start != (Position{5, 5}) || s1.End != (Position{9, 6}) {
		t.Errorf("statement 1 at %+v-%+v", s1.Start, s1.End)
	}
}

// The queue policy of the lab in the shapes the console, the CLI and
// learners produce: each must let SNS deliver to the queue for the topic
// and nothing else.
func TestSNSToSQSQueuePolicyShapes(t *testing.T) {
	policies := map[string]string{
		"guide":                               `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + queueArn + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + topicArn + `"}}}]}`,
		"console":                             `{"Version":"2012-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"topic-subscription-` + topicArn + `","Effect":"Allow","Principal":{"AWS":"*"},"Action":"SQS:SendMessage","Resource":"` + queueArn + `","Condition":{"ArnLike":{"aws:SourceArn":"` + topicArn + `"}}}]}`,
		"service list, SQS:*, upper-case key": `{"Statement":{"Effect":"Allow","Principal":{"Service":["sns.amazonaws.com"]},"Action":"SQS:*","Resource":"arn:aws:sqs:us-east-1:111122223333:*","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:*:111122223333:lambda-integration-*"}}}}`,
		"StringEquals source account":         `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["sqs:SendMessage"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceArn":"` + topicArn + `"}}}]}`,
	}
	sns := ServicePrincipal("sns.amazonaws.com")
	for name, doc := range policies {
		t.Run(name, func(t *testing.T) {
			d := MustParse(doc)
			if err := d.ValidateResource(); err != nil {
				t.Fatal(err)
			}
			ok := EvaluateResource(Request{Principal: sns, Action: "sqs:SendMessage", Resource: queueArn, Context: map[string][]string{"aws:SourceArn": {topicArn}}}, d)
			if !ok.Allowed() || len(ok.Matched) != 1 {
				t.Fatalf("delivery from the topic: %v", ok.Decision)
			}
			other := EvaluateResource(Request{Principal: sns, Action: "sqs:SendMessage", Resource: queueArn, Context: map[string][]string{"aws:sourcearn": {"arn:aws:sns:us-east-1:999999999999:evil"}}}, d)
			if other.Allowed() {
				t.Fatal("delivery from another topic must not be allowed")
			}
			none := EvaluateResource(Request{Principal: sns, Action: "sqs:SendMessage", Resource: queueArn}, d)
			if none.Allowed() || len(none.MissingContext) != 1 {
				t.Fatalf("no source ARN: %v missing %v", none.Decision, none.MissingContext)
			}
		})
	}
}

func TestEvaluateTable(t *testing.T) {
	fullSQS := `{"Version":"2012-10-17","Statement":[{"Action":["sqs:*"],"Effect":"Allow","Resource":"*"}]}`
	tests := []struct {
		name     string
		docs     []string
		req      Request
		resource bool
		want     Decision
	}{
		{"SQS:* matches sqs:SendMessage", []string{`{"Statement":{"Effect":"Allow","Action":"SQS:*","Resource":"*"}}`}, Request{Action: "sqs:SendMessage", Resource: queueArn}, false, Allowed},
		{"action names are case-insensitive", []string{`{"Statement":{"Effect":"Allow","Action":"dynamodb:putitem","Resource":"*"}}`}, Request{Action: "DynamoDB:PutItem", Resource: "*"}, false, Allowed},
		{"? wildcard", []string{`{"Statement":{"Effect":"Allow","Action":"s3:?etObject","Resource":"*"}}`}, Request{Action: "s3:GetObject", Resource: "*"}, false, Allowed},
		{"other service not matched", []string{fullSQS}, Request{Action: "sns:Publish", Resource: "*"}, false, ImplicitDeny},
		{"no policies", nil, Request{Action: "sqs:SendMessage", Resource: queueArn}, false, ImplicitDeny},
		{"deny overrides allow across documents", []string{fullSQS, `{"Statement":{"Effect":"Deny","Action":"sqs:DeleteQueue","Resource":"*"}}`}, Request{Action: "sqs:DeleteQueue", Resource: queueArn}, false, ExplicitDeny},
		{"deny elsewhere leaves allow", []string{fullSQS, `{"Statement":{"Effect":"Deny","Action":"sqs:DeleteQueue","Resource":"*"}}`}, Request{Action: "sqs:ReceiveMessage", Resource: queueArn}, false, Allowed},
		{"NotAction allow", []string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, Request{Action: "s3:PutObject", Resource: "*"}, false, Allowed},
		{"NotAction excludes", []string{`{"Statement":{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}}`}, Request{Action: "iam:CreateRole", Resource: "*"}, false, ImplicitDeny},
		{"NotResource", []string{`{"Statement":{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::keep/*"}}`}, Request{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::other/x"}, false, ExplicitDeny},
		{"resource wildcard in name", []string{`{"Statement":{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:*:*:table/lambda-integration-*"}}`}, Request{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/lambda-integration-data"}, false, Allowed},
		{"resource wildcard stays in its segment", []string{`{"Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:*"}}`}, Request{Action: "sqs:SendMessage", Resource: queueArn}, false, ImplicitDeny},
		{"resources are case-sensitive", []string{`{"Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:111122223333:Lambda-Integration-Queue"}}`}, Request{Action: "sqs:SendMessage", Resource: queueArn}, false, ImplicitDeny},
		{"identity evaluation ignores principal", []string{`{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sqs:*","Resource":"*"}}`}, Request{Principal: ServicePrincipal("sns.amazonaws.com"), Action: "sqs:SendMessage", Resource: queueArn}, false, Allowed},
		{"resource evaluation matches service principal", []string{`{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sqs:*","Resource":"*"}}`}, Request{Principal: ServicePrincipal("sns.amazonaws.com"), Action: "sqs:SendMessage", Resource: queueArn}, true, ImplicitDeny},
		{"resource statement without principal never applies", []string{`{"Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}`}, Request{Principal: ServicePrincipal("sns.amazonaws.com"), Action: "sqs:SendMessage", Resource: queueArn}, true, ImplicitDeny},
		{"account id principal admits its roles", []string{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}}`}, Request{Principal: Principal{Type: "AWS", ID: "arn:aws:iam::111122223333:role/grader"}, Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/x"}, true, Allowed},
		{"root principal admits account", []string{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}`}, Request{Principal: AccountPrincipal("111122223333"), Action: "sts:AssumeRole", Resource: "*"}, true, Allowed},
		{"root principal refuses other account", []string{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}`}, Request{Principal: AccountPrincipal("999999999999"), Action: "sts:AssumeRole", Resource: "*"}, true, ImplicitDeny},
		{"role principal admits its sessions", []string{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/grader"},"Action":"sqs:*","Resource":"*"}}`}, Request{Principal: Principal{Type: "AWS", ID: "arn:aws:sts::111122223333:assumed-role/grader/s1"}, Action: "sqs:ReceiveMessage", Resource: queueArn}, true, Allowed},
		{"NotPrincipal deny spares the named", []string{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*","Resource":"*"}]}`}, Request{Principal: AccountPrincipal("111122223333"), Action: "sqs:SendMessage", Resource: queueArn}, true, Allowed},
		{"NotPrincipal deny hits others", []string{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*","Resource":"*"}]}`}, Request{Principal: AccountPrincipal("999999999999"), Action: "sqs:SendMessage", Resource: queueArn}, true, ExplicitDeny},
		{"policy variable in resource", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/ana/notes", Context: map[string][]string{"aws:username": {"ana"}}}, false, Allowed},
		{"policy variable without value", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/ana/notes"}, false, ImplicitDeny},
		{"variables are literal in 2008 documents", []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/${aws:username}/x", Context: map[string][]string{"aws:username": {"ana"}}}, false, Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var docs []*Document
			for _, s := range tt.docs {
				docs = append(docs, MustParse(s))
			}
			var got Result
			if tt.resource {
				got = EvaluateResource(tt.req, docs...)
			} else {
				got = Evaluate(tt.req, docs...)
			}
			if got.Decision != tt.want {
				t.Fatalf("got %v, want %v", got.Decision, tt.want)
			}
			if (got.Decision == ImplicitDeny) != (len(got.Matched) == 0) {
				t.Fatalf("matched statements %v do not fit decision %v", got.Matched, got.Decision)
			}
		})
	}
}

func TestExplicitDenyEvidence(t *testing.T) {
	allow := MustParse(`{"Statement":[{"Sid":"All","Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)
	deny := MustParse(`{"Statement":[{"Sid":"Keep","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":["sqs:Delete*"],"Resource":"*"}]}`)
	r := Evaluate(Request{Action: "sqs:DeleteMessage", Resource: queueArn}, allow, deny)
	if r.Decision != ExplicitDeny || len(r.Matched) != 1 {
		t.Fatalf("%+v", r)
	}
	m := r.Matched[0]
	if m.Doc != 1 || m.Statement.Sid != "NoDelete" || m.Statement.Index != 1 || m.Statement.Effect != Deny {
		t.Fatalf("evidence %+v %+v", m, m.Statement)
	}
	if r.Decision.String() != "explicitDeny" || Allowed.String() != "allowed" || ImplicitDeny.String() != "implicitDeny" {
		t.Fatal("decision names must be IAM's")
	}
}

func TestConditionOperators(t *testing.T) {
	type ctx = map[string][]string
	tests := []struct {
		name string
		cond string // the Condition element
		ctx  ctx
		want bool
	}{
		{"StringEquals", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, ctx{"aws:SourceAccount": {"111122223333"}}, true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"s3:prefix":"Home"}}`, ctx{"s3:prefix": {"home"}}, false},
		{"keys are case-insensitive", `{"StringEquals":{"AWS:SourceAccount":"1"}}`, ctx{"aws:sourceaccount": {"1"}}, true},
		{"values OR within a key", `{"StringEquals":{"k":["a","b","c"]}}`, ctx{"k": {"b"}}, true},
		{"keys AND within an operator", `{"StringEquals":{"k1":"a","k2":"b"}}`, ctx{"k1": {"a"}, "k2": {"x"}}, false},
		{"operators AND", `{"StringEquals":{"k1":"a"},"StringLike":{"k2":"b*"}}`, ctx{"k1": {"a"}, "k2": {"bcd"}}, true},
		{"operators AND, one fails", `{"StringEquals":{"k1":"a"},"StringLike":{"k2":"b*"}}`, ctx{"k1": {"a"}, "k2": {"cd"}}, false},
		{"StringNotEquals", `{"StringNotEquals":{"k":["a","b"]}}`, ctx{"k": {"c"}}, true},
		{"StringNotEquals hit", `{"StringNotEquals":{"k":["a","b"]}}`, ctx{"k": {"b"}}, false},
		{"StringNotEquals absent key holds", `{"StringNotEquals":{"k":"a"}}`, nil, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"k":"ABC"}}`, ctx{"k": {"abc"}}, true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"k":"ABC"}}`, ctx{"k": {"abc"}}, false},
		{"StringLike", `{"StringLike":{"k":"lambda-?ntegration-*"}}`, ctx{"k": {"lambda-integration-data"}}, true},
		{"StringNotLike", `{"StringNotLike":{"k":"prod-*"}}`, ctx{"k": {"dev-1"}}, true},
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"` + topicArn + `"}}`, ctx{"aws:SourceArn": {topicArn}}, true},
		{"ArnEquals other", `{"ArnEquals":{"aws:SourceArn":"` + topicArn + `"}}`, ctx{"aws:SourceArn": {topicArn + "-2"}}, false},
		{"ArnLike", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::lambda-integration-*"}}`, ctx{"aws:SourceArn": {"arn:aws:s3:::lambda-integration-111122223333-abc"}}, true},
		{"ArnLike segment-wise", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*"}}`, ctx{"aws:SourceArn": {topicArn}}, false},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"` + topicArn + `"}}`, ctx{"aws:SourceArn": {topicArn}}, false},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:evil-*"}}`, ctx{"aws:SourceArn": {topicArn}}, true},
		{"Bool", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{"aws:SecureTransport": {"false"}}, true},
		{"Bool JSON boolean", `{"Bool":{"aws:SecureTransport":true}}`, ctx{"aws:SecureTransport": {"false"}}, false},
		{"NumericEquals", `{"NumericEquals":{"n":"10"}}`, ctx{"n": {"10.0"}}, true},
		{"NumericLessThan", `{"NumericLessThan":{"n":10}}`, ctx{"n": {"9"}}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"n":10}}`, ctx{"n": {"10"}}, false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"n":10}}`, ctx{"n": {"10"}}, true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"n":10}}`, ctx{"n": {"11"}}, true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"n":10}}`, ctx{"n": {"9"}}, false},
		{"Numeric not a number", `{"NumericEquals":{"n":10}}`, ctx{"n": {"ten"}}, false},
		{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}`, ctx{"aws:CurrentTime": {"2026-11-27T12:00:00Z"}}, true},
		{"IpAddress", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:SourceIp": {"10.1.2.3"}}, true},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:SourceIp": {"10.1.2.3"}}, false},
		{"IfExists with the key absent", `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, nil, true},
		{"IfExists with the key present", `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, ctx{"aws:SourceAccount": {"9"}}, false},
		{"ArnLikeIfExists absent", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, nil, true},
		{"absent key fails a positive operator", `{"StringEquals":{"aws:SourceAccount":"1"}}`, nil, false},
		{"Null true with key absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, true},
		{"Null true with key present", `{"Null":{"aws:TokenIssueTime":"true"}}`, ctx{"aws:TokenIssueTime": {"x"}}, false},
		{"Null false with key present", `{"Null":{"aws:TokenIssueTime":false}}`, ctx{"aws:TokenIssueTime": {"x"}}, true},
		{"ForAnyValue", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"owner", "team"}}, true},
		{"ForAnyValue none", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"owner"}}, false},
		{"ForAnyValue absent", `{"ForAnyValue:StringEquals":{"aws:TagKeys":"env"}}`, nil, false},
		{"ForAllValues", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAllValues one outside", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"env", "owner"}}, false},
		{"ForAllValues absent is vacuously true", `{"ForAllValues:StringEquals":{"aws:TagKeys":"env"}}`, nil, true},
		{"ForAllValues negated", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, ctx{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotLike":{"aws:TagKeys":["env*"]}}`, ctx{"aws:TagKeys": {"env1", "env2"}}, false},
		{"lower-case operator accepted", `{"stringequals":{"k":"a"}}`, ctx{"k": {"a"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + tt.cond + `}}`)
			if err != nil {
				t.Fatal(err)
			}
			got := Evaluate(Request{Action: "s3:GetObject", Resource: "*", Context: tt.ctx}, d).Allowed()
			if got != tt.want {
				t.Fatalf("condition %s with %v: got %v, want %v", tt.cond, tt.ctx, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if err := MustParse(trust).ValidateTrust(); err != nil {
		t.Fatal(err)
	}
	if err := MustParse(trust).ValidateIdentity(); err == nil || err.(*Error).Msg != MsgPrincipalInIdentity {
		t.Fatalf("trust policy as identity policy: %v", err)
	}
	tests := []struct{ doc, msg string }{
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}`, MsgResourceInTrust},
		{`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, MsgNoPrincipalInTrust},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}]}`, MsgNoActions},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"lamda.amazonaws.con"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "SERVICE":"lamda.amazonaws.con"`},
		{`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "AWS":"bob"`},
	}
	for _, tt := range tests {
		err := MustParse(tt.doc).ValidateTrust()
		var pe *Error
		if !errors.As(err, &pe) || pe.Msg != tt.msg {
			t.Errorf("ValidateTrust(%s) = %v, want %q", tt.doc, err, tt.msg)
		}
	}
	if err := MustParse(`{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`).ValidateIdentity(); err == nil || !strings.Contains(err.Error(), MsgNoResources) {
		t.Fatalf("identity policy without resources: %v", err)
	}
	if err := MustParse(`{"Statement":[{"Effect":"Allow","Resource":"*"}]}`).ValidateIdentity(); err == nil || !strings.Contains(err.Error(), MsgNoActions) {
		t.Fatalf("identity policy without actions: %v", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"*a*b*", "xxaxxbxx", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"**", "x", true}, {"a*b*c", "abcabc", true}, {"", "a", false}, {"a*", "b*", false},
	}
	for _, tt := range tests {
		if got := Glob(tt.p, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"SQS:*","Resource":"*"}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["1"]},"NotAction":"x","NotResource":["a"],"Condition":{"ForAnyValue:StringLikeIfExists":{"k":["*",1,true]}}}]}`)
	f.Add(url.PathEscape(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::${aws:username}/*"}]}`))
	f.Add(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"k":"true"},"NumericLessThan":{"n":"1e400"},"DateGreaterThan":{"d":"0"},"IpAddress":{"ip":"::1/128"}}}]}`)
	f.Add(`%7B%22Statement%22%3A%5B%5D%7D`)
	f.Add(`{"Statement":[`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse(doc)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || (pe.Msg != MsgInvalidJSON && pe.Msg != MsgSyntax) {
				t.Fatalf("error of unexpected shape: %v", err)
			}
			return
		}
		_ = d.ValidateIdentity()
		_ = d.ValidateTrust()
		_ = d.ValidateResource()
		ctx := map[string][]string{"k": {"1", "a"}, "aws:username": {"u"}, "n": {"5"}, "d": {"2026-01-01T00:00:00Z"}, "ip": {"::1"}}
		r := Evaluate(Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx}, d)
		if (r.Decision == ImplicitDeny) != (len(r.Matched) == 0) {
			t.Fatalf("decision %v with %d matches", r.Decision, len(r.Matched))
		}
		_ = EvaluateResource(Request{Principal: AccountPrincipal("111122223333"), Action: "sts:AssumeRole", Resource: "*", Context: ctx}, d)
		for _, st := range d.Statements {
			if st.Start.Line < 1 || st.End.Line < st.Start.Line {
				t.Fatalf("positions %+v %+v", st.Start, st.End)
			}
		}
	})
}

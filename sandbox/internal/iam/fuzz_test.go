package iam

import (
	"encoding/xml"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// FuzzQuery throws arbitrary form bodies at the handler: it must never
// panic or hang, and must answer 200 or a 4xx Query-protocol error, always
// as well-formed XML.
func FuzzQuery(f *testing.F) {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	seeds := []url.Values{
		{"Action": {"CreateRole"}, "RoleName": {"r"}, "AssumeRolePolicyDocument": {trust}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}},
		{"Action": {"CreateRole"}, "RoleName": {"bad name"}, "Path": {"x"}, "AssumeRolePolicyDocument": {"{"}},
		{"Action": {"GetRole"}, "RoleName": {"r"}},
		{"Action": {"ListRoles"}, "MaxItems": {"1"}, "Marker": {"cg"}, "PathPrefix": {"/"}},
		{"Action": {"PutRolePolicy"}, "RoleName": {"r"}, "PolicyName": {"p"}, "PolicyDocument": {`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`}},
		{"Action": {"AttachRolePolicy"}, "RoleName": {"r"}, "PolicyArn": {"arn:aws:iam::aws:policy/AmazonSQSFullAccess"}},
		{"Action": {"SimulatePrincipalPolicy"}, "PolicySourceArn": {"arn:aws:iam::000000000000:role/r"}, "ActionNames.member.1": {"sqs:*"},
			"ResourceArns.member.1": {"*"}, "ContextEntries.member.1.ContextKeyName": {"aws:SourceArn"}, "ContextEntries.member.1.ContextKeyValues.member.1": {"x"},
			"PolicyInputList.member.1": {`{"Statement":[]}`}, "MaxItems": {"1"}},
		{"Action": {"CreateInstanceProfile"}, "InstanceProfileName": {"ip"}},
		{"Action": {"AddRoleToInstanceProfile"}, "InstanceProfileName": {"ip"}, "RoleName": {"r"}},
		{"Action": {"DeleteRole"}, "RoleName": {"r"}},
		{"Action": {"UntagRole"}, "RoleName": {"r"}, "TagKeys.member.1": {"k"}},
		{"Action": {"ListPolicies"}, "Scope": {"AWS"}, "OnlyAttached": {"true"}},
		{"Action": {"GetPolicyVersion"}, "PolicyArn": {"arn:aws:iam::aws:policy/AmazonS3FullAccess"}, "VersionId": {"v2"}},
	}
	for _, v := range seeds {
		f.Add(v.Encode())
	}
	f.Add("Action=GetRole&RoleName=%zz")
	f.Add("")
	f.Add("Action=Nope")

	c := core.New()
	s := New(c)
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		hr := httptest.NewRequest("POST", "/", strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := &core.Request{W: rec, HTTP: hr, Body: []byte(body), Scope: core.Scope{Account: core.DefaultAccount, Region: "us-east-1"},
			Service: "iam", RequestID: "fuzz", Core: c}
		s.Serve(r)
		if rec.Code != 200 && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		var doc struct{ XMLName xml.Name }
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("response to %q is not XML: %v\n%s", body, err, rec.Body.String())
		}
		want := "ErrorResponse"
		if rec.Code == 200 {
			want = r.Operation + "Response"
		}
		if doc.XMLName.Local != want || doc.XMLName.Space != xmlns {
			t.Fatalf("root %v for status %d", doc.XMLName, rec.Code)
		}
	})
}

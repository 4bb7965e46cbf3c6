// Package sts emulates the slice of AWS STS the lab and its tools use:
// GetCallerIdentity (the identity behind every target) and AssumeRole
// (graders reaching student accounts).
package sts

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// Service is the STS emulator.
type Service struct {
	c        *core.Core
	sessions *core.Table[Session]
}

// Session is a temporary credential issued by AssumeRole; its access key
// maps to the account of the assumed role.
type Session struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Account         string    `json:"account"`
	RoleArn         string    `json:"role_arn"`
	RoleID          string    `json:"role_id,omitempty"`
	SessionName     string    `json:"session_name"`
	Expires         time.Time `json:"expires"`
}

// Principal is the assumed-role session the credentials authenticate.
func (sess Session) Principal() core.Principal {
	role := sess.RoleArn[strings.LastIndex(sess.RoleArn, "/")+1:]
	return core.Principal{
		Account: sess.Account, Type: "assumed-role", Name: role, Session: sess.SessionName,
		ID: sess.RoleID + ":" + sess.SessionName, RoleARN: sess.RoleArn,
		ARN: "arn:aws:sts::" + sess.Account + ":assumed-role/" + role + "/" + sess.SessionName,
	}
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	s := &Service{c: c, sessions: core.Register[Session](c.Store, "sts.sessions")}
	c.SetHook(core.HookSessions, core.SessionLookup(s.Session))
	return s
}

// Name implements core.Service.
func (s *Service) Name() string { return "sts" }

// Session resolves a temporary access key issued by AssumeRole, for the
// router (core.HookSessions); an expired one is returned too, so that the
// caller hears ExpiredToken rather than an unknown key.
func (s *Service) Session(accessKey string) (core.Credential, bool) {
	var sess Session
	var found bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		sess, found = s.sessions.Get(tx, accessKey)
		return nil
	})
	if !found || sess.SecretAccessKey == "" {
		return core.Credential{}, false
	}
	return core.Credential{Secret: sess.SecretAccessKey, SessionToken: sess.SessionToken, Expires: sess.Expires, Principal: sess.Principal()}, true
}

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) {
	form, err := r.Form()
	if err != nil {
		core.WriteQueryError(r, xmlns, err)
		return
	}
	r.Operation = form.Get("Action")
	switch r.Operation {
	case "GetCallerIdentity":
		s.getCallerIdentity(r)
	case "AssumeRole":
		s.assumeRole(r, form.Get("RoleArn"), form.Get("RoleSessionName"), form.Get("ExternalId"))
	default:
		core.WriteQueryError(r, xmlns, core.Errorf("InvalidAction", "Could not find operation %s for version 2011-06-15", r.Operation))
	}
}

type callerIdentity struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func (s *Service) getCallerIdentity(r *core.Request) {
	p := r.Principal
	core.WriteQuery(r, xmlns, callerIdentity{Arn: p.ARN, UserID: p.ID, Account: p.Account})
}

type assumeRoleResult struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	XMLName xml.Name
}

func (s *Service) assumeRole(r *core.Request, roleArn, sessionName, externalID string) {
	parts := strings.SplitN(roleArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") || len(parts[4]) != 12 {
		core.WriteQueryError(r, xmlns, core.Errorf("ValidationError", "%s is invalid", roleArn))
		return
	}
	if sessionName == "" {
		core.WriteQueryError(r, xmlns, core.Errorf("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))
		return
	}
	// Whether the role exists and trusts the caller is IAM's business; a
	// hook lets IAM veto (AccessDenied) so grading tests see denied roles.
	// The hook reads the trust policy in a transaction and returns the
	// check, which evaluates it after.
	if check, ok := s.c.Hook("iam.assume-check").(func(tx *core.Tx, caller core.Principal, roleArn string, ctx map[string][]string) func() error); ok {
		ctx := map[string][]string{
			"aws:PrincipalAccount": {r.Principal.Account},
			"aws:PrincipalArn":     {r.Principal.ARN},
			"aws:PrincipalType":    {principalType(r.Principal)},
		}
		if externalID != "" {
			ctx["sts:ExternalId"] = []string{externalID}
		}
		if r.Principal.Type == "assumed-role" {
			ctx["aws:PrincipalArn"] = []string{"arn:aws:iam::" + r.Principal.Account + ":role/" + r.Principal.Name}
		}
		var vet func() error
		_ = s.c.Store.View(func(tx *core.Tx) error { vet = check(tx, r.Principal, roleArn, ctx); return nil })
		if err := vet(); err != nil {
			core.WriteQueryError(r, xmlns, err)
			return
		}
	}
	roleID := "AROA" + strings.ToUpper(core.RandomHex(8))
	if iam, ok := s.c.Hook(core.HookIAM).(core.IAMView); ok {
		_ = s.c.Store.View(func(tx *core.Tx) error {
			if info, found := iam.RoleByARN(tx, parts[4], roleArn); found && info.RoleID != "" {
				roleID = info.RoleID
			}
			return nil
		})
	}
	sess := Session{
		AccessKeyID: "ASIA" + strings.ToUpper(core.RandomHex(8)), SecretAccessKey: core.RandomHex(20), SessionToken: core.RandomHex(32),
		Account: parts[4], RoleArn: roleArn, RoleID: roleID, SessionName: sessionName, Expires: s.c.Now().Add(time.Hour),
	}
	if err := s.c.Store.Update(func(tx *core.Tx) error {
		s.sessions.Put(tx, sess.AccessKeyID, sess)
		return nil
	}); err != nil {
		core.WriteQueryError(r, xmlns, err)
		return
	}
	var res assumeRoleResult
	res.Credentials.AccessKeyID = sess.AccessKeyID
	res.Credentials.SecretAccessKey = sess.SecretAccessKey
	res.Credentials.SessionToken = sess.SessionToken
	res.Credentials.Expiration = sess.Expires.UTC().Format(time.RFC3339)
	p := sess.Principal()
	res.AssumedRoleUser.AssumedRoleID = p.ID
	res.AssumedRoleUser.Arn = p.ARN
	core.WriteQuery(r, xmlns, res)
}

// principalType is aws:PrincipalType: Account, User or AssumedRole.
func principalType(p core.Principal) string {
	switch p.Type {
	case "user":
		return "User"
	case "assumed-role":
		return "AssumedRole"
	}
	return "Account"
}

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
	AccessKeyID string    `json:"access_key_id"`
	Account     string    `json:"account"`
	RoleArn     string    `json:"role_arn"`
	SessionName string    `json:"session_name"`
	Expires     time.Time `json:"expires"`
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	s := &Service{c: c, sessions: core.Register[Session](c.Store, "sts.sessions")}
	c.SetHook("sts.session-account", s.SessionAccount)
	return s
}

// Name implements core.Service.
func (s *Service) Name() string { return "sts" }

// SessionAccount returns the account of a temporary access key issued by
// AssumeRole, for the router's account lookup.
func (s *Service) SessionAccount(accessKey string) (string, bool) {
	if !strings.HasPrefix(accessKey, "ASIA") {
		return "", false
	}
	var acct string
	var ok bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		sess, found := s.sessions.Get(tx, accessKey)
		if found && s.c.Now().Before(sess.Expires) {
			acct, ok = sess.Account, true
		}
		return nil
	})
	return acct, ok
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
		s.assumeRole(r, form.Get("RoleArn"), form.Get("RoleSessionName"))
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
	arn := "arn:aws:iam::" + r.Scope.Account + ":root"
	var sess Session
	var found bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		sess, found = s.sessions.Get(tx, r.AccessKey)
		return nil
	})
	if found {
		role := sess.RoleArn[strings.LastIndex(sess.RoleArn, "/")+1:]
		arn = "arn:aws:sts::" + sess.Account + ":assumed-role/" + role + "/" + sess.SessionName
	}
	core.WriteQuery(r, xmlns, callerIdentity{Arn: arn, UserID: r.AccessKey, Account: r.Scope.Account})
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

func (s *Service) assumeRole(r *core.Request, roleArn, sessionName string) {
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
	if check, ok := s.c.Hook("iam.assume-check").(func(tx *core.Tx, callerAccount, roleArn string) func() error); ok {
		var vet func() error
		_ = s.c.Store.View(func(tx *core.Tx) error { vet = check(tx, r.Scope.Account, roleArn); return nil })
		if err := vet(); err != nil {
			core.WriteQueryError(r, xmlns, err)
			return
		}
	}
	sess := Session{AccessKeyID: "ASIA" + strings.ToUpper(core.RandomHex(8)), Account: parts[4], RoleArn: roleArn, SessionName: sessionName, Expires: s.c.Now().Add(time.Hour)}
	if err := s.c.Store.Update(func(tx *core.Tx) error {
		s.sessions.Put(tx, sess.AccessKeyID, sess)
		return nil
	}); err != nil {
		core.WriteQueryError(r, xmlns, err)
		return
	}
	var res assumeRoleResult
	res.Credentials.AccessKeyID = sess.AccessKeyID
	res.Credentials.SecretAccessKey = core.RandomHex(20)
	res.Credentials.SessionToken = core.RandomHex(32)
	res.Credentials.Expiration = sess.Expires.UTC().Format(time.RFC3339)
	res.AssumedRoleUser.AssumedRoleID = "AROA" + strings.ToUpper(core.RandomHex(8)) + ":" + sessionName
	res.AssumedRoleUser.Arn = "arn:aws:sts::" + sess.Account + ":assumed-role/" + parts[5][len("role/"):] + "/" + sessionName
	core.WriteQuery(r, xmlns, res)
}

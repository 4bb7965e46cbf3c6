package core

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/sigv4"
)

// Principal is who signed a request, as IAM and STS name it.
type Principal struct {
	Account string
	// Type is "root", "user" or "assumed-role".
	Type string
	// Name is the user's or the role's name; Session the role session's.
	Name, Session string
	// ID is what GetCallerIdentity calls UserId and SQS SenderId: the
	// account id for the root, AIDA… for a user, AROA…:session for a role
	// session. Never an access key.
	ID  string
	ARN string
	// RoleARN is a role session's role, path included.
	RoleARN string
}

// RootPrincipal is the root user of an account.
func RootPrincipal(account string) Principal {
	return Principal{Account: account, Type: "root", ID: account, ARN: "arn:aws:iam::" + account + ":root"}
}

// Credential is a secret access key and the principal it authenticates.
type Credential struct {
	Secret string
	// SessionToken, when set, must come with every request (temporary
	// credentials); Expires, when set, ends them.
	SessionToken string
	Expires      time.Time
	Principal    Principal
}

// Accounts resolves long-term access keys.
type Accounts interface {
	Lookup(accessKey string) (Credential, bool)
	// Expect says which credentials the sandbox takes, for the message
	// refusing any other.
	Expect() string
}

// DefaultAccessKey and DefaultSecretKey are the sandbox's well-known pair
// for DefaultAccount when no accounts file is given, as LocalStack's.
const (
	DefaultAccessKey = "test"
	DefaultSecretKey = "test"
)

// KeyTable maps access keys to their credentials.
type KeyTable map[string]Credential

// Lookup implements Accounts.
func (k KeyTable) Lookup(accessKey string) (Credential, bool) {
	c, ok := k[accessKey]
	return c, ok
}

// Expect implements Accounts.
func (k KeyTable) Expect() string {
	if len(k) == 1 {
		if c, ok := k[DefaultAccessKey]; ok && c.Secret == DefaultSecretKey {
			return "This sandbox accepts the access key id \"test\" with the secret access key \"test\" (account " + c.Principal.Account + ")."
		}
	}
	return "This sandbox accepts only the access keys of its accounts file."
}

// DefaultAccounts is the single account of a sandbox without an accounts
// file: test/test, the account root of DefaultAccount.
func DefaultAccounts() KeyTable {
	return KeyTable{DefaultAccessKey: {Secret: DefaultSecretKey, Principal: RootPrincipal(DefaultAccount)}}
}

var twelveDigits = regexp.MustCompile(`^[0-9]{12}$`)

// IsAccountID says whether s is a 12-digit account id.
func IsAccountID(s string) bool { return twelveDigits.MatchString(s) }

// ErrAccountsColumn is wrapped by LoadAccounts when a required column is
// missing, so the command can exit with a usage error naming it.
var ErrAccountsColumn = errors.New("accounts file: missing column")

// LoadAccounts reads a CSV whose header names the columns access_key_id,
// account_id and secret_access_key (required, in any order) and user
// (optional: the key then belongs to that IAM user, not the account root).
func LoadAccounts(path string) (KeyTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.TrimLeadingSpace = true
	rd.FieldsPerRecord = -1
	rows, err := rd.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: %s is empty; its first line must be the header access_key_id,secret_access_key,account_id[,user]", ErrAccountsColumn, path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"access_key_id", "account_id", "secret_access_key"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: %s has no %s column (the header must name access_key_id,secret_access_key,account_id and optionally user)", ErrAccountsColumn, path, need)
		}
	}
	userCol, hasUser := col["user"]
	get := func(row []string, i int) string {
		if i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	out := KeyTable{}
	for i, row := range rows[1:] {
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		key, acct, secret := get(row, col["access_key_id"]), get(row, col["account_id"]), get(row, col["secret_access_key"])
		if key == "" || !twelveDigits.MatchString(acct) {
			return nil, fmt.Errorf("%s:%d: need an access key id and a 12-digit account id, got %q,%q", path, i+2, key, acct)
		}
		if secret == "" {
			return nil, fmt.Errorf("%s:%d: access key %s has no secret_access_key", path, i+2, key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: access key %s is listed twice", path, i+2, key)
		}
		p := RootPrincipal(acct)
		if hasUser {
			if u := get(row, userCol); u != "" {
				sum := sha256.Sum256([]byte(acct + "/" + u))
				id := "AIDA" + strings.ToUpper(base32.StdEncoding.EncodeToString(sum[:]))[:17]
				p = Principal{Account: acct, Type: "user", Name: u, ID: id, ARN: "arn:aws:iam::" + acct + ":user/" + u}
			}
		}
		out[key] = Credential{Secret: secret, Principal: p}
	}
	return out, nil
}

// HookSessions is the name of the temporary-credential lookup (a
// SessionLookup) that STS, and the Lambda runtime for functions' role
// sessions, offer the router.
const HookSessions = "sessions"

// SessionLookup resolves a temporary (ASIA…) access key, expired or not:
// the router answers ExpiredToken for an expired one.
type SessionLookup func(accessKey string) (Credential, bool)

// authFailure is a refusal before the service sees the request.
type authFailure struct {
	kind    sigv4.Kind
	code    string // one of the codes below when kind is 0
	message string
}

// Refusals that are not signature checks.
const (
	failUnknownKey   = "unknown-key"
	failMissingToken = "missing-token"
	failInvalidToken = "invalid-token"
	failExpiredToken = "expired-token"
)

// authenticate verifies the request's signature against the credential of
// its access key. body is the request body, read; nil for a body the
// service streams, which the returned stream wraps (the chunk signatures,
// or the payload hash, checked as the service reads it).
func (h *handler) authenticate(r *Request, a *sigv4.Request, body []byte, stream io.Reader) (Credential, io.Reader, *authFailure) {
	cred, ok := h.lookup(a.AccessKey)
	if !ok {
		return cred, nil, &authFailure{code: failUnknownKey}
	}
	switch {
	case cred.SessionToken != "" && a.SessionToken == "":
		return cred, nil, &authFailure{code: failMissingToken}
	case a.SessionToken != cred.SessionToken:
		return cred, nil, &authFailure{code: failInvalidToken}
	}
	if !cred.Expires.IsZero() && !r.Core.Now().Before(cred.Expires) {
		return cred, nil, &authFailure{code: failExpiredToken}
	}
	// Clock skew is judged by the host's clock, which signed the request;
	// the sandbox clock (Core.Now) may be a test's.
	if err := a.CheckTime(time.Now()); err != nil {
		return cred, nil, &authFailure{kind: err.Kind, message: err.Msg}
	}
	hash, err := a.PayloadHash(r.HTTP, body)
	if err != nil {
		return cred, nil, &authFailure{kind: err.Kind, message: err.Msg}
	}
	key, err := a.Verify(r.HTTP, cred.Secret, hash)
	if err != nil {
		return cred, nil, &authFailure{kind: err.Kind, message: err.Msg}
	}
	signedChunks := hash == sigv4.StreamingSigned || hash == sigv4.StreamingSignedTrailer
	if stream == nil {
		if signedChunks {
			if err := a.VerifyChunks(body, key, hash == sigv4.StreamingSignedTrailer); err != nil {
				return cred, nil, &authFailure{kind: err.Kind, message: err.Msg}
			}
		}
		return cred, nil, nil
	}
	switch {
	case signedChunks:
		stream = a.ChunkVerifier(stream, key, hash == sigv4.StreamingSignedTrailer)
	case len(hash) == 64:
		stream = sigv4.PayloadCheck(stream, hash)
	}
	return cred, &streamErrors{r: stream, service: r.Service}, nil
}

// streamErrors words a streamed body's verification failure as the
// service's error, which the service returns when its read fails.
type streamErrors struct {
	r       io.Reader
	service string
}

func (s *streamErrors) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	var e *sigv4.Error
	if errors.As(err, &e) {
		return n, authError(s.service, "restxml", false, &authFailure{kind: e.Kind, message: e.Msg}, "")
	}
	return n, err
}

// lookup finds a key: temporary keys (ASIA…) among the sessions, then the
// long-term keys.
func (h *handler) lookup(accessKey string) (Credential, bool) {
	if strings.HasPrefix(accessKey, "ASIA") {
		if f, ok := h.core.Hook(HookSessions).(SessionLookup); ok {
			if c, found := f(accessKey); found {
				return c, true
			}
		}
	}
	return h.accounts.Lookup(accessKey)
}

// authError words a refusal as the service does: S3 (REST-XML) has its
// own codes, the JSON services (DynamoDB, Logs, EventBridge) and Lambda
// the ...Exception forms, the Query services (IAM, STS, SNS) and SQS the
// common Query codes.
func authError(service, proto string, presigned bool, f *authFailure, expect string) *Error {
	const (
		invalidToken = "The security token included in the request is invalid."
		expiredToken = "The security token included in the request is expired"
		mismatchAWS  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	)
	hint := ""
	if expect != "" {
		hint = " " + expect
	}
	if service == "s3" || proto == "restxml" {
		switch {
		case f.code == failUnknownKey, f.code == failMissingToken:
			return ErrorStatus(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.%s", hint)
		case f.code == failInvalidToken:
			return ErrorStatus(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
		case f.code == failExpiredToken:
			return ErrorStatus(400, "ExpiredToken", "The provided token has expired.")
		}
		switch f.kind {
		case sigv4.Missing:
			return ErrorStatus(403, "AccessDenied", "Access Denied")
		case sigv4.Incomplete:
			if presigned {
				return ErrorStatus(400, "AuthorizationQueryParametersError", "%s", f.message)
			}
			return ErrorStatus(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; %s", f.message)
		case sigv4.Mismatch, sigv4.ChunkMismatch:
			return ErrorStatus(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.%s", hint)
		case sigv4.Skewed:
			if presigned {
				return ErrorStatus(403, "AccessDenied", "%s", f.message)
			}
			return ErrorStatus(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
		case sigv4.Expired:
			return ErrorStatus(403, "AccessDenied", "Request has expired")
		case sigv4.PayloadMismatch:
			return ErrorStatus(400, "XAmzContentSHA256Mismatch", "%s", f.message)
		default:
			return ErrorStatus(400, "IncompleteBody", "%s", f.message)
		}
	}
	exception := proto == "json" && service != "sqs" || proto == "restjson"
	status := 400
	if proto == "restjson" {
		status = 403
	}
	code := func(query string, queryStatus int, exc string) *Error {
		if exception {
			return &Error{Code: exc, Status: status}
		}
		e := &Error{Code: query, Status: queryStatus}
		if service == "sqs" && proto == "json" {
			e.QueryCode = query
		}
		return e
	}
	var e *Error
	switch {
	case f.code == failUnknownKey || f.code == failMissingToken || f.code == failInvalidToken:
		e = code("InvalidClientTokenId", 403, "UnrecognizedClientException")
		e.Message = invalidToken
		if f.code == failUnknownKey {
			e.Message += hint
		}
	case f.code == failExpiredToken:
		e = code("ExpiredToken", 403, "ExpiredTokenException")
		e.Message = expiredToken
	case f.kind == sigv4.Missing:
		e = code("MissingAuthenticationToken", 403, "MissingAuthenticationTokenException")
		e.Message = "Request is missing Authentication Token"
		if proto == "json" && service != "sqs" {
			e.Message = "Request is missing Authentication Token; the sandbox takes SigV4-signed requests (" + strings.TrimPrefix(expect, " ") + ")"
		}
	case f.kind == sigv4.Incomplete:
		e = code("IncompleteSignature", 400, "IncompleteSignatureException")
		e.Status = 400
		e.Message = f.message
	case f.kind == sigv4.Expired:
		e = code("RequestExpired", 400, "InvalidSignatureException")
		e.Message = "Request has expired."
	case f.kind == sigv4.Skewed:
		e = code("SignatureDoesNotMatch", 403, "InvalidSignatureException")
		e.Message = f.message
	default:
		e = code("SignatureDoesNotMatch", 403, "InvalidSignatureException")
		e.Message = mismatchAWS + hint
	}
	return e
}

// readBody reads a request body the service does not stream, which
// LimitBodies has bounded in time, up to the service's document limit.
func readBody(w http.ResponseWriter, hr *http.Request, service string) ([]byte, *Error) {
	if hr.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, documentLimit(service)))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(service, mbe.Limit)
		}
		return nil, ErrorStatus(400, "IncompleteBody", "could not read the request body: %v", err)
	}
	if body == nil {
		body = []byte{}
	}
	return body, nil
}

package lambda

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/runtimes"
	"github.com/slab-lab/slab/sandbox/internal/core"
)

const (
	latest        = "$LATEST"
	maxUnzipped   = 262144000
	maxEnvBytes   = 4096
	codePath      = "_code"
	codeURLExpiry = 10 * time.Minute
)

// --- function references ---

var (
	functionNameRE = core.NewPattern(`a-zA-Z0-9-_`, 1, 64)
	qualifierRE    = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9-_]{1,128})$`)
	roleRE         = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envKeyRE       = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
)

const functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

// reservedEnv are the variables Lambda sets itself and refuses to take.
var reservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

type functionRef struct {
	scope     core.Scope
	name      string
	qualifier string
}

func (f functionRef) arn() string {
	a := f.scope.ARN("lambda", "function:"+f.name)
	if f.qualifier != "" {
		a += ":" + f.qualifier
	}
	return a
}

// parseFunctionRef reads the FunctionName forms Lambda accepts: name,
// name:qualifier, account:function:name[:qualifier] and the full ARN.
func parseFunctionRef(sc core.Scope, ref string) (functionRef, error) {
	bad := validation("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", ref, functionNamePattern)
	out := functionRef{scope: sc}
	parts := strings.Split(ref, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		if len(parts) > 8 || !strings.HasPrefix(parts[1], "aws") || len(parts[4]) != 12 || parts[3] == "" {
			return out, bad
		}
		out.scope = core.Scope{Account: parts[4], Region: parts[3]}
		out.name = parts[6]
		if len(parts) == 8 {
			out.qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		if len(parts) > 4 || len(parts[0]) != 12 {
			return out, bad
		}
		out.scope.Account = parts[0]
		out.name = parts[2]
		if len(parts) == 4 {
			out.qualifier = parts[3]
		}
	case len(parts) <= 2:
		out.name = parts[0]
		if len(parts) == 2 {
			out.qualifier = parts[1]
		}
	default:
		return out, bad
	}
	if !functionNameRE.MatchString(out.name) || (out.qualifier != "" && !qualifierRE.MatchString(out.qualifier)) {
		return out, bad
	}
	if _, err := strconv.ParseUint(out.scope.Account, 10, 64); err != nil || len(out.scope.Account) != 12 {
		return out, bad
	}
	return out, nil
}

// lookup resolves a path's function reference and the Qualifier query
// parameter to the stored $LATEST function of the caller's scope.
func (s *Service) lookup(tx *core.Tx, r *core.Request, ref string) (Function, functionRef, error) {
	fr, err := parseFunctionRef(r.Scope, ref)
	if err != nil {
		return Function{}, fr, err
	}
	if q := r.HTTP.URL.Query().Get("Qualifier"); q != "" {
		if fr.qualifier != "" && fr.qualifier != q {
			return Function{}, fr, invalidParam("The derived qualifier from the function name does not match the specified qualifier.")
		}
		if !qualifierRE.MatchString(q) {
			return Function{}, fr, validation("1 validation error detected: Value '%s' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)", q)
		}
		fr.qualifier = q
	}
	if fr.scope != r.Scope {
		// Another account's or region's function is not visible here.
		return Function{}, fr, functionNotFound(fr.arn())
	}
	f, ok := s.functions.Get(tx, fr.scope.Key(fr.name))
	if !ok || (fr.qualifier != "" && fr.qualifier != latest) {
		// The sandbox publishes no versions or aliases: only $LATEST exists.
		return Function{}, fr, functionNotFound(fr.arn())
	}
	return f, fr, nil
}

// scopeOfARN splits a full function ARN.
func scopeOfARN(arn string) (core.Scope, string, bool) {
	p := strings.Split(arn, ":")
	if len(p) < 7 || len(p) > 8 || p[0] != "arn" || p[2] != "lambda" || p[5] != "function" || (len(p) == 8 && p[7] != latest) {
		return core.Scope{}, "", false
	}
	return core.Scope{Account: p[4], Region: p[3]}, p[6], true
}

// --- states ---

type computedState struct {
	state, reason, reasonCode string
	lastUpdate                string
	lastUpdateReason          string
	lastUpdateCode            string
}

func (s *Service) stateOf(f Function) computedState {
	now := s.c.Now()
	if now.Before(f.ReadyAt) {
		return computedState{state: "Pending", reason: "The function is being created.", reasonCode: "Creating"}
	}
	if now.Before(f.UpdateReadyAt) {
		return computedState{state: "Active", lastUpdate: "InProgress", lastUpdateReason: "The function is being created.", lastUpdateCode: "Creating"}
	}
	return computedState{state: "Active", lastUpdate: "Successful"}
}

// checkUpdatable refuses changes while the function is Pending or an update
// is in flight, with Lambda's words.
func (s *Service) checkUpdatable(f Function) error {
	st := s.stateOf(f)
	if st.state == "Pending" {
		return conflict("The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	if st.lastUpdate == "InProgress" {
		return conflict("The operation cannot be performed at this time. An update is in progress for resource: %s", f.Arn)
	}
	return nil
}

// --- output shapes ---

type envOut struct {
	Variables map[string]string `json:"Variables"`
}

type functionConfiguration struct {
	FunctionName               string            `json:"FunctionName"`
	FunctionArn                string            `json:"FunctionArn"`
	Runtime                    string            `json:"Runtime"`
	Role                       string            `json:"Role"`
	Handler                    string            `json:"Handler"`
	CodeSize                   int64             `json:"CodeSize"`
	Description                string            `json:"Description"`
	Timeout                    int               `json:"Timeout"`
	MemorySize                 int               `json:"MemorySize"`
	LastModified               string            `json:"LastModified"`
	CodeSha256                 string            `json:"CodeSha256"`
	Version                    string            `json:"Version"`
	Environment                *envOut           `json:"Environment,omitempty"`
	TracingConfig              map[string]string `json:"TracingConfig"`
	RevisionID                 string            `json:"RevisionId"`
	State                      string            `json:"State"`
	StateReason                string            `json:"StateReason,omitempty"`
	StateReasonCode            string            `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string            `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string            `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string            `json:"LastUpdateStatusReasonCode,omitempty"`
	PackageType                string            `json:"PackageType"`
	Architectures              []string          `json:"Architectures"`
	EphemeralStorage           map[string]int    `json:"EphemeralStorage"`
	SnapStart                  map[string]string `json:"SnapStart"`
	LoggingConfig              map[string]string `json:"LoggingConfig"`
}

func (s *Service) configOut(f Function) functionConfiguration {
	st := s.stateOf(f)
	o := functionConfiguration{
		FunctionName: f.Name, FunctionArn: f.Arn, Runtime: f.Runtime, Role: f.Role, Handler: f.Handler,
		CodeSize: f.CodeSize, Description: f.Description, Timeout: f.Timeout, MemorySize: f.MemorySize,
		LastModified: lambdaTime(f.LastModified), CodeSha256: f.CodeSha256, Version: latest,
		TracingConfig: map[string]string{"Mode": f.TracingMode}, RevisionID: f.RevisionID,
		State: st.state, StateReason: st.reason, StateReasonCode: st.reasonCode,
		LastUpdateStatus: st.lastUpdate, LastUpdateStatusReason: st.lastUpdateReason, LastUpdateStatusReasonCode: st.lastUpdateCode,
		PackageType: f.PackageType, Architectures: f.Architectures, EphemeralStorage: map[string]int{"Size": f.Ephemeral},
		SnapStart:     map[string]string{"ApplyOn": "None", "OptimizationStatus": "Off"},
		LoggingConfig: map[string]string{"LogFormat": f.LogFormat, "LogGroup": f.LogGroup},
	}
	if len(f.Environment) > 0 {
		o.Environment = &envOut{Variables: f.Environment}
	}
	return o
}

// --- validation shared by create and update ---

type environmentIn struct {
	Variables map[string]string `json:"Variables"`
}

func validateEnvironment(env map[string]string) error {
	size := 0
	var reserved []string
	for k, v := range env {
		if !envKeyRE.MatchString(k) {
			return validation("1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
		}
		for _, r := range reservedEnv {
			if k == r {
				reserved = append(reserved, k)
			}
		}
		size += len(k) + len(v)
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		return invalidParam("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
	}
	if size > maxEnvBytes {
		return invalidParam("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d", size)
	}
	return nil
}

func validateLimits(timeout, memory *int) error {
	if timeout != nil {
		if *timeout < 1 {
			return validation("1 validation error detected: Value '%d' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", *timeout)
		}
		if *timeout > 900 {
			return validation("1 validation error detected: Value '%d' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900", *timeout)
		}
	}
	if memory != nil {
		if *memory < 128 {
			return validation("1 validation error detected: Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128", *memory)
		}
		if *memory > 10240 {
			return validation("1 validation error detected: Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240", *memory)
		}
	}
	return nil
}

// checkRuntime answers as Lambda does: a value outside the API's Runtime
// enum fails validation; a value in it that the dated table says is
// blocked gets Lambda's deprecation message (InvalidParameterValue); a
// value the table does not date yet is accepted.
func (s *Service) checkRuntime(rt string, creating bool) error {
	if !runtimes.InEnum(rt) {
		return validation("1 validation error detected: Value '%s' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s]", rt, strings.Join(runtimes.Enum(), ", "))
	}
	st, ok := runtimes.StatusAt(rt, s.c.RuntimesDay())
	if ok && ((creating && !st.CanCreate()) || (!creating && !st.CanUpdate())) {
		return invalidParam("%s", runtimes.BlockedMessage(rt))
	}
	return nil
}

func checkArchitectures(archs []string) ([]string, error) {
	if len(archs) == 0 {
		return []string{"x86_64"}, nil
	}
	if len(archs) > 1 {
		return nil, validation("1 validation error detected: Value '[%s]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1", strings.Join(archs, ", "))
	}
	if archs[0] != "x86_64" && archs[0] != "arm64" {
		return nil, validation("1 validation error detected: Value '[%s]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]", archs[0])
	}
	return archs, nil
}

// checkRole validates the role ARN and, with IAM in the sandbox, that the
// role exists and trusts lambda.amazonaws.com.
func (s *Service) checkRole(tx *core.Tx, account, role string) error {
	if !roleRE.MatchString(role) {
		return validation(`1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`, role)
	}
	iam, ok := s.c.Hook(core.HookIAM).(core.IAMView)
	if !ok {
		return nil
	}
	info, found := iam.RoleByARN(tx, account, role)
	if !found || !trustsLambda(info.AssumeRolePolicy) || s.c.Now().Before(info.AssumableAt) {
		return invalidParam("The role defined for the function cannot be assumed by Lambda.")
	}
	return nil
}

// trustsLambda reports whether a trust policy lets lambda.amazonaws.com call
// sts:AssumeRole (and no statement denies it).
func trustsLambda(doc string) bool {
	var pol struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &pol) != nil {
		// IAM hands trust policies out URL-encoded on its API.
		if dec, err := url.QueryUnescape(doc); err != nil || json.Unmarshal([]byte(dec), &pol) != nil {
			return false
		}
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(pol.Statement, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(pol.Statement, &one) != nil {
			return false
		}
		stmts = append(stmts, one)
	}
	allowed := false
	for _, st := range stmts {
		var effect string
		_ = json.Unmarshal(st["Effect"], &effect)
		if !stringsMatch(st["Action"], func(a string) bool {
			a = strings.ToLower(a)
			return a == "sts:assumerole" || a == "sts:*" || a == "*"
		}) || !principalIsLambda(st["Principal"]) {
			continue
		}
		switch effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		}
	}
	return allowed
}

func principalIsLambda(raw json.RawMessage) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(raw, &p) != nil {
		return false
	}
	return stringsMatch(p["Service"], func(s string) bool { return s == "lambda.amazonaws.com" }) ||
		stringsMatch(p["AWS"], func(s string) bool { return s == "*" })
}

// stringsMatch applies fn to a JSON string or each string of a JSON list.
func stringsMatch(raw json.RawMessage, fn func(string) bool) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return fn(one)
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return false
	}
	for _, s := range many {
		if fn(s) {
			return true
		}
	}
	return false
}

// checkZip verifies a deployment package and returns its CodeSha256 (the
// base64 of its SHA-256, as Lambda reports it).
func checkZip(b []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "", invalidParam(msgBadZip)
	}
	if err := CheckLinks(zr); err != nil {
		return "", invalidParam(msgBadZip)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > maxUnzipped {
		return "", invalidParam("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// --- CreateFunction ---

type codeIn struct {
	ZipFile         []byte `json:"ZipFile"`
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
	ImageURI        string `json:"ImageUri"`
}

type createFunctionInput struct {
	FunctionName     string            `json:"FunctionName"`
	Runtime          string            `json:"Runtime"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler"`
	Code             *codeIn           `json:"Code"`
	Description      string            `json:"Description"`
	Timeout          *int              `json:"Timeout"`
	MemorySize       *int              `json:"MemorySize"`
	Publish          bool              `json:"Publish"`
	PackageType      string            `json:"PackageType"`
	Environment      *environmentIn    `json:"Environment"`
	Tags             map[string]string `json:"Tags"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage *struct {
		Size int `json:"Size"`
	} `json:"EphemeralStorage"`
	LoggingConfig *struct {
		LogFormat string `json:"LogFormat"`
		LogGroup  string `json:"LogGroup"`
	} `json:"LoggingConfig"`
	TracingConfig *struct {
		Mode string `json:"Mode"`
	} `json:"TracingConfig"`
}

func (s *Service) createFunction(r *core.Request) (result, error) {
	var in createFunctionInput
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	if !functionNameRE.MatchString(in.FunctionName) {
		if in.FunctionName == "" {
			return result{}, validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")
		}
		return result{}, validation("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", in.FunctionName, functionNamePattern)
	}
	if in.Role == "" {
		return result{}, validation("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null")
	}
	if in.Code == nil {
		return result{}, validation("1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null")
	}
	switch in.PackageType {
	case "", "Zip":
	case "Image":
		return result{}, invalidParam("The sandbox runs .zip deployment packages only; container images (PackageType Image) are not emulated.")
	default:
		return result{}, validation("1 validation error detected: Value '%s' at 'packageType' failed to satisfy constraint: Member must satisfy enum value set: [Zip, Image]", in.PackageType)
	}
	if in.Runtime == "" || in.Handler == "" {
		return result{}, invalidParam("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if err := s.checkRuntime(in.Runtime, true); err != nil {
		return result{}, err
	}
	if len(in.Handler) > 128 || strings.ContainsAny(in.Handler, " \t\n") {
		return result{}, validation(`1 validation error detected: Value '%s' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\s]+`, in.Handler)
	}
	if len(in.Description) > 256 {
		return result{}, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	if err := validateLimits(in.Timeout, in.MemorySize); err != nil {
		return result{}, err
	}
	archs, err := checkArchitectures(in.Architectures)
	if err != nil {
		return result{}, err
	}
	var env map[string]string
	if in.Environment != nil {
		if err := validateEnvironment(in.Environment.Variables); err != nil {
			return result{}, err
		}
		env = in.Environment.Variables
	}
	if in.Code.S3Bucket != "" || in.Code.ImageURI != "" {
		return result{}, invalidParam("The sandbox takes function code inline (Code.ZipFile, the CLI's --zip-file fileb://...); code from S3 or an image is not emulated.")
	}
	if len(in.Code.ZipFile) == 0 {
		return result{}, invalidParam("Please provide a source for function code.")
	}
	sha, err := checkZip(in.Code.ZipFile)
	if err != nil {
		return result{}, err
	}
	ephemeral := 512
	if in.EphemeralStorage != nil {
		if in.EphemeralStorage.Size < 512 || in.EphemeralStorage.Size > 10240 {
			return result{}, validation("1 validation error detected: Value '%d' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value between 512 and 10240", in.EphemeralStorage.Size)
		}
		ephemeral = in.EphemeralStorage.Size
	}
	logFormat, logGroup := "Text", "/aws/lambda/"+in.FunctionName
	if in.LoggingConfig != nil {
		if in.LoggingConfig.LogFormat != "" {
			logFormat = in.LoggingConfig.LogFormat
		}
		if in.LoggingConfig.LogGroup != "" {
			logGroup = in.LoggingConfig.LogGroup
		}
	}
	tracing := "PassThrough"
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		tracing = in.TracingConfig.Mode
	}
	now := s.c.Now()
	f := Function{
		Account: r.Scope.Account, Region: r.Scope.Region, Name: in.FunctionName,
		Arn: r.Scope.ARN("lambda", "function:"+in.FunctionName), Runtime: in.Runtime, Role: in.Role,
		Handler: in.Handler, Description: in.Description, Timeout: intOr(in.Timeout, 3), MemorySize: intOr(in.MemorySize, 128),
		Environment: env, Architectures: archs, PackageType: "Zip", CodeSha256: sha, CodeSize: int64(len(in.Code.ZipFile)),
		RevisionID: core.NewRequestID(), LastModified: now, ReadyAt: now.Add(s.CreateDelay), Tags: in.Tags,
		Ephemeral: ephemeral, LogFormat: logFormat, LogGroup: logGroup, TracingMode: tracing,
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		key := r.Scope.Key(in.FunctionName)
		if s.functions.Has(tx, key) {
			return conflict("Function already exist: %s", in.FunctionName)
		}
		if err := s.checkRole(tx, r.Scope.Account, in.Role); err != nil {
			return err
		}
		s.functions.Put(tx, key, f)
		s.code.Put(tx, key, Code{Zip: in.Code.ZipFile})
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusCreated, s.configOut(f)}, nil
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// --- reads ---

func (s *Service) getFunction(r *core.Request, ref string) (result, error) {
	var f Function
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		f, _, err = s.lookup(tx, r, ref)
		return err
	})
	if err != nil {
		return result{}, err
	}
	out := struct {
		Configuration functionConfiguration `json:"Configuration"`
		Code          map[string]string     `json:"Code"`
		Tags          map[string]string     `json:"Tags,omitempty"`
	}{
		Configuration: s.configOut(f),
		Code:          map[string]string{"RepositoryType": "S3", "Location": s.codeURL(r, f)},
		Tags:          f.Tags,
	}
	return result{http.StatusOK, out}, nil
}

func (s *Service) getFunctionConfiguration(r *core.Request, ref string) (result, error) {
	var f Function
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		f, _, err = s.lookup(tx, r, ref)
		return err
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, s.configOut(f)}, nil
}

func (s *Service) listFunctions(r *core.Request) (result, error) {
	q := r.HTTP.URL.Query()
	max := 50
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return result{}, validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
		}
		// ListFunctions returns at most 50 per page whatever MaxItems says.
		max = min(n, 50)
	}
	after, err := decodeMarker(q.Get("Marker"))
	if err != nil {
		return result{}, err
	}
	out := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker string                  `json:"NextMarker,omitempty"`
	}{Functions: []functionConfiguration{}}
	_ = s.c.Store.View(func(tx *core.Tx) error {
		s.functions.Scan(tx, r.Scope.Prefix(), func(_ string, f Function) bool {
			if after != "" && f.Name <= after {
				return true
			}
			if len(out.Functions) == max {
				out.NextMarker = encodeMarker(out.Functions[max-1].FunctionName)
				return false
			}
			out.Functions = append(out.Functions, s.configOut(f))
			return true
		})
		return nil
	})
	return result{http.StatusOK, out}, nil
}

// --- updates ---

// checkRevision applies the optional RevisionId precondition.
func checkRevision(f Function, want string) error {
	if want != "" && want != f.RevisionID {
		return core.ErrorStatus(http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	return nil
}

type updateCodeInput struct {
	ZipFile       []byte   `json:"ZipFile"`
	S3Bucket      string   `json:"S3Bucket"`
	S3Key         string   `json:"S3Key"`
	ImageURI      string   `json:"ImageUri"`
	Architectures []string `json:"Architectures"`
	Publish       bool     `json:"Publish"`
	DryRun        bool     `json:"DryRun"`
	RevisionID    string   `json:"RevisionId"`
}

func (s *Service) updateFunctionCode(r *core.Request, ref string) (result, error) {
	var in updateCodeInput
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	if in.S3Bucket != "" || in.ImageURI != "" {
		return result{}, invalidParam("The sandbox takes function code inline (ZipFile, the CLI's --zip-file fileb://...); code from S3 or an image is not emulated.")
	}
	if len(in.ZipFile) == 0 {
		return result{}, invalidParam("Please provide a source for function code.")
	}
	sha, err := checkZip(in.ZipFile)
	if err != nil {
		return result{}, err
	}
	var archs []string
	if in.Architectures != nil {
		if archs, err = checkArchitectures(in.Architectures); err != nil {
			return result{}, err
		}
	}
	var f Function
	err = s.c.Store.Update(func(tx *core.Tx) error {
		var err error
		if f, _, err = s.lookup(tx, r, ref); err != nil {
			return err
		}
		if err := checkRevision(f, in.RevisionID); err != nil {
			return err
		}
		if err := s.checkUpdatable(f); err != nil {
			return err
		}
		if err := s.checkRuntime(f.Runtime, false); err != nil {
			return err
		}
		if in.DryRun {
			return nil
		}
		now := s.c.Now()
		f.CodeSha256, f.CodeSize = sha, int64(len(in.ZipFile))
		if archs != nil {
			f.Architectures = archs
		}
		f.RevisionID, f.LastModified, f.UpdateReadyAt = core.NewRequestID(), now, now.Add(s.UpdateDelay)
		s.functions.Put(tx, r.Scope.Key(f.Name), f)
		s.code.Put(tx, r.Scope.Key(f.Name), Code{Zip: in.ZipFile})
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, s.configOut(f)}, nil
}

type updateConfigInput struct {
	Role          *string        `json:"Role"`
	Handler       *string        `json:"Handler"`
	Description   *string        `json:"Description"`
	Timeout       *int           `json:"Timeout"`
	MemorySize    *int           `json:"MemorySize"`
	Environment   *environmentIn `json:"Environment"`
	Runtime       *string        `json:"Runtime"`
	RevisionID    string         `json:"RevisionId"`
	LoggingConfig *struct {
		LogFormat string `json:"LogFormat"`
		LogGroup  string `json:"LogGroup"`
	} `json:"LoggingConfig"`
	TracingConfig *struct {
		Mode string `json:"Mode"`
	} `json:"TracingConfig"`
	EphemeralStorage *struct {
		Size int `json:"Size"`
	} `json:"EphemeralStorage"`
}

func (s *Service) updateFunctionConfiguration(r *core.Request, ref string) (result, error) {
	var in updateConfigInput
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	if err := validateLimits(in.Timeout, in.MemorySize); err != nil {
		return result{}, err
	}
	if in.Environment != nil {
		if err := validateEnvironment(in.Environment.Variables); err != nil {
			return result{}, err
		}
	}
	if in.Handler != nil && (*in.Handler == "" || len(*in.Handler) > 128 || strings.ContainsAny(*in.Handler, " \t\n")) {
		return result{}, validation(`1 validation error detected: Value '%s' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\s]+`, *in.Handler)
	}
	if in.Description != nil && len(*in.Description) > 256 {
		return result{}, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	if in.EphemeralStorage != nil && (in.EphemeralStorage.Size < 512 || in.EphemeralStorage.Size > 10240) {
		return result{}, validation("1 validation error detected: Value '%d' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value between 512 and 10240", in.EphemeralStorage.Size)
	}
	var f Function
	err := s.c.Store.Update(func(tx *core.Tx) error {
		var err error
		if f, _, err = s.lookup(tx, r, ref); err != nil {
			return err
		}
		if err := checkRevision(f, in.RevisionID); err != nil {
			return err
		}
		if err := s.checkUpdatable(f); err != nil {
			return err
		}
		// Moving a function onto another runtime is judged like creating
		// one on it: a runtime closed to new functions takes none by a
		// switch either. Staying on one is an update.
		rt, switching := f.Runtime, in.Runtime != nil && *in.Runtime != f.Runtime
		if switching {
			rt = *in.Runtime
		}
		if err := s.checkRuntime(rt, switching); err != nil {
			return err
		}
		if in.Role != nil {
			if err := s.checkRole(tx, r.Scope.Account, *in.Role); err != nil {
				return err
			}
			f.Role = *in.Role
		}
		f.Runtime = rt
		if in.Handler != nil {
			f.Handler = *in.Handler
		}
		if in.Description != nil {
			f.Description = *in.Description
		}
		f.Timeout, f.MemorySize = intOr(in.Timeout, f.Timeout), intOr(in.MemorySize, f.MemorySize)
		if in.Environment != nil {
			f.Environment = in.Environment.Variables
		}
		if in.LoggingConfig != nil {
			if in.LoggingConfig.LogFormat != "" {
				f.LogFormat = in.LoggingConfig.LogFormat
			}
			if in.LoggingConfig.LogGroup != "" {
				f.LogGroup = in.LoggingConfig.LogGroup
			}
		}
		if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
			f.TracingMode = in.TracingConfig.Mode
		}
		if in.EphemeralStorage != nil {
			f.Ephemeral = in.EphemeralStorage.Size
		}
		now := s.c.Now()
		f.RevisionID, f.LastModified, f.UpdateReadyAt = core.NewRequestID(), now, now.Add(s.UpdateDelay)
		s.functions.Put(tx, r.Scope.Key(f.Name), f)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, s.configOut(f)}, nil
}

// deleteFunction removes the function, its code and policy. Event source
// mappings stay, as on AWS (DeleteFunction's documentation sends you to
// DeleteEventSourceMapping for them).
func (s *Service) deleteFunction(r *core.Request, ref string) (result, error) {
	err := s.c.Store.Update(func(tx *core.Tx) error {
		f, _, err := s.lookup(tx, r, ref)
		if err != nil {
			return err
		}
		s.functions.Delete(tx, r.Scope.Key(f.Name))
		s.code.Delete(tx, r.Scope.Key(f.Name))
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusNoContent}, nil
}

// --- tags ---

// taggedFunction resolves the {ARN} label of the tags API: a function ARN.
func (s *Service) taggedFunction(tx *core.Tx, r *core.Request, arn string) (Function, error) {
	sc, name, ok := scopeOfARN(arn)
	if !ok || strings.Count(arn, ":") != 6 {
		return Function{}, validation("1 validation error detected: Value '%s' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+", arn)
	}
	f, found := s.functions.Get(tx, sc.Key(name))
	if sc != r.Scope || !found {
		return Function{}, functionNotFound(arn)
	}
	return f, nil
}

func (s *Service) listTags(r *core.Request, arn string) (result, error) {
	var f Function
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		f, err = s.taggedFunction(tx, r, arn)
		return err
	})
	if err != nil {
		return result{}, err
	}
	tags := f.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return result{http.StatusOK, map[string]map[string]string{"Tags": tags}}, nil
}

func (s *Service) tagResource(r *core.Request, arn string) (result, error) {
	var in struct {
		Tags map[string]string `json:"Tags"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	if len(in.Tags) == 0 {
		return result{}, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	return s.editTags(r, arn, func(t map[string]string) {
		for k, v := range in.Tags {
			t[k] = v
		}
	})
}

func (s *Service) untagResource(r *core.Request, arn string) (result, error) {
	keys := r.HTTP.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return result{}, validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	return s.editTags(r, arn, func(t map[string]string) {
		for _, k := range keys {
			delete(t, k)
		}
	})
}

func (s *Service) editTags(r *core.Request, arn string, fn func(map[string]string)) (result, error) {
	err := s.c.Store.Update(func(tx *core.Tx) error {
		f, err := s.taggedFunction(tx, r, arn)
		if err != nil {
			return err
		}
		tags := map[string]string{}
		for k, v := range f.Tags {
			tags[k] = v
		}
		fn(tags)
		for k, v := range tags {
			if k == "" || len(k) > 128 || len(v) > 256 || strings.HasPrefix(strings.ToLower(k), "aws:") {
				return invalidParam("Tag keys must be 1 to 128 characters not starting with aws:, values at most 256: %q", k)
			}
		}
		if len(tags) > 50 {
			return invalidParam("Number of tags exceeds resource tag limit.")
		}
		f.Tags = tags
		if len(tags) == 0 {
			f.Tags = nil
		}
		s.functions.Put(tx, r.Scope.Key(f.Name), f)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusNoContent}, nil
}

// --- Code.Location ---

// codeURL is a short-lived, signed sandbox URL serving the function's zip,
// standing in for the presigned S3 URL Lambda returns. The router sends
// its path to this service without SigV4 (core.SelfSigned): the link's own
// signature is its authority, as a presigned URL's is.
func (s *Service) codeURL(r *core.Request, f Function) string {
	base := s.c.Endpoint
	if base == "" {
		base = "http://" + r.HTTP.Host
	}
	expires := s.c.Now().Add(codeURLExpiry).Unix()
	ref := f.Account + "." + f.Region + "." + f.Name
	sha := base64.RawURLEncoding.EncodeToString(mustDecodeB64(f.CodeSha256))
	q := url.Values{}
	q.Set("X-Amz-Expires", strconv.FormatInt(expires, 10))
	q.Set("X-Amz-Sha", sha)
	q.Set("X-Amz-Signature", s.sign(ref, sha, expires))
	return base + "/" + codePath + "/" + url.PathEscape(ref) + "?" + q.Encode()
}

func mustDecodeB64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

// SelfSignedPrefix implements core.SelfSigned: the code download links.
func (s *Service) SelfSignedPrefix() string { return "/" + codePath + "/" }

func (s *Service) sign(ref, sha string, expires int64) string {
	m := hmac.New(sha256.New, s.codeKey)
	fmt.Fprintf(m, "%s\n%s\n%d", ref, sha, expires)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) downloadCode(r *core.Request, ref string) (result, error) {
	q := r.HTTP.URL.Query()
	denied := core.ErrorStatus(http.StatusForbidden, "AccessDeniedException", "The code download link is invalid or has expired. Call GetFunction for a new one.")
	expires, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || s.c.Now().Unix() > expires {
		return result{}, denied
	}
	sha := q.Get("X-Amz-Sha")
	if !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(s.sign(ref, sha, expires))) {
		return result{}, denied
	}
	parts := strings.SplitN(ref, ".", 3)
	if len(parts) != 3 {
		return result{}, denied
	}
	// A region name holds no dots, an account none: the name is the rest.
	key := core.Scope{Account: parts[0], Region: parts[1]}.Key(parts[2])
	var zipBytes []byte
	var found bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		f, ok := s.functions.Get(tx, key)
		c, cok := s.code.Get(tx, key)
		if ok && cok && base64.RawURLEncoding.EncodeToString(mustDecodeB64(f.CodeSha256)) == sha {
			zipBytes, found = c.Zip, true
		}
		return nil
	})
	if !found {
		return result{}, notFound("The function code this link pointed to no longer exists.")
	}
	core.WriteRaw(r, http.StatusOK, "application/zip", zipBytes)
	return result{}, nil
}

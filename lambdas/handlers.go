package lambdas

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// The lab's function names as `_HANDLER` and `slab package` know them. The
// AWS function names (s3-to-dynamodb-processor, ...) are the steps' business.
const (
	S3Processor    = "s3-processor"
	EventProcessor = "event-processor"
	QueueProcessor = "queue-processor"
)

// DefaultTable is the table the functions write when TABLE_NAME is unset,
// the guide's name.
const DefaultTable = "lambda-integration-data"

// Functions lists the lab's functions, sorted.
func Functions() []string { return []string{EventProcessor, QueueProcessor, S3Processor} }

// IsFunction reports whether name is one of Functions.
func IsFunction(name string) bool {
	for _, f := range Functions() {
		if f == name {
			return true
		}
	}
	return false
}

// The AWS operations the handlers use, one interface each so tests can fake
// exactly what a handler calls. *s3.Client, *dynamodb.Client and *sns.Client
// satisfy them.
type (
	GetObjectAPI interface {
		GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}
	PutItemAPI interface {
		PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	}
	ScanAPI interface {
		Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	}
	PublishAPI interface {
		Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
	}
)

// tableFromEnv is TABLE_NAME or the guide's table, as the Node versions read it.
func tableFromEnv() string {
	if t := os.Getenv("TABLE_NAME"); t != "" {
		return t
	}
	return DefaultTable
}

// Logger is where a handler writes: Out for progress (console.log), Err for
// one JSON line per error (console.error). Zero value: the process's streams.
type Logger struct {
	Out, Err io.Writer
}

func (l Logger) out() io.Writer {
	if l.Out != nil {
		return l.Out
	}
	return os.Stdout
}

func (l Logger) printf(format string, args ...any) {
	fmt.Fprintf(l.out(), format+"\n", args...)
}

// errorLine is the Node versions' console.error(JSON.stringify({...})), field
// for field and in the same order, so one log query finds both runtimes' errors.
type errorLine struct {
	Level     string  `json:"level"`
	RequestID string  `json:"requestId,omitempty"`
	Bucket    string  `json:"bucket,omitempty"`
	Key       string  `json:"key,omitempty"`
	MessageID *string `json:"messageId,omitempty"`
	Error     string  `json:"error"`
	Message   string  `json:"message"`
}

func (l Logger) logError(ctx context.Context, line errorLine, err error) {
	line.Level = "error"
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		line.RequestID = lc.AwsRequestID
	}
	line.Error = errName(err)
	line.Message = errMessage(err)
	w := l.Err
	if w == nil {
		w = os.Stderr
	}
	b, _ := marshalJS(line, "")
	_, _ = w.Write(append(b, '\n'))
}

// namedError is an error with the name JavaScript would give it (err.name),
// which also becomes the invocation's errorType.
type namedError struct {
	name, msg string
}

func (e *namedError) Error() string { return e.msg }

// errName is err.name in the Node versions: the AWS error code for service
// errors, the error's own name otherwise.
func errName(err error) string {
	var ne *namedError
	if errors.As(err, &ne) {
		return ne.name
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return "Error"
}

// errMessage is err.message: the service's message for AWS errors (without
// the SDK's "operation error ..." wrapping), else the whole error text.
func errMessage(err error) string {
	var ne *namedError
	if errors.As(err, &ne) {
		return ne.msg
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		return ae.ErrorMessage()
	}
	return err.Error()
}

func isAWSError(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// isoNow is JavaScript's new Date().toISOString(): UTC, milliseconds, Z.
func isoNow(now func() time.Time) string {
	t := time.Now
	if now != nil {
		t = now
	}
	return t().UTC().Format("2006-01-02T15:04:05.000Z")
}

// decodeUTF8 is Buffer#toString('utf-8'): invalid bytes become U+FFFD.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// parseJSON is JSON.parse: one JSON value, surrounding whitespace allowed.
// Numbers stay json.Number so they reach DynamoDB digit for digit.
func parseJSON(s string) (any, error) {
	if !json.Valid([]byte(s)) {
		return nil, errors.New("not JSON")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// toAttr marshals a parsed JSON value the way lib-dynamodb's marshall does:
// objects to M, arrays to L, numbers to N, null to NULL.
func toAttr(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case json.Number:
		return &types.AttributeValueMemberN{Value: x.String()}, nil
	case int64:
		return &types.AttributeValueMemberN{Value: fmt.Sprint(x)}, nil
	case []any:
		l := make([]types.AttributeValue, 0, len(x))
		for _, e := range x {
			a, err := toAttr(e)
			if err != nil {
				return nil, err
			}
			l = append(l, a)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			a, err := toAttr(e)
			if err != nil {
				return nil, err
			}
			m[k] = a
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("cannot store a %T in DynamoDB", v)
}

// fromAttr unmarshals an attribute the way lib-dynamodb's unmarshall does,
// into values that encode as JSON.stringify would encode them.
func fromAttr(av types.AttributeValue) any {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return json.Number(x.Value)
	case *types.AttributeValueMemberBOOL:
		return x.Value
	case *types.AttributeValueMemberNULL:
		return json.RawMessage("null")
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]any, 0, len(x.Value))
		for _, e := range x.Value {
			l = append(l, fromAttr(e))
		}
		return l
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(x.Value))
		for k, e := range x.Value {
			m[k] = fromAttr(e)
		}
		return m
	case *types.AttributeValueMemberSS:
		return append([]string{}, x.Value...)
	case *types.AttributeValueMemberNS:
		l := make([]json.Number, 0, len(x.Value))
		for _, n := range x.Value {
			l = append(l, json.Number(n))
		}
		return l
	case *types.AttributeValueMemberBS:
		l := make([]string, 0, len(x.Value))
		for _, b := range x.Value {
			l = append(l, base64.StdEncoding.EncodeToString(b))
		}
		return l
	}
	return nil
}

// marshalJS is JSON.stringify(v, null, indent): no HTML escaping, no
// trailing newline.
func marshalJS(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

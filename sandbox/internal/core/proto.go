package core

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Form returns the Query-protocol parameters: the form body merged with the
// URL query (GET-style Query calls carry them in the URL).
func (r *Request) Form() (url.Values, error) {
	vals := r.HTTP.URL.Query()
	if len(r.Body) > 0 {
		body, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return nil, &Error{Code: "MalformedQueryString", Message: "The request body could not be parsed: " + err.Error()}
		}
		for k, v := range body {
			vals[k] = v
		}
	}
	return vals, nil
}

// QueryAction reads a Query-protocol call's parameters and its Action,
// which known must accept. When it cannot, it has written AWS's error
// (MalformedQueryString, MissingAction or InvalidAction) and ok is false.
func QueryAction(r *Request, xmlns string, known func(action string) bool) (vals url.Values, action string, ok bool) {
	vals, err := r.Form()
	if err != nil {
		r.Operation = "Unknown"
		WriteQueryError(r, xmlns, err)
		return nil, "", false
	}
	action = vals.Get("Action")
	if !known(action) {
		r.Operation = "Unknown"
		if action == "" {
			WriteQueryError(r, xmlns, &Error{Code: "MissingAction", Message: "No action was supplied with this request."})
			return nil, "", false
		}
		WriteQueryError(r, xmlns, &Error{Code: "InvalidAction", Message: "The action " + action + " is not valid for this endpoint."})
		return nil, "", false
	}
	r.Operation = action
	return vals, action, true
}

// FormIndices returns the sorted N of every Query parameter named prefix.N
// or prefix.N.<more>: the members of a Query-protocol list or map.
func FormIndices(f url.Values, prefix string) []int {
	seen := map[int]bool{}
	for k := range f {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// ServeJSONTarget serves a JSON-protocol call: X-Amz-Target names the
// operation after prefix, ops answers it, and the answer or the error is
// written as AWS JSON.
func ServeJSONTarget(r *Request, prefix string, ops map[string]func(*Request) (any, error)) {
	target := r.HTTP.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, prefix)
	h := ops[op]
	if !ok || h == nil {
		WriteJSONError(r, "", Errorf("UnknownOperationException", "Unknown operation %q", target))
		return
	}
	r.Operation = op
	out, err := h(r)
	if err != nil {
		WriteJSONError(r, "", err)
		return
	}
	WriteJSON(r, out)
}

// DecodeJSON decodes a JSON-protocol body into v. An empty body is an empty
// object, as AWS accepts. Malformed input is a SerializationException.
func (r *Request) DecodeJSON(v any) error {
	body := bytes.TrimSpace(r.Body)
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &Error{Code: "SerializationException", Message: "Start of structure or map found where not expected: " + err.Error()}
	}
	return nil
}

// --- Query protocol (IAM, STS, SNS, legacy SQS) ---

// WriteQuery writes <OpResponse><OpResult>result</OpResult><ResponseMetadata/></OpResponse>.
// result is any value encoding/xml can marshal; nil omits the Result element
// (operations such as DeleteRole answer with metadata only).
func WriteQuery(r *Request, xmlns string, result any) {
	op := r.Operation
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	buf.WriteString("<" + op + `Response xmlns="` + xmlns + `">`)
	if result != nil {
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
			WriteQueryError(r, xmlns, &Error{Code: "InternalFailure", Message: "encode response: " + err.Error(), Status: 500, Receiver: true})
			return
		}
	}
	buf.WriteString("<ResponseMetadata><RequestId>" + r.RequestID + "</RequestId></ResponseMetadata>")
	buf.WriteString("</" + op + "Response>")
	writeBody(r, http.StatusOK, "text/xml", buf.Bytes())
}

// WriteQueryError writes the Query protocol's ErrorResponse.
func WriteQueryError(r *Request, xmlns string, err error) {
	e := AsError(err)
	typ := "Sender"
	if e.Receiver {
		typ = "Receiver"
	}
	code := e.Code
	if e.QueryCode != "" {
		code = e.QueryCode
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	buf.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>` + typ + `</Type><Code>`)
	xml.EscapeText(&buf, []byte(code))
	buf.WriteString(`</Code><Message>`)
	xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString(`</Message></Error><RequestId>` + r.RequestID + `</RequestId></ErrorResponse>`)
	writeBody(r, e.HTTPStatus(), "text/xml", buf.Bytes())
}

// --- JSON 1.0 / 1.1 (DynamoDB, SQS, EventBridge, CloudWatch Logs) ---

// JSONContentType echoes the request's JSON version.
func (r *Request) JSONContentType() string {
	ct := r.HTTP.Header.Get("Content-Type")
	if strings.Contains(ct, "1.1") {
		return "application/x-amz-json-1.1"
	}
	return "application/x-amz-json-1.0"
}

// WriteJSON writes v as a 200 JSON-protocol response.
func WriteJSON(r *Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteJSONError(r, "", &Error{Code: "InternalFailure", Message: err.Error(), Status: 500, Receiver: true})
		return
	}
	writeBody(r, http.StatusOK, r.JSONContentType(), b)
}

// WriteJSONError writes {"__type": ns#Code, "message": ...}. ns is the
// service's shape namespace (e.g. "com.amazonaws.dynamodb.v20120810").
// For SQS the legacy code travels in x-amzn-query-error.
func WriteJSONError(r *Request, ns string, err error) {
	e := AsError(err)
	typ := e.Code
	if ns != "" {
		typ = ns + "#" + e.Code
	}
	if e.QueryCode != "" {
		fault := "Sender"
		if e.Receiver {
			fault = "Receiver"
		}
		r.W.Header().Set("x-amzn-query-error", e.QueryCode+";"+fault)
	}
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": e.Message})
	writeBody(r, e.HTTPStatus(), r.JSONContentType(), b)
}

// --- REST-XML (S3) ---

// WriteXML writes v (marshalled by encoding/xml, its XMLName naming the
// root) with the given status.
func WriteXML(r *Request, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		WriteRESTXMLError(r, &Error{Code: "InternalError", Message: err.Error(), Status: 500})
		return
	}
	writeBody(r, status, "application/xml", buf.Bytes())
}

// WriteRESTXMLError writes S3's <Error> document; HEAD responses carry no body.
func WriteRESTXMLError(r *Request, err error) {
	e := AsError(err)
	r.W.Header().Set("x-amz-request-id", r.RequestID)
	if r.HTTP.Method == http.MethodHead {
		r.Status = e.HTTPStatus()
		r.W.WriteHeader(r.Status)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>")
	xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message>")
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		buf.WriteString("<" + k + ">")
		xml.EscapeText(&buf, []byte(e.Fields[k]))
		buf.WriteString("</" + k + ">")
	}
	buf.WriteString("<RequestId>" + r.RequestID + "</RequestId><HostId>" + r.RequestID + "</HostId></Error>")
	writeBody(r, e.HTTPStatus(), "application/xml", buf.Bytes())
}

// --- REST-JSON (Lambda) ---

// WriteRESTJSON writes v as JSON with the given status.
func WriteRESTJSON(r *Request, status int, v any) {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			WriteRESTJSONError(r, &Error{Code: "ServiceException", Message: err.Error(), Status: 500, Receiver: true})
			return
		}
	}
	writeBody(r, status, "application/json", b)
}

// WriteRESTJSONError writes Lambda's error shape: the code in
// X-Amzn-Errortype and {"Type": "User", "Message": ...}.
func WriteRESTJSONError(r *Request, err error) {
	e := AsError(err)
	typ := "User"
	if e.Receiver {
		typ = "Service"
	}
	r.W.Header().Set("X-Amzn-Errortype", e.Code)
	b, _ := json.Marshal(map[string]string{"Type": typ, "Message": e.Message})
	writeBody(r, e.HTTPStatus(), "application/json", b)
}

// AsError converts any error into an AWS error; unknown errors become a 500
// InternalFailure (a sandbox bug, worded as one).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "InternalFailure", Message: "sandbox internal error: " + err.Error(), Status: 500, Receiver: true}
}

func writeBody(r *Request, status int, contentType string, body []byte) {
	h := r.W.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("x-amzn-RequestId", r.RequestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	r.Status = status
	r.W.WriteHeader(status)
	if r.HTTP.Method != http.MethodHead {
		_, _ = r.W.Write(body)
	}
}

// WriteRaw writes a body with explicit headers already set by the caller
// (S3 GetObject, Lambda Invoke payloads).
func WriteRaw(r *Request, status int, contentType string, body []byte) {
	writeBody(r, status, contentType, body)
}

// WriteStream writes a body of length bytes read from body (S3 GetObject of
// a file), without holding it.
func WriteStream(r *Request, status int, contentType string, length int64, body io.Reader) {
	h := r.W.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("x-amzn-RequestId", r.RequestID)
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	r.Status = status
	r.W.WriteHeader(status)
	if r.HTTP.Method != http.MethodHead {
		_, _ = io.CopyN(r.W, body, length)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

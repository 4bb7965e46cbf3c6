package sqs

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// handlerFunc serves one operation in either protocol: in JSON mode it
// decodes r.Body and returns the JSON output; in Query mode it reads f and
// returns the value to marshal inside <OpResult> (nil for none).
type handlerFunc func(s *Service, r *core.Request, jsonMode bool, f form) (any, error)

// op binds an operation's protocol-neutral implementation to its Query
// parser and its XML rendering; JSON input and output are the In and Out
// types themselves.
func op[In, Out any](parse func(form) (*In, error), exec func(*Service, *core.Request, *In) (*Out, error), toXML func(*Out) any) handlerFunc {
	return func(s *Service, r *core.Request, jsonMode bool, f form) (any, error) {
		in := new(In)
		if jsonMode {
			if err := r.DecodeJSON(in); err != nil {
				return nil, err
			}
		} else {
			var err error
			if in, err = parse(f); err != nil {
				return nil, err
			}
		}
		out, err := exec(s, r, in)
		if err != nil {
			return nil, err
		}
		if jsonMode {
			return out, nil
		}
		if toXML == nil {
			return nil, nil
		}
		return toXML(out), nil
	}
}

// form reads Query-protocol parameters, including the numbered lists and
// maps (Attribute.1.Name=..., MessageAttribute.1.Value.StringValue=...).
type form url.Values

func (f form) get(k string) string { return url.Values(f).Get(k) }

func (f form) has(k string) bool { _, ok := f[k]; return ok }

func (f form) optInt(k string) (*int, error) {
	v := f.get(k)
	if !f.has(k) || v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return nil, errInvalidParam("Value %s for parameter %s is invalid. Reason: Must be an integer.", v, k)
	}
	return &n, nil
}

// indices returns the sorted N of every parameter named prefix.N or
// prefix.N.<more>.
func (f form) indices(prefix string) []int { return core.FormIndices(url.Values(f), prefix) }

// list reads prefix.1, prefix.2, ... under the first prefix present.
func (f form) list(prefixes ...string) []string {
	for _, p := range prefixes {
		idx := f.indices(p)
		if len(idx) == 0 {
			continue
		}
		out := make([]string, 0, len(idx))
		for _, n := range idx {
			if v := f.get(p + "." + strconv.Itoa(n)); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}

// pairs reads prefix.N.<key>/prefix.N.<value> under the first prefix
// present.
func (f form) pairs(prefixes []string, key, value string) map[string]string {
	for _, p := range prefixes {
		idx := f.indices(p)
		if len(idx) == 0 {
			continue
		}
		out := map[string]string{}
		for _, n := range idx {
			base := p + "." + strconv.Itoa(n) + "."
			if k := f.get(base + key); k != "" {
				out[k] = f.get(base + value)
			}
		}
		return out
	}
	return nil
}

func (f form) messageAttributes(prefixes ...string) (map[string]MessageAttribute, error) {
	for _, p := range prefixes {
		idx := f.indices(p)
		if len(idx) == 0 {
			continue
		}
		out := map[string]MessageAttribute{}
		for _, n := range idx {
			base := p + "." + strconv.Itoa(n) + "."
			name := f.get(base + "Name")
			if name == "" {
				return nil, errInvalidParam("The request must contain non-empty message attribute name.")
			}
			a := MessageAttribute{DataType: f.get(base + "Value.DataType"), StringValue: f.get(base + "Value.StringValue")}
			if b64 := f.get(base + "Value.BinaryValue"); b64 != "" {
				b, err := base64.StdEncoding.DecodeString(b64)
				if err != nil {
					return nil, errInvalidParam("The message attribute '%s' has an invalid base64 binary value.", name)
				}
				a.BinaryValue = b
			}
			out[name] = a
		}
		return out, nil
	}
	return nil, nil
}

// --- XML renderings shared by several operations ---

type xmlNV struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

func nvList(m map[string]string) []xmlNV {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]xmlNV, 0, len(keys))
	for _, k := range keys {
		out = append(out, xmlNV{Name: k, Value: m[k]})
	}
	return out
}

type xmlKV struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlAttrValue struct {
	StringValue string `xml:"StringValue,omitempty"`
	BinaryValue string `xml:"BinaryValue,omitempty"`
	DataType    string `xml:"DataType"`
}

type xmlMessageAttribute struct {
	Name  string       `xml:"Name"`
	Value xmlAttrValue `xml:"Value"`
}

func xmlMessageAttributes(m map[string]MessageAttribute) []xmlMessageAttribute {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]xmlMessageAttribute, 0, len(keys))
	for _, k := range keys {
		a := m[k]
		v := xmlAttrValue{StringValue: a.StringValue, DataType: a.DataType}
		if a.BinaryValue != nil {
			v.BinaryValue = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		out = append(out, xmlMessageAttribute{Name: k, Value: v})
	}
	return out
}

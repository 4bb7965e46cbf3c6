package sns

import (
	"encoding/base64"
	"net/url"
	"strconv"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// form reads Query-protocol parameters, including SNS's non-flattened
// shapes: maps as Name.entry.N.key/value, lists as Name.member.N.
type form url.Values

func (f form) get(k string) string { return url.Values(f).Get(k) }

func (f form) has(k string) bool { _, ok := f[k]; return ok }

// indices returns the sorted N of every parameter prefix.N or prefix.N.x.
func (f form) indices(prefix string) []int { return core.FormIndices(url.Values(f), prefix) }

// attributes reads name.entry.N.key / name.entry.N.value.
func (f form) attributes(name string) map[string]string {
	p := name + ".entry"
	idx := f.indices(p)
	if len(idx) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, n := range idx {
		base := p + "." + strconv.Itoa(n) + "."
		if k := f.get(base + "key"); k != "" {
			out[k] = f.get(base + "value")
		}
	}
	return out
}

// tags reads name.member.N.Key / name.member.N.Value in order.
func (f form) tags(name string) []Tag {
	p := name + ".member"
	var out []Tag
	for _, n := range f.indices(p) {
		base := p + "." + strconv.Itoa(n) + "."
		out = append(out, Tag{Key: f.get(base + "Key"), Value: f.get(base + "Value")})
	}
	return out
}

// strings reads name.member.N.
func (f form) list(name string) []string {
	p := name + ".member"
	var out []string
	for _, n := range f.indices(p) {
		out = append(out, f.get(p+"."+strconv.Itoa(n)))
	}
	return out
}

// messageAttributes reads prefix.entry.N.Name / .Value.DataType /
// .Value.StringValue / .Value.BinaryValue (base64).
func (f form) messageAttributes(prefix string) (map[string]MessageAttribute, error) {
	p := prefix + ".entry"
	idx := f.indices(p)
	if len(idx) == 0 {
		return nil, nil
	}
	out := map[string]MessageAttribute{}
	for _, n := range idx {
		base := p + "." + strconv.Itoa(n) + "."
		name := f.get(base + "Name")
		if name == "" {
			return nil, errInvalidParameter("MessageAttributes Reason: Message attribute name can not be empty")
		}
		a := MessageAttribute{DataType: f.get(base + "Value.DataType"), StringValue: f.get(base + "Value.StringValue")}
		if b64 := f.get(base + "Value.BinaryValue"); b64 != "" {
			b, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, errValueInvalid("The message attribute '%s' has an invalid binary value.", name)
			}
			a.BinaryValue = b
		}
		out[name] = a
	}
	return out, nil
}

// page returns the keys after token (an opaque encoding of the last key
// of the previous page), at most size, and the next token.
func page(keys []string, token string, size int) ([]string, string, error) {
	start := 0
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) == 0 {
			return nil, "", errInvalidParameter("NextToken")
		}
		after := string(b)
		for start < len(keys) && keys[start] <= after {
			start++
		}
	}
	end := min(start+size, len(keys))
	next := ""
	if end < len(keys) {
		next = base64.RawURLEncoding.EncodeToString([]byte(keys[end-1]))
	}
	return keys[start:end], next, nil
}

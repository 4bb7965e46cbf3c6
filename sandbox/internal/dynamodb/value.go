package dynamodb

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Type is the data type of an attribute value, named as on the wire.
type Type uint8

// The DynamoDB data types.
const (
	TypeS Type = iota + 1
	TypeN
	TypeB
	TypeBOOL
	TypeNULL
	TypeSS
	TypeNS
	TypeBS
	TypeM
	TypeL
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "M", "L"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// Value is one DynamoDB AttributeValue. It encodes to and from the wire form
// ({"S": "x"}, {"N": "1"}, {"M": {...}}, ...), which is also how items are
// journalled, so a stored item reads exactly like a request body.
type Value struct {
	T Type
	// S holds the string of S, the canonical decimal of N and the raw
	// bytes of B.
	S    string
	BOOL bool
	// Set holds the members of SS, NS (canonical decimals) and BS (raw bytes).
	Set []string
	M   map[string]Value
	L   []Value
}

// Item is a DynamoDB item: attribute name to value.
type Item = map[string]Value

// Str returns an S value.
func Str(s string) Value { return Value{T: TypeS, S: s} }

// Num returns an N value from a decimal string; it panics on a malformed
// number (use it with literals).
func Num(s string) Value {
	d, err := parseNumber(s)
	if err != nil {
		panic(err)
	}
	return Value{T: TypeN, S: d.String()}
}

func (v Value) isScalar() bool { return v.T == TypeS || v.T == TypeN || v.T == TypeB }
func (v Value) isSet() bool    { return v.T == TypeSS || v.T == TypeNS || v.T == TypeBS }

func (v Value) num() decimal {
	d, _ := parseNumber(v.S)
	return d
}

// wireValue is the JSON shape; pointers tell "absent" from "zero".
type wireValue struct {
	S    *string           `json:"S"`
	N    *string           `json:"N"`
	B    *[]byte           `json:"B"`
	BOOL *bool             `json:"BOOL"`
	NULL *bool             `json:"NULL"`
	SS   *[]string         `json:"SS"`
	NS   *[]string         `json:"NS"`
	BS   *[][]byte         `json:"BS"`
	M    *map[string]Value `json:"M"`
	L    *[]Value          `json:"L"`
}

func invalid(format string, args ...any) *core.Error {
	return core.Errorf("ValidationException", "One or more parameter values were invalid: "+format, args...)
}

// UnmarshalJSON decodes and validates the wire form. Validation failures are
// *core.Error ValidationExceptions, which the request decoder passes through
// (malformed JSON stays a SerializationException).
func (v *Value) UnmarshalJSON(b []byte) error {
	var w wireValue
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	n := 0
	for _, set := range []bool{w.S != nil, w.N != nil, w.B != nil, w.BOOL != nil, w.NULL != nil, w.SS != nil, w.NS != nil, w.BS != nil, w.M != nil, w.L != nil} {
		if set {
			n++
		}
	}
	if n == 0 {
		return invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if n > 1 {
		return invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	*v = Value{}
	switch {
	case w.S != nil:
		v.T, v.S = TypeS, *w.S
	case w.N != nil:
		d, err := parseNumber(*w.N)
		if err != nil {
			return err
		}
		v.T, v.S = TypeN, d.String()
	case w.B != nil:
		v.T, v.S = TypeB, string(*w.B)
	case w.BOOL != nil:
		v.T, v.BOOL = TypeBOOL, *w.BOOL
	case w.NULL != nil:
		if !*w.NULL {
			return invalid("Null attribute value types must have the value of true")
		}
		v.T = TypeNULL
	case w.SS != nil:
		if len(*w.SS) == 0 {
			return invalid("An string set  may not be empty")
		}
		v.T, v.Set = TypeSS, *w.SS
		if hasDup(v.Set) {
			return invalid("Input collection [%s] contains duplicates.", strings.Join(v.Set, ", "))
		}
	case w.NS != nil:
		if len(*w.NS) == 0 {
			return invalid("An number set  may not be empty")
		}
		v.T = TypeNS
		for _, s := range *w.NS {
			d, err := parseNumber(s)
			if err != nil {
				return err
			}
			v.Set = append(v.Set, d.String())
		}
		if hasDup(v.Set) {
			return invalid("Input collection contains duplicates")
		}
	case w.BS != nil:
		if len(*w.BS) == 0 {
			return invalid("Binary sets should not be empty")
		}
		v.T = TypeBS
		for _, b := range *w.BS {
			v.Set = append(v.Set, string(b))
		}
		if hasDup(v.Set) {
			enc := make([]string, len(v.Set))
			for i, s := range v.Set {
				enc[i] = base64.StdEncoding.EncodeToString([]byte(s))
			}
			return invalid("Input collection [%s]of type BS contains duplicates.", strings.Join(enc, ", "))
		}
	case w.M != nil:
		v.T, v.M = TypeM, *w.M
		if v.M == nil {
			v.M = map[string]Value{}
		}
	case w.L != nil:
		v.T, v.L = TypeL, *w.L
		if v.L == nil {
			v.L = []Value{}
		}
	}
	return nil
}

func hasDup(s []string) bool {
	seen := make(map[string]struct{}, len(s))
	for _, x := range s {
		if _, ok := seen[x]; ok {
			return true
		}
		seen[x] = struct{}{}
	}
	return false
}

// MarshalJSON writes the wire form.
func (v Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(make([]byte, 0, 32)), nil
}

func (v Value) appendJSON(b []byte) []byte {
	b = append(b, `{"`...)
	b = append(b, v.T.String()...)
	b = append(b, `":`...)
	switch v.T {
	case TypeS, TypeN:
		b = appendJSONString(b, v.S)
	case TypeB:
		b = appendBase64(b, v.S)
	case TypeBOOL:
		if v.BOOL {
			b = append(b, "true"...)
		} else {
			b = append(b, "false"...)
		}
	case TypeNULL:
		b = append(b, "true"...)
	case TypeSS, TypeNS, TypeBS:
		b = append(b, '[')
		for i, s := range v.Set {
			if i > 0 {
				b = append(b, ',')
			}
			if v.T == TypeBS {
				b = appendBase64(b, s)
			} else {
				b = appendJSONString(b, s)
			}
		}
		b = append(b, ']')
	case TypeM:
		b = appendItemJSON(b, v.M)
	case TypeL:
		b = append(b, '[')
		for i, e := range v.L {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b)
		}
		b = append(b, ']')
	default:
		b = append(b, "null"...)
	}
	return append(b, '}')
}

func appendItemJSON(b []byte, m map[string]Value) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = m[k].appendJSON(b)
	}
	return append(b, '}')
}

func appendBase64(b []byte, s string) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, []byte(s))
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Equal reports whether two values are the same DynamoDB value (sets compare
// as sets).
func (v Value) Equal(o Value) bool {
	if v.T != o.T {
		return false
	}
	switch v.T {
	case TypeS, TypeN, TypeB:
		return v.S == o.S
	case TypeBOOL:
		return v.BOOL == o.BOOL
	case TypeNULL:
		return true
	case TypeSS, TypeNS, TypeBS:
		if len(v.Set) != len(o.Set) {
			return false
		}
		in := make(map[string]struct{}, len(v.Set))
		for _, s := range v.Set {
			in[s] = struct{}{}
		}
		for _, s := range o.Set {
			if _, ok := in[s]; !ok {
				return false
			}
		}
		return true
	case TypeM:
		if len(v.M) != len(o.M) {
			return false
		}
		for k, a := range v.M {
			b, ok := o.M[k]
			if !ok || !a.Equal(b) {
				return false
			}
		}
		return true
	case TypeL:
		if len(v.L) != len(o.L) {
			return false
		}
		for i := range v.L {
			if !v.L[i].Equal(o.L[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// compareScalars orders two values of the same scalar type (S and B by
// bytes, N numerically); ok is false for any other pair, which DynamoDB
// treats as "condition false".
func compareScalars(a, b Value) (int, bool) {
	if a.T != b.T || !a.isScalar() {
		return 0, false
	}
	if a.T == TypeN {
		return a.num().cmp(b.num()), true
	}
	return strings.Compare(a.S, b.S), true
}

// Clone deep-copies a value so an update can be applied and rolled back
// without touching the stored item.
func (v Value) Clone() Value {
	switch v.T {
	case TypeSS, TypeNS, TypeBS:
		v.Set = append([]string(nil), v.Set...)
	case TypeM:
		v.M = cloneItem(v.M)
	case TypeL:
		l := make([]Value, len(v.L))
		for i, e := range v.L {
			l[i] = e.Clone()
		}
		v.L = l
	}
	return v
}

func cloneItem(it Item) Item {
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

// size is DynamoDB's billing size of a value (without its name).
func (v Value) size() int {
	switch v.T {
	case TypeS, TypeB:
		return len(v.S)
	case TypeN:
		return v.num().sizeBytes()
	case TypeBOOL, TypeNULL:
		return 1
	case TypeSS, TypeBS:
		n := 0
		for _, s := range v.Set {
			n += len(s)
		}
		return n
	case TypeNS:
		n := 0
		for _, s := range v.Set {
			d, _ := parseNumber(s)
			n += d.sizeBytes()
		}
		return n
	case TypeM:
		n := 3
		for k, e := range v.M {
			n += len(k) + e.size() + 1
		}
		return n
	case TypeL:
		n := 3
		for _, e := range v.L {
			n += e.size() + 1
		}
		return n
	}
	return 0
}

// itemSize is the size AWS checks against the 400 KB limit: attribute name
// lengths plus value sizes.
func itemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + v.size()
	}
	return n
}

const maxItemSize = 400 * 1024

// keyEncoding encodes a key attribute so that byte-wise order of encodings is
// DynamoDB's order of the values (S and B by bytes, N numerically) and the
// result is printable ASCII (the journal stores keys as JSON strings).
func keyEncoding(v Value) string {
	if v.T == TypeN {
		return v.num().keyEncoding()
	}
	return hex.EncodeToString([]byte(v.S))
}

// describe renders a value the way AWS quotes operands in messages,
// e.g. {N:5} or {S:abc}.
func (v Value) describe() string {
	switch v.T {
	case TypeS, TypeN:
		return "{" + v.T.String() + ":" + v.S + "}"
	case TypeB:
		return "{B:" + base64.StdEncoding.EncodeToString([]byte(v.S)) + "}"
	}
	return string(v.appendJSON(nil))
}

package dynamodb

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// decimal is a DynamoDB number: value = ±0.digits × 10^exp. DynamoDB keeps
// 38 significant digits exactly, which float64 cannot, so numbers are never
// converted to floating point: comparison works on the digit string and
// arithmetic on math/big integers.
type decimal struct {
	neg    bool
	digits string // significant digits without leading or trailing zeros; "" is zero
	exp    int
}

const (
	maxDigits = 38
	maxExp    = 126  // 9.99..E+125 = 0.999.. × 10^126
	minExp    = -129 // 1E-130 = 0.1 × 10^-129
)

var errNotNumber = core.Errorf("ValidationException", "A value provided cannot be converted into a number")

// parseNumber accepts the forms Java's BigDecimal accepts (DynamoDB's own
// parser): an optional sign, digits with at most one point, an optional
// exponent.
func parseNumber(s string) (decimal, error) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	var mant []byte
	point := -1
	sawDigit := false
mantissa:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			mant = append(mant, c)
			sawDigit = true
		case c == '.' && point < 0:
			point = len(mant)
		default:
			break mantissa
		}
	}
	if !sawDigit {
		return decimal{}, errNotNumber
	}
	if point < 0 {
		point = len(mant)
	}
	e := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return decimal{}, errNotNumber
		}
		i++
		es := s[i:]
		if es == "" || es == "+" || es == "-" {
			return decimal{}, errNotNumber
		}
		body := strings.TrimLeft(es, "+-")
		if len(es)-len(body) > 1 {
			return decimal{}, errNotNumber
		}
		for j := 0; j < len(body); j++ {
			if body[j] < '0' || body[j] > '9' {
				return decimal{}, errNotNumber
			}
		}
		body = strings.TrimLeft(body, "0")
		if len(body) > 6 {
			// Far outside DynamoDB's range either way; decide by sign below.
			body = "999999"
		}
		if body != "" {
			e, _ = strconv.Atoi(body)
		}
		if es[0] == '-' {
			e = -e
		}
	}
	lead := 0
	for lead < len(mant) && mant[lead] == '0' {
		lead++
	}
	digits := strings.TrimRight(string(mant[lead:]), "0")
	if digits == "" {
		return decimal{}, nil
	}
	d.digits = digits
	d.exp = point - lead + e
	return d, d.check()
}

func (d decimal) check() error {
	if d.digits == "" {
		return nil
	}
	if len(d.digits) > maxDigits {
		return core.Errorf("ValidationException", "Attempting to store more than 38 significant digits in a Number")
	}
	if d.exp > maxExp {
		return core.Errorf("ValidationException", "Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	if d.exp < minExp {
		return core.Errorf("ValidationException", "Number underflow. Attempting to store a number with magnitude smaller than supported range")
	}
	return nil
}

// String is the canonical plain form DynamoDB returns: no exponent, no
// leading or trailing zeros, "0" for zero.
func (d decimal) String() string {
	if d.digits == "" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	n := len(d.digits)
	switch {
	case d.exp <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -d.exp))
		b.WriteString(d.digits)
	case d.exp < n:
		b.WriteString(d.digits[:d.exp])
		b.WriteByte('.')
		b.WriteString(d.digits[d.exp:])
	default:
		b.WriteString(d.digits)
		b.WriteString(strings.Repeat("0", d.exp-n))
	}
	return b.String()
}

func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

func (d decimal) cmp(o decimal) int {
	sa, sb := d.sign(), o.sign()
	if sa != sb {
		return cmpInt(sa, sb)
	}
	if sa == 0 {
		return 0
	}
	c := cmpInt(d.exp, o.exp)
	if c == 0 {
		c = strings.Compare(d.digits, o.digits)
	}
	return c * sa
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// add returns d+o (or d-o when sub), exactly, then applies DynamoDB's limits.
func (d decimal) add(o decimal, sub bool) (decimal, error) {
	if sub {
		o.neg = !o.neg
		if o.digits == "" {
			o.neg = false
		}
	}
	if d.digits == "" {
		return o, o.check()
	}
	if o.digits == "" {
		return d, d.check()
	}
	// value = int × 10^scale with scale = exp - len(digits)
	sa, sb := d.exp-len(d.digits), o.exp-len(o.digits)
	scale := min(sa, sb)
	a, b := d.bigInt(sa-scale), o.bigInt(sb-scale)
	a.Add(a, b)
	r := decimal{neg: a.Sign() < 0}
	s := a.Abs(a).String()
	if s == "0" {
		return decimal{}, nil
	}
	r.exp = len(s) + scale
	r.digits = strings.TrimRight(s, "0")
	return r, r.check()
}

func (d decimal) bigInt(shift int) *big.Int {
	n, _ := new(big.Int).SetString(d.digits, 10)
	if shift > 0 {
		n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	}
	if d.neg {
		n.Neg(n)
	}
	return n
}

// sizeBytes is DynamoDB's storage size of a number: one byte per two
// significant digits plus one.
func (d decimal) sizeBytes() int {
	return (len(d.digits)+1)/2 + 1
}

// keyEncoding is an order-preserving ASCII encoding: comparing encodings
// byte-wise compares the numbers. Negative numbers come first (class "0",
// exponent and digits complemented, "~" ending a shorter digit run so that
// it sorts after its extensions), then zero ("1"), then positives ("2").
func (d decimal) keyEncoding() string {
	switch d.sign() {
	case 0:
		return "1"
	case 1:
		return "2" + pad3(d.exp+200) + d.digits
	}
	b := make([]byte, 0, len(d.digits)+5)
	b = append(b, '0')
	b = append(b, pad3(999-(d.exp+200))...)
	for i := 0; i < len(d.digits); i++ {
		b = append(b, '9'-d.digits[i]+'0')
	}
	b = append(b, '~')
	return string(b)
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

package dynamodb

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// The expression language (condition, filter, key condition, projection and
// update expressions) is parsed by a hand-written lexer and recursive-descent
// parser over this grammar, with AWS's precedence
// (comparisons, IN, BETWEEN, functions > NOT > AND > OR):
//
//	or       = and { "OR" and }
//	and      = not { "AND" not }
//	not      = "NOT" not | primary
//	primary  = "(" or ")" | function | operand comparator operand
//	         | operand "BETWEEN" operand "AND" operand
//	         | operand "IN" "(" operand { "," operand } ")"
//	operand  = path | :value | "size" "(" path ")"
//	path     = name { "." name | "[" digits "]" }     name = identifier | #placeholder
//	update   = { ("SET" set | "REMOVE" path | "ADD" path :value | "DELETE" path :value) {"," ...} }
//	set      = path "=" setval [ ("+"|"-") setval ]
//	setval   = :value | path | "if_not_exists" "(" path "," setval ")" | "list_append" "(" setval "," setval ")"
//
// Errors follow AWS's wording. Syntax errors name the offending token and
// the source from the previous to the next token ("near"); errors about
// names, values and reserved words are reported only when the syntax is
// valid, as AWS validates the tree after parsing it.

const (
	kindCondition  = "ConditionExpression"
	kindFilter     = "FilterExpression"
	kindKey        = "KeyConditionExpression"
	kindProjection = "ProjectionExpression"
	kindUpdate     = "UpdateExpression"

	maxExprSize  = 4096
	maxPathDepth = 32
)

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkIdent
	tkName  // #placeholder
	tkValue // :placeholder
	tkNumber
	tkLParen
	tkRParen
	tkLBracket
	tkRBracket
	tkComma
	tkDot
	tkEq
	tkNe
	tkLt
	tkLe
	tkGt
	tkGe
	tkPlus
	tkMinus
	tkBad
)

type token struct {
	kind     tokKind
	text     string
	pos, end int
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func lex(src string) []token {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		kind := tkBad
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isIdentStart(c):
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			kind = tkIdent
		case c >= '0' && c <= '9':
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			kind = tkNumber
		case c == '#' || c == ':':
			i++
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			if i-start > 1 {
				kind = tkName
				if c == ':' {
					kind = tkValue
				}
			}
		case c == '<':
			i++
			kind = tkLt
			if i < len(src) && src[i] == '=' {
				i, kind = i+1, tkLe
			} else if i < len(src) && src[i] == '>' {
				i, kind = i+1, tkNe
			}
		case c == '>':
			i++
			kind = tkGt
			if i < len(src) && src[i] == '=' {
				i, kind = i+1, tkGe
			}
		default:
			i++
			switch c {
			case '(':
				kind = tkLParen
			case ')':
				kind = tkRParen
			case '[':
				kind = tkLBracket
			case ']':
				kind = tkRBracket
			case ',':
				kind = tkComma
			case '.':
				kind = tkDot
			case '=':
				kind = tkEq
			case '+':
				kind = tkPlus
			case '-':
				kind = tkMinus
			default:
				_, size := utf8.DecodeRuneInString(src[start:])
				i = start + size
			}
		}
		toks = append(toks, token{kind: kind, text: src[start:i], pos: start, end: i})
	}
	return append(toks, token{kind: tkEOF, text: "<EOF>", pos: len(src), end: len(src)})
}

// pathElem is one step of a document path: a map key or a list index.
type pathElem struct {
	name  string
	index int
	isIdx bool
}

type docPath []pathElem

// String renders a path as AWS does in overlap errors: [a, b, [0]].
func (p docPath) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIdx {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// overlaps reports whether one path is a prefix of (or equal to) the other.
func (p docPath) overlaps(o docPath) bool {
	n := min(len(p), len(o))
	for i := 0; i < n; i++ {
		if p[i] != o[i] {
			return false
		}
	}
	return true
}

type opKind uint8

const (
	oPath opKind = iota
	oValue
	oSize
	oIfNotExists
	oListAppend
	oPlus
	oMinus
)

type operand struct {
	kind opKind
	path docPath
	val  Value
	args []*operand
}

type condKind uint8

const (
	cAnd condKind = iota
	cOr
	cNot
	cCmp
	cBetween
	cIn
	cFunc
)

type cond struct {
	kind  condKind
	op    string // comparator, "BETWEEN", "IN" or function name
	l, r  *cond
	args  []*operand
	paren bool
}

type updateAction struct {
	clause string // SET, REMOVE, ADD, DELETE
	path   docPath
	val    *operand
}

// exprEnv holds a request's ExpressionAttributeNames and Values and records
// which were used, for AWS's "unused" validation across all expressions of
// the request.
type exprEnv struct {
	names      map[string]string
	values     map[string]Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

func newEnv(names map[string]string, values map[string]Value) *exprEnv {
	return &exprEnv{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// checkUnused reports placeholders that no expression referenced.
func (env *exprEnv) checkUnused() error {
	if k := unused(env.names, env.usedNames); k != "" {
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", k)
	}
	vals := make(map[string]string, len(env.values))
	for k := range env.values {
		vals[k] = ""
	}
	if k := unused(vals, env.usedValues); k != "" {
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", k)
	}
	return nil
}

func unused(m map[string]string, used map[string]bool) string {
	var keys []string
	for k := range m {
		if !used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func validation(format string, args ...any) *core.Error {
	return core.Errorf("ValidationException", format, args...)
}

// parseFailure carries a parse error through panics inside the parser; the
// entry points recover only this type.
type parseFailure struct{ err error }

type parser struct {
	kind     string
	src      string
	toks     []token
	pos      int
	env      *exprEnv
	deferred error
}

func newParser(kind, src string, env *exprEnv) (*parser, error) {
	if strings.TrimSpace(src) == "" {
		return nil, validation("Invalid %s: The expression can not be empty;", kind)
	}
	if len(src) > maxExprSize {
		return nil, validation("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", kind, len(src))
	}
	return &parser{kind: kind, src: src, toks: lex(src), env: env}, nil
}

func (p *parser) run(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			pf, ok := r.(parseFailure)
			if !ok {
				panic(r)
			}
			err = pf.err
		}
	}()
	fn()
	if p.deferred != nil {
		return p.deferred
	}
	return nil
}

func (p *parser) fail(err error) { panic(parseFailure{err}) }

func (p *parser) errorf(format string, args ...any) *core.Error {
	return validation("Invalid "+p.kind+": "+format, args...)
}

// later records a semantic error to report if the syntax turns out valid.
func (p *parser) later(err error) {
	if p.deferred == nil {
		p.deferred = err
	}
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) syntaxError() {
	i := p.pos
	t := p.toks[i]
	start := t.pos
	if i > 0 {
		start = p.toks[i-1].pos
	}
	end := t.end
	if t.kind != tkEOF && i+1 < len(p.toks) {
		end = p.toks[i+1].end
	}
	p.fail(p.errorf("Syntax error; token: %q, near: %q", t.text, p.src[start:end]))
}

func (p *parser) expect(k tokKind) token {
	t := p.peek()
	if t.kind != k {
		p.syntaxError()
	}
	p.pos++
	return t
}

func (p *parser) isKeyword(word string) bool {
	t := p.peek()
	return t.kind == tkIdent && strings.EqualFold(t.text, word)
}

func isConditionKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "AND", "OR", "NOT", "BETWEEN", "IN":
		return true
	}
	return false
}

func (p *parser) atEOF() {
	if p.peek().kind != tkEOF {
		p.syntaxError()
	}
}

// --- paths and operands ---

func (p *parser) parsePath() docPath {
	var path docPath
	name := func() {
		t := p.peek()
		switch t.kind {
		case tkIdent:
			if isReserved(t.text) {
				p.later(p.errorf("Attribute name is a reserved keyword; reserved keyword: %s", t.text))
			}
			path = append(path, pathElem{name: t.text})
		case tkName:
			p.env.usedNames[t.text] = true
			n, ok := p.env.names[t.text]
			if !ok {
				p.later(validation("An expression attribute name used in the document path is not defined; attribute name: %s", t.text))
			}
			path = append(path, pathElem{name: n})
		default:
			p.syntaxError()
		}
		p.pos++
	}
	name()
	for {
		switch p.peek().kind {
		case tkDot:
			p.pos++
			name()
			continue
		case tkLBracket:
			p.pos++
			t := p.peek()
			if t.kind != tkNumber {
				p.syntaxError()
			}
			n, err := strconv.Atoi(t.text)
			if err != nil || n > 1<<30 {
				p.syntaxError()
			}
			p.pos++
			p.expect(tkRBracket)
			path = append(path, pathElem{index: n, isIdx: true})
			continue
		}
		break
	}
	if len(path) > maxPathDepth {
		p.later(p.errorf("The document path has too many nesting levels; nesting levels: %d", len(path)))
	}
	return path
}

func (p *parser) parseValueRef() *operand {
	t := p.expect(tkValue)
	p.env.usedValues[t.text] = true
	v, ok := p.env.values[t.text]
	if !ok {
		p.later(validation("An expression attribute value used in expression is not defined; attribute value: %s", t.text))
	}
	return &operand{kind: oValue, val: v}
}

var condFunctions = map[string]int{
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
}

func (p *parser) parseOperand() *operand {
	t := p.peek()
	switch t.kind {
	case tkValue:
		return p.parseValueRef()
	case tkName:
		return &operand{kind: oPath, path: p.parsePath()}
	case tkIdent:
		if p.peekAt(1).kind == tkLParen {
			name := t.text
			if name != "size" {
				p.functionMisuse(name)
			}
			args := p.parseArgs()
			p.checkArgs(name, args, 1)
			if args[0].kind != oPath {
				p.later(p.errorf("Operator or function requires a document path; operator or function: size"))
			}
			return &operand{kind: oSize, path: args[0].path}
		}
		if isConditionKeyword(t.text) {
			p.syntaxError()
		}
		return &operand{kind: oPath, path: p.parsePath()}
	}
	p.syntaxError()
	return nil
}

func (p *parser) functionMisuse(name string) {
	switch name {
	case "size", "if_not_exists", "list_append", "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains":
		p.fail(p.errorf("The function is not allowed to be used this way in an expression; function: %s", name))
	}
	p.fail(p.errorf("Invalid function name; function: %s", name))
}

// parseArgs parses "(" operand {"," operand} ")" after a function name.
func (p *parser) parseArgs() []*operand {
	p.pos += 2 // name and "("
	var args []*operand
	if p.peek().kind == tkRParen {
		p.syntaxError()
	}
	for {
		args = append(args, p.parseOperand())
		if p.peek().kind == tkComma {
			p.pos++
			continue
		}
		p.expect(tkRParen)
		return args
	}
}

func (p *parser) checkArgs(name string, args []*operand, want int) {
	if len(args) != want {
		p.fail(p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args)))
	}
}

// --- conditions ---

func (p *parser) parseOr() *cond {
	c := p.parseAnd()
	for p.isKeyword("OR") {
		p.pos++
		c = &cond{kind: cOr, op: "OR", l: c, r: p.parseAnd()}
	}
	return c
}

func (p *parser) parseAnd() *cond {
	c := p.parseNot()
	for p.isKeyword("AND") {
		p.pos++
		c = &cond{kind: cAnd, op: "AND", l: c, r: p.parseNot()}
	}
	return c
}

func (p *parser) parseNot() *cond {
	if p.isKeyword("NOT") {
		p.pos++
		return &cond{kind: cNot, op: "NOT", l: p.parseNot()}
	}
	return p.parsePrimary()
}

var comparators = map[tokKind]string{tkEq: "=", tkNe: "<>", tkLt: "<", tkLe: "<=", tkGt: ">", tkGe: ">="}

func (p *parser) parsePrimary() *cond {
	t := p.peek()
	if t.kind == tkLParen {
		p.pos++
		inner := p.parseOr()
		p.expect(tkRParen)
		if inner.paren {
			p.later(p.errorf("The expression has redundant parentheses;"))
		}
		inner.paren = true
		return inner
	}
	if t.kind == tkIdent && p.peekAt(1).kind == tkLParen {
		if want, ok := condFunctions[t.text]; ok {
			args := p.parseArgs()
			p.checkArgs(t.text, args, want)
			c := &cond{kind: cFunc, op: t.text, args: args}
			p.checkFunction(c)
			return c
		}
	}
	left := p.parseOperand()
	t = p.peek()
	if op, ok := comparators[t.kind]; ok {
		p.pos++
		c := &cond{kind: cCmp, op: op, args: []*operand{left, p.parseOperand()}}
		if op != "=" && op != "<>" {
			p.checkOrderable(op, c.args)
		}
		return c
	}
	switch {
	case p.isKeyword("BETWEEN"):
		p.pos++
		lo := p.parseOperand()
		if !p.isKeyword("AND") {
			p.syntaxError()
		}
		p.pos++
		hi := p.parseOperand()
		c := &cond{kind: cBetween, op: "BETWEEN", args: []*operand{left, lo, hi}}
		p.checkOrderable("BETWEEN", c.args)
		if lo.kind == oValue && hi.kind == oValue && lo.val.T != 0 && hi.val.T != 0 {
			if lo.val.T != hi.val.T {
				p.later(p.errorf("The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", lo.val.describe(), hi.val.describe()))
			} else if n, ok := compareScalars(lo.val, hi.val); ok && n > 0 {
				p.later(p.errorf("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", lo.val.describe(), hi.val.describe()))
			}
		}
		return c
	case p.isKeyword("IN"):
		p.pos++
		p.expect(tkLParen)
		c := &cond{kind: cIn, op: "IN", args: []*operand{left}}
		for {
			c.args = append(c.args, p.parseOperand())
			if p.peek().kind == tkComma {
				p.pos++
				continue
			}
			p.expect(tkRParen)
			break
		}
		if len(c.args) > 101 {
			p.later(p.errorf("The IN operator is provided with too many operands; number of operands: %d", len(c.args)-1))
		}
		return c
	}
	p.syntaxError()
	return nil
}

// checkOrderable rejects constants that <, <=, >, >= and BETWEEN cannot
// order (only S, N and B are ordered).
func (p *parser) checkOrderable(op string, args []*operand) {
	for _, a := range args {
		if a.kind == oValue && a.val.T != 0 && !a.val.isScalar() {
			p.later(p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", op, a.val.T))
		}
	}
}

var attributeTypes = map[string]bool{"S": true, "SS": true, "N": true, "NS": true, "B": true, "BS": true, "BOOL": true, "NULL": true, "L": true, "M": true}

func (p *parser) checkFunction(c *cond) {
	name := c.op
	switch name {
	case "attribute_exists", "attribute_not_exists", "attribute_type":
		if c.args[0].kind != oPath {
			p.later(p.errorf("Operator or function requires a document path; operator or function: %s", name))
		}
	}
	for i, a := range c.args {
		if a.kind != oValue || a.val.T == 0 {
			continue
		}
		switch name {
		case "attribute_type":
			if i == 1 {
				if a.val.T != TypeS {
					p.later(p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, a.val.T))
				} else if !attributeTypes[a.val.S] {
					p.later(p.errorf("Invalid attribute type name found; type: %s, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }", a.val.S))
				}
			}
		case "begins_with":
			if a.val.T != TypeS && a.val.T != TypeB {
				p.later(p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, a.val.T))
			}
		}
	}
	if name == "contains" && c.args[0].kind == oPath && c.args[1].kind == oPath && c.args[0].path.String() == c.args[1].path.String() {
		p.later(p.errorf("The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: %s", c.args[0].path))
	}
}

// parseCondition parses a condition, filter or key condition expression.
func parseCondition(kind, src string, env *exprEnv) (*cond, error) {
	p, err := newParser(kind, src, env)
	if err != nil {
		return nil, err
	}
	var c *cond
	err = p.run(func() {
		c = p.parseOr()
		p.atEOF()
	})
	return c, err
}

// parseProjection parses a comma-separated list of document paths.
func parseProjection(src string, env *exprEnv) ([]docPath, error) {
	p, err := newParser(kindProjection, src, env)
	if err != nil {
		return nil, err
	}
	var paths []docPath
	err = p.run(func() {
		for {
			paths = append(paths, p.parsePath())
			if p.peek().kind == tkComma {
				p.pos++
				continue
			}
			p.atEOF()
			break
		}
		p.checkOverlaps(paths)
	})
	return paths, err
}

func (p *parser) checkOverlaps(paths []docPath) {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			if paths[i].overlaps(paths[j]) {
				p.later(p.errorf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", paths[i], paths[j]))
				return
			}
		}
	}
}

// parseUpdate parses an update expression into its actions, in clause order.
func parseUpdate(src string, env *exprEnv) ([]updateAction, error) {
	p, err := newParser(kindUpdate, src, env)
	if err != nil {
		return nil, err
	}
	var actions []updateAction
	err = p.run(func() {
		seen := map[string]bool{}
		for p.peek().kind != tkEOF {
			t := p.peek()
			clause := strings.ToUpper(t.text)
			if t.kind != tkIdent || (clause != "SET" && clause != "REMOVE" && clause != "ADD" && clause != "DELETE") {
				p.syntaxError()
			}
			if seen[clause] {
				p.fail(p.errorf("The %q section can only be used once in an update expression;", clause))
			}
			seen[clause] = true
			p.pos++
			for {
				actions = append(actions, p.parseAction(clause))
				if p.peek().kind != tkComma {
					break
				}
				p.pos++
			}
		}
		paths := make([]docPath, len(actions))
		for i, a := range actions {
			paths[i] = a.path
		}
		p.checkOverlaps(paths)
	})
	return actions, err
}

func (p *parser) parseAction(clause string) updateAction {
	a := updateAction{clause: clause, path: p.parsePath()}
	switch clause {
	case "SET":
		p.expect(tkEq)
		a.val = p.parseSetValue()
	case "ADD", "DELETE":
		if p.peek().kind != tkValue {
			p.syntaxError()
		}
		a.val = p.parseValueRef()
		if t := a.val.val.T; t != 0 {
			ok := t == TypeSS || t == TypeNS || t == TypeBS || (clause == "ADD" && t == TypeN)
			if !ok {
				p.later(p.errorf("Incorrect operand type for operator or function; operator: %s, operand type: %s", clause, longTypeName(t)))
			}
		}
	}
	return a
}

func longTypeName(t Type) string {
	switch t {
	case TypeS:
		return "STRING"
	case TypeN:
		return "NUMBER"
	case TypeB:
		return "BINARY"
	case TypeBOOL:
		return "BOOLEAN"
	case TypeNULL:
		return "NULL"
	case TypeM:
		return "MAP"
	case TypeL:
		return "LIST"
	}
	return t.String()
}

func (p *parser) parseSetValue() *operand {
	l := p.parseSetOperand()
	switch p.peek().kind {
	case tkPlus:
		p.pos++
		return &operand{kind: oPlus, args: []*operand{l, p.parseSetOperand()}}
	case tkMinus:
		p.pos++
		return &operand{kind: oMinus, args: []*operand{l, p.parseSetOperand()}}
	}
	return l
}

func (p *parser) parseSetOperand() *operand {
	t := p.peek()
	switch t.kind {
	case tkValue:
		return p.parseValueRef()
	case tkName:
		return &operand{kind: oPath, path: p.parsePath()}
	case tkIdent:
		if p.peekAt(1).kind != tkLParen {
			return &operand{kind: oPath, path: p.parsePath()}
		}
		switch t.text {
		case "if_not_exists":
			p.pos += 2
			path := p.parsePath()
			p.expect(tkComma)
			def := p.parseSetOperand()
			p.expect(tkRParen)
			return &operand{kind: oIfNotExists, path: path, args: []*operand{def}}
		case "list_append":
			p.pos += 2
			a := p.parseSetOperand()
			p.expect(tkComma)
			b := p.parseSetOperand()
			p.expect(tkRParen)
			for _, x := range []*operand{a, b} {
				if x.kind == oValue && x.val.T != 0 && x.val.T != TypeL {
					p.later(p.errorf("Incorrect operand type for operator or function; operator or function: list_append, operand type: %s", x.val.T))
				}
			}
			return &operand{kind: oListAppend, args: []*operand{a, b}}
		}
		p.functionMisuse(t.text)
	}
	p.syntaxError()
	return nil
}

// names lists the top-level attribute names a condition reads (for the
// Query rule that filters may not use key attributes).
func (c *cond) topNames(out map[string]bool) {
	if c == nil {
		return
	}
	c.l.topNames(out)
	c.r.topNames(out)
	for _, a := range c.args {
		a.topNames(out)
	}
}

func (o *operand) topNames(out map[string]bool) {
	if len(o.path) > 0 {
		out[o.path[0].name] = true
	}
	for _, a := range o.args {
		a.topNames(out)
	}
}

package dynamodb

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// resolve follows a document path into an item.
func resolve(it Item, p docPath) (Value, bool) {
	v, ok := it[p[0].name]
	if !ok {
		return Value{}, false
	}
	for _, e := range p[1:] {
		if e.isIdx {
			if v.T != TypeL || e.index >= len(v.L) {
				return Value{}, false
			}
			v = v.L[e.index]
			continue
		}
		if v.T != TypeM {
			return Value{}, false
		}
		if v, ok = v.M[e.name]; !ok {
			return Value{}, false
		}
	}
	return v, true
}

func (o *operand) eval(it Item) (Value, bool) {
	switch o.kind {
	case oValue:
		return o.val, true
	case oPath:
		return resolve(it, o.path)
	case oSize:
		v, ok := resolve(it, o.path)
		if !ok {
			return Value{}, false
		}
		var n int
		switch v.T {
		case TypeS:
			n = utf8.RuneCountInString(v.S)
		case TypeB:
			n = len(v.S)
		case TypeSS, TypeNS, TypeBS:
			n = len(v.Set)
		case TypeM:
			n = len(v.M)
		case TypeL:
			n = len(v.L)
		default:
			return Value{}, false
		}
		return Value{T: TypeN, S: strconv.Itoa(n)}, true
	}
	return Value{}, false
}

// eval evaluates a condition against an item (an empty item when the key
// does not exist). Comparisons between missing attributes or different
// types are false, except <>, which is true, as on AWS.
func (c *cond) eval(it Item) bool {
	switch c.kind {
	case cAnd:
		return c.l.eval(it) && c.r.eval(it)
	case cOr:
		return c.l.eval(it) || c.r.eval(it)
	case cNot:
		return !c.l.eval(it)
	case cCmp:
		a, okA := c.args[0].eval(it)
		b, okB := c.args[1].eval(it)
		switch c.op {
		case "=":
			return okA && okB && a.Equal(b)
		case "<>":
			return !(okA && okB && a.Equal(b))
		}
		if !okA || !okB {
			return false
		}
		n, ok := compareScalars(a, b)
		if !ok {
			return false
		}
		switch c.op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		case ">=":
			return n >= 0
		}
	case cBetween:
		a, ok1 := c.args[0].eval(it)
		lo, ok2 := c.args[1].eval(it)
		hi, ok3 := c.args[2].eval(it)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		n1, ok1 := compareScalars(a, lo)
		n2, ok2 := compareScalars(a, hi)
		return ok1 && ok2 && n1 >= 0 && n2 <= 0
	case cIn:
		a, ok := c.args[0].eval(it)
		if !ok {
			return false
		}
		for _, o := range c.args[1:] {
			if b, ok := o.eval(it); ok && a.Equal(b) {
				return true
			}
		}
		return false
	case cFunc:
		return c.evalFunc(it)
	}
	return false
}

func (c *cond) evalFunc(it Item) bool {
	switch c.op {
	case "attribute_exists":
		_, ok := c.args[0].eval(it)
		return ok
	case "attribute_not_exists":
		_, ok := c.args[0].eval(it)
		return !ok
	}
	a, okA := c.args[0].eval(it)
	b, okB := c.args[1].eval(it)
	if !okA || !okB {
		return false
	}
	switch c.op {
	case "attribute_type":
		return b.T == TypeS && a.T.String() == b.S
	case "begins_with":
		return a.T == b.T && (a.T == TypeS || a.T == TypeB) && strings.HasPrefix(a.S, b.S)
	case "contains":
		switch a.T {
		case TypeS, TypeB:
			return b.T == a.T && strings.Contains(a.S, b.S)
		case TypeSS, TypeNS, TypeBS:
			if b.T != elemType(a.T) {
				return false
			}
			for _, s := range a.Set {
				if s == b.S {
					return true
				}
			}
		case TypeL:
			for _, e := range a.L {
				if e.Equal(b) {
					return true
				}
			}
		}
	}
	return false
}

func elemType(set Type) Type {
	switch set {
	case TypeSS:
		return TypeS
	case TypeNS:
		return TypeN
	case TypeBS:
		return TypeB
	}
	return 0
}

// --- update expressions ---

var (
	errMissingOperand = validation("The provided expression refers to an attribute that does not exist in the item")
	errOperandType    = validation("An operand in the update expression has an incorrect data type")
	errInvalidPath    = validation("The document path provided in the update expression is invalid for update")
)

func (o *operand) evalUpdate(it Item) (Value, error) {
	switch o.kind {
	case oValue:
		return o.val, nil
	case oPath:
		v, ok := resolve(it, o.path)
		if !ok {
			return Value{}, errMissingOperand
		}
		return v, nil
	case oIfNotExists:
		if v, ok := resolve(it, o.path); ok {
			return v, nil
		}
		return o.args[0].evalUpdate(it)
	case oListAppend:
		a, err := o.args[0].evalUpdate(it)
		if err != nil {
			return Value{}, err
		}
		b, err := o.args[1].evalUpdate(it)
		if err != nil {
			return Value{}, err
		}
		if a.T != TypeL || b.T != TypeL {
			return Value{}, errOperandType
		}
		l := make([]Value, 0, len(a.L)+len(b.L))
		l = append(l, a.L...)
		l = append(l, b.L...)
		return Value{T: TypeL, L: l}.Clone(), nil
	case oPlus, oMinus:
		a, err := o.args[0].evalUpdate(it)
		if err != nil {
			return Value{}, err
		}
		b, err := o.args[1].evalUpdate(it)
		if err != nil {
			return Value{}, err
		}
		if a.T != TypeN || b.T != TypeN {
			return Value{}, errOperandType
		}
		d, err := a.num().add(b.num(), o.kind == oMinus)
		if err != nil {
			return Value{}, err
		}
		return Value{T: TypeN, S: d.String()}, nil
	}
	return Value{}, errOperandType
}

// applyUpdate returns a new item: old (nil when the item does not exist)
// with the actions applied. Every SET operand is read from the old item,
// so "SET a = b, b = a" swaps, as on AWS.
func applyUpdate(old Item, actions []updateAction) (Item, error) {
	src := old
	if src == nil {
		src = Item{}
	}
	vals := make([]Value, len(actions))
	for i, a := range actions {
		if a.clause != "SET" {
			continue
		}
		v, err := a.val.evalUpdate(src)
		if err != nil {
			return nil, err
		}
		vals[i] = v.Clone()
	}
	it := cloneItem(src)
	for i, a := range actions {
		if a.clause == "SET" {
			if err := setPath(it, a.path, vals[i]); err != nil {
				return nil, err
			}
		}
	}
	// Removing list elements shifts the later ones: remove from the highest
	// index down so every index refers to the original list.
	var removes []docPath
	for _, a := range actions {
		if a.clause == "REMOVE" {
			removes = append(removes, a.path)
		}
	}
	sort.SliceStable(removes, func(i, j int) bool { return pathAfter(removes[i], removes[j]) })
	for _, p := range removes {
		if err := removePath(it, p); err != nil {
			return nil, err
		}
	}
	for _, a := range actions {
		switch a.clause {
		case "ADD":
			if err := addAction(it, a.path, a.val.val); err != nil {
				return nil, err
			}
		case "DELETE":
			if err := deleteAction(it, a.path, a.val.val); err != nil {
				return nil, err
			}
		}
	}
	return it, nil
}

// pathAfter orders paths so that, within one list, higher indexes come first.
func pathAfter(a, b docPath) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x.isIdx && y.isIdx {
			return x.index > y.index
		}
		return x.name < y.name
	}
	return len(a) > len(b)
}

func setPath(it Item, p docPath, v Value) error {
	if len(p) == 1 {
		it[p[0].name] = v
		return nil
	}
	child, ok := it[p[0].name]
	if !ok {
		return errInvalidPath
	}
	if err := setIn(&child, p[1:], v); err != nil {
		return err
	}
	it[p[0].name] = child
	return nil
}

func setIn(c *Value, p docPath, v Value) error {
	e := p[0]
	if e.isIdx {
		if c.T != TypeL {
			return errInvalidPath
		}
		if len(p) == 1 {
			if e.index >= len(c.L) {
				c.L = append(c.L, v)
			} else {
				c.L[e.index] = v
			}
			return nil
		}
		if e.index >= len(c.L) {
			return errInvalidPath
		}
		return setIn(&c.L[e.index], p[1:], v)
	}
	if c.T != TypeM {
		return errInvalidPath
	}
	if len(p) == 1 {
		c.M[e.name] = v
		return nil
	}
	child, ok := c.M[e.name]
	if !ok {
		return errInvalidPath
	}
	if err := setIn(&child, p[1:], v); err != nil {
		return err
	}
	c.M[e.name] = child
	return nil
}

func removePath(it Item, p docPath) error {
	if len(p) == 1 {
		delete(it, p[0].name)
		return nil
	}
	child, ok := it[p[0].name]
	if !ok {
		return errInvalidPath
	}
	if err := removeIn(&child, p[1:]); err != nil {
		return err
	}
	it[p[0].name] = child
	return nil
}

func removeIn(c *Value, p docPath) error {
	e := p[0]
	if e.isIdx {
		if c.T != TypeL {
			return errInvalidPath
		}
		if e.index >= len(c.L) {
			if len(p) == 1 {
				return nil
			}
			return errInvalidPath
		}
		if len(p) == 1 {
			c.L = append(c.L[:e.index:e.index], c.L[e.index+1:]...)
			return nil
		}
		return removeIn(&c.L[e.index], p[1:])
	}
	if c.T != TypeM {
		return errInvalidPath
	}
	if len(p) == 1 {
		delete(c.M, e.name)
		return nil
	}
	child, ok := c.M[e.name]
	if !ok {
		return errInvalidPath
	}
	if err := removeIn(&child, p[1:]); err != nil {
		return err
	}
	c.M[e.name] = child
	return nil
}

func addAction(it Item, p docPath, v Value) error {
	cur, ok := resolve(it, p)
	if !ok {
		return setPath(it, p, v.Clone())
	}
	switch {
	case v.T == TypeN && cur.T == TypeN:
		d, err := cur.num().add(v.num(), false)
		if err != nil {
			return err
		}
		return setPath(it, p, Value{T: TypeN, S: d.String()})
	case v.isSet() && cur.T == v.T:
		set := append([]string(nil), cur.Set...)
		have := make(map[string]bool, len(set))
		for _, s := range set {
			have[s] = true
		}
		for _, s := range v.Set {
			if !have[s] {
				set = append(set, s)
				have[s] = true
			}
		}
		return setPath(it, p, Value{T: v.T, Set: set})
	}
	return errOperandType
}

func deleteAction(it Item, p docPath, v Value) error {
	cur, ok := resolve(it, p)
	if !ok {
		return nil
	}
	if cur.T != v.T {
		return errOperandType
	}
	drop := make(map[string]bool, len(v.Set))
	for _, s := range v.Set {
		drop[s] = true
	}
	var set []string
	for _, s := range cur.Set {
		if !drop[s] {
			set = append(set, s)
		}
	}
	if len(set) == 0 {
		return removePath(it, p)
	}
	return setPath(it, p, Value{T: v.T, Set: set})
}

// --- projection ---

// project keeps only the given paths of an item. Projected list elements
// keep their relative order and close up, as on AWS (a[3], a[1] -> [a1, a3]).
func project(it Item, paths []docPath) Item {
	v, ok := projectValue(Value{T: TypeM, M: it}, paths)
	if !ok {
		return Item{}
	}
	return v.M
}

func projectValue(v Value, paths []docPath) (Value, bool) {
	for _, p := range paths {
		if len(p) == 0 {
			return v.Clone(), true
		}
	}
	switch v.T {
	case TypeM:
		groups := map[string][]docPath{}
		var order []string
		for _, p := range paths {
			if p[0].isIdx {
				continue
			}
			if _, seen := groups[p[0].name]; !seen {
				order = append(order, p[0].name)
			}
			groups[p[0].name] = append(groups[p[0].name], p[1:])
		}
		out := Value{T: TypeM, M: map[string]Value{}}
		for _, name := range order {
			child, ok := v.M[name]
			if !ok {
				continue
			}
			if sub, ok := projectValue(child, groups[name]); ok {
				out.M[name] = sub
			}
		}
		return out, len(out.M) > 0
	case TypeL:
		groups := map[int][]docPath{}
		var idx []int
		for _, p := range paths {
			if !p[0].isIdx {
				continue
			}
			if _, seen := groups[p[0].index]; !seen {
				idx = append(idx, p[0].index)
			}
			groups[p[0].index] = append(groups[p[0].index], p[1:])
		}
		sort.Ints(idx)
		out := Value{T: TypeL, L: []Value{}}
		for _, i := range idx {
			if i >= len(v.L) {
				continue
			}
			if sub, ok := projectValue(v.L[i], groups[i]); ok {
				out.L = append(out.L, sub)
			}
		}
		return out, len(out.L) > 0
	}
	return Value{}, false
}

package events

import (
	"bytes"
	"encoding/json"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// matchers are the content-filter operators EventBridge accepts inside a
// pattern's value arrays.
var matchers = map[string]bool{
	"prefix": true, "suffix": true, "anything-but": true, "numeric": true, "exists": true,
	"cidr": true, "equals-ignore-case": true, "wildcard": true,
}

func badPattern(format string, args ...any) *core.Error {
	return core.Errorf("InvalidEventPatternException", "Event pattern is not valid. Reason: "+format, args...)
}

// validatePattern checks an event pattern's structure: a JSON object whose
// leaves are arrays of values or of single-operator matcher objects.
func validatePattern(p string) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(p)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return badPattern("Filter is not valid JSON: %v", err)
	}
	if dec.More() {
		return badPattern("Filter has trailing content after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return badPattern("Filter is not an object")
	}
	if len(obj) == 0 {
		return badPattern("Empty objects are not allowed")
	}
	return checkObject(obj, 1)
}

func checkObject(obj map[string]any, depth int) error {
	if depth > 32 {
		return badPattern("Filter is nested too deeply")
	}
	for k, v := range obj {
		switch val := v.(type) {
		case map[string]any:
			if len(val) == 0 {
				return badPattern("Empty objects are not allowed")
			}
			if err := checkObject(val, depth+1); err != nil {
				return err
			}
		case []any:
			if len(val) == 0 {
				return badPattern("Empty arrays are not allowed")
			}
			for _, item := range val {
				if err := checkValue(k, item); err != nil {
					return err
				}
			}
		default:
			return badPattern("Match value must be String, number, true, false, or null")
		}
	}
	return nil
}

func checkValue(key string, item any) error {
	switch m := item.(type) {
	case string, json.Number, bool, nil:
		return nil
	case map[string]any:
		if len(m) != 1 {
			return badPattern("Unrecognized match type in %s: a matcher object takes exactly one operator", key)
		}
		for op := range m {
			if !matchers[op] {
				return badPattern("Unrecognized match type %s", op)
			}
		}
		return nil
	}
	return badPattern("Match value in %s must be String, number, true, false, null or a matcher object", key)
}

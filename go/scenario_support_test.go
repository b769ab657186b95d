package sesame_test

// What the scenario runner (scenarios_test.go) needs beside the Go API: JSON values as
// the scenario format reads them, shapes and their matchers, `${…}` variables and saves,
// strict base64 and redaction. The rules follow tests/scenarios/README.md and the other
// runners (bindings/invoke/tests/scenarios.rs, tests/python/test_scenarios.py,
// tests/js/scenarios.test.mjs).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// scenarioError is a failed step; its message says what differed.
type scenarioError struct{ message string }

func (e *scenarioError) Error() string { return e.message }

func scenarioFailf(format string, args ...any) error {
	return &scenarioError{fmt.Sprintf(format, args...)}
}

// inexpressibleStep is a step whose JSON the Go types cannot carry (file content as
// invalid base64): no Go caller can send it.
type inexpressibleStep struct{ message string }

func (e *inexpressibleStep) Error() string { return e.message }

// ---------- JSON values ----------
//
// A JSON value is nil, bool, json.Number, string, []any or map[string]any: numbers stay
// the text they were written as, so an id or a count goes back into a request unchanged.

// parseScenarioJSON reads exactly one JSON value.
func parseScenarioJSON(data []byte) (any, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, err
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, errors.New("more after the JSON value")
	}
	return value, nil
}

// goValueAsJSON is a Go value as JSON, the way encoding/json writes it.
func goValueAsJSON(value any) (any, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	return parseScenarioJSON(data)
}

// compactJSON is JSON text as serde_json writes it (what `${…}` splices into a longer string).
func compactJSON(value any) string {
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return fmt.Sprintf("(not JSON: %T)", value)
	}
	return strings.TrimSuffix(buffer.String(), "\n")
}

func jsonKindOf(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64, int:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("(not JSON: %T)", value)
}

// jsonNumberValue is a JSON number's value (compared as doubles, as Python's runner does: 1 is 1.0).
func jsonNumberValue(value any) (float64, bool) {
	switch n := value.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

func copyJSON(value any) any {
	switch v := value.(type) {
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = copyJSON(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[key] = copyJSON(item)
		}
		return out
	}
	return value
}

func sortedJSONKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// strictScenarioBase64 is standard base64, canonical and padded, as the wire's decoder wants it.
func strictScenarioBase64(value any, what string) ([]byte, error) {
	if text, ok := value.(string); ok {
		data, err := base64.StdEncoding.Strict().DecodeString(text)
		if err == nil && base64.StdEncoding.EncodeToString(data) == text {
			return data, nil
		}
	}
	return nil, &inexpressibleStep{fmt.Sprintf("%s: %s is not canonical standard base64", what, compactJSON(value))}
}

var scenarioTokenPattern = regexp.MustCompile(`sesame_sa_[A-Za-z0-9_.\-]*`)

// redactTokens is text without service account tokens (saved values and CLI output hold some).
func redactTokens(text string) string {
	return scenarioTokenPattern.ReplaceAllString(text, "sesame_sa_<redacted>")
}

// ---------- shapes ----------

// matchShape fails unless actual has the shape expected describes (README: objects match
// the keys they name, arrays element by element, `{"$…": …}` are matchers).
func matchShape(expected, actual any, path string) error {
	switch want := expected.(type) {
	case map[string]any:
		if len(want) == 1 {
			for op, arg := range want {
				if strings.HasPrefix(op, "$") {
					return matchShapeOperator(op, arg, actual, path)
				}
			}
		}
		got, ok := actual.(map[string]any)
		if !ok {
			return scenarioFailf("at %s: expected an object, got %s", path, compactJSON(actual))
		}
		for _, key := range sortedJSONKeys(want) {
			item := want[key]
			shape, _ := item.(map[string]any)
			_, absentAllowed := shape["$absent"]
			value, present := got[key]
			if !present && item != nil && !absentAllowed {
				return scenarioFailf("at %s: missing key %s in %s", path, compactJSON(key), compactJSON(actual))
			}
			if err := matchShape(item, value, path+"."+key); err != nil {
				return err
			}
		}
		return nil
	case []any:
		got, ok := actual.([]any)
		if !ok {
			return scenarioFailf("at %s: expected an array, got %s", path, compactJSON(actual))
		}
		if len(want) != len(got) {
			return scenarioFailf("at %s: expected %d elements, got %d: %s", path, len(want), len(got), compactJSON(actual))
		}
		for i := range want {
			if err := matchShape(want[i], got[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	kind := jsonKindOf(expected)
	equal := kind == jsonKindOf(actual)
	if equal {
		switch kind {
		case "number":
			a, _ := jsonNumberValue(expected)
			b, _ := jsonNumberValue(actual)
			equal = a == b
		default:
			equal = expected == actual
		}
	}
	if !equal {
		return scenarioFailf("at %s: expected %s, got %s", path, compactJSON(expected), compactJSON(actual))
	}
	return nil
}

func shapeMatches(expected, actual any, path string) bool {
	return matchShape(expected, actual, path) == nil
}

func shapeLength(value any) (int, bool) {
	switch v := value.(type) {
	case string:
		// In code points, as Rust and Python count.
		return utf8.RuneCountInString(v), true
	case []any:
		return len(v), true
	case map[string]any:
		return len(v), true
	}
	return 0, false
}

func matchShapeOperator(op string, arg, actual any, path string) error {
	fail := func(format string, args ...any) error {
		return scenarioFailf("at %s: %s", path, fmt.Sprintf(format, args...))
	}
	switch op {
	case "$any":
		return nil
	case "$type":
		if jsonKindOf(actual) != arg {
			return fail("expected a %s, got %s", compactJSON(arg), compactJSON(actual))
		}
		return nil
	case "$length":
		length, ok := shapeLength(actual)
		if !ok {
			return fail("expected something with a length, got %s", compactJSON(actual))
		}
		if want, isNumber := jsonNumberValue(arg); !isNumber || want != float64(length) {
			return fail("expected length %s, got %d: %s", compactJSON(arg), length, compactJSON(actual))
		}
		return nil
	case "$contains":
		found := false
		switch got := actual.(type) {
		case string:
			text, isText := arg.(string)
			found = isText && strings.Contains(got, text)
		case []any:
			for _, item := range got {
				if shapeMatches(arg, item, path) {
					found = true
					break
				}
			}
		}
		if !found {
			return fail("expected %s to contain %s", compactJSON(actual), compactJSON(arg))
		}
		return nil
	case "$unordered":
		want, wantOK := arg.([]any)
		got, gotOK := actual.([]any)
		if !wantOK || !gotOK {
			return fail("expected an array, got %s", compactJSON(actual))
		}
		if len(want) != len(got) {
			return fail("expected %d elements, got %d: %s", len(want), len(got), compactJSON(actual))
		}
		used := make([]bool, len(got))
		for _, shape := range want {
			at := -1
			for i, item := range got {
				if !used[i] && shapeMatches(shape, item, path) {
					at = i
					break
				}
			}
			if at == -1 {
				return fail("no element matches %s in %s", compactJSON(shape), compactJSON(actual))
			}
			used[at] = true
		}
		return nil
	case "$absent":
		if actual != nil {
			return fail("expected nothing, got %s", compactJSON(actual))
		}
		return nil
	case "$not":
		if shapeMatches(arg, actual, path) {
			return fail("expected anything but %s, got %s", compactJSON(arg), compactJSON(actual))
		}
		return nil
	}
	return fail("unknown matcher %s", op)
}

// noExpectation stands for a step without "expect" (any success); `"expect": null` is an
// expectation nothing meets.
type noExpectation struct{}

// checkScenarioOutcome compares an outcome ("ok" or "error") with `{"ok": …}` / `{"error": …}`.
func checkScenarioOutcome(kind string, value, expect any) error {
	if _, none := expect.(noExpectation); none {
		if kind == "error" {
			return scenarioFailf("expected success, got error %s", compactJSON(value))
		}
		return nil
	}
	want, ok := expect.(map[string]any)
	if ok {
		for key := range want {
			if key != "ok" && key != "error" {
				return scenarioFailf("expect has the key %s: only \"ok\" and \"error\"", compactJSON(key))
			}
		}
	}
	shape, named := want[kind]
	if !ok || !named {
		return scenarioFailf("expected %s, got %s %s", compactJSON(expect), kind, compactJSON(value))
	}
	return matchShape(shape, value, kind)
}

// ---------- variables ----------

var jsonPointerIndex = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// jsonPointer is the JSON pointer `pointer` (RFC 6901, as serde_json reads it) in value.
func jsonPointer(value any, pointer string) (any, bool) {
	if pointer == "" {
		return value, true
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, false
	}
	for _, raw := range strings.Split(pointer[1:], "/") {
		token := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		switch v := value.(type) {
		case map[string]any:
			item, ok := v[token]
			if !ok {
				return nil, false
			}
			value = item
		case []any:
			if !jsonPointerIndex.MatchString(token) {
				return nil, false
			}
			i, err := strconv.Atoi(token)
			if err != nil || i >= len(v) {
				return nil, false
			}
			value = v[i]
		default:
			return nil, false
		}
	}
	return value, true
}

// scenarioVariables are a scenario's saved values and `${name}` / `${name/json/pointer}`.
type scenarioVariables struct {
	values map[string]any
}

func (v *scenarioVariables) get(name string) (any, error) {
	head, pointer := name, ""
	if slash := strings.Index(name, "/"); slash != -1 {
		head, pointer = name[:slash], name[slash:]
	}
	saved, ok := v.values[head]
	if !ok {
		return nil, scenarioFailf("${%s} is not defined (saved values: %s)", name, strings.Join(sortedJSONKeys(v.values), ", "))
	}
	value, ok := jsonPointer(saved, pointer)
	if !ok {
		return nil, scenarioFailf("${%s}: %s is not in the saved value", name, pointer)
	}
	// A copy: whatever a step does with it cannot change the saved value.
	return copyJSON(value), nil
}

// substitute: a string that is exactly one `${…}` becomes the saved value itself (any
// JSON); otherwise each value's text is spliced in. Object keys too.
func (v *scenarioVariables) substitute(value any) (any, error) {
	switch x := value.(type) {
	case string:
		if strings.HasPrefix(x, "${") && strings.HasSuffix(x, "}") && !strings.Contains(x[2:len(x)-1], "${") {
			return v.get(x[2 : len(x)-1])
		}
		var out strings.Builder
		rest := x
		for {
			start := strings.Index(rest, "${")
			if start == -1 {
				break
			}
			end := strings.Index(rest[start:], "}")
			if end == -1 {
				return nil, scenarioFailf("unclosed ${ in %s", compactJSON(x))
			}
			end += start
			out.WriteString(rest[:start])
			saved, err := v.get(rest[start+2 : end])
			if err != nil {
				return nil, err
			}
			if text, isText := saved.(string); isText {
				out.WriteString(text)
			} else {
				out.WriteString(compactJSON(saved))
			}
			rest = rest[end+1:]
		}
		out.WriteString(rest)
		return out.String(), nil
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			substituted, err := v.substitute(item)
			if err != nil {
				return nil, err
			}
			out[i] = substituted
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for key, item := range x {
			newKey, err := v.substitute(key)
			if err != nil {
				return nil, err
			}
			substituted, err := v.substitute(item)
			if err != nil {
				return nil, err
			}
			if text, isText := newKey.(string); isText {
				out[text] = substituted
			} else {
				out[key] = substituted
			}
		}
		return out, nil
	}
	return value, nil
}

// save stores what a step's `"save": {"name": "/pointer"}` names of its result.
func (v *scenarioVariables) save(step map[string]any, result any) error {
	raw, ok := step["save"]
	if !ok {
		return nil
	}
	saves, ok := raw.(map[string]any)
	if !ok {
		return scenarioFailf("save is an object of JSON pointers, not %s", compactJSON(raw))
	}
	for _, name := range sortedJSONKeys(saves) {
		pointer, ok := saves[name].(string)
		if !ok {
			return scenarioFailf("save %s: the pointer is a string, not %s", name, compactJSON(saves[name]))
		}
		value, found := jsonPointer(result, pointer)
		if !found {
			return scenarioFailf("save %s: %s is not in the result %s", name, compactJSON(pointer), compactJSON(result))
		}
		v.values[name] = copyJSON(value)
	}
	return nil
}

package sesame_test

// Runs every shared scenario (../tests/scenarios/*.json, format in its README) through
// the Go package, against a real server of this test's own.
//
// Each `call` step goes through the exported method that invokes that call: calls.go
// (generated) says which method of which group invokes it (`invoke(ctx, "Name", …)`) and
// under which wire name each parameter is sent; reflection finds the group as a Go caller
// reaches it (client.Items().Files(), sesame.Secrets, the client itself). The step's wire
// JSON becomes the parameter types through json.Unmarshal (and must survive the trip
// back, so that no key is dropped), the result becomes JSON again through json.Marshal,
// and an error becomes the envelope {code, message, …details}. Variables, step keys and
// matchers follow the Rust, Python and JavaScript runners.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sesame "github.com/sesame-secrets/sesame/go"
)

const (
	// The owner's client is this suite's own integration. Clients of `client` steps use
	// the name the scenario format prescribes: client.json finds it in the audit trail.
	scenarioOwnerIntegration   = "sesame-go-scenarios"
	scenarioStepIntegration    = "sesame-scenarios"
	scenarioIntegrationVersion = "1.0.0"
	scenarioTimeoutSeconds     = 15
	// A bound on each step, so that a hung call fails its scenario instead of the binary.
	scenarioStepTimeout = 2 * time.Minute
)

var scenarioDir = filepath.Join("..", "tests", "scenarios")

// The keys a step may have: a misspelt key would make a step assert nothing.
var scenarioStepKeys = map[string]bool{
	"call": true, "parameters": true, "as": true, "offline": true, "bytes": true, "bytesBase64": true,
	"expect": true, "expectBytes": true, "expectBytesBase64": true, "save": true, "client": true,
	"token": true, "cli": true,
}

// The package's values that run calls without a client, by their name in calls.go.
var scenarioOfflineAPI = map[string]any{
	"Secrets": sesame.Secrets,
	"Shares":  sesame.Shares,
}

var (
	scenarioContextType = reflect.TypeOf((*context.Context)(nil)).Elem()
	scenarioErrorType   = reflect.TypeOf((*error)(nil)).Elem()
	scenarioBytesType   = reflect.TypeOf([]byte(nil))
)

// ---------- the Go API's calls ----------

// scenarioGoCall is a method of calls.go that invokes a call.
type scenarioGoCall struct {
	name   string   // the call: ItemsFilesAttach
	recv   string   // the type the method is on: itemsFilesCalls
	method string   // Attach
	wire   []string // the wire name of each parameter after ctx, in order
}

// scenarioGoAPI is what calls.go declares: its calls by name, and its package-level values
// (`var Secrets SecretsOffline`) by the name of their type.
type scenarioGoAPI struct {
	calls   map[string]scenarioGoCall
	offline map[string]callHolder
}

var (
	scenarioAPIOnce   sync.Once
	scenarioAPIParsed *scenarioGoAPI
	scenarioAPIError  error
)

func readScenarioGoAPI() (*scenarioGoAPI, error) {
	scenarioAPIOnce.Do(func() { scenarioAPIParsed, scenarioAPIError = parseScenarioGoAPI("calls.go") })
	return scenarioAPIParsed, scenarioAPIError
}

func parseScenarioGoAPI(path string) (*scenarioGoAPI, error) {
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	api := &scenarioGoAPI{calls: map[string]scenarioGoCall{}, offline: map[string]callHolder{}}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, spec := range d.Specs {
				value := spec.(*ast.ValueSpec)
				typeName, ok := value.Type.(*ast.Ident)
				if !ok {
					continue
				}
				for _, name := range value.Names {
					if !name.IsExported() {
						continue
					}
					v, known := scenarioOfflineAPI[name.Name]
					if !known {
						return nil, fmt.Errorf("calls.go declares sesame.%s, which this runner does not know: add it to scenarioOfflineAPI", name.Name)
					}
					if got := reflect.TypeOf(v).Name(); got != typeName.Name {
						return nil, fmt.Errorf("sesame.%s is a %s, calls.go says %s", name.Name, got, typeName.Name)
					}
					api.offline[typeName.Name] = callHolder{path: "sesame." + name.Name, value: reflect.ValueOf(v)}
				}
			}
		case *ast.FuncDecl:
			call, err := parseScenarioGoCall(d)
			if err != nil {
				return nil, err
			}
			if call == nil {
				continue
			}
			if other, twice := api.calls[call.name]; twice {
				return nil, fmt.Errorf("%s is invoked by %s.%s and %s.%s", call.name, other.recv, other.method, call.recv, call.method)
			}
			api.calls[call.name] = *call
		}
	}
	for name := range scenarioOfflineAPI {
		if _, declared := api.offline[reflect.TypeOf(scenarioOfflineAPI[name]).Name()]; !declared {
			return nil, fmt.Errorf("calls.go no longer declares sesame.%s", name)
		}
	}
	return api, nil
}

// parseScenarioGoCall reads a method of calls.go: the call it invokes (nil if none) and the wire
// name of each parameter: `"vault_id": vaultID` in the parameters map, `atMostOne("filters",
// filters)`, or `parameters["file_params"] = fileParams`.
func parseScenarioGoCall(d *ast.FuncDecl) (*scenarioGoCall, error) {
	if d.Recv == nil || d.Body == nil || !d.Name.IsExported() {
		return nil, nil
	}
	var invoked []string
	wireOf := map[string]string{}
	literal := func(expr ast.Expr) (string, bool) {
		lit, ok := expr.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		text, err := strconv.Unquote(lit.Value)
		return text, err == nil
	}
	ident := func(expr ast.Expr) (string, bool) {
		id, ok := expr.(*ast.Ident)
		if !ok {
			return "", false
		}
		return id.Name, true
	}
	ast.Inspect(d.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "invoke" && len(x.Args) >= 2 {
				if name, ok := literal(x.Args[1]); ok {
					invoked = append(invoked, name)
				}
			}
			if fn, ok := ident(x.Fun); ok && fn == "atMostOne" && len(x.Args) == 2 {
				wire, isLit := literal(x.Args[0])
				param, isIdent := ident(x.Args[1])
				if isLit && isIdent {
					wireOf[param] = wire
				}
			}
		case *ast.KeyValueExpr:
			wire, isLit := literal(x.Key)
			param, isIdent := ident(x.Value)
			if isLit && isIdent {
				wireOf[param] = wire
			}
		case *ast.AssignStmt:
			if len(x.Lhs) == 1 && len(x.Rhs) == 1 {
				if index, ok := x.Lhs[0].(*ast.IndexExpr); ok {
					callHolder, _ := ident(index.X)
					wire, isLit := literal(index.Index)
					param, isIdent := ident(x.Rhs[0])
					if callHolder == "parameters" && isLit && isIdent {
						wireOf[param] = wire
					}
				}
			}
		}
		return true
	})
	if len(invoked) == 0 {
		return nil, nil
	}
	var recv string
	switch t := d.Recv.List[0].Type.(type) {
	case *ast.StarExpr:
		recv, _ = ident(t.X)
	case *ast.Ident:
		recv = t.Name
	}
	call := &scenarioGoCall{name: invoked[0], recv: recv, method: d.Name.Name}
	if len(invoked) > 1 {
		return nil, fmt.Errorf("%s.%s invokes %d calls: %v", recv, call.method, len(invoked), invoked)
	}
	var params []string
	for _, field := range d.Type.Params.List {
		for _, name := range field.Names {
			params = append(params, name.Name)
		}
	}
	if len(params) == 0 || params[0] != "ctx" {
		return nil, fmt.Errorf("%s.%s does not take ctx first", recv, call.method)
	}
	for _, param := range params[1:] {
		wire, ok := wireOf[param]
		if !ok {
			return nil, fmt.Errorf("%s.%s sends its parameter %s under no wire name", recv, call.method, param)
		}
		call.wire = append(call.wire, wire)
	}
	return call, nil
}

// callHolder is a value whose methods run calls, as a Go caller reaches it.
type callHolder struct {
	path  string // client.Items().Files(), sesame.Secrets, client
	value reflect.Value
}

// callGroupsOf is every group reachable from a client through its exported accessors (methods
// taking nothing and returning an interface: Items(), Files(), …), by the name of its
// concrete type and of the types it embeds (whose methods it promotes).
func callGroupsOf(client *sesame.Client) map[string]callHolder {
	groups := map[string]callHolder{}
	var visit func(value reflect.Value, path string)
	visit = func(value reflect.Value, path string) {
		base := value.Type()
		if base.Kind() == reflect.Pointer {
			base = base.Elem()
		}
		if _, seen := groups[base.Name()]; seen {
			return
		}
		groups[base.Name()] = callHolder{path: path, value: value}
		if base.Kind() == reflect.Struct {
			for i := 0; i < base.NumField(); i++ {
				field := base.Field(i)
				embedded := field.Type
				if embedded.Kind() == reflect.Pointer {
					embedded = embedded.Elem()
				}
				if _, seen := groups[embedded.Name()]; field.Anonymous && !seen {
					groups[embedded.Name()] = callHolder{path: path, value: value}
				}
			}
		}
		for i := 0; i < value.NumMethod(); i++ {
			method := value.Method(i)
			t := method.Type()
			// Close() error takes nothing too: only accessors of groups are followed.
			if t.NumIn() != 0 || t.NumOut() != 1 || t.Out(0).Kind() != reflect.Interface || t.Out(0) == scenarioErrorType {
				continue
			}
			group := method.Call(nil)[0]
			if !group.IsNil() {
				visit(group.Elem(), path+"."+value.Type().Method(i).Name+"()")
			}
		}
	}
	visit(reflect.ValueOf(client), "client")
	return groups
}

// ---------- wire JSON to Go and back ----------

// scenarioFromWire is a step's wire JSON as a value of t, as json.Unmarshal makes it. The value
// must give the same JSON back (but for keys it adds): a key of the step the Go type has
// no field for, or a value it cannot hold, would make the step assert less than it says.
func scenarioFromWire(raw any, t reflect.Type, where string) (reflect.Value, error) {
	data, err := json.Marshal(raw)
	if err != nil {
		return reflect.Value{}, scenarioFailf("%s: %v", where, err)
	}
	target := reflect.New(t)
	if err := json.Unmarshal(data, target.Interface()); err != nil {
		var corrupt base64.CorruptInputError
		if errors.As(err, &corrupt) {
			return reflect.Value{}, &inexpressibleStep{fmt.Sprintf("%s: a %s holds bytes, and %s has invalid base64 (%v)", where, t, compactJSON(raw), err)}
		}
		return reflect.Value{}, scenarioFailf("%s: a %s cannot be read from %s: %v", where, t, compactJSON(raw), err)
	}
	back, err := goValueAsJSON(target.Interface())
	if err != nil {
		return reflect.Value{}, scenarioFailf("%s: the %s read from %s cannot be written back: %v", where, t, compactJSON(raw), err)
	}
	if err := sameWireJSON(raw, back, where); err != nil {
		return reflect.Value{}, err
	}
	return target.Elem(), nil
}

// sameWireJSON fails unless `back` (a Go value written back as JSON) carries everything
// `given` (the step's JSON) says. Keys `given` lacks may be added (the zero values of
// fields it leaves out); keys it gives as null or as an empty value may be left out
// (nil pointers, `omitempty`).
func sameWireJSON(given, back any, where string) error {
	switch g := given.(type) {
	case map[string]any:
		b, ok := back.(map[string]any)
		if !ok {
			return scenarioFailf("%s: became %s", where, compactJSON(back))
		}
		for _, key := range sortedJSONKeys(g) {
			value, present := b[key]
			if !present {
				if isEmptyJSON(g[key]) {
					continue
				}
				return scenarioFailf("%s: the Go type has no field for the key %s (it became %s)", where, compactJSON(key), compactJSON(back))
			}
			if err := sameWireJSON(g[key], value, where+"."+key); err != nil {
				return err
			}
		}
		return nil
	case []any:
		b, ok := back.([]any)
		if !ok || len(b) != len(g) {
			return scenarioFailf("%s: %s became %s", where, compactJSON(given), compactJSON(back))
		}
		for i := range g {
			if err := sameWireJSON(g[i], b[i], fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
		return nil
	case string:
		b, ok := back.(string)
		if ok && b == g {
			return nil
		}
		if ok && sameTimestamp(g, b) {
			return nil
		}
		// Bytes: the step's text was lenient base64 of what the Go value holds.
		if decoded, err := base64.StdEncoding.DecodeString(g); ok && err == nil && base64.StdEncoding.EncodeToString(decoded) == b {
			return &inexpressibleStep{fmt.Sprintf("%s: %s is not canonical standard base64", where, compactJSON(g))}
		}
	case nil:
		if back == nil || isEmptyJSON(back) {
			return nil
		}
	}
	if shapeMatches(given, back, where) {
		return nil
	}
	return scenarioFailf("%s: %s became %s", where, compactJSON(given), compactJSON(back))
}

func isEmptyJSON(value any) bool {
	switch v := value.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return v == ""
	case json.Number:
		f, _ := jsonNumberValue(v)
		return f == 0
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// sameTimestamp: two RFC 3339 timestamps of one instant (time.Time writes its own digits).
func sameTimestamp(a, b string) bool {
	x, errA := time.Parse(time.RFC3339Nano, a)
	y, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && errB == nil && x.Equal(y)
}

// errorEnvelope is an error as the wire's envelope {code, message, …details}, after checking
// it is what a caller is promised: a *sesame.Error (in a *RateLimitedError for
// rate_limited) that errors.Is its code's sentinel and no other, whose StatusCode and
// RequestID are those of its details.
func errorEnvelope(err error, label string) (any, error) {
	var se *sesame.Error
	if !errors.As(err, &se) {
		return nil, scenarioFailf("%s returned a %T, not a *sesame.Error: %v", label, err, err)
	}
	if _, known := sesame.ErrorNumbers[se.Code]; !known {
		return nil, scenarioFailf("%s returned an error of the unknown code %q", label, se.Code)
	}
	for code, sentinel := range sentinels {
		if errors.Is(err, sentinel) != (code == se.Code) {
			return nil, scenarioFailf("%s returned a %s error for which errors.Is(err, %v) is %v", label, se.Code, sentinel, !(code == se.Code))
		}
	}
	var limited *sesame.RateLimitedError
	if errors.As(err, &limited) != (se.Code == sesame.CodeRateLimited) {
		return nil, scenarioFailf("%s returned a %s error which errors.As a *RateLimitedError is %v", label, se.Code, se.Code != sesame.CodeRateLimited)
	}
	details := map[string]any{}
	for key, value := range se.Details {
		details[key] = value
	}
	status, _ := details["statusCode"].(float64)
	request, _ := details["requestId"].(string)
	if se.StatusCode != int(status) || se.RequestID != request {
		return nil, scenarioFailf("%s: StatusCode %d and RequestID %q differ from the details %s", label, se.StatusCode, se.RequestID, compactJSON(details))
	}
	if limited != nil {
		seconds, _ := details["retryAfterSeconds"].(float64)
		if limited.RetryAfter != time.Duration(seconds*float64(time.Second)) {
			return nil, scenarioFailf("%s: RetryAfter %v differs from retryAfterSeconds %v", label, limited.RetryAfter, seconds)
		}
	}
	details["code"] = string(se.Code)
	details["message"] = se.Message
	value, jsonErr := goValueAsJSON(details)
	if jsonErr != nil {
		return nil, scenarioFailf("%s: the error's details are not JSON: %v", label, jsonErr)
	}
	return value, nil
}

// ---------- the runner ----------

// scenarioServer is a server of the scenarios' own: client.json expects a fresh account
// (an audit trail no checkpoint has signed yet), and the scenarios run one after the
// other on it.
func scenarioServer(t *testing.T) *testServer {
	t.Helper()
	s, err := startServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// run is one scenario's state: its clients, their tokens and groups, the saved values.
type scenarioRun struct {
	server  *testServer
	api     *scenarioGoAPI
	clients map[string]*sesame.Client
	groups  map[string]map[string]callHolder
	tokens  map[string]string
	vars    *scenarioVariables
}

func newScenarioRun(s *testServer, api *scenarioGoAPI, unique string) *scenarioRun {
	return &scenarioRun{
		server:  s,
		api:     api,
		clients: map[string]*sesame.Client{},
		groups:  map[string]map[string]callHolder{},
		tokens:  map[string]string{},
		vars:    &scenarioVariables{values: map[string]any{"unique": unique, "serverUrl": s.url}},
	}
}

func (r *scenarioRun) close() {
	for _, client := range r.clients {
		_ = client.Close()
	}
}

// connect creates client `name`; the error envelope if it could not.
func (r *scenarioRun) connect(name, token, integration string) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scenarioStepTimeout)
	defer cancel()
	client, err := sesame.NewClient(ctx,
		sesame.WithServiceAccountToken(token),
		sesame.WithIntegrationInfo(integration, scenarioIntegrationVersion),
		sesame.WithServerURL(r.server.url),
		sesame.WithTimeoutSeconds(scenarioTimeoutSeconds),
	)
	if err != nil {
		return errorEnvelope(err, "NewClient")
	}
	if old := r.clients[name]; old != nil {
		_ = old.Close()
	}
	r.clients[name] = client
	r.groups[name] = callGroupsOf(client)
	r.tokens[name] = token
	return nil, nil
}

// redact is text without the tokens of this run, or anything that looks like one.
func (r *scenarioRun) redact(text string) string {
	for _, token := range r.tokens {
		if token = strings.TrimSpace(token); len(token) >= 8 {
			text = strings.ReplaceAll(text, token, "<token>")
		}
	}
	return redactTokens(text)
}

// step runs one step; the reason it was left out, if it was.
func (r *scenarioRun) step(raw any) (string, error) {
	step, ok := raw.(map[string]any)
	if !ok {
		return "", scenarioFailf("a step is an object, not %s", compactJSON(raw))
	}
	for _, key := range sortedJSONKeys(step) {
		if !scenarioStepKeys[key] {
			return "", scenarioFailf("unknown step key %s (the keys are %s)", compactJSON(key), strings.Join(sortedJSONKeys(scenarioStepKeys), ", "))
		}
	}
	_, hasCLI := step["cli"]
	_, hasExpect := step["expect"]
	if hasCLI && hasExpect {
		return "", scenarioFailf(`a cli step cannot have "expect": it must succeed`)
	}
	var expect any = noExpectation{}
	if hasExpect {
		substituted, err := r.vars.substitute(step["expect"])
		if err != nil {
			return "", err
		}
		expect = substituted
	}
	if name, isClient := step["client"].(string); isClient {
		token, err := r.vars.substitute(step["token"])
		if err != nil {
			return "", err
		}
		text, _ := token.(string)
		failure, err := r.connect(name, text, scenarioStepIntegration)
		if err != nil {
			return "", err
		}
		if failure != nil {
			return "", checkScenarioOutcome("error", failure, expect)
		}
		return "", checkScenarioOutcome("ok", nil, expect)
	}
	if hasCLI {
		args, err := r.vars.substitute(step["cli"])
		if err != nil {
			return "", err
		}
		output, err := r.cli(step, args)
		if err != nil {
			return "", err
		}
		return "", r.vars.save(step, output)
	}
	call, ok := step["call"].(string)
	if !ok {
		return "", scenarioFailf(`a step needs "call", "cli" or "client"`)
	}
	var parameters any = map[string]any{}
	if given, ok := step["parameters"]; ok {
		substituted, err := r.vars.substitute(given)
		if err != nil {
			return "", err
		}
		parameters = substituted
	}
	params, ok := parameters.(map[string]any)
	if !ok {
		return "", scenarioFailf("%s: parameters are an object, not %s", call, compactJSON(parameters))
	}
	upload, err := r.bytesOf(step, "bytes", "bytesBase64")
	if err != nil {
		return "", err
	}
	var client *sesame.Client
	who := "owner"
	if offline, _ := step["offline"].(bool); !offline {
		if as, ok := step["as"].(string); ok {
			who = as
		}
		if client = r.clients[who]; client == nil {
			return "", scenarioFailf("no client named %s", compactJSON(who))
		}
	}
	kind, result, content, err := r.invoke(call, params, upload, client, who)
	var inexpressible *inexpressibleStep
	if errors.As(err, &inexpressible) {
		return acceptInexpressibleStep(call, inexpressible, expect)
	}
	if err != nil {
		return "", err
	}
	expectedBytes, err := r.bytesOf(step, "expectBytes", "expectBytesBase64")
	if err != nil {
		return "", err
	}
	if expectedBytes != nil && (content == nil || !bytes.Equal(*content, expectedBytes)) {
		got := "nothing"
		if content != nil {
			got = strconv.Quote(string(*content))
		}
		return "", scenarioFailf("%s: expected bytes %s, got %s", call, strconv.Quote(string(expectedBytes)), got)
	}
	if kind == "ok" {
		if err := r.vars.save(step, result); err != nil {
			return "", scenarioFailf("%s: %v", call, err)
		}
	}
	if err := checkScenarioOutcome(kind, result, expect); err != nil {
		return "", scenarioFailf("%s: %v", call, err)
	}
	return "", nil
}

// bytesOf is textKey's UTF-8 text (after substitution) or base64Key's bytes; nil if the
// step has neither.
func (r *scenarioRun) bytesOf(step map[string]any, textKey, base64Key string) ([]byte, error) {
	text, hasText := step[textKey]
	encoded, hasBase64 := step[base64Key]
	switch {
	case hasText && hasBase64:
		return nil, scenarioFailf("a step has %s or %s, not both", textKey, base64Key)
	case hasText:
		substituted, err := r.vars.substitute(text)
		if err != nil {
			return nil, err
		}
		s, ok := substituted.(string)
		if !ok {
			return nil, scenarioFailf("%s must be a string", textKey)
		}
		return []byte(s), nil
	case hasBase64:
		data, err := strictScenarioBase64(encoded, base64Key)
		if err != nil {
			return nil, scenarioFailf("%v", err)
		}
		return data, nil
	}
	return nil, nil
}

// cli runs the `sesame` command line as a principal (default the owner); its stdout is JSON.
func (r *scenarioRun) cli(step map[string]any, args any) (any, error) {
	who := "owner"
	if as, ok := step["as"].(string); ok {
		who = as
	}
	token, ok := r.tokens[who]
	if !ok {
		return nil, scenarioFailf("no token for %s", compactJSON(who))
	}
	list, ok := args.([]any)
	if !ok {
		return nil, scenarioFailf("cli is a list of arguments, not %s", compactJSON(args))
	}
	argv := make([]string, len(list))
	for i, arg := range list {
		if text, isText := arg.(string); isText {
			argv[i] = text
		} else {
			argv[i] = compactJSON(arg)
		}
	}
	bin, err := filepath.Abs(sesameBin())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), scenarioStepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Env = append(os.Environ(), "SESAME_URL="+r.server.url, "SESAME_SERVICE_ACCOUNT_TOKEN="+token,
		"XDG_CONFIG_HOME="+filepath.Join(r.server.dataDir, "config"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, scenarioFailf("sesame %s failed (%v): %s", strings.Join(argv, " "), err, stderr.String())
	}
	output, err := parseScenarioJSON(stdout)
	if err != nil {
		return nil, scenarioFailf("sesame %s: stdout is not JSON: %v", strings.Join(argv, " "), err)
	}
	return output, nil
}

// target is the holder whose method runs `call`: the group reached from the client, or a
// package-level value for a call that needs no client.
func (r *scenarioRun) target(call string, client *sesame.Client, who string) (callHolder, scenarioGoCall, error) {
	gc, ok := r.api.calls[call]
	if !ok {
		return callHolder{}, gc, scenarioFailf("%s is invoked by no method of the Go package (calls.go)", call)
	}
	if client != nil {
		if h, ok := r.groups[who][gc.recv]; ok {
			return h, gc, nil
		}
	}
	if h, ok := r.api.offline[gc.recv]; ok {
		return h, gc, nil
	}
	if client == nil {
		return callHolder{}, gc, scenarioFailf("%s needs a client: it cannot run offline", call)
	}
	return callHolder{}, gc, scenarioFailf("%s: no group reachable from a client is a %s", call, gc.recv)
}

// invoke runs `call` through its Go method: ("ok", result as JSON, bytes returned) or
// ("error", envelope, nil).
func (r *scenarioRun) invoke(call string, params map[string]any, upload []byte, client *sesame.Client, who string) (string, any, *[]byte, error) {
	h, gc, err := r.target(call, client, who)
	if err != nil {
		return "", nil, nil, err
	}
	label := h.path + "." + gc.method
	method := h.value.MethodByName(gc.method)
	if !method.IsValid() {
		return "", nil, nil, scenarioFailf("%s does not exist", label)
	}
	mt := method.Type()
	if mt.NumIn() != len(gc.wire)+1 || mt.In(0) != scenarioContextType {
		return "", nil, nil, scenarioFailf("%s takes %s, not ctx and %d parameters", label, mt, len(gc.wire))
	}
	for _, key := range sortedJSONKeys(params) {
		known := false
		for _, wire := range gc.wire {
			known = known || wire == key
		}
		if !known {
			return "", nil, nil, scenarioFailf("%s has no parameter %s (it sends %s)", label, key, strings.Join(gc.wire, ", "))
		}
	}
	paramType := func(i int) reflect.Type {
		t := mt.In(i + 1)
		if mt.IsVariadic() && i == len(gc.wire)-1 {
			return t.Elem()
		}
		return t
	}
	// The one parameter with file content (`Content []byte`) carries the step's bytes.
	carrier := -1
	if upload != nil {
		for i := range gc.wire {
			t := paramType(i)
			if t.Kind() != reflect.Struct {
				continue
			}
			if field, ok := t.FieldByName("Content"); ok && field.Type == scenarioBytesType {
				if carrier != -1 {
					return "", nil, nil, scenarioFailf("%s has two parameters with content", label)
				}
				carrier = i
			}
		}
		if carrier == -1 {
			return "", nil, nil, scenarioFailf("%s takes no file content, yet the step has bytes", label)
		}
		if given, ok := params[gc.wire[carrier]].(map[string]any); ok {
			if _, has := given["content"]; has {
				return "", nil, nil, scenarioFailf("%s has content in the parameters and as bytes", gc.wire[carrier])
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), scenarioStepTimeout)
	defer cancel()
	args := []reflect.Value{reflect.ValueOf(ctx)}
	for i, wire := range gc.wire {
		t := paramType(i)
		raw, given := params[wire]
		if !given {
			switch {
			case mt.IsVariadic() && i == len(gc.wire)-1:
				continue
			case t.Kind() == reflect.Pointer:
				args = append(args, reflect.Zero(t))
				continue
			}
			return "", nil, nil, scenarioFailf("%s: parameter %s is missing", label, wire)
		}
		value, err := scenarioFromWire(raw, t, wire)
		if err != nil {
			return "", nil, nil, err
		}
		if i == carrier {
			// As a caller passes it: the raw bytes as the params' content.
			value.FieldByName("Content").SetBytes(upload)
		}
		args = append(args, value)
	}
	outs := method.Call(args)
	if last := outs[len(outs)-1]; !last.IsNil() {
		failure, err := errorEnvelope(last.Interface().(error), label)
		return "error", failure, nil, err
	}
	if len(outs) == 1 {
		return "ok", nil, nil, nil
	}
	if outs[0].Type() == scenarioBytesType {
		// Raw content is compared with expectBytes; the JSON result is null.
		content := outs[0].Bytes()
		return "ok", nil, &content, nil
	}
	result, err := goValueAsJSON(outs[0].Interface())
	if err != nil {
		return "", nil, nil, scenarioFailf("%s returned a %s that is not JSON: %v", label, outs[0].Type(), err)
	}
	return "ok", result, nil, nil
}

// acceptInexpressibleStep: a step whose JSON the Go types cannot carry (bytes as invalid
// base64) is consistent only if its scenario expects the wire to refuse it; it is left
// out, since no Go caller can send it. The reason, for the skipped step's report.
func acceptInexpressibleStep(call string, err *inexpressibleStep, expect any) (string, error) {
	want, _ := expect.(map[string]any)
	wanted, _ := want["error"].(map[string]any)
	if wanted == nil || wanted["code"] != "invalid_input" {
		return "", scenarioFailf("%s: %v, yet the scenario expects %s", call, err, compactJSON(expect))
	}
	return fmt.Sprintf("%s not sent: %v; the Go API takes []byte, which cannot be invalid base64", call, err), nil
}

func describeStep(raw any) string {
	step, ok := raw.(map[string]any)
	if !ok {
		return "?"
	}
	if name, ok := step["client"].(string); ok {
		return "client " + name
	}
	if args, ok := step["cli"]; ok {
		return "cli " + compactJSON(args)
	}
	if call, ok := step["call"].(string); ok {
		return call
	}
	return "?"
}

// ---------- scenario files ----------

type scenarioFile struct {
	name  string
	steps []any
}

func scenarioFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(scenarioDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return paths
}

// loadScenario reads a file: an object of a description and steps, nothing else.
func loadScenario(path string) (*scenarioFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	document, err := parseScenarioJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	object, ok := document.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a JSON object", filepath.Base(path))
	}
	for key := range object {
		if key != "description" && key != "steps" {
			return nil, fmt.Errorf("%s has the key %q: a scenario has a description and steps", filepath.Base(path), key)
		}
	}
	if _, ok := object["description"].(string); !ok {
		return nil, fmt.Errorf("%s has no description", filepath.Base(path))
	}
	steps, ok := object["steps"].([]any)
	if !ok || len(steps) == 0 {
		return nil, fmt.Errorf("%s has no steps", filepath.Base(path))
	}
	return &scenarioFile{name: filepath.Base(path), steps: steps}, nil
}

// ---------- tests ----------

func TestScenarios(t *testing.T) {
	paths := scenarioFiles(t)
	if len(paths) < 9 {
		t.Fatalf("only %d scenario files in %s", len(paths), scenarioDir)
	}
	api, err := readScenarioGoAPI()
	if err != nil {
		t.Fatal(err)
	}
	s := scenarioServer(t)
	for index, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			scenario, err := loadScenario(path)
			if err != nil {
				t.Fatal(err)
			}
			// A short lowercase suffix unique to this run (vault titles, service account names).
			random := make([]byte, 3)
			_, _ = rand.Read(random)
			r := newScenarioRun(s, api, fmt.Sprintf("g%d%s", index, hex.EncodeToString(random)))
			defer r.close()
			failure, err := r.connect("owner", s.ownerToken, scenarioOwnerIntegration)
			if err != nil || failure != nil {
				t.Fatalf("the owner could not authenticate: %v %s", err, compactJSON(failure))
			}
			for i, step := range scenario.steps {
				where := fmt.Sprintf("%s step %d (%s)", scenario.name, i+1, describeStep(step))
				skipped, err := r.step(step)
				if err != nil {
					// The message says it all; no value of the failed step beyond it.
					t.Fatal(r.redact(fmt.Sprintf("%s: %v", where, err)))
				}
				if skipped != "" {
					t.Run(fmt.Sprintf("step %d %s", i+1, describeStep(step)), func(t *testing.T) { t.Skip(skipped) })
				}
			}
		})
	}
}

// xtaskCallTable is the call table as `cargo xtask calls` prints it.
type xtaskCall struct {
	Name   string `json:"name"`
	Group  string `json:"group"`
	Method string `json:"method"`
	Params []struct {
		Name       string `json:"name"`
		Type       string `json:"ty"`
		Attributes string `json:"attributes"`
	} `json:"params"`
	Result string `json:"result"`
	Needs  string `json:"needs"`
}

func xtaskCallTable(t *testing.T) []xtaskCall {
	t.Helper()
	cargo := os.Getenv("CARGO")
	if cargo == "" {
		cargo = "cargo"
	}
	cmd := exec.Command(cargo, "xtask", "calls")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cargo xtask calls: %v: %s", err, stderr.String())
	}
	var table []xtaskCall
	if err := json.Unmarshal(out, &table); err != nil {
		t.Fatalf("cargo xtask calls printed something else than the table: %v", err)
	}
	if len(table) == 0 {
		t.Fatal("cargo xtask calls printed no call")
	}
	return table
}

func TestEveryCallHasAGoMethodAndAScenario(t *testing.T) {
	api, err := readScenarioGoAPI()
	if err != nil {
		t.Fatal(err)
	}
	groups := callGroupsOf(ownerClient(t))
	table := xtaskCallTable(t)
	inTable := map[string]bool{}
	for _, call := range table {
		inTable[call.Name] = true
		gc, ok := api.calls[call.Name]
		if !ok {
			t.Errorf("%s (%s.%s) has no Go method: no method of calls.go invokes it", call.Name, call.Group, call.Method)
			continue
		}
		var wire []string
		for _, param := range call.Params {
			wire = append(wire, param.Name)
		}
		if strings.Join(wire, ",") != strings.Join(gc.wire, ",") {
			t.Errorf("%s.%s sends %v, the table says %s takes %v", gc.recv, gc.method, gc.wire, call.Name, wire)
		}
		fromClient, onClient := groups[gc.recv]
		offline, isOffline := api.offline[gc.recv]
		switch call.Needs {
		case "client":
			if !onClient {
				t.Errorf("%s needs a client, yet no group reachable from a client is a %s", call.Name, gc.recv)
			}
		case "offline", "anonymous":
			if !isOffline {
				t.Errorf("%s needs no client, yet no package-level value is a %s", call.Name, gc.recv)
			}
		default:
			t.Errorf("%s needs %q, which this runner does not know", call.Name, call.Needs)
		}
		for _, h := range []callHolder{fromClient, offline} {
			if !h.value.IsValid() {
				continue
			}
			if !h.value.MethodByName(gc.method).IsValid() {
				t.Errorf("%s.%s (%s) is not exported", h.path, gc.method, call.Name)
			}
			t.Logf("%s: %s.%s(%s)", call.Name, h.path, gc.method, strings.Join(append([]string{"ctx"}, gc.wire...), ", "))
		}
	}
	for name, gc := range api.calls {
		if !inTable[name] {
			t.Errorf("%s.%s invokes %s, which is not in the call table", gc.recv, gc.method, name)
		}
	}
	used := map[string]bool{}
	for _, path := range scenarioFiles(t) {
		scenario, err := loadScenario(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range scenario.steps {
			if object, ok := step.(map[string]any); ok {
				if call, ok := object["call"].(string); ok {
					used[call] = true
				}
			}
		}
	}
	for _, call := range table {
		if !used[call.Name] {
			t.Errorf("%s is exercised by no scenario", call.Name)
		}
	}
	for _, name := range sortedJSONKeys(used) {
		if !inTable[name] {
			t.Errorf("a scenario calls %s, which is not in the call table", name)
		}
	}
}

func TestScenarioMatcherCanFail(t *testing.T) {
	value := func(text string) any {
		v, err := parseScenarioJSON([]byte(text))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return v
	}
	cases := []struct {
		expected, actual string
		ok               bool
	}{
		{`{"a": 1}`, `{"a": 2}`, false},
		{`{"a": {"$type": "string"}}`, `{"a": 2}`, false},
		{`[1]`, `[1, 2]`, false},
		{`{"$unordered": [1, 2]}`, `[2, 1]`, true},
		{`{"$unordered": [1, 1]}`, `[1, 2]`, false},
		{`{"b": {"$absent": true}}`, `{"a": 1}`, true},
		{`{"b": {"$absent": true}}`, `{"b": null}`, true},
		{`{"b": {"$absent": true}}`, `{"b": 1}`, false},
		{`{"b": null}`, `{"b": 1}`, false},
		{`{"$any": true}`, `null`, true},
		{`{"a": 1, "b": 2}`, `{"a": 1}`, false},
		{`{"b": null}`, `{"a": 1}`, true},
		{`{"b": 1}`, `{"a": 1}`, false},
		{`{"$not": {"$contains": 1}}`, `[2, 3]`, true},
		{`{"$not": {"$contains": 1}}`, `[1, 3]`, false},
		{`{"$contains": "ell"}`, `"hello"`, true},
		{`{"$contains": "x"}`, `"hello"`, false},
		{`{"$length": 2}`, `"äö"`, true},
		{`{"$length": 1}`, `"😀"`, true},
		{`{"$length": 2}`, `12`, false},
		// JSON types: true is not 1, 1 is 1.0.
		{`true`, `1`, false},
		{`1`, `true`, false},
		{`1`, `1.0`, true},
		{`{"$type": "number"}`, `false`, false},
		{`{"$whatever": 1}`, `1`, false},
	}
	for _, c := range cases {
		if got := shapeMatches(value(c.expected), value(c.actual), "$"); got != c.ok {
			t.Errorf("matches(%s, %s) = %v, want %v", c.expected, c.actual, got, c.ok)
		}
	}
	if data, err := strictScenarioBase64("//4A", "x"); err != nil || !bytes.Equal(data, []byte{0xff, 0xfe, 0x00}) {
		t.Errorf("strictBase64(//4A) = %v, %v", data, err)
	}
	for _, bad := range []any{"%%", "//4", "//5=", json.Number("1")} {
		var inexpressible *inexpressibleStep
		if _, err := strictScenarioBase64(bad, "x"); !errors.As(err, &inexpressible) {
			t.Errorf("strictBase64(%v) = %v, want an inexpressibleStep", bad, err)
		}
	}
}

func TestScenarioVariablesSubstituteAndSave(t *testing.T) {
	saved, _ := parseScenarioJSON([]byte(`{"id": "abc", "n": 2, "list": [{"x": "y"}]}`))
	scope := &scenarioVariables{values: map[string]any{"v": saved, "s": "text"}}
	check := func(input any, want string) {
		t.Helper()
		got, err := scope.substitute(input)
		if err != nil || compactJSON(got) != want {
			t.Errorf("substitute(%s) = %s, %v; want %s", compactJSON(input), compactJSON(got), err, want)
		}
	}
	check("${v}", `{"id":"abc","list":[{"x":"y"}],"n":2}`)
	check("${v/n}", `2`)
	check("id=${v/id}, n=${v/n}, ${s}", `"id=abc, n=2, text"`)
	check(map[string]any{"k ${s}": []any{"${v/list/0/x}"}}, `{"k text":["y"]}`)
	for _, bad := range []string{"${nope}", "${v/missing}", "${v/list/01}", "a ${s"} {
		if got, err := scope.substitute(bad); err == nil {
			t.Errorf("substitute(%s) = %s, want an error", bad, compactJSON(got))
		}
	}
	result, _ := parseScenarioJSON([]byte(`{"list": [{"x": 5}]}`))
	if err := scope.save(map[string]any{"save": map[string]any{"whole": "", "x": "/list/0/x"}}, result); err != nil {
		t.Fatal(err)
	}
	if compactJSON(scope.values["whole"]) != `{"list":[{"x":5}]}` || compactJSON(scope.values["x"]) != `5` {
		t.Errorf("saved %s and %s", compactJSON(scope.values["whole"]), compactJSON(scope.values["x"]))
	}
	if err := scope.save(map[string]any{"save": map[string]any{"y": "/nope"}}, map[string]any{}); err == nil {
		t.Error("saving a pointer the result lacks succeeded")
	}
	if got := redactTokens("a sesame_sa_eyJ2.abc-_ b"); got != "a sesame_sa_<redacted> b" {
		t.Errorf("redact: %q", got)
	}
}

func TestScenarioWireParametersBecomeGoTypes(t *testing.T) {
	value := func(text string) any {
		v, err := parseScenarioJSON([]byte(text))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return v
	}
	recipe, err := scenarioFromWire(value(`{"type": "Pin", "parameters": {"length": 6}}`), reflect.TypeOf(sesame.PasswordRecipe{}), "recipe")
	if err != nil {
		t.Fatal(err)
	}
	if got := recipe.Interface().(sesame.PasswordRecipe); got.Type != sesame.PasswordRecipeTypeVariantPin || got.Pin() == nil || got.Pin().Length != 6 {
		t.Errorf("recipe: %+v", got)
	}
	if _, err := scenarioFromWire(value(`{"title": "t", "colour": "red"}`), reflect.TypeOf(sesame.VaultCreateParams{}), "params"); err == nil || !strings.Contains(err.Error(), `no field for the key "colour"`) {
		t.Errorf("an unknown key: %v", err)
	}
	if _, err := scenarioFromWire(value(`"3"`), reflect.TypeOf(int64(0)), "limit"); err == nil {
		t.Error(`"3" became an int64`)
	}
	var inexpressible *inexpressibleStep
	for _, content := range []string{`"%%"`, `"//5="`} {
		_, err := scenarioFromWire(value(`{"name": "a", "content": `+content+`}`), reflect.TypeOf(sesame.DocumentCreateParams{}), "doc")
		if !errors.As(err, &inexpressible) {
			t.Errorf("content %s: %v, want an inexpressibleStep", content, err)
		}
	}
	document, err := scenarioFromWire(value(`{"name": "a", "content": "aGk="}`), reflect.TypeOf(sesame.DocumentCreateParams{}), "doc")
	if err != nil || string(document.Interface().(sesame.DocumentCreateParams).Content) != "hi" {
		t.Errorf("document: %v %v", document, err)
	}
	// A timestamp written with other digits is the same instant; a Go type may add keys.
	item, err := scenarioFromWire(value(`{"id": "i", "vaultId": "v", "title": "t", "category": "Login", "version": 1,
		"createdAt": "2024-01-02T03:04:05.120+00:00", "updatedAt": "2024-01-02T03:04:05Z"}`), reflect.TypeOf(sesame.Item{}), "item")
	if err != nil || item.Interface().(sesame.Item).CreatedAt.Nanosecond() != 120000000 {
		t.Errorf("item: %v %v", item, err)
	}
	if _, err := scenarioFromWire(value(`{"type": "Long", "parameters": {}}`), reflect.TypeOf(sesame.PasswordRecipe{}), "recipe"); err == nil {
		t.Error("an unknown variant became a PasswordRecipe")
	}
}

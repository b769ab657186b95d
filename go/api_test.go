package sesame_test

// Every method of the Go API against the real server, and every error code provoked by a
// real condition: the Go port of tests/python/test_api.py and tests/js/api.test.mjs.
// Results are checked for their Go shapes too: timestamps are time.Time, content []byte,
// enums the package's constants; errors match their sentinel (and no other) with
// errors.Is, carry their facts on *sesame.Error, and never show a secret.

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sesame "github.com/sesame-secrets/sesame/go"
)

const (
	apiName    = "sesame-go-api"
	apiVersion = "1.0.0"
	// Reading items always includes their concealed values in Sesame.
	readPerms = sesame.ReadItems | sesame.RevealItemPassword
)

// --- Helpers ---------------------------------------------------------------------------

func unique(prefix string) string {
	b := make([]byte, 5)
	_, _ = crand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }

// connect makes a client of the test server: the owner's, unless opts say otherwise
// (a later option overrides an earlier one).
func connect(ctx context.Context, opts ...sesame.ClientOption) (*sesame.Client, error) {
	all := append([]sesame.ClientOption{
		sesame.WithServiceAccountToken(server.ownerToken),
		sesame.WithIntegrationInfo(apiName, apiVersion),
		sesame.WithServerURL(server.url),
	}, opts...)
	return sesame.NewClient(ctx, all...)
}

// mustConnect is connect that fails the test on error; the client is closed at the end.
func mustConnect(t testing.TB, opts ...sesame.ClientOption) *sesame.Client {
	t.Helper()
	client, err := connect(context.Background(), opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// newVault creates a vault of a unique title, deleted when the test ends.
func newVault(t testing.TB, client *sesame.Client) sesame.Vault {
	t.Helper()
	vault, err := client.Vaults().Create(context.Background(), sesame.VaultCreateParams{Title: unique("go-api")})
	if err != nil {
		t.Fatalf("Vaults().Create: %v", err)
	}
	t.Cleanup(func() {
		// The owner deletes it: a service account's client may be closed or revoked.
		owner, err := connect(context.Background())
		if err == nil {
			_ = owner.Vaults().Delete(context.Background(), vault.ID)
			_ = owner.Close()
		}
	})
	return vault
}

func login(vaultID, title, password string) sesame.ItemCreateParams {
	return sesame.ItemCreateParams{
		Category: sesame.ItemCategoryLogin,
		VaultID:  vaultID,
		Title:    title,
		Fields: []sesame.ItemField{
			{ID: "password", Title: "password", FieldType: sesame.ItemFieldTypeConcealed, Value: password},
		},
	}
}

// holder is an item with a "files" section to attach files to.
func holder(vaultID string) sesame.ItemCreateParams {
	return sesame.ItemCreateParams{
		Category: sesame.ItemCategoryLogin,
		VaultID:  vaultID,
		Title:    unique("files"),
		Sections: []sesame.ItemSection{{ID: "files", Title: "Files"}},
	}
}

func mustCreate(t testing.TB, client *sesame.Client, params sesame.ItemCreateParams) sesame.Item {
	t.Helper()
	item, err := client.Items().Create(context.Background(), params)
	if err != nil {
		t.Fatalf("Items().Create(%q): %v", params.Title, err)
	}
	return item
}

func mustResolve(t testing.TB, client *sesame.Client, ref string, want string) {
	t.Helper()
	got, err := client.Secrets().Resolve(context.Background(), ref)
	if err != nil || got != want {
		t.Fatalf("Resolve(%s) = %q, %v; want %q", ref, got, err, want)
	}
}

// serviceAccount creates a service account with VAULT:PERMS grants: its id and token.
// It is revoked when the test ends (if the test did not revoke it).
func serviceAccount(t testing.TB, grants ...string) (id, token string) {
	t.Helper()
	args := []string{"service-account", "create", unique("go-sa"), "--format", "json"}
	for _, grant := range grants {
		args = append(args, "--vault", grant)
	}
	var made struct{ ID, Token string }
	if err := json.Unmarshal([]byte(server.cli(t, server.ownerToken, args...)), &made); err != nil || made.ID == "" || made.Token == "" {
		t.Fatalf("service-account create: %v", err)
	}
	t.Cleanup(func() {
		bin, _ := filepath.Abs(sesameBin())
		cmd := exec.Command(bin, "service-account", "revoke", made.ID)
		cmd.Env = append(cmd.Environ(), "SESAME_URL="+server.url, "SESAME_SERVICE_ACCOUNT_TOKEN="+server.ownerToken,
			"XDG_CONFIG_HOME="+filepath.Join(server.dataDir, "config"))
		_ = cmd.Run() // already revoked by the test: fine
	})
	return made.ID, made.Token
}

func revoke(t testing.TB, id string) {
	t.Helper()
	server.cli(t, server.ownerToken, "service-account", "revoke", id)
}

// sentinels are the sentinel of each code.
var sentinels = map[sesame.ErrorCode]error{
	sesame.CodeInvalidReference: sesame.ErrInvalidReference,
	sesame.CodeInvalidToken:     sesame.ErrInvalidToken,
	sesame.CodeInvalidInput:     sesame.ErrInvalidInput,
	sesame.CodeNotFound:         sesame.ErrNotFound,
	sesame.CodeAmbiguous:        sesame.ErrAmbiguous,
	sesame.CodePermissionDenied: sesame.ErrPermissionDenied,
	sesame.CodeUnauthenticated:  sesame.ErrUnauthenticated,
	sesame.CodeRateLimited:      sesame.ErrRateLimited,
	sesame.CodeConflict:         sesame.ErrConflict,
	sesame.CodeNetwork:          sesame.ErrNetwork,
	sesame.CodeServer:           sesame.ErrServer,
	sesame.CodeIntegrity:        sesame.ErrIntegrity,
}

// checkError is what every returned error must be: a *sesame.Error (or a
// *RateLimitedError around one, for rate_limited only) matching want and no other
// sentinel with errors.Is, with its code's stable number, a message, HTTP facts only when
// consistent with its details, and no secret anywhere it could be shown.
func checkError(t testing.TB, err error, want error, secrets ...string) *sesame.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %v, but the call succeeded", want)
	}
	for code, sentinel := range sentinels {
		if got := errors.Is(err, sentinel); got != (sentinel == want) {
			t.Fatalf("errors.Is(%v [%T], %s) = %v", err, err, code, got)
		}
	}
	var e *sesame.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is not a *sesame.Error: %v", err, err)
	}
	if sentinels[e.Code] != want {
		t.Fatalf("Code = %q for %v", e.Code, want)
	}
	if _, ok := sesame.ErrorNumbers[e.Code]; !ok {
		t.Fatalf("code %q has no number", e.Code)
	}
	if e.Message == "" || err.Error() != e.Message {
		t.Fatalf("Message %q, Error() %q", e.Message, err.Error())
	}
	var limited *sesame.RateLimitedError
	if errors.As(err, &limited) != (e.Code == sesame.CodeRateLimited) {
		t.Fatalf("errors.As(*RateLimitedError) does not match code %q (%T)", e.Code, err)
	}
	if e.Code != sesame.CodeRateLimited {
		if _, direct := err.(*sesame.Error); !direct {
			t.Fatalf("%s is a %T, not a *sesame.Error", e.Code, err)
		}
	}
	if e.StatusCode != 0 {
		if e.StatusCode < 400 || e.StatusCode > 599 {
			t.Fatalf("StatusCode %d", e.StatusCode)
		}
		if e.Details["statusCode"] != float64(e.StatusCode) {
			t.Fatalf("StatusCode %d, Details[statusCode] %v", e.StatusCode, e.Details["statusCode"])
		}
	} else if _, ok := e.Details["statusCode"]; ok {
		t.Fatalf("Details[statusCode] without StatusCode: %v", e.Details)
	}
	if e.RequestID != "" && e.Details["requestId"] != e.RequestID {
		t.Fatalf("RequestID %q, Details[requestId] %v", e.RequestID, e.Details["requestId"])
	}
	details, _ := json.Marshal(e.Details)
	shown := map[string]string{
		"Error()":    err.Error(),
		"%v":         fmt.Sprintf("%v", err),
		"%+v":        fmt.Sprintf("%+v", err),
		"%#v":        fmt.Sprintf("%#v", err),
		"%#v *Error": fmt.Sprintf("%#v", e),
		"details":    string(details),
	}
	for _, secret := range secrets {
		if len(secret) < 4 {
			t.Fatalf("a secret to look for must be long enough to mean something: %q", secret)
		}
		for where, text := range shown {
			if strings.Contains(text, secret) {
				t.Fatalf("a secret shows in the error's %s: %s", where, text)
			}
		}
	}
	return e
}

// fromServer: the error is the server's answer, with its HTTP status and request id.
func fromServer(t testing.TB, e *sesame.Error, status int) {
	t.Helper()
	if e.StatusCode != status || e.RequestID == "" {
		t.Fatalf("StatusCode %d (want %d), RequestID %q: %v", e.StatusCode, status, e.RequestID, e)
	}
}

// local: the client raised the error by itself, with no HTTP facts.
func local(t testing.TB, e *sesame.Error) {
	t.Helper()
	if e.StatusCode != 0 || e.RequestID != "" {
		t.Fatalf("a local error has StatusCode %d, RequestID %q", e.StatusCode, e.RequestID)
	}
}

func wantDetails(t testing.TB, e *sesame.Error, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(e.Details, want) {
		t.Fatalf("Details = %#v, want %#v", e.Details, want)
	}
}

// recent: a real timestamp, within a minute of now.
func recent(t testing.TB, what string, at time.Time) {
	t.Helper()
	if at.IsZero() || time.Since(at).Abs() > time.Minute {
		t.Fatalf("%s = %v, not a recent time", what, at)
	}
}

func shareID(t testing.TB, link string) string {
	t.Helper()
	parsed, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	return parsed.Path[strings.LastIndex(parsed.Path, "/")+1:]
}

func overviewIDs(overviews []sesame.ItemOverview) map[string]sesame.ItemOverview {
	ids := map[string]sesame.ItemOverview{}
	for _, o := range overviews {
		ids[o.ID] = o
	}
	return ids
}

// fromTheStart is the cursor of the audit trail's first page: the call table defaults an
// absent `after` to 0. Passing nil should mean the same, but does not (see
// TestAPIEventsListWithoutCursor): the tests that are not about that bug page from 0.
func fromTheStart() *int64 { return ptr[int64](0) }

// allEvents pages through the whole audit trail.
func allEvents(t testing.TB, client *sesame.Client) []sesame.AuditEvent {
	t.Helper()
	var events []sesame.AuditEvent
	after := fromTheStart()
	for {
		page, err := client.Events().List(context.Background(), 1000, after)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) > 1000 {
			t.Fatalf("a page of %d events with limit 1000", len(page.Events))
		}
		events = append(events, page.Events...)
		if page.NextCursor == nil {
			return events
		}
		after = page.NextCursor
	}
}

var (
	digits6 = regexp.MustCompile(`^\d{6}$`)
	hex64   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// --- The error types -------------------------------------------------------------------

func TestErrorCodesAndSentinels(t *testing.T) {
	want := map[sesame.ErrorCode]int{
		"invalid_reference": 1, "invalid_token": 2, "invalid_input": 3, "not_found": 4,
		"ambiguous": 5, "permission_denied": 6, "unauthenticated": 7, "rate_limited": 8,
		"conflict": 9, "network": 10, "server": 11, "integrity": 12,
	}
	if !reflect.DeepEqual(sesame.ErrorNumbers, want) {
		t.Fatalf("ErrorNumbers = %v", sesame.ErrorNumbers)
	}
	if len(sentinels) != len(want) {
		t.Fatalf("%d sentinels for %d codes", len(sentinels), len(want))
	}
	for code, sentinel := range sentinels {
		made := &sesame.Error{Code: code, Message: "m"}
		for other, otherSentinel := range sentinels {
			if errors.Is(made, otherSentinel) != (other == code) {
				t.Fatalf("errors.Is(%s, Err of %s) = %v", code, other, !(other == code))
			}
			// Wrapped, as a caller's fmt.Errorf("…: %w") does.
			if errors.Is(fmt.Errorf("ctx: %w", made), otherSentinel) != (other == code) {
				t.Fatalf("a wrapped %s matches the sentinel of %s", code, other)
			}
		}
		if sentinel.Error() != "sesame: "+string(code) {
			t.Fatalf("sentinel %q", sentinel.Error())
		}
		// An error is not its sentinel's value, nor another error of the same code.
		if errors.Is(made, &sesame.Error{Code: code, Message: "m"}) {
			t.Fatalf("errors.Is matched a different *Error of code %s", code)
		}
	}
	// The 1Password Go SDK's name is the same type.
	var exceeded *sesame.RateLimitExceededError = &sesame.RateLimitedError{
		Err: &sesame.Error{Code: sesame.CodeRateLimited, Message: "slow down"}, RetryAfter: 3 * time.Second}
	if !errors.Is(exceeded, sesame.ErrRateLimited) || errors.Is(exceeded, sesame.ErrNetwork) || exceeded.Error() != "slow down" {
		t.Fatalf("RateLimitExceededError: %v", exceeded)
	}
}

// --- Client options --------------------------------------------------------------------

func TestAPIDefaultIntegrationInfo(t *testing.T) {
	ctx := context.Background()
	if sesame.DefaultIntegrationName != "Unknown" || sesame.DefaultIntegrationVersion != "Unknown" {
		t.Fatalf("defaults %q %q", sesame.DefaultIntegrationName, sesame.DefaultIntegrationVersion)
	}
	owner := mustConnect(t)
	vault := newVault(t, owner)
	plain, err := sesame.NewClient(ctx, sesame.WithServiceAccountToken(server.ownerToken), sesame.WithServerURL(server.url))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	item, err := plain.Items().Create(ctx, login(vault.ID, unique("default-integration"), "default-secret"))
	if err != nil {
		t.Fatal(err)
	}
	// The audit trail records the default integration for that client's writes.
	found := false
	for _, event := range allEvents(t, owner) {
		if event.ItemID != nil && *event.ItemID == item.ID {
			found = true
			if event.IntegrationName != "Unknown" || event.IntegrationVersion != "Unknown" {
				t.Fatalf("integration %q %q", event.IntegrationName, event.IntegrationVersion)
			}
		}
	}
	if !found {
		t.Fatal("no event of the item")
	}
}

func TestAPIWithCacheTTLSeconds(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	item := mustCreate(t, client, login(vault.ID, unique("cached"), "cached-one"))
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)
	cached := mustConnect(t, sesame.WithCacheTTLSeconds(3600))
	mustResolve(t, cached, ref, "cached-one")
	item.Fields[0].Value = "cached-two"
	if _, err := client.Items().Put(ctx, item); err != nil {
		t.Fatal(err)
	}
	// The cached client does not sync; the other one does.
	mustResolve(t, cached, ref, "cached-one")
	mustResolve(t, client, ref, "cached-two")
}

func TestAPIWithTimeoutSeconds(t *testing.T) {
	// A server that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	held := make(chan net.Conn, 16)
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			held <- conn
		}
	}()
	defer func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	started := time.Now()
	_, err = connect(context.Background(), sesame.WithServerURL("http://"+silent.Addr().String()),
		sesame.WithRetries(0), sesame.WithTimeoutSeconds(1))
	e := checkError(t, err, sesame.ErrNetwork, server.ownerToken)
	if !strings.Contains(e.Message, "timed out") {
		t.Fatalf("message %q", e.Message)
	}
	local(t, e)
	if elapsed := time.Since(started); elapsed < 900*time.Millisecond || elapsed > 10*time.Second {
		t.Fatalf("took %v with a 1 s timeout", elapsed)
	}
}

// badGateway is an HTTP server answering 502 to everything, counting requests.
func badGateway(t testing.TB) (string, *atomic.Int64) {
	var hits atomic.Int64
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	}))
	t.Cleanup(gateway.Close)
	return gateway.URL, &hits
}

func TestAPIWithRetries(t *testing.T) {
	gateway, hits := badGateway(t)
	_, err := connect(context.Background(), sesame.WithServerURL(gateway), sesame.WithRetries(0))
	checkError(t, err, sesame.ErrServer, server.ownerToken)
	if hits.Load() != 1 {
		t.Fatalf("%d requests with no retries", hits.Load())
	}
	_, err = connect(context.Background(), sesame.WithServerURL(gateway), sesame.WithRetries(2))
	checkError(t, err, sesame.ErrServer, server.ownerToken)
	if hits.Load() != 1+3 {
		t.Fatalf("%d requests in all after 2 retries (want 4)", hits.Load())
	}
}

// --- Secrets ---------------------------------------------------------------------------

func TestAPISecretsOffline(t *testing.T) {
	ctx := context.Background()
	random, err := sesame.Secrets.GeneratePassword(ctx, sesame.NewPasswordRecipeTypeVariantRandom(&sesame.PasswordRecipeRandomInner{
		IncludeDigits: true, IncludeSymbols: true, Length: 30}))
	if err != nil {
		t.Fatal(err)
	}
	// The 1Password Go SDK's name is the same type.
	var response sesame.GeneratePasswordResponse = random
	if len(response.Password) != 30 || response.EntropyBits <= 100 || !strings.ContainsAny(random.Password, "0123456789") {
		t.Fatalf("random: %d chars, %v bits", len(random.Password), random.EntropyBits)
	}
	pin, err := sesame.Secrets.GeneratePassword(ctx, sesame.NewPasswordRecipeTypeVariantPin(&sesame.PasswordRecipePinInner{Length: 6}))
	if err != nil || !digits6.MatchString(pin.Password) {
		t.Fatalf("pin: %q %v", pin.Password, err)
	}
	words, err := sesame.Secrets.GeneratePassword(ctx, sesame.NewPasswordRecipeTypeVariantMemorable(&sesame.PasswordRecipeMemorableInner{
		SeparatorType: sesame.SeparatorTypeHyphens, WordCount: 4, WordListType: sesame.WordListTypeFullWords}))
	if err != nil || len(strings.Split(words.Password, "-")) != 4 || words.EntropyBits <= 0 {
		t.Fatalf("memorable: %q %v %v", words.Password, words.EntropyBits, err)
	}
	if a, _ := sesame.Secrets.GeneratePassword(ctx, sesame.NewPasswordRecipeTypeVariantRandom(&sesame.PasswordRecipeRandomInner{Length: 30})); a.Password == random.Password {
		t.Fatal("two random passwords are equal")
	}

	code, err := sesame.Secrets.GenerateTOTPCode(ctx, "JBSWY3DPEHPK3PXP")
	if err != nil || !digits6.MatchString(code.Code) {
		t.Fatalf("totp: %q %v", code.Code, err)
	}
	now := time.Now().Unix()
	if code.ValidFrom > now || now > code.ValidUntil+1 || code.ExpiresInSeconds <= 0 || code.ExpiresInSeconds > 30 ||
		code.ValidUntil-code.ValidFrom != 30 {
		t.Fatalf("totp window %d..%d, expires in %d, now %d", code.ValidFrom, code.ValidUntil, code.ExpiresInSeconds, now)
	}
	uri, err := sesame.Secrets.GenerateTOTPCode(ctx, "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
	if err != nil || uri.Code != code.Code && uri.ValidFrom == code.ValidFrom {
		t.Fatalf("otpauth URI: %q %v (base32: %q)", uri.Code, err, code.Code)
	}

	for _, ref := range []string{"op://vault/item/field", "op://vault/item/section/field?attribute=otp"} {
		if err := sesame.Secrets.ValidateSecretReference(ctx, ref); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
	}
}

func TestAPISecretsOfflineErrors(t *testing.T) {
	ctx := context.Background()
	short := checkError(t, sesame.Secrets.ValidateSecretReference(ctx, "op://Infra"), sesame.ErrInvalidReference)
	reference, _ := short.Details["reference"].(map[string]any)
	if reference["kind"] != "too_few_segments" || reference["segment"] != "item" {
		t.Fatalf("reference details %v", short.Details)
	}
	local(t, short)
	checkError(t, sesame.Secrets.ValidateSecretReference(ctx, "vault/item/field"), sesame.ErrInvalidReference)

	_, err := sesame.Secrets.GeneratePassword(ctx, sesame.NewPasswordRecipeTypeVariantRandom(&sesame.PasswordRecipeRandomInner{
		IncludeDigits: true, IncludeSymbols: true, Length: 3}))
	recipe := checkError(t, err, sesame.ErrInvalidInput)
	wantDetails(t, recipe, map[string]any{"argument": "recipe.length"})
	local(t, recipe)
	_, err = sesame.Secrets.GeneratePassword(ctx, sesame.NewPasswordRecipeTypeVariantPin(&sesame.PasswordRecipePinInner{Length: 0}))
	wantDetails(t, checkError(t, err, sesame.ErrInvalidInput), map[string]any{"argument": "recipe.length"})

	_, err = sesame.Secrets.GenerateTOTPCode(ctx, "not base32!")
	totp := checkError(t, err, sesame.ErrInvalidInput, "not base32!")
	wantDetails(t, totp, map[string]any{"argument": "totp.secret"})
	local(t, totp)

	// A recipe of no known variant cannot even be encoded.
	_, err = sesame.Secrets.GeneratePassword(ctx, sesame.PasswordRecipe{Type: "Bogus"})
	shape := checkError(t, err, sesame.ErrInvalidInput)
	if !strings.Contains(shape.Message, "GeneratePassword") {
		t.Fatalf("message %q", shape.Message)
	}
	local(t, shape)
}

func TestAPISecrets(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	params := holder(vault.ID)
	params.Fields = []sesame.ItemField{
		{ID: "password", Title: "password", FieldType: sesame.ItemFieldTypeConcealed, Value: "pa55-resolve"},
		{ID: "host", Title: "host", FieldType: sesame.ItemFieldTypeText, Value: "db.internal", SectionID: ptr("admin")},
		{ID: "otp", Title: "one-time password", FieldType: sesame.ItemFieldTypeTOTP, Value: "JBSWY3DPEHPK3PXP"},
	}
	params.Sections = []sesame.ItemSection{{ID: "admin", Title: "Admin"}, {ID: "files", Title: "Files"}}
	params.Files = []sesame.FileCreateParams{{Content: []byte{0, 99, 0xff}, Name: "key.bin", SectionID: "files", FieldID: "key"}}
	item := mustCreate(t, client, params)
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)

	t.Run("Resolve", func(t *testing.T) {
		mustResolve(t, client, ref, "pa55-resolve")
		mustResolve(t, client, fmt.Sprintf("op://%s/%s/password", vault.Title, item.Title), "pa55-resolve")
		mustResolve(t, client, fmt.Sprintf("op://%s/%s/Admin/host", vault.ID, item.Title), "db.internal")
		code, err := client.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/%s/otp?attribute=otp", vault.ID, item.ID))
		if err != nil || !digits6.MatchString(code) {
			t.Fatalf("otp: %q %v", code, err)
		}
	})

	t.Run("ResolveBytes", func(t *testing.T) {
		field, err := client.Secrets().ResolveBytes(ctx, ref)
		if err != nil || !bytes.Equal(field, []byte("pa55-resolve")) {
			t.Fatalf("field: %q %v", field, err)
		}
		file, err := client.Secrets().ResolveBytes(ctx, fmt.Sprintf("op://%s/%s/files/key.bin", vault.ID, item.ID))
		if err != nil || !bytes.Equal(file, []byte{0, 99, 0xff}) {
			t.Fatalf("file: %v %v", file, err)
		}
	})

	t.Run("ResolveAll", func(t *testing.T) {
		missing := fmt.Sprintf("op://%s/%s/nothing", vault.ID, item.ID)
		answer, err := client.Secrets().ResolveAll(ctx, []string{ref, missing, "not-a-reference"})
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(answer.IndividualResponses))
		for k := range answer.IndividualResponses {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{ref, missing, "not-a-reference"}
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("keys %v", keys)
		}
		found := answer.IndividualResponses[ref]
		if found.Error != nil || found.Content == nil ||
			*found.Content != (sesame.ResolvedReference{Secret: "pa55-resolve", ItemID: item.ID, VaultID: vault.ID}) {
			t.Fatalf("found: %+v %+v", found.Content, found.Error)
		}
		absent := answer.IndividualResponses[missing]
		if absent.Content != nil || absent.Error == nil || absent.Error.Code != sesame.CodeNotFound ||
			absent.Error.Resource == nil || *absent.Error.Resource != sesame.ResourceField || absent.Error.Message == "" {
			t.Fatalf("absent: %+v %+v", absent.Content, absent.Error)
		}
		malformed := answer.IndividualResponses["not-a-reference"]
		if malformed.Content != nil || malformed.Error == nil || malformed.Error.Code != sesame.CodeInvalidReference ||
			malformed.Error.Reference == nil || malformed.Error.Reference.Kind == "" {
			t.Fatalf("malformed: %+v %+v", malformed.Content, malformed.Error)
		}
	})
}

// --- Items -----------------------------------------------------------------------------

func TestAPIItemsRoundTrip(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	title := unique("round-trip")
	created, err := client.Items().Create(ctx, sesame.ItemCreateParams{
		Category: sesame.ItemCategoryLogin,
		VaultID:  vault.ID,
		Title:    title,
		Fields: []sesame.ItemField{
			{ID: "username", Title: "username", FieldType: sesame.ItemFieldTypeText, Value: "app"},
			{ID: "password", Title: "password", FieldType: sesame.ItemFieldTypeConcealed, Value: "first-pass"},
			{ID: "otp", Title: "one-time password", FieldType: sesame.ItemFieldTypeTOTP, Value: "JBSWY3DPEHPK3PXP"},
			{ID: "host", Title: "host", FieldType: sesame.ItemFieldTypeText, Value: "db.internal", SectionID: ptr("admin")},
		},
		Sections: []sesame.ItemSection{{ID: "admin", Title: "Admin"}},
		Websites: []sesame.Website{{URL: "https://example.com", Label: "website", AutofillBehavior: sesame.AutofillBehaviorNever}},
		Tags:     []string{"go", "round-trip"},
		Notes:    ptr("created by api_test.go"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Title != title || created.VaultID != vault.ID || created.Version != 1 || len(created.ID) != 26 ||
		created.Category != sesame.ItemCategoryLogin || created.Notes != "created by api_test.go" ||
		!slices.Equal(created.Tags, []string{"go", "round-trip"}) || created.Document != nil {
		t.Fatalf("created: %+v", created)
	}
	if len(created.Websites) != 1 || created.Websites[0] != (sesame.Website{URL: "https://example.com", Label: "website", AutofillBehavior: sesame.AutofillBehaviorNever}) {
		t.Fatalf("websites %+v", created.Websites)
	}
	if created.Files == nil || len(created.Files) != 0 {
		t.Fatalf("files %#v (want an empty, non-nil slice)", created.Files)
	}
	recent(t, "CreatedAt", created.CreatedAt)
	recent(t, "UpdatedAt", created.UpdatedAt)
	// The TOTP field carries its current code.
	otp := created.Fields[slices.IndexFunc(created.Fields, func(f sesame.ItemField) bool { return f.ID == "otp" })]
	if otp.Details == nil || otp.Details.Type != sesame.ItemFieldDetailsTypeVariantOTP || otp.Details.OTP() == nil ||
		otp.Details.OTP().Code == nil || !digits6.MatchString(*otp.Details.OTP().Code) {
		t.Fatalf("otp details %+v", otp.Details)
	}
	if created.Fields[0].SectionID != nil || created.Fields[3].SectionID == nil || *created.Fields[3].SectionID != "admin" {
		t.Fatal("section ids")
	}

	fetched, err := client.Items().Get(ctx, vault.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fetched.ID != created.ID || !reflect.DeepEqual(fetched.Sections, created.Sections) ||
		!reflect.DeepEqual(fetched.Websites, created.Websites) || !fetched.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("fetched %+v", fetched)
	}
	type shape struct {
		id    string
		kind  sesame.ItemFieldType
		value string
		sect  string
	}
	shapes := func(fields []sesame.ItemField) []shape {
		var out []shape
		for _, f := range fields {
			s := shape{f.ID, f.FieldType, f.Value, ""}
			if f.SectionID != nil {
				s.sect = *f.SectionID
			}
			out = append(out, s)
		}
		return out
	}
	if !reflect.DeepEqual(shapes(fetched.Fields), shapes(created.Fields)) {
		t.Fatalf("fields %v, created %v", shapes(fetched.Fields), shapes(created.Fields))
	}

	fetched.Title = title + "-renamed"
	fetched.Fields[1].Value = "second-pass"
	fetched.Tags = append(fetched.Tags, "edited")
	put, err := client.Items().Put(ctx, fetched)
	if err != nil {
		t.Fatal(err)
	}
	if put.Version != 2 || put.Title != title+"-renamed" || !put.CreatedAt.Equal(created.CreatedAt) ||
		put.UpdatedAt.Before(created.UpdatedAt) {
		t.Fatalf("put: version %d, %q, %v / %v", put.Version, put.Title, put.CreatedAt, put.UpdatedAt)
	}
	recent(t, "put UpdatedAt", put.UpdatedAt)
	mustResolve(t, client, fmt.Sprintf("op://%s/%s/password", vault.ID, created.ID), "second-pass")

	listed, err := client.Items().List(ctx, vault.ID)
	if err != nil {
		t.Fatal(err)
	}
	overview, ok := overviewIDs(listed)[created.ID]
	if !ok || overview.Title != title+"-renamed" || !slices.Equal(overview.Tags, []string{"go", "round-trip", "edited"}) ||
		overview.State != sesame.ItemStateActive || overview.Category != sesame.ItemCategoryLogin ||
		overview.VaultID != vault.ID || !overview.CreatedAt.Equal(created.CreatedAt) || len(overview.Websites) != 1 {
		t.Fatalf("overview %+v", overview)
	}
	recent(t, "overview UpdatedAt", overview.UpdatedAt)

	if err := client.Items().Archive(ctx, vault.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	active, _ := client.Items().List(ctx, vault.ID)
	if _, ok := overviewIDs(active)[created.ID]; ok {
		t.Fatal("an archived item is listed by default")
	}
	archivedOnly := sesame.NewItemListFilterTypeVariantByState(&sesame.ItemListFilterByStateInner{Active: false, Archived: true})
	archived, err := client.Items().List(ctx, vault.ID, sesame.ItemListFilters{State: &archivedOnly})
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := overviewIDs(archived)[created.ID]; !ok || o.State != sesame.ItemStateArchived {
		t.Fatalf("archived listing %+v", archived)
	}
	for _, o := range archived {
		if o.State != sesame.ItemStateArchived {
			t.Fatalf("%s is %s in an archived-only listing", o.ID, o.State)
		}
	}
	_, err = client.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/%s/password", vault.ID, created.ID))
	checkError(t, err, sesame.ErrNotFound, "second-pass")

	if err := client.Items().Delete(ctx, vault.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.Items().Get(ctx, vault.ID, created.ID)
	if gone := checkError(t, err, sesame.ErrNotFound); gone.Details["resource"] != "item" {
		t.Fatalf("details %v", gone.Details)
	}
	both := sesame.NewItemListFilterTypeVariantByState(&sesame.ItemListFilterByStateInner{Active: true, Archived: true})
	everything, err := client.Items().List(ctx, vault.ID, sesame.ItemListFilters{State: &both})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := overviewIDs(everything)[created.ID]; ok {
		t.Fatal("a deleted item is listed")
	}
}

func TestAPIItemsPutTimestamps(t *testing.T) {
	// An item kept as JSON (its timestamps as RFC 3339 strings) and read back can be put.
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	item := mustCreate(t, client, login(vault.ID, unique("stamps"), "stamp-secret"))
	encoded, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	var revived sesame.Item
	if err := json.Unmarshal(encoded, &revived); err != nil {
		t.Fatal(err)
	}
	revived.Notes = "from JSON"
	put, err := client.Items().Put(ctx, revived)
	if err != nil || put.Version != 2 || !put.CreatedAt.Equal(item.CreatedAt) || put.Notes != "from JSON" {
		t.Fatalf("put: %+v %v", put, err)
	}
	// Timestamps in another location are encoded with their offset (+02:00), and mean
	// the same instants.
	zone := time.FixedZone("UTC+2", 2*60*60)
	put.CreatedAt, put.UpdatedAt = put.CreatedAt.In(zone), put.UpdatedAt.In(zone)
	put.Notes = "with an offset"
	again, err := client.Items().Put(ctx, put)
	if err != nil || again.Version != 3 || !again.CreatedAt.Equal(item.CreatedAt) || again.Notes != "with an offset" {
		t.Fatalf("put with an offset: %+v %v", again, err)
	}
}

func TestAPIItemsBatch(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	prefix := unique("batch")
	var params []sesame.ItemCreateParams
	for i := 0; i < 3; i++ {
		params = append(params, login(vault.ID, fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("batch-secret-%d", i)))
	}
	// An item for another vault fails alone; the others are created.
	params = append(params, login(strings.Repeat("a", 26), prefix+"-elsewhere", "never-stored"))
	created, err := client.Items().CreateAll(ctx, vault.ID, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(created.IndividualResponses) != 4 {
		t.Fatalf("%d responses", len(created.IndividualResponses))
	}
	var ids []string
	for i, r := range created.IndividualResponses[:3] {
		if r.Error != nil || r.Content == nil || r.Content.Title != fmt.Sprintf("%s-%d", prefix, i) {
			t.Fatalf("response %d: %+v %+v", i, r.Content, r.Error)
		}
		recent(t, "CreatedAt", r.Content.CreatedAt)
		ids = append(ids, r.Content.ID)
	}
	if failed := created.IndividualResponses[3]; failed.Content != nil || failed.Error == nil || failed.Error.Code != sesame.CodeInvalidInput {
		t.Fatalf("the other vault's item: %+v %+v", failed.Content, failed.Error)
	}

	missing := strings.Repeat("z", 26)
	got, err := client.Items().GetAll(ctx, vault.ID, append(slices.Clone(ids), missing))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.IndividualResponses) != 4 {
		t.Fatalf("%d responses", len(got.IndividualResponses))
	}
	for i, r := range got.IndividualResponses[:3] {
		if r.Error != nil || r.Content == nil || r.Content.ID != ids[i] || r.Content.Fields[0].Value != fmt.Sprintf("batch-secret-%d", i) {
			t.Fatalf("GetAll %d: %+v %+v", i, r.Content, r.Error)
		}
		recent(t, "UpdatedAt", r.Content.UpdatedAt)
	}
	if r := got.IndividualResponses[3]; r.Content != nil || r.Error == nil || r.Error.Code != sesame.CodeNotFound {
		t.Fatalf("missing: %+v %+v", r.Content, r.Error)
	}

	deleted, err := client.Items().DeleteAll(ctx, vault.ID, []string{ids[0], missing})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := deleted.IndividualResponses[ids[0]]; !ok || r.Error != nil {
		t.Fatalf("deleted: %+v", deleted.IndividualResponses)
	}
	if r := deleted.IndividualResponses[missing]; r.Error == nil || r.Error.Code != sesame.CodeNotFound {
		t.Fatalf("missing: %+v", r)
	}
	remaining, _ := client.Items().List(ctx, vault.ID)
	left := overviewIDs(remaining)
	_, has0 := left[ids[0]]
	_, has1 := left[ids[1]]
	_, has2 := left[ids[2]]
	if has0 || !has1 || !has2 {
		t.Fatalf("after DeleteAll: %v", left)
	}
}

func TestAPIItemsListFilters(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	for _, it := range []struct {
		title, tag string
		category   sesame.ItemCategory
	}{
		{"Alpha Login", "blue", sesame.ItemCategoryLogin},
		{"beta note", "BLUE", sesame.ItemCategorySecureNote},
		{"Gamma", "red", sesame.ItemCategoryLogin},
	} {
		mustCreate(t, client, sesame.ItemCreateParams{Category: it.category, VaultID: vault.ID, Title: it.title, Tags: []string{it.tag}})
	}
	titles := func(filters ...sesame.ItemListFilters) []string {
		t.Helper()
		listed, err := client.Items().List(ctx, vault.ID, filters...)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range listed {
			out = append(out, o.Title)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		filters []sesame.ItemListFilters
		want    []string
	}{
		{nil, []string{"Alpha Login", "Gamma", "beta note"}},
		{[]sesame.ItemListFilters{{}}, []string{"Alpha Login", "Gamma", "beta note"}},
		{[]sesame.ItemListFilters{{Tag: ptr("Blue")}}, []string{"Alpha Login", "beta note"}},
		{[]sesame.ItemListFilters{{TitleContains: ptr("LOGIN")}}, []string{"Alpha Login"}},
		{[]sesame.ItemListFilters{{Category: ptr(sesame.ItemCategorySecureNote)}}, []string{"beta note"}},
		{[]sesame.ItemListFilters{{Category: ptr(sesame.ItemCategoryLogin), Tag: ptr("red")}}, []string{"Gamma"}},
	} {
		if got := titles(c.filters...); !slices.Equal(got, c.want) {
			t.Fatalf("List(%+v) = %v, want %v", c.filters, got, c.want)
		}
	}
	// The variadic optional parameter takes at most one value.
	_, err := client.Items().List(ctx, vault.ID, sesame.ItemListFilters{}, sesame.ItemListFilters{})
	twice := checkError(t, err, sesame.ErrInvalidInput)
	wantDetails(t, twice, map[string]any{"argument": "filters"})
	local(t, twice)
}

// --- Files -----------------------------------------------------------------------------

func TestAPIItemsFiles(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)

	t.Run("Attach Read Delete", func(t *testing.T) {
		item := mustCreate(t, client, holder(vault.ID))
		content := []byte{0, 'c', 'e', 'r', 't', 0xff}
		attached, err := client.Items().Files().Attach(ctx, item, sesame.FileCreateParams{Content: content, Name: "ca.pem", SectionID: "files", FieldID: "ca"})
		if err != nil {
			t.Fatal(err)
		}
		if attached.Version != 2 || len(attached.Files) != 1 || !attached.UpdatedAt.After(item.UpdatedAt) && !attached.UpdatedAt.Equal(item.UpdatedAt) {
			t.Fatalf("attached: %+v", attached)
		}
		file := attached.Files[0]
		if file.SectionID != "files" || file.FieldID != "ca" || file.Attributes.Name != "ca.pem" || file.Attributes.Size != 6 || file.Attributes.ID == "" {
			t.Fatalf("file %+v", file)
		}
		read, err := client.Items().Files().Read(ctx, vault.ID, item.ID, file.Attributes)
		if err != nil || !bytes.Equal(read, content) {
			t.Fatalf("Read = %v, %v", read, err)
		}
		// The caller's slice is not changed by the call.
		if !bytes.Equal(content, []byte{0, 'c', 'e', 'r', 't', 0xff}) {
			t.Fatal("Attach changed the content it was given")
		}
		removed, err := client.Items().Files().Delete(ctx, attached, "files", "ca")
		if err != nil || len(removed.Files) != 0 || removed.Version != 3 {
			t.Fatalf("Delete: %+v %v", removed.Files, err)
		}
		_, err = client.Items().Files().Read(ctx, vault.ID, item.ID, file.Attributes)
		checkError(t, err, sesame.ErrNotFound)
	})

	t.Run("large and empty content", func(t *testing.T) {
		item := mustCreate(t, client, holder(vault.ID))
		large := make([]byte, 300*1024+7)
		_, _ = crand.Read(large)
		item, err := client.Items().Files().Attach(ctx, item, sesame.FileCreateParams{Content: large, Name: "large.bin", SectionID: "files", FieldID: "large"})
		if err != nil {
			t.Fatal(err)
		}
		item, err = client.Items().Files().Attach(ctx, item, sesame.FileCreateParams{Content: []byte{}, Name: "empty.bin", SectionID: "files", FieldID: "empty"})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]sesame.FileAttributes{}
		for _, f := range item.Files {
			byName[f.Attributes.Name] = f.Attributes
		}
		if byName["large.bin"].Size != int64(len(large)) || byName["empty.bin"].Size != 0 {
			t.Fatalf("files %+v", item.Files)
		}
		back, err := client.Items().Files().Read(ctx, vault.ID, item.ID, byName["large.bin"])
		if err != nil || !bytes.Equal(back, large) {
			t.Fatalf("large: %d bytes, %v", len(back), err)
		}
		empty, err := client.Items().Files().Read(ctx, vault.ID, item.ID, byName["empty.bin"])
		if err != nil || len(empty) != 0 {
			t.Fatalf("empty: %v %v", empty, err)
		}
	})

	t.Run("Create with files and a document, ReplaceDocument", func(t *testing.T) {
		params := holder(vault.ID)
		params.Files = []sesame.FileCreateParams{{Content: []byte{9, 8, 7}, Name: "f.bin", SectionID: "files", FieldID: "f"}}
		withFile := mustCreate(t, client, params)
		if len(withFile.Files) != 1 || withFile.Files[0].Attributes.Size != 3 {
			t.Fatalf("files %+v", withFile.Files)
		}
		if back, err := client.Items().Files().Read(ctx, vault.ID, withFile.ID, withFile.Files[0].Attributes); err != nil || !bytes.Equal(back, []byte{9, 8, 7}) {
			t.Fatalf("read %v %v", back, err)
		}

		document := mustCreate(t, client, sesame.ItemCreateParams{
			Category: sesame.ItemCategoryDocument, VaultID: vault.ID, Title: unique("document"),
			Document: &sesame.DocumentCreateParams{Content: []byte("v1"), Name: "v1.txt"},
		})
		if document.Category != sesame.ItemCategoryDocument || document.Document == nil || document.Document.Name != "v1.txt" || document.Document.Size != 2 {
			t.Fatalf("document %+v", document.Document)
		}
		if back, err := client.Items().Files().Read(ctx, vault.ID, document.ID, *document.Document); err != nil || string(back) != "v1" {
			t.Fatalf("read %q %v", back, err)
		}
		replaced, err := client.Items().Files().ReplaceDocument(ctx, document, sesame.DocumentCreateParams{Content: []byte("version 2"), Name: "v2.txt"})
		if err != nil {
			t.Fatal(err)
		}
		if replaced.Document == nil || replaced.Document.Name != "v2.txt" || replaced.Document.Size != 9 || replaced.Version != 2 {
			t.Fatalf("replaced %+v", replaced.Document)
		}
		if back, err := client.Items().Files().Read(ctx, vault.ID, document.ID, *replaced.Document); err != nil || string(back) != "version 2" {
			t.Fatalf("read %q %v", back, err)
		}
		// A document resolves by its file's name.
		if back, err := client.Secrets().ResolveBytes(ctx, fmt.Sprintf("op://%s/%s/v2.txt", vault.ID, document.ID)); err != nil || string(back) != "version 2" {
			t.Fatalf("ResolveBytes %q %v", back, err)
		}
	})
}

// --- Shares ----------------------------------------------------------------------------

func TestAPIShares(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	item := mustCreate(t, client, login(vault.ID, unique("shared"), "shared-secret"))
	policy, err := client.Items().Shares().GetAccountPolicy(ctx, vault.ID, item.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(policy.AllowedTypes, sesame.AllowedTypePublic) || policy.Files.MaxSize <= 0 || policy.DefaultExpiry == "" || policy.MaxExpiry == "" {
		t.Fatalf("policy %+v", policy)
	}

	link, err := client.Items().Shares().Create(ctx, item, policy, sesame.ItemShareParams{ExpireAfter: ptr(sesame.ItemShareDurationOneHour)})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, server.url) || len(parsed.Fragment) < 2 {
		t.Fatalf("link %q", link)
	}
	once, err := client.Items().Shares().Create(ctx, item, policy, sesame.ItemShareParams{OneTimeOnly: true})
	if err != nil {
		t.Fatal(err)
	}

	shares := func() map[string]sesame.ItemShare {
		t.Helper()
		listed, err := client.Items().Shares().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]sesame.ItemShare{}
		for _, s := range listed {
			byID[s.ID] = s
		}
		// The link's secret is not in what the creator sees later.
		if encoded, _ := json.Marshal(listed); bytes.Contains(encoded, []byte(parsed.Fragment)) {
			t.Fatal("the link's secret is listed")
		}
		return byID
	}
	listed := shares()
	share, ok := listed[shareID(t, link)]
	if !ok || share.ItemID != item.ID || share.VaultID != vault.ID || share.MaxViews != nil || share.Views != 0 ||
		share.HasFiles || share.RevokedAt != nil || share.CreatedBy == "" {
		t.Fatalf("share %+v", share)
	}
	recent(t, "share CreatedAt", share.CreatedAt)
	if lasts := share.ExpiresAt.Sub(share.CreatedAt); (lasts - time.Hour).Abs() > 5*time.Second {
		t.Fatalf("expires %v after creation", lasts)
	}
	if m := listed[shareID(t, once)].MaxViews; m == nil || *m != 1 {
		t.Fatalf("one-time share's MaxViews %v", m)
	}

	// Opening needs no client: the package-level call, and the same through a client.
	opened, err := sesame.Shares.Open(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if opened.Title != item.Title || opened.Category != sesame.ItemCategoryLogin || len(opened.Fields) != 1 ||
		opened.Fields[0].ID != "password" || opened.Fields[0].Value != "shared-secret" || opened.ViewsLeft != nil {
		t.Fatalf("opened %+v", opened)
	}
	if (opened.ExpiresAt.Sub(share.ExpiresAt)).Abs() > time.Second {
		t.Fatalf("opened ExpiresAt %v, share's %v", opened.ExpiresAt, share.ExpiresAt)
	}
	viaClient, err := client.Shares().Open(ctx, once)
	if err != nil || viaClient.ViewsLeft == nil || *viaClient.ViewsLeft != 0 || viaClient.Fields[0].Value != "shared-secret" {
		t.Fatalf("client.Shares().Open: %+v %v", viaClient, err)
	}
	_, err = sesame.Shares.Open(ctx, once)
	used := checkError(t, err, sesame.ErrNotFound, "shared-secret")
	if used.Details["resource"] != "share" {
		t.Fatalf("details %v", used.Details)
	}
	fromServer(t, used, 410) // Used up: the server says Gone.

	if err := client.Items().Shares().Revoke(ctx, shareID(t, link)); err != nil {
		t.Fatal(err)
	}
	_, err = sesame.Shares.Open(ctx, link)
	checkError(t, err, sesame.ErrNotFound, "shared-secret")
	revoked := shares()[shareID(t, link)]
	if revoked.RevokedAt == nil || revoked.Views != 1 {
		t.Fatalf("revoked %+v", revoked)
	}
	recent(t, "RevokedAt", *revoked.RevokedAt)

	// A malformed link is refused before any request.
	_, err = sesame.Shares.Open(ctx, "not a link")
	wantDetails(t, checkError(t, err, sesame.ErrInvalidInput), map[string]any{"argument": "share link"})
	_, err = client.Shares().Open(ctx, server.url+"/s/"+strings.Repeat("a", 26)+"#AAAA")
	checkError(t, err, sesame.ErrInvalidInput)
}

func TestAPISharesPolicyAndRecipients(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	item := mustCreate(t, client, login(vault.ID, unique("policy"), "policy-secret"))
	policy, err := client.Items().Shares().GetAccountPolicy(ctx, vault.ID, item.ID)
	if err != nil {
		t.Fatal(err)
	}
	none, err := client.Items().Shares().ValidateRecipients(ctx, policy, []string{})
	if err != nil || len(none) != 0 {
		t.Fatalf("no recipients: %v %v", none, err)
	}
	// The server has no SMTP, so the account allows only public links.
	_, err = client.Items().Shares().ValidateRecipients(ctx, policy, []string{"a@example.com"})
	if refused := checkError(t, err, sesame.ErrInvalidInput); refused.Details["argument"] != "recipients" {
		t.Fatalf("details %v", refused.Details)
	}
	// Recipients are checked against the policy given, not the account's.
	restricted := policy
	restricted.AllowedTypes = []sesame.AllowedType{sesame.AllowedTypePublic, sesame.AllowedTypeAuthenticated}
	restricted.AllowedRecipientTypes = []sesame.AllowedRecipientType{sesame.AllowedRecipientTypeEmail, sesame.AllowedRecipientTypeDomain}
	valid, err := client.Items().Shares().ValidateRecipients(ctx, restricted, []string{"A@Example.com", "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	want := []sesame.ValidRecipient{
		sesame.NewValidRecipientTypeVariantEmail(&sesame.ValidRecipientEmailInner{Email: "a@example.com"}),
		sesame.NewValidRecipientTypeVariantDomain(&sesame.ValidRecipientDomainInner{Domain: "example.org"}),
	}
	if !reflect.DeepEqual(valid, want) {
		t.Fatalf("ValidateRecipients = %+v", valid)
	}

	// SetAccountPolicy takes effect; a shared file arrives as []byte.
	params := holder(vault.ID)
	params.Files = []sesame.FileCreateParams{{Content: []byte{0, 7, 0xff}, Name: "k.bin", SectionID: "files", FieldID: "k"}}
	withFile := mustCreate(t, client, params)
	stricter := policy
	stricter.MaxViews = ptr[int64](7)
	stricter.Files.Allowed = true
	defer func() {
		// The policy is account-wide: give the other tests theirs back.
		restored, err := client.Items().Shares().SetAccountPolicy(ctx, policy)
		if err != nil || !reflect.DeepEqual(restored, policy) {
			t.Errorf("restoring the policy: %+v %v", restored, err)
		}
	}()
	changed, err := client.Items().Shares().SetAccountPolicy(ctx, stricter)
	if err != nil || changed.MaxViews == nil || *changed.MaxViews != 7 || !changed.Files.Allowed {
		t.Fatalf("SetAccountPolicy: %+v %v", changed, err)
	}
	now, err := client.Items().Shares().GetAccountPolicy(ctx, vault.ID, withFile.ID)
	if err != nil || now.MaxViews == nil || *now.MaxViews != 7 {
		t.Fatalf("policy after: %+v %v", now, err)
	}
	link, err := client.Items().Shares().Create(ctx, withFile, now, sesame.ItemShareParams{OneTimeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	opened, err := sesame.Shares.Open(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if len(opened.Files) != 1 || opened.Files[0].Name != "k.bin" || opened.Files[0].Size != 3 || !bytes.Equal(opened.Files[0].Content, []byte{0, 7, 0xff}) {
		t.Fatalf("shared files %+v", opened.Files)
	}
}

// --- Vaults ----------------------------------------------------------------------------

func TestAPIVaults(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	title := unique("go-vault")
	made, err := client.Vaults().Create(ctx, sesame.VaultCreateParams{Title: title, Description: ptr("first")})
	if err != nil {
		t.Fatal(err)
	}
	deleted := false
	defer func() {
		if !deleted {
			_ = client.Vaults().Delete(ctx, made.ID)
		}
	}()
	if made.Title != title || made.Description != "first" || made.ActiveItemCount != 0 || made.VaultType != sesame.VaultTypeUserCreated || len(made.ID) != 26 {
		t.Fatalf("made %+v", made)
	}

	listed, err := client.Vaults().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(listed, func(v sesame.VaultOverview) bool { return v.ID == made.ID })
	if i < 0 || listed[i].Title != title || listed[i].VaultType != sesame.VaultTypeUserCreated {
		t.Fatalf("listed %+v", listed)
	}
	for _, v := range listed {
		if v.CreatedAt.IsZero() || v.UpdatedAt.IsZero() {
			t.Fatalf("vault %s timestamps %v %v", v.ID, v.CreatedAt, v.UpdatedAt)
		}
	}
	detailed, err := client.Vaults().List(ctx, sesame.VaultListParams{DecryptDetails: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(detailed, func(v sesame.VaultOverview) bool { return v.ID == made.ID }); i < 0 || detailed[i].Description != "first" {
		t.Fatalf("detailed %+v", detailed)
	}
	overview, err := client.Vaults().GetOverview(ctx, made.ID)
	if err != nil || overview.Title != title || overview.Description != "first" || overview.VaultType != sesame.VaultTypeUserCreated || overview.Unreadable != nil {
		t.Fatalf("overview %+v %v", overview, err)
	}
	recent(t, "vault CreatedAt", overview.CreatedAt)
	recent(t, "vault UpdatedAt", overview.UpdatedAt)

	updated, err := client.Vaults().Update(ctx, made.ID, sesame.VaultUpdateParams{Title: ptr(title + "-renamed"), Description: ptr("second")})
	if err != nil || updated.Title != title+"-renamed" || updated.Description != "second" || updated.AttributeVersion != made.AttributeVersion+1 {
		t.Fatalf("updated %+v %v", updated, err)
	}
	// nil leaves a value as it is.
	kept, err := client.Vaults().Update(ctx, made.ID, sesame.VaultUpdateParams{Description: ptr("third")})
	if err != nil || kept.Title != title+"-renamed" || kept.Description != "third" {
		t.Fatalf("kept %+v %v", kept, err)
	}
	plain, err := client.Vaults().Get(ctx, made.ID)
	if err != nil || plain.Title != title+"-renamed" || plain.Access != nil {
		t.Fatalf("plain %+v %v", plain, err)
	}
	withAccess, err := client.Vaults().Get(ctx, made.ID, sesame.VaultGetParams{Accessors: ptr(true)})
	if err != nil || len(withAccess.Access) != 1 {
		t.Fatalf("with access %+v %v", withAccess, err)
	}
	if a := withAccess.Access[0]; a.Permissions&readPerms != readPerms || a.VaultUuid != made.ID || a.AccessorType != sesame.VaultAccessorTypeUser {
		t.Fatalf("access %+v", a)
	}
	_, err = client.Vaults().Get(ctx, made.ID, sesame.VaultGetParams{}, sesame.VaultGetParams{})
	wantDetails(t, checkError(t, err, sesame.ErrInvalidInput), map[string]any{"argument": "vault_params"})

	if err := client.Vaults().Delete(ctx, made.ID); err != nil {
		t.Fatal(err)
	}
	deleted = true
	_, err = client.Vaults().GetOverview(ctx, made.ID)
	if gone := checkError(t, err, sesame.ErrNotFound); gone.Details["resource"] != "vault" {
		t.Fatalf("details %v", gone.Details)
	}
	after, _ := client.Vaults().List(ctx)
	if slices.ContainsFunc(after, func(v sesame.VaultOverview) bool { return v.ID == made.ID }) {
		t.Fatal("a deleted vault is listed")
	}
}

func TestAPIVaultPermissions(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	own := newVault(t, client)
	mustCreate(t, client, login(own.ID, "db", "granted-secret"))
	accountID, token := serviceAccount(t)
	ref := fmt.Sprintf("op://%s/db/password", own.ID)
	robot := mustConnect(t, sesame.WithServiceAccountToken(token))
	sees := func() bool {
		t.Helper()
		vaults, err := robot.Vaults().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(vaults, func(v sesame.VaultOverview) bool { return v.ID == own.ID })
	}

	if sees() {
		t.Fatal("the robot sees the vault before any grant")
	}
	_, err := robot.Secrets().Resolve(ctx, ref)
	checkError(t, err, sesame.ErrNotFound, "granted-secret", token)

	access, err := client.Vaults().GrantPermissions(ctx, own.ID, accountID, readPerms)
	if err != nil || access.AccessorUuid != accountID || access.VaultUuid != own.ID || access.Permissions != readPerms {
		t.Fatalf("grant %+v %v", access, err)
	}
	mustResolve(t, robot, ref, "granted-secret")
	if o, err := robot.Vaults().GetOverview(ctx, own.ID); err != nil || o.Title != own.Title {
		t.Fatalf("robot overview %+v %v", o, err)
	}
	_, err = robot.Items().Create(ctx, login(own.ID, "robot", "robot-secret"))
	checkError(t, err, sesame.ErrPermissionDenied, "robot-secret", token)

	access, err = client.Vaults().UpdatePermissions(ctx, own.ID, accountID, readPerms|sesame.CreateItems)
	if err != nil || access.Permissions != readPerms|sesame.CreateItems {
		t.Fatalf("update %+v %v", access, err)
	}
	made, err := robot.Items().Create(ctx, login(own.ID, "robot", "made-by-robot"))
	if err != nil {
		t.Fatal(err)
	}
	mustResolve(t, client, fmt.Sprintf("op://%s/%s/password", own.ID, made.ID), "made-by-robot")
	listed, err := client.Vaults().Get(ctx, own.ID, sesame.VaultGetParams{Accessors: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(listed.Access, func(a sesame.VaultAccess) bool { return a.AccessorUuid == accountID }); i < 0 || listed.Access[i].Permissions != readPerms|sesame.CreateItems {
		t.Fatalf("access list %+v", listed.Access)
	}

	if err := client.Vaults().RevokePermissions(ctx, own.ID, accountID); err != nil {
		t.Fatal(err)
	}
	_, err = robot.Secrets().Resolve(ctx, ref)
	checkError(t, err, sesame.ErrNotFound, "granted-secret")
	if sees() {
		t.Fatal("the robot sees the vault after the revocation")
	}

	// Leaving gives up a grant without any permission.
	if _, err := client.Vaults().GrantPermissions(ctx, own.ID, accountID, readPerms); err != nil {
		t.Fatal(err)
	}
	mustResolve(t, robot, ref, "granted-secret")
	if err := robot.Vaults().Leave(ctx, own.ID); err != nil {
		t.Fatal(err)
	}
	_, err = robot.Secrets().Resolve(ctx, ref)
	checkError(t, err, sesame.ErrNotFound, "granted-secret")
	afterLeave, err := client.Vaults().Get(ctx, own.ID, sesame.VaultGetParams{Accessors: ptr(true)})
	if err != nil || slices.ContainsFunc(afterLeave.Access, func(a sesame.VaultAccess) bool { return a.AccessorUuid == accountID }) {
		t.Fatalf("access after leaving %+v %v", afterLeave.Access, err)
	}
}

// --- Events and client state -----------------------------------------------------------

func TestAPIEvents(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	integration := unique("go-events")
	audited := mustConnect(t, sesame.WithIntegrationInfo(integration, "2.0"))
	item := mustCreate(t, audited, login(vault.ID, unique("audited"), "audit-secret"))
	_ = audited.Close()

	events := allEvents(t, client)
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if i == 0 && e.PrevHash != strings.Repeat("0", 64) || i > 0 && e.PrevHash != events[i-1].Hash {
			t.Fatalf("event %d is not chained", e.Seq)
		}
		if !hex64.MatchString(e.Hash) || e.Time.IsZero() || time.Since(e.Time) > time.Hour || e.Action == "" || e.Outcome == "" {
			t.Fatalf("event %+v", e)
		}
	}
	var ours, created []sesame.AuditEvent
	for _, e := range events {
		if e.IntegrationName == integration {
			ours = append(ours, e)
			if e.IntegrationVersion != "2.0" {
				t.Fatalf("integration version %q", e.IntegrationVersion)
			}
			if e.ItemID != nil && *e.ItemID == item.ID {
				created = append(created, e)
			}
		}
	}
	if !slices.ContainsFunc(ours, func(e sesame.AuditEvent) bool { return e.Action == "auth" }) {
		t.Fatalf("no auth event of %s: %+v", integration, ours)
	}
	if len(created) == 0 || created[0].VaultID == nil || *created[0].VaultID != vault.ID || created[0].Outcome != "ok" || created[0].PrincipalID == nil {
		t.Fatalf("the item's events %+v", created)
	}
	if encoded, _ := json.Marshal(events); bytes.Contains(encoded, []byte("audit-secret")) {
		t.Fatal("a secret is in the audit trail")
	}

	small, err := client.Events().List(ctx, 2, ptr[int64](1))
	if err != nil || len(small.Events) != 2 || small.Events[0].Seq != 2 || small.Events[1].Seq != 3 || small.NextCursor == nil || *small.NextCursor != 3 {
		t.Fatalf("small page %+v %v", small, err)
	}

	verified, err := client.Events().Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if verified.Events < events[len(events)-1].Seq || !hex64.MatchString(verified.HeadHash) || verified.Unsigned > verified.Events || verified.Unsigned < 0 {
		t.Fatalf("verified %+v (last seq %d)", verified, events[len(events)-1].Seq)
	}
	// Nobody signed a checkpoint on this server.
	if verified.Checkpoint != nil || verified.Unsigned != verified.Events {
		t.Fatalf("checkpoint %+v", verified.Checkpoint)
	}
}

func TestAPIEventsListWithoutCursor(t *testing.T) {
	// The first page, as the signature invites: List(ctx, limit, nil) leaves `after` out.
	client := mustConnect(t)
	page, err := client.Events().List(context.Background(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.Events[0].Seq != 1 || page.Events[1].Seq != 2 || page.NextCursor == nil || *page.NextCursor != 2 {
		t.Fatalf("first page %+v", page)
	}
}

func TestAPIClientState(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	if _, err := client.Items().List(ctx, vault.ID); err != nil {
		t.Fatal(err)
	}
	state, err := client.RateLimit(ctx)
	if err != nil || state == nil {
		t.Fatalf("RateLimit: %v %v", state, err)
	}
	if state.Remaining < 0 || state.Remaining >= state.Limit || state.ResetSeconds <= 0 {
		t.Fatalf("state %+v", *state)
	}
	records, err := client.UnreadableRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests may leave records this client cannot open; none are this vault's.
	for _, r := range records {
		if r.VaultID == vault.ID {
			t.Fatalf("unreadable %+v", r)
		}
	}
}

// --- Errors, each from a real condition -------------------------------------------------

func TestErrorNotFound(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	item := mustCreate(t, client, login(vault.ID, unique("present"), "nf-secret-value"))
	_, err := client.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/no-such-item/password", vault.ID))
	missingItem := checkError(t, err, sesame.ErrNotFound, "nf-secret-value", server.ownerToken)
	if missingItem.Details["resource"] != "item" || missingItem.Details["name"] != "no-such-item" {
		t.Fatalf("details %v", missingItem.Details)
	}
	_, err = client.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/%s/no-such-field", vault.ID, item.ID))
	missingField := checkError(t, err, sesame.ErrNotFound, "nf-secret-value")
	if missingField.Details["resource"] != "field" || missingField.Details["name"] != "no-such-field" {
		t.Fatalf("details %v", missingField.Details)
	}
	_, err = client.Items().Get(ctx, vault.ID, strings.Repeat("q", 26))
	if e := checkError(t, err, sesame.ErrNotFound); e.Details["resource"] != "item" {
		t.Fatalf("details %v", e.Details)
	}
}

func TestErrorInvalidReference(t *testing.T) {
	client := mustConnect(t)
	_, err := client.Secrets().Resolve(context.Background(), "op://Infra//password")
	empty := checkError(t, err, sesame.ErrInvalidReference)
	reference, _ := empty.Details["reference"].(map[string]any)
	if reference["kind"] != "empty_segment" || reference["offset"] != float64(11) || reference["segment"] != "item" || reference["hint"] == "" {
		t.Fatalf("details %v", empty.Details)
	}
	local(t, empty)
}

func TestErrorInvalidInput(t *testing.T) {
	ctx := context.Background()
	_, err := connect(ctx, sesame.WithIntegrationInfo("", "1.0.0"))
	name := checkError(t, err, sesame.ErrInvalidInput, server.ownerToken)
	wantDetails(t, name, map[string]any{"argument": "integration_name"})
	local(t, name)
	// A closed client: see TestRuntimeClose; a recipe: TestAPISecretsOfflineErrors.
}

func TestErrorInvalidToken(t *testing.T) {
	ctx := context.Background()
	client, err := connect(ctx, sesame.WithServiceAccountToken("not-a-token"))
	prefix := checkError(t, err, sesame.ErrInvalidToken, "not-a-token")
	if client != nil {
		t.Fatal("a client and an error")
	}
	wantDetails(t, prefix, map[string]any{"token": "wrong_prefix"})
	local(t, prefix)

	owner := server.ownerToken
	last := "A"
	if strings.HasSuffix(owner, "A") {
		last = "B"
	}
	altered := owner[:len(owner)-1] + last
	secretPart := strings.SplitN(strings.TrimPrefix(owner, "sesame_sa_"), ".", 2)[0]
	_, err = connect(ctx, sesame.WithServiceAccountToken(altered))
	checksum := checkError(t, err, sesame.ErrInvalidToken, altered, owner, secretPart)
	wantDetails(t, checksum, map[string]any{"token": "checksum_mismatch"})

	marker := "NOT-A-REAL-TOKEN-c0ffee"
	_, err = connect(ctx, sesame.WithServiceAccountToken("sesame_sa_"+marker))
	checkError(t, err, sesame.ErrInvalidToken, marker)
}

func TestErrorUnauthenticated(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	accountID, token := serviceAccount(t, vault.ID+":read")
	item := mustCreate(t, client, login(vault.ID, unique("tk"), "token-secret"))
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)
	robot := mustConnect(t, sesame.WithServiceAccountToken(token))
	mustResolve(t, robot, ref, "token-secret")
	revoke(t, accountID)
	_, err := robot.Secrets().Resolve(ctx, ref)
	revoked := checkError(t, err, sesame.ErrUnauthenticated, token, "token-secret")
	if !strings.Contains(revoked.Message, "revoked") {
		t.Fatalf("message %q", revoked.Message)
	}
	fromServer(t, revoked, 401)
	_, err = connect(ctx, sesame.WithServiceAccountToken(token))
	fromServer(t, checkError(t, err, sesame.ErrUnauthenticated, token), 401)
}

func TestErrorPermissionDenied(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	_, token := serviceAccount(t, vault.ID+":read")
	reader := mustConnect(t, sesame.WithServiceAccountToken(token))
	_, err := reader.Items().Create(ctx, login(vault.ID, "denied", "denied-secret"))
	write := checkError(t, err, sesame.ErrPermissionDenied, "denied-secret", token)
	if !strings.Contains(write.Message, "CREATE_ITEMS") {
		t.Fatalf("message %q", write.Message)
	}
	fromServer(t, write, 403)
	_, err = reader.Events().List(ctx, 1, fromTheStart())
	fromServer(t, checkError(t, err, sesame.ErrPermissionDenied, token), 403)
	_, err = reader.Vaults().Create(ctx, sesame.VaultCreateParams{Title: unique("go-denied")})
	checkError(t, err, sesame.ErrPermissionDenied, token)
}

func TestErrorConflict(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)

	t.Run("a second client's stale Put", func(t *testing.T) {
		item := mustCreate(t, client, login(vault.ID, unique("conflict"), "conflict-secret"))
		second := mustConnect(t)
		stale, err := second.Items().Get(ctx, vault.ID, item.ID)
		if err != nil {
			t.Fatal(err)
		}
		item.Notes = "first writer"
		if _, err := client.Items().Put(ctx, item); err != nil {
			t.Fatal(err)
		}
		stale.Notes = "stale writer"
		_, err = second.Items().Put(ctx, stale)
		conflict := checkError(t, err, sesame.ErrConflict, "conflict-secret", "stale writer")
		if !strings.Contains(conflict.Message, "version") {
			t.Fatalf("message %q", conflict.Message)
		}
		fromServer(t, conflict, 409)
		if now, err := client.Items().Get(ctx, vault.ID, item.ID); err != nil || now.Notes != "first writer" {
			t.Fatalf("after the conflict: %q %v", now.Notes, err)
		}
	})

	t.Run("a stale item with files, found by the client", func(t *testing.T) {
		item := mustCreate(t, client, holder(vault.ID))
		item, err := client.Items().Files().Attach(ctx, item, sesame.FileCreateParams{Content: []byte{1}, Name: "a", SectionID: "files", FieldID: "a"})
		if err != nil {
			t.Fatal(err)
		}
		first := item
		first.Notes = "first"
		if _, err := client.Items().Put(ctx, first); err != nil {
			t.Fatal(err)
		}
		item.Notes = "stale"
		_, err = client.Items().Put(ctx, item)
		local(t, checkError(t, err, sesame.ErrConflict))
	})
}

func TestErrorAmbiguous(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	title := unique("twin")
	first := mustCreate(t, client, login(vault.ID, title, "twin-secret-1"))
	second := mustCreate(t, client, login(vault.ID, title, "twin-secret-2"))
	_, err := client.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/%s/password", vault.ID, title))
	twins := checkError(t, err, sesame.ErrAmbiguous, "twin-secret-1", "twin-secret-2")
	if twins.Details["resource"] != "item" || twins.Details["name"] != title {
		t.Fatalf("details %v", twins.Details)
	}
	raw, _ := twins.Details["candidates"].([]any)
	var candidates []string
	for _, c := range raw {
		s, _ := c.(string)
		candidates = append(candidates, s)
	}
	slices.Sort(candidates)
	want := []string{first.ID, second.ID}
	slices.Sort(want)
	if !slices.Equal(candidates, want) {
		t.Fatalf("candidates %v, want %v", candidates, want)
	}
	// By id, each is found.
	mustResolve(t, client, fmt.Sprintf("op://%s/%s/password", vault.ID, second.ID), "twin-secret-2")
}

func TestErrorRateLimited(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	item := mustCreate(t, client, login(vault.ID, unique("limited"), "limited-secret"))
	accountID, token := serviceAccount(t, vault.ID+":read")
	server.cli(t, server.ownerToken, "service-account", "ratelimit", accountID, "--reads", "1")
	// No retries: a short Retry-After would otherwise be waited out.
	limited := mustConnect(t, sesame.WithServiceAccountToken(token), sesame.WithRetries(0))
	var over error
	for i := 0; i < 5 && over == nil; i++ {
		_, over = limited.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID))
	}
	e := checkError(t, over, sesame.ErrRateLimited, "limited-secret", token)
	var rl *sesame.RateLimitedError
	if !errors.As(over, &rl) || rl.Err != e {
		t.Fatalf("errors.As(*RateLimitedError): %T", over)
	}
	var exceeded *sesame.RateLimitExceededError
	if !errors.As(over, &exceeded) || exceeded != rl {
		t.Fatal("errors.As(*RateLimitExceededError)")
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > time.Hour || rl.RetryAfter%time.Second != 0 {
		t.Fatalf("RetryAfter %v", rl.RetryAfter)
	}
	if e.Details["retryAfterSeconds"] != rl.RetryAfter.Seconds() {
		t.Fatalf("RetryAfter %v, details %v", rl.RetryAfter, e.Details)
	}
	fromServer(t, e, 429)
	state, err := limited.RateLimit(ctx)
	if err != nil || state == nil || state.Limit != 1 || state.Remaining != 0 {
		t.Fatalf("RateLimit %+v %v", state, err)
	}
}

// closedPort is a port nothing listens on.
func closedPort(t testing.TB) int {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	_ = probe.Close()
	return port
}

func TestErrorNetwork(t *testing.T) {
	started := time.Now()
	_, err := connect(context.Background(), sesame.WithServerURL(fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))),
		sesame.WithRetries(0), sesame.WithTimeoutSeconds(5))
	local(t, checkError(t, err, sesame.ErrNetwork, server.ownerToken))
	if elapsed := time.Since(started); elapsed > 5*time.Second {
		t.Fatalf("a refused connection took %v", elapsed)
	}
}

func TestErrorServer(t *testing.T) {
	gateway, _ := badGateway(t)
	_, err := connect(context.Background(), sesame.WithServerURL(gateway), sesame.WithRetries(0))
	failed := checkError(t, err, sesame.ErrServer, server.ownerToken)
	if !strings.Contains(failed.Message, "502") || failed.StatusCode != 502 {
		t.Fatalf("message %q, status %d", failed.Message, failed.StatusCode)
	}
}

// sqlite runs SQL on the server's database with the sqlite3 command line; its output.
func sqlite(t testing.TB, sql string) string {
	t.Helper()
	out, err := exec.Command("sqlite3", "-cmd", ".timeout 30000", filepath.Join(server.dataDir, "sesame.db"), sql).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestErrorIntegrity(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("the sqlite3 command line is needed to alter the server's database")
	}
	ctx := context.Background()
	client := mustConnect(t)
	own := newVault(t, client)
	detailsVictim := mustCreate(t, client, login(own.ID, "details", "integrity-secret"))
	overviewVictim := mustCreate(t, client, login(own.ID, "overview", "other-secret"))
	healthy := mustCreate(t, client, login(own.ID, "healthy", "healthy-secret"))
	hexBlob := regexp.MustCompile(`^[0-9A-F]+$`)
	for _, victim := range []struct {
		item   sesame.Item
		column string
	}{{detailsVictim, "details"}, {overviewVictim, "overview"}} {
		column := victim.column
		where := fmt.Sprintf("vault_id = '%s' AND id = '%s'", own.ID, victim.item.ID)
		original := sqlite(t, fmt.Sprintf("SELECT hex(%s) FROM items WHERE %s;", column, where))
		if !hexBlob.MatchString(original) {
			t.Fatalf("%s of %s: %q", victim.column, victim.item.ID, original)
		}
		t.Cleanup(func() { sqlite(t, fmt.Sprintf("UPDATE items SET %s = X'%s' WHERE %s;", column, original, where)) })
		last, _ := hex.DecodeString(original[len(original)-2:])
		flipped := original[:len(original)-2] + strings.ToUpper(hex.EncodeToString([]byte{last[0] ^ 1}))
		sqlite(t, fmt.Sprintf("UPDATE items SET %s = X'%s' WHERE %s;", victim.column, flipped, where))
	}

	// A new client syncs the altered records.
	fresh := mustConnect(t)
	_, err := fresh.Items().Get(ctx, own.ID, detailsVictim.ID)
	checkError(t, err, sesame.ErrIntegrity, "integrity-secret", server.ownerToken)
	listed, err := fresh.Items().List(ctx, own.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := overviewIDs(listed)
	if _, ok := ids[healthy.ID]; !ok {
		t.Fatal("the healthy item is not listed")
	}
	if _, ok := ids[overviewVictim.ID]; ok {
		t.Fatal("an item whose overview does not open is listed")
	}
	records, err := fresh.UnreadableRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]sesame.UnreadableKind{}
	for _, r := range records {
		if r.VaultID != own.ID {
			continue
		}
		if r.ItemID == nil || r.Message == "" {
			t.Fatalf("record %+v", r)
		}
		kinds[*r.ItemID] = r.Kind
	}
	if kinds[overviewVictim.ID] != sesame.UnreadableKindItemOverview {
		t.Fatalf("unreadable kinds %v", kinds)
	}
	if _, ok := kinds[healthy.ID]; ok {
		t.Fatalf("the healthy item is unreadable: %v", kinds)
	}
	if encoded, _ := json.Marshal(records); bytes.Contains(encoded, []byte("other-secret")) {
		t.Fatal("a secret shows in the unreadable records")
	}
	mustResolve(t, fresh, fmt.Sprintf("op://%s/%s/password", own.ID, healthy.ID), "healthy-secret")
}

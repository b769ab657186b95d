package sesame

// Checks the generated Go (go/*.go) behaves: run by tests/codegen/check.sh in a scratch
// module holding the generated files and this test.

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

type recorder struct {
	name       string
	parameters map[string]any
	data       []byte
}

func (r *recorder) invoke(_ context.Context, name string, parameters map[string]any, data []byte) (json.RawMessage, []byte, error) {
	r.name, r.parameters, r.data = name, parameters, data
	if name == "ItemsFilesAttach" {
		return json.RawMessage(`{"id":"i","title":"t","category":"Login","vaultId":"v","fields":[],"sections":[],"notes":"","tags":[],"websites":[],"version":2,"files":[],"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`), nil, nil
	}
	return json.RawMessage(`"s3cret"`), nil, nil
}

func TestGeneratedModel(t *testing.T) {
	recipe := NewPasswordRecipeTypeVariantPin(&PasswordRecipePinInner{Length: 6})
	text, err := json.Marshal(recipe)
	if err != nil || string(text) != `{"type":"Pin","parameters":{"length":6}}` {
		t.Fatalf("marshal: %s %v", text, err)
	}
	var back PasswordRecipe
	if err := json.Unmarshal(text, &back); err != nil || back.Pin() == nil || back.Pin().Length != 6 {
		t.Fatalf("unmarshal: %+v %v", back, err)
	}
	var item Item
	if err := json.Unmarshal([]byte(`{"id":"a","title":"t","category":"Login","vaultId":"v","fields":[],"sections":[],"notes":"","tags":[],"websites":[],"version":1,"files":[],"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`), &item); err != nil {
		t.Fatal(err)
	}
	if item.VaultID != "v" || item.Category != ItemCategoryLogin || item.CreatedAt.Year() != 2026 {
		t.Fatalf("%+v", item)
	}
}

func TestGeneratedErrors(t *testing.T) {
	err := errorFromEnvelope(map[string]any{"code": "not_found", "message": "no vault"})
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || err.Error() != "no vault" {
		t.Fatalf("errors.Is: %v", err)
	}
	limited := errorFromEnvelope(map[string]any{"code": "rate_limited", "message": "slow", "retryAfterSeconds": 2.0})
	var rateLimited *RateLimitedError
	if !errors.As(limited, &rateLimited) || rateLimited.RetryAfter.Seconds() != 2 || !errors.Is(limited, ErrRateLimited) {
		t.Fatalf("errors.As: %v", limited)
	}
	if ErrorNumbers[CodeInvalidReference] != 1 {
		t.Fatal("numbers")
	}
}

func TestGeneratedCalls(t *testing.T) {
	r := &recorder{}
	secrets := newSecretsCalls(r)
	value, err := secrets.Resolve(context.Background(), "op://a/b/c")
	if err != nil || value != "s3cret" || r.name != "SecretsResolve" {
		t.Fatalf("%q %v %q", value, err, r.name)
	}
}

func TestGeneratedCallsSendFileContentBeside(t *testing.T) {
	r := &recorder{}
	files := newItemsFilesCalls(r)
	params := FileCreateParams{Name: "a.bin", Content: []byte{0, 255}, SectionID: "s", FieldID: "f"}
	item, err := files.Attach(context.Background(), Item{ID: "i", VaultID: "v"}, params)
	if err != nil || item.Version != 2 {
		t.Fatalf("%+v %v", item, err)
	}
	if string(r.data) != "\x00\xff" || len(params.Content) != 2 {
		t.Fatalf("content beside: %q, caller's params: %q", r.data, params.Content)
	}
	text, err := json.Marshal(r.parameters["file_params"])
	if err != nil || string(text) != `{"content":"","fieldId":"f","name":"a.bin","sectionId":"s"}` {
		t.Fatalf("file_params JSON: %s %v", text, err)
	}
}

package sesame_test

import (
	"context"
	"errors"
	"testing"

	sesame "github.com/sesame-secrets/sesame/go"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	client := ownerClient(t)
	vault, err := client.Vaults().Create(ctx, sesame.VaultCreateParams{Title: "Smoke"})
	if err != nil {
		t.Fatal(err)
	}
	value := "s3cret"
	_, err = client.Items().Create(ctx, sesame.ItemCreateParams{VaultID: vault.ID, Title: "I", Category: sesame.ItemCategoryLogin,
		Fields: []sesame.ItemField{{ID: "password", Title: "password", FieldType: sesame.ItemFieldTypeConcealed, Value: value}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.Secrets().Resolve(ctx, "op://Smoke/I/password")
	if err != nil || got != value {
		t.Fatalf("resolve: %q %v", got, err)
	}
	_, err = client.Secrets().Resolve(ctx, "op://Smoke/I/nope")
	if !errors.Is(err, sesame.ErrNotFound) {
		t.Fatalf("want not found, got %v", err)
	}
	if err := sesame.Secrets.ValidateSecretReference(ctx, "op://x"); !errors.Is(err, sesame.ErrInvalidReference) {
		t.Fatalf("validate: %v", err)
	}
}

package sesame_test

// Benchmarks of the Go SDK against the suite's local server (`make bench` runs them with
// the release libsesame and server; bench/go_sdk.sh reports them against their targets):
// client creation, warm resolves (syncing, and served from the client's cache) serially
// and from every core at once, offline validation, each with allocations per call.

import (
	"context"
	"testing"

	sesame "github.com/sesame-secrets/sesame/go"
)

const benchReference = "op://Bench/Database/password"

var benchOnce = map[string]bool{}

// benchClient is an owner client with a vault "Bench" holding one login.
func benchClient(b *testing.B, opts ...sesame.ClientOption) *sesame.Client {
	b.Helper()
	client := ownerClient(b, opts...)
	if !benchOnce["vault"] {
		ctx := context.Background()
		vault, err := client.Vaults().Create(ctx, sesame.VaultCreateParams{Title: "Bench"})
		if err != nil {
			b.Fatal(err)
		}
		_, err = client.Items().Create(ctx, sesame.ItemCreateParams{
			VaultID: vault.ID, Title: "Database", Category: sesame.ItemCategoryDatabase,
			Fields: []sesame.ItemField{{ID: "password", Title: "password", FieldType: sesame.ItemFieldTypeConcealed, Value: "bench-secret"}},
		})
		if err != nil {
			b.Fatal(err)
		}
		benchOnce["vault"] = true
	}
	if _, err := client.Secrets().Resolve(context.Background(), benchReference); err != nil {
		b.Fatal(err)
	}
	return client
}

func BenchmarkNewClient(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		client, err := sesame.NewClient(ctx,
			sesame.WithServiceAccountToken(server.ownerToken),
			sesame.WithIntegrationInfo("sesame-go-bench", "1.0.0"),
			sesame.WithServerURL(server.url))
		if err != nil {
			b.Fatal(err)
		}
		_ = client.Close()
	}
}

func benchmarkResolve(b *testing.B, parallel bool, opts ...sesame.ClientOption) {
	client := benchClient(b, opts...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for i := 0; i < b.N; i++ {
			if _, err := client.Secrets().Resolve(ctx, benchReference); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.Secrets().Resolve(ctx, benchReference); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkResolveWarm(b *testing.B)         { benchmarkResolve(b, false) }
func BenchmarkResolveWarmParallel(b *testing.B) { benchmarkResolve(b, true) }
func BenchmarkResolveCached(b *testing.B) {
	benchmarkResolve(b, false, sesame.WithCacheTTLSeconds(3600))
}
func BenchmarkResolveCachedParallel(b *testing.B) {
	benchmarkResolve(b, true, sesame.WithCacheTTLSeconds(3600))
}

func BenchmarkValidateSecretReference(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := sesame.Secrets.ValidateSecretReference(ctx, benchReference); err != nil {
			b.Fatal(err)
		}
	}
}

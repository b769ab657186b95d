// The 1Password Go SDK's quickstart (its README), ported to Sesame: the import and the
// token's environment variable changed, and the secret is printed, because the
// original's unused `secret` does not compile. `make demo` runs it.
package main

import (
	"context"
	"fmt"
	"os"

	onepassword "github.com/sesame-secrets/sesame/go"
)

func main() {
	token := os.Getenv("SESAME_SERVICE_ACCOUNT_TOKEN")

	client, err := onepassword.NewClient(
		context.TODO(),
		onepassword.WithServiceAccountToken(token),
		// TODO: Set the following to your own integration name and version.
		onepassword.WithIntegrationInfo("My 1Password Integration", "v1.0.0"),
	)
	if err != nil {
		// handle err
	}
	secret, err := client.Secrets().Resolve(context.TODO(), "op://vault/item/field")
	if err != nil {
		// handle err
	}
	// do something with the secret
	fmt.Println(secret)
}

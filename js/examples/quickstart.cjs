// The 1Password JS SDK's quickstart (its README), ported to Sesame: only the import and
// the token's environment variable changed. `make demo` runs it.
const sdk = require("@sesame/sdk");

async function main() {
  // Creates an authenticated client.
  const client = await sdk.createClient({
    auth: process.env.SESAME_SERVICE_ACCOUNT_TOKEN,
    // Set the following to your own integration name and version.
    integrationName: "My 1Password Integration",
    integrationVersion: "v1.0.0",
  });

  // Fetches a secret.
  const secret = await client.secrets.resolve("op://vault/item/field");
}

main()

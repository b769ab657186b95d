//! Provisions the demo: as the account owner, creates a `Demo` vault holding a
//! `Postgres` item (username, password, one-time password) and a read-only service
//! account for it, and writes that account's token to a file (mode 0600).
//!
//! ```text
//! provision_demo <owner-credential-file> <server-url> <token-output-file>
//! ```
//!
//! `make demo` runs it between starting a server and resolving secrets from each SDK.

use std::error::Error;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use secrecy::{ExposeSecret, SecretString};
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
use sesame_core::model::{
    ItemCategory, ItemCreateParams, ItemField, ItemFieldType, VaultCreateParams,
};
use sesame_core::{Client, ClientConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [credential, url, token_file] = args.as_slice() else {
        return Err(
            "usage: provision_demo <owner-credential-file> <server-url> <token-output-file>".into(),
        );
    };
    let owner_token = SecretString::from(std::fs::read_to_string(credential)?.trim().to_owned());
    let config = ClientConfig {
        server_url: Some(url.clone()),
        ..ClientConfig::new("sesame-demo", env!("CARGO_PKG_VERSION"))
    };
    let owner = Client::authenticate(owner_token, config).await?;

    let vault = owner
        .vaults()
        .create(VaultCreateParams {
            description: Some("Made by make demo".into()),
            ..VaultCreateParams::new("Demo")
        })
        .await?;
    let field = |id: &str, kind, value: &str| ItemField::new(id, id, kind, value);
    let item = owner
        .items()
        .create(ItemCreateParams {
            fields: Some(vec![
                field("username", ItemFieldType::Text, "app"),
                field(
                    "password",
                    ItemFieldType::Concealed,
                    "correct horse battery staple",
                ),
                field("one-time password", ItemFieldType::Totp, "JBSWY3DPEHPK3PXP"),
            ]),
            notes: Some("Primary database of the demo".into()),
            ..ItemCreateParams::new(ItemCategory::Database, vault.id.clone(), "Postgres")
        })
        .await?;
    // What the 1Password SDKs' quickstarts read, `op://vault/item/field`, so that each
    // language's quickstart runs here with only its import and token changed.
    let quickstart = owner
        .vaults()
        .create(VaultCreateParams::new("vault"))
        .await?;
    owner
        .items()
        .create(ItemCreateParams {
            fields: Some(vec![field(
                "field",
                ItemFieldType::Concealed,
                "the quickstart's secret",
            )]),
            ..ItemCreateParams::new(ItemCategory::Password, quickstart.id.clone(), "item")
        })
        .await?;
    let read = READ_ITEMS | REVEAL_ITEM_PASSWORD;
    let (account, token) = owner
        .service_accounts()
        .create(
            "demo-reader",
            &[(vault.id.as_str(), read), (quickstart.id.as_str(), read)],
            None,
        )
        .await?;

    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(token_file)?;
    out.write_all(token.expose_secret().as_bytes())?;
    println!(
        "provisioned vault {:?} ({}), item {:?} ({}), read-only service account {:?} ({})",
        vault.title, vault.id, item.title, item.id, account.name, account.id
    );
    Ok(())
}

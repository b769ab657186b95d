//! A tour of everything `sesame-core` does without a server: `make demo` runs it.
//!
//! It walks the path a secret takes: a service account token is issued and parsed, the
//! principal's keys are derived from it, a vault key is wrapped to the principal, an item
//! is sealed under the vault key and a file is streamed through encryption; then the
//! secret references, one-time passwords and password recipes a program uses.

use std::io::{Read, Write};

use secrecy::ExposeSecret;
use sesame_core::crypto::{EnvelopeContext, FileDecryptor, FileEncryptor, FileKey, VaultKey};
use sesame_core::id::Id;
use sesame_core::model::{ItemCategory, ItemCreateParams, ItemField, ItemFieldType};
use sesame_core::password::{
    generate_password, PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};
use sesame_core::reference::SecretReference;
use sesame_core::token::ServiceAccountToken;
use sesame_core::totp::Totp;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    section("Service account token");
    let (account, principal, vault, item) = (
        Id::generate(),
        Id::generate(),
        Id::generate(),
        Id::generate(),
    );
    let token = ServiceAccountToken::generate("http://127.0.0.1:8787", account, principal)?;
    let text = token.to_secret_string();
    let text = text.expose_secret();
    println!(
        "issued a {}-character token starting {:?}",
        text.len(),
        &text[..10]
    );
    println!("parsed back: {:?}", ServiceAccountToken::parse(text)?);
    let mut typo = text.to_owned();
    typo.replace_range(40..41, if &text[40..41] == "A" { "B" } else { "A" });
    println!(
        "with one mistyped character: {}",
        err(ServiceAccountToken::parse(&typo))
    );
    println!(
        "cut short:                   {}",
        err(ServiceAccountToken::parse(&text[..120]))
    );

    section("Keys and end-to-end encryption");
    let keys = token.keys();
    println!("principal public keys (the server stores only these): {keys:?}");
    let vault_key = VaultKey::generate();
    let wrapped = vault_key.wrap(&keys.encryption_public_key(), &vault, &principal)?;
    println!(
        "vault key wrapped to the principal with HPKE: {} + {} bytes",
        wrapped.encapsulated_key.len(),
        wrapped.ciphertext.len()
    );
    let vault_key = VaultKey::unwrap(&wrapped, &keys, &vault, &principal)?;
    let params = ItemCreateParams {
        fields: Some(vec![ItemField::new(
            "password",
            "password",
            ItemFieldType::Concealed,
            "correct horse battery staple",
        )]),
        ..ItemCreateParams::new(ItemCategory::Database, vault.to_string(), "Postgres")
    };
    println!("an item, as Debug shows it (values redacted): {params:?}");
    let details = EnvelopeContext::item_details(account, vault, item, 1);
    let sealed = vault_key.seal(&details, &serde_json::to_vec(&params)?)?;
    println!(
        "sealed the item's details: {} bytes of ciphertext",
        sealed.len()
    );
    let opened = vault_key.open(&details, &sealed)?;
    println!(
        "opened with the same context: {} bytes of JSON",
        opened.len()
    );
    let replayed = EnvelopeContext::item_details(account, vault, item, 2);
    println!(
        "replayed as version 2:        {}",
        err(vault_key.open(&replayed, &sealed))
    );

    let (file, file_key) = (Id::generate(), FileKey::generate());
    let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut encryptor = FileEncryptor::new(Vec::new(), &file_key, &file)?;
    encryptor.write_all(&content)?;
    let ciphertext = encryptor.finish()?;
    let mut decrypted = Vec::new();
    FileDecryptor::new(ciphertext.as_slice(), &file_key, &file)?.read_to_end(&mut decrypted)?;
    println!(
        "streamed a {} byte file through chunked encryption ({} bytes) and back: {}",
        content.len(),
        ciphertext.len(),
        if decrypted == content {
            "identical"
        } else {
            "DIFFERENT"
        }
    );
    let truncated = &ciphertext[..ciphertext.len() - 100];
    let mut sink = Vec::new();
    let result = FileDecryptor::new(truncated, &file_key, &file)?.read_to_end(&mut sink);
    println!("the same stream truncated:    {}", err(result));

    section("Secret references");
    for text in [
        "op://Infra/Postgres/password",
        "op://Infra/GitHub/Security/one-time password?attr=totp",
        "op://Infra/Postgres/password?attribute=size",
        "op://Infra/Post/gres/db/password",
        "op://Infra/Postgres/pass$word",
        "op://Infra//password",
    ] {
        match SecretReference::parse(text) {
            Ok(reference) => println!("{text:<56} ok, canonical {reference}"),
            Err(e) => println!("{text:<56} {e}"),
        }
    }

    section("One-time passwords");
    let totp = Totp::parse(
        "otpauth://totp/ACME:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME&digits=6",
    )?;
    let code = totp.now()?;
    println!(
        "{} ({}): a {}-digit code valid for {} more seconds",
        totp.issuer().unwrap_or("?"),
        totp.account_name().unwrap_or("?"),
        code.code().len(),
        code.expires_in_seconds()
    );
    println!("a bad secret: {}", err(Totp::parse("JBSWY3DPEHPK3PX1")));

    section("Password recipes (entropy in bits)");
    let memorable = |word_list_type, separator_type| {
        PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
            separator_type,
            capitalize: true,
            word_list_type,
            word_count: 5,
        })
    };
    for recipe in [
        PasswordRecipe::Pin(PasswordRecipePinInner { length: 6 }),
        PasswordRecipe::Random(PasswordRecipeRandomInner {
            include_digits: true,
            include_symbols: true,
            length: 32,
        }),
        memorable(WordListType::FullWords, SeparatorType::Hyphens),
        memorable(WordListType::Syllables, SeparatorType::Digits),
        memorable(WordListType::ThreeLetters, SeparatorType::Periods),
    ] {
        let generated = generate_password(&recipe)?;
        println!(
            "{:>6.1}  {}",
            generated.entropy_bits(),
            generated.password().expose_secret()
        );
    }
    let too_short = PasswordRecipe::Random(PasswordRecipeRandomInner {
        include_digits: true,
        include_symbols: true,
        length: 4,
    });
    println!(
        "a recipe out of range: {}",
        err(generate_password(&too_short))
    );
    Ok(())
}

fn section(title: &str) {
    println!("\n== {title}");
}

/// The error's message, for a result that is expected to fail.
fn err<T, E: std::fmt::Display>(result: Result<T, E>) -> String {
    match result {
        Ok(_) => "unexpectedly accepted".to_owned(),
        Err(e) => e.to_string(),
    }
}

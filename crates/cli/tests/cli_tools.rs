//! `sesame password generate`, `sesame totp` and `sesame completion`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{run, Fixture, TOTP_SECRET};

fn sesame(args: &[&str]) -> support::Run {
    run(
        std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(args)
            .env_remove("SESAME_FORMAT"),
        "",
    )
}

#[test]
fn password_generate_follows_the_recipes() {
    let out = sesame(&["password", "generate"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout.trim_end().chars().count(), 32);
    let pin = sesame(&["password", "generate", "--recipe", "pin", "--length", "8"]);
    let pin = pin.stdout.trim_end();
    assert!(
        pin.len() == 8 && pin.chars().all(|c| c.is_ascii_digit()),
        "{pin}"
    );
    let compact = sesame(&["password", "generate", "pin,5"]).stdout;
    assert_eq!(compact.trim_end().len(), 5);
    let letters = sesame(&[
        "password",
        "generate",
        "--length",
        "40",
        "--no-digits",
        "--no-symbols",
    ]);
    assert!(letters
        .stdout
        .trim_end()
        .chars()
        .all(|c| c.is_ascii_alphabetic()));
    let memorable = sesame(&[
        "password",
        "generate",
        "--recipe",
        "memorable",
        "--words",
        "5",
        "--separator",
        "spaces",
    ]);
    assert_eq!(
        memorable.stdout.trim_end().split(' ').count(),
        5,
        "{memorable:?}"
    );
    let json = sesame(&[
        "password", "generate", "--format", "json", "--recipe", "pin",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["password"].as_str().unwrap().len(), 6);
    assert!(value["entropyBits"].as_f64().unwrap() > 19.0);
    assert_eq!(value["recipe"]["type"], "Pin");
    let bad = sesame(&["password", "generate", "--recipe", "pin", "--length", "40"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("length"), "{bad:?}");
}

#[test]
fn totp_from_a_uri_or_a_secret() {
    let expected = sesame_core::totp::Totp::parse(TOTP_SECRET).unwrap();
    let codes = || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        [now, now - 30].map(|t| expected.code_at(t).code().to_owned())
    };
    let out = sesame(&["totp", TOTP_SECRET]);
    assert!(
        codes().contains(&out.stdout.trim_end().to_owned()),
        "{out:?}"
    );
    let uri = format!("otpauth://totp/me?secret={TOTP_SECRET}&issuer=x");
    let out = sesame(&["totp", &uri, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(codes().contains(&value["code"].as_str().unwrap().to_owned()));
    assert!(value["expiresInSeconds"].as_u64().unwrap() <= 30);
    let bad = sesame(&["totp", "not base32!"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
}

#[tokio::test]
async fn totp_from_a_reference() {
    let f = Fixture::new().await;
    let expected = sesame_core::totp::Totp::parse(TOTP_SECRET).unwrap();
    let out = run(
        f.server
            .cli(&f.sa_token)
            .args(["totp", "op://Infra/Postgres/one-time password"]),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = out.stdout.trim_end();
    assert!(
        [now, now - 30]
            .iter()
            .any(|t| expected.code_at(*t).code() == code),
        "{code}"
    );
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = sesame(&["completion", shell]);
        assert_eq!(out.code, Some(0), "{out:?}");
        for word in ["inject", "service-account", "env-file", "generate-password"] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sesame.bash");
    std::fs::write(&script, sesame(&["completion", "bash"]).stdout).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(checked.success());
    assert_eq!(sesame(&["completion", "tcsh"]).code, Some(2));
}

#[test]
fn every_command_has_help_with_an_example() {
    for args in [
        &["read", "--help"][..],
        &["inject", "--help"],
        &["run", "--help"],
        &["item", "create", "--help"],
        &["service-account", "create", "--help"],
        &["vault", "grant", "--help"],
        &["completion", "--help"],
    ] {
        let out = sesame(args);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.contains("Example"), "{args:?}: {}", out.stdout);
    }
}

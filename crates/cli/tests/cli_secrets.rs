//! `sesame whoami`, `read` and `inject` against a real server, with exit codes and
//! round-trip counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use secrecy::ExposeSecret as _;
use sesame_core::model::{ItemCategory, ItemCreateParams, ItemFieldType};
use support::{field, run, Fixture, TOTP_SECRET};

#[tokio::test]
async fn whoami_names_the_principal_in_both_formats() {
    let f = Fixture::new().await;
    let out = run(f.server.cli(&f.sa_token).arg("whoami"), "");
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.contains("ci-reader") && out.stdout.contains(&f.sa_id),
        "{out:?}"
    );
    let out = run(
        f.server
            .cli(&f.sa_token)
            .args(["whoami", "--format", "json"]),
        "",
    );
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["id"], f.sa_id.as_str());
    assert_eq!(json["name"], "ci-reader");
    assert_eq!(json["kind"], "serviceAccount");
    assert_eq!(json["serverUrl"], f.server.url.as_str());
}

#[tokio::test]
async fn credentials_come_from_the_flag_the_environment_or_the_saved_owner_credential() {
    let f = Fixture::new().await;
    // None: a message naming all three sources, exit 5.
    let out = run(f.server.cli_without_token().arg("whoami"), "");
    assert_eq!(out.code, Some(5), "{out:?}");
    for source in [
        "--token-file",
        "SESAME_SERVICE_ACCOUNT_TOKEN",
        "sesame server init",
    ] {
        assert!(out.stderr.contains(source), "{}", out.stderr);
    }
    // --token-file beats the environment.
    let file = f.server.data_dir.join("owner.credential");
    let out = run(
        f.server
            .cli(&f.sa_token)
            .args(["whoami", "--format", "json", "--token-file"])
            .arg(&file),
        "",
    );
    assert!(out.stdout.contains("\"owner\""), "{out:?}");
    // The saved owner credential, found in $XDG_CONFIG_HOME/sesame/credential.
    let config = f.server.data_dir.join("cli-config").join("sesame");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(&file, config.join("credential")).unwrap();
    let out = run(
        f.server
            .cli_without_token()
            .args(["whoami", "--format", "json"]),
        "",
    );
    assert!(out.stdout.contains("\"owner\""), "{out:?}");
    // A malformed token is an authentication failure.
    let out = run(
        f.server
            .cli(&"sesame_sa_nonsense".to_owned().into())
            .arg("whoami"),
        "",
    );
    assert_eq!(out.code, Some(5), "{out:?}");
    // An unreachable server is a network failure.
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("SESAME_URL", "http://127.0.0.1:9")
            .arg("whoami"),
        "",
    );
    assert_eq!(out.code, Some(6), "{out:?}");
}

#[test]
fn server_init_saves_the_owner_credential_for_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["server", "init", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let saved = config.join("sesame").join("credential");
    let token = std::fs::read_to_string(&saved).unwrap();
    let original = std::fs::read_to_string(dir.path().join("data/owner.credential")).unwrap();
    assert_eq!(token, original);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains(&saved.display().to_string()));
}

#[tokio::test]
async fn read_prints_fields_and_otp_codes_and_writes_private_files() {
    let f = Fixture::new().await;
    let cli = || f.server.cli(&f.sa_token);
    let out = run(cli().args(["read", "op://Infra/Postgres/password"]), "");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "pg-top\n"),
        "{out:?}"
    );
    let out = run(
        cli().args(["read", "-n", "op://Infra/Postgres/admin/password"]),
        "",
    );
    assert_eq!(out.stdout, "pg-admin");
    let out = run(
        cli().args([
            "read",
            "op://Infra/Postgres/one-time password?attribute=otp",
        ]),
        "",
    );
    let code = out.stdout.trim();
    let expected = sesame_core::totp::Totp::parse(TOTP_SECRET).unwrap();
    assert_eq!(code.len(), 6, "{out:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        [now, now - 30]
            .iter()
            .any(|t| expected.code_at(*t).code() == code),
        "{code}"
    );
    let path = f.server.data_dir.join("out.secret");
    let out = run(
        cli()
            .args(["read", "op://Infra/Postgres/username", "-o"])
            .arg(&path),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "pg-user");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        let out = run(
            cli()
                .args([
                    "read",
                    "op://Infra/Postgres/username",
                    "--file-mode",
                    "0640",
                    "-o",
                ])
                .arg(&path),
            "",
        );
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(mode(&path), 0o640);
    }
}

#[tokio::test]
async fn exit_codes_tell_the_kinds_of_failure_apart() {
    let f = Fixture::new().await;
    let cli = || f.server.cli(&f.sa_token);
    let code = |args: &[&str]| run(cli().args(args), "").code;
    assert_eq!(code(&["read", "op://Infra/Postgres/nope"]), Some(3));
    assert_eq!(code(&["read", "op://Nope/Postgres/password"]), Some(3));
    assert_eq!(code(&["read", "not-a-reference"]), Some(2));
    assert_eq!(code(&["read"]), Some(2), "clap usage error");
    assert_eq!(code(&["frobnicate"]), Some(2));
    assert_eq!(code(&["--help"]), Some(0));
    let help = run(cli().arg("--help"), "").stdout;
    assert!(
        help.contains("Exit codes:") && help.contains("4  permission denied"),
        "{help}"
    );
    // Unknown reference failures never print a secret or the token.
    let out = run(cli().args(["read", "op://Infra/Postgres/nope"]), "");
    assert!(!out.stderr.contains(f.sa_token.expose_secret()));
}

#[tokio::test]
async fn inject_fills_every_kind_of_reference() {
    let f = Fixture::new().await;
    let template = "\
user: {{ op://Infra/Postgres/username }}
pass: op://Infra/Postgres/password
admin: {{ op://$VAULT/Postgres/${SECTION:-admin}/password }}
otp-len: {{ op://Infra/Postgres/one-time password?attribute=otp }}
literal: {{ \"op://Infra/Postgres/password\" }} and {{ \"$VAULT\" }}
other: {{ .Values.x }} $5
";
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("VAULT", "Infra")
            .env_remove("SECTION")
            .arg("inject"),
        template,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "user: pg-user");
    assert_eq!(lines[1], "pass: pg-top");
    assert_eq!(lines[2], "admin: pg-admin");
    assert_eq!(lines[3].len(), "otp-len: ".len() + 6, "{}", lines[3]);
    assert_eq!(lines[4], "literal: op://Infra/Postgres/password and $VAULT");
    assert_eq!(lines[5], "other: {{ .Values.x }} $5");

    // Files in and out; the output file is private.
    let input = f.server.data_dir.join("in.tpl");
    let output = f.server.data_dir.join("out.conf");
    std::fs::write(&input, "password={{ op://Infra/Postgres/password }}\n").unwrap();
    let out = run(
        f.server
            .cli(&f.sa_token)
            .args(["inject", "-i"])
            .arg(&input)
            .arg("-o")
            .arg(&output),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "password=pg-top\n"
    );
}

#[tokio::test]
async fn inject_errors_name_line_and_column_and_write_nothing() {
    let f = Fixture::new().await;
    let output = f.server.data_dir.join("never.conf");
    let inject = |template: &str| {
        let out = run(
            f.server
                .cli(&f.sa_token)
                .env_remove("UNSET_VAR")
                .args(["inject", "-o"])
                .arg(&output),
            template,
        );
        assert!(!output.exists(), "nothing is written: {out:?}");
        out
    };
    let out = inject("a: {{ op://Infra/Postgres/password }}\nb:  {{ op://Infra/Postgres/nope }}\n");
    assert_eq!(out.code, Some(3), "{out:?}");
    assert!(out.stderr.contains("line 2, column 5"), "{}", out.stderr);
    assert!(
        out.stderr.contains("op://Infra/Postgres/nope"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("pg-top"), "no secret in errors");
    let out = inject("x\n  y op://Infra/\n");
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("line 2, column 5"), "{}", out.stderr);
    let out = inject("x $UNSET_VAR");
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("line 1, column 3") && out.stderr.contains("UNSET_VAR"));
    let out = inject("{{ op://Infra/Postgres/password");
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("line 1, column 1") && out.stderr.contains("unclosed"));
}

/// A vault with 100 distinct references: 25 items of 4 fields.
async fn hundred_references(f: &Fixture) -> Vec<String> {
    let mut references = Vec::new();
    for i in 0..25 {
        let fields = (0..4)
            .map(|j| {
                field(
                    &format!("f{j}"),
                    &format!("f{j}"),
                    None,
                    ItemFieldType::Concealed,
                    &format!("v{i}-{j}"),
                )
            })
            .collect();
        f.owner
            .items()
            .create(ItemCreateParams {
                fields: Some(fields),
                ..ItemCreateParams::new(ItemCategory::Password, &f.vault_id, format!("svc{i}"))
            })
            .await
            .unwrap();
        for j in 0..4 {
            references.push(format!("op://Infra/svc{i}/f{j}"));
        }
    }
    references
}

fn round_trips_after_auth(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("sesame: round trips:"))
        .unwrap_or_else(|| panic!("no round-trip report in {stderr}"));
    line.split(", ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn inject_resolves_a_hundred_references_in_at_most_two_round_trips() {
    let f = Fixture::new().await;
    let references = hundred_references(&f).await;
    let template: String = references
        .iter()
        .map(|r| format!("{{{{ {r} }}}}\n"))
        .collect();
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("SESAME_DEBUG_ROUND_TRIPS", "1")
            .arg("inject"),
        &template,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 100);
    assert_eq!(out.stdout.lines().nth(41), Some("v10-1"));
    let after = round_trips_after_auth(&out.stderr);
    eprintln!("inject, 100 references: {after} round trips after authentication");
    assert!(after <= 2, "{}", out.stderr);
}

#[tokio::test]
async fn inject_without_references_needs_no_credential() {
    let f = Fixture::new().await;
    let out = run(
        f.server
            .cli_without_token()
            .env("SESAME_DEBUG_ROUND_TRIPS", "1")
            .env("NAME", "world")
            .arg("inject"),
        "hello $NAME {{ \"op://literal\" }}\n",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "hello world op://literal\n");
    assert!(
        out.stderr.contains("round trips: 0 total"),
        "{}",
        out.stderr
    );
}

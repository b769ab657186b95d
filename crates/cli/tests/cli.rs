//! The `sesame server` commands as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

const SESAME: &str = env!("CARGO_BIN_EXE_sesame");

fn sesame(args: &[&str]) -> std::process::Output {
    let config = std::env::temp_dir().join(format!("sesame-cli-config-{}", std::process::id()));
    Command::new(SESAME)
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("SESAME_DATA_DIR")
        .env_remove("SESAME_DATABASE_URL")
        .env_remove("SESAME_LISTEN")
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_private_credential_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let first = sesame(&["server", "init", "--data-dir", data]);
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8(first.stdout).unwrap();
    let credential = std::path::Path::new(data).join("owner.credential");
    let token = std::fs::read_to_string(&credential).unwrap();
    assert!(token.starts_with("sesame_sa_"));
    assert!(!stdout.contains(token.trim()), "the token is never printed");
    assert!(stdout.contains("owner.credential"), "{stdout}");
    assert!(stdout.contains("sesame server start"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&credential).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A second init refuses, whether or not the credential file is in the way.
    let again = sesame(&["server", "init", "--data-dir", data]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already"));
    let other = dir.path().join("other.credential");
    let again = sesame(&[
        "server",
        "init",
        "--data-dir",
        data,
        "--credential-file",
        other.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already initialized"), "{stderr}");
    assert!(!other.exists(), "no stray credential file");
    assert_eq!(std::fs::read_to_string(&credential).unwrap(), token);

    let migrate = sesame(&["server", "migrate", "--data-dir", data]);
    assert!(migrate.status.success(), "{migrate:?}");
    let verify = sesame(&["server", "audit", "verify", "--data-dir", data]);
    assert!(verify.status.success(), "{verify:?}");
    assert!(String::from_utf8_lossy(&verify.stdout).contains("audit trail intact: 1 events"));
}

#[test]
fn start_prints_its_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(sesame(&["server", "init", "--data-dir", data])
        .status
        .success());

    let refused = sesame(&[
        "server",
        "start",
        "--data-dir",
        data,
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("without TLS"));

    let mut child = Command::new(SESAME)
        .args([
            "server",
            "start",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line was {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime
        .block_on(async { reqwest::get(format!("{url}/healthz")).await?.text().await })
        .unwrap();
    assert!(health.contains("ok"));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}

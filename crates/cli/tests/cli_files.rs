//! `sesame item file …`, `sesame document …`, `sesame read` of files and
//! `sesame service-account ratelimit`, run as the built binary against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::{run, Fixture, Server};

/// Bytes that are not UTF-8 and not text: every byte value, NULs, CR/LF, no final newline.
fn binary(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut bytes: Vec<u8> = (0..=255u8).collect();
    bytes.extend(b"\r\n\0\xff\xfe\x80");
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.push((state >> 24) as u8);
    }
    bytes.truncate(len);
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

/// Runs `command` with stdin closed and returns its raw output.
fn raw(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("run sesame")
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(out: &support::Run) -> Value {
    assert_eq!(out.code, Some(0), "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[tokio::test]
async fn attach_get_list_delete_and_read_files_byte_for_byte() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let dir = tempfile::tempdir().unwrap();
    let content = binary(300 * 1024 + 7);
    let blob = dir.path().join("blob.bin");
    std::fs::write(&blob, &content).unwrap();
    let notes = dir.path().join("n.txt");
    std::fs::write(&notes, "line one\nline two\n").unwrap();
    let blob_arg = blob.to_str().unwrap();

    let attached = json(&cli(&[
        "item", "file", "attach", "Postgres", "--vault", "Infra", blob_arg, "--format", "json",
    ]));
    assert_eq!(attached["attributes"]["name"], "blob.bin");
    assert_eq!(attached["attributes"]["size"], content.len());
    assert_eq!(attached["sectionId"], "files", "the default section");
    let blob_id = attached["attributes"]["id"].as_str().unwrap().to_owned();
    // Into an existing section, by title, under another name.
    let second = cli(&[
        "item",
        "file",
        "attach",
        "Postgres",
        "--vault",
        "Infra",
        notes.to_str().unwrap(),
        "--name",
        "notes.txt",
        "--section",
        "admin",
    ]);
    assert_eq!(second.code, Some(0), "{second:?}");
    assert!(second.stdout.starts_with("NAME"), "{second:?}");
    assert!(second.stdout.contains("notes.txt") && second.stdout.contains("Admin"));
    assert!(
        second.stderr.is_empty(),
        "no progress bar in a pipe: {second:?}"
    );

    let list = cli(&["item", "file", "list", "Postgres", "--vault", "Infra"]);
    assert_eq!(list.code, Some(0), "{list:?}");
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{list:?}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("SECTION"));
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        row,
        ["blob.bin", &blob_id, &content.len().to_string(), "Files"]
    );
    let listed = json(&cli(&[
        "item", "file", "list", "Postgres", "--vault", "Infra", "--format", "json",
    ]));
    assert_eq!(listed["files"].as_array().unwrap().len(), 2);
    assert_eq!(listed["document"], Value::Null);
    assert_eq!(listed["files"][1]["sectionId"], "admin");

    // By name to stdout: exactly the bytes, and nothing on stderr (not a terminal).
    let got = raw(f.server.cli(&owner).args([
        "item", "file", "get", "Postgres", "blob.bin", "--vault", "Infra",
    ]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert!(
        got.stdout == content,
        "stdout differs from the uploaded file"
    );
    assert!(got.stderr.is_empty(), "{}", stderr(&got));

    // By id to a file: default mode 0600, replacing a file that was world-readable.
    let out = dir.path().join("out.bin");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let got = raw(f.server.cli(&owner).args([
        "item",
        "file",
        "get",
        "Postgres",
        &blob_id,
        "--vault",
        "Infra",
        "-o",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert!(got.stdout.is_empty() && got.stderr.is_empty());
    assert!(std::fs::read(&out).unwrap() == content);
    assert_eq!(mode(&out), 0o600);
    let custom = dir.path().join("custom.bin");
    let got = raw(f.server.cli(&owner).args([
        "item",
        "file",
        "get",
        "Postgres",
        "NOTES.TXT",
        "--vault",
        "Infra",
        "-o",
        custom.to_str().unwrap(),
        "--file-mode",
        "0640",
    ]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert_eq!(std::fs::read(&custom).unwrap(), b"line one\nline two\n");
    assert_eq!(mode(&custom), 0o640);
    // Through a symlink: the link stays, its target is replaced. A target that is not a
    // regular file (here the stdout pipe) is written in place.
    let real = dir.path().join("real.bin");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.bin");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let got = raw(f.server.cli(&owner).args([
        "item",
        "file",
        "get",
        "Postgres",
        "blob.bin",
        "--vault",
        "Infra",
        "-o",
        link.to_str().unwrap(),
    ]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read(&real).unwrap() == content);
    assert_eq!(mode(&real), 0o600);
    let got = raw(f.server.cli(&owner).args([
        "item",
        "file",
        "get",
        "Postgres",
        "blob.bin",
        "--vault",
        "Infra",
        "-o",
        "/dev/stdout",
    ]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert!(got.stdout == content, "-o /dev/stdout");
    assert!(Path::new("/dev/stdout").exists());
    // No temporary files left beside the targets.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with(".sesame")), "{names:?}");

    // `sesame read` of a file: the bytes unmodified (no newline), to stdout and to -o.
    let read = raw(f
        .server
        .cli(&owner)
        .args(["read", "op://Infra/Postgres/blob.bin"]));
    assert_eq!(code(&read), Some(0), "{}", stderr(&read));
    assert!(read.stdout == content, "read changed the bytes");
    let read_out = dir.path().join("read.bin");
    let read = raw(f.server.cli(&owner).args([
        "read",
        "op://Infra/Postgres/files/blob.bin",
        "-o",
        read_out.to_str().unwrap(),
    ]));
    assert_eq!(code(&read), Some(0), "{}", stderr(&read));
    assert!(std::fs::read(&read_out).unwrap() == content);
    assert_eq!(mode(&read_out), 0o600);
    // A field still gets its newline, a file's size is a value too.
    let field = cli(&["read", "op://Infra/Postgres/username"]);
    assert_eq!(field.stdout, "pg-user\n", "{field:?}");
    let size = cli(&["read", "op://Infra/Postgres/blob.bin?attribute=size"]);
    assert_eq!(size.stdout, format!("{}\n", content.len()), "{size:?}");

    // Missing files: exit 3, nothing written.
    let missing_out = dir.path().join("missing.bin");
    let missing = raw(f.server.cli(&owner).args([
        "item",
        "file",
        "get",
        "Postgres",
        "nope.bin",
        "--vault",
        "Infra",
        "-o",
        missing_out.to_str().unwrap(),
    ]));
    assert_eq!(code(&missing), Some(3), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("nope.bin"),
        "{}",
        stderr(&missing)
    );
    assert!(!missing_out.exists());
    assert_eq!(
        cli(&["item", "file", "delete", "Postgres", "nope.bin", "--vault", "Infra"]).code,
        Some(3)
    );
    assert_eq!(
        cli(&["item", "file", "list", "Nope", "--vault", "Infra"]).code,
        Some(3)
    );
    // A path that is not a file: a usage error before anything is sent.
    let not_a_file = cli(&[
        "item",
        "file",
        "attach",
        "Postgres",
        "--vault",
        "Infra",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(not_a_file.code, Some(2), "{not_a_file:?}");

    // A read-only service account may download but not attach (exit 4).
    let sa = raw(f.server.cli(&f.sa_token).args([
        "item", "file", "get", "Postgres", &blob_id, "--vault", "Infra",
    ]));
    assert_eq!(code(&sa), Some(0), "{}", stderr(&sa));
    assert!(sa.stdout == content);
    let denied = run(
        f.server.cli(&f.sa_token).args([
            "item", "file", "attach", "Postgres", "--vault", "Infra", blob_arg,
        ]),
        "",
    );
    assert_eq!(denied.code, Some(4), "{denied:?}");

    // Delete by name: gone from the list, from get and from references.
    let deleted = json(&cli(&[
        "item", "file", "delete", "Postgres", "blob.bin", "--vault", "Infra", "--format", "json",
    ]));
    assert_eq!(deleted["id"], blob_id.as_str());
    let listed = json(&cli(&[
        "item", "file", "list", "Postgres", "--vault", "Infra", "--format", "json",
    ]));
    assert_eq!(listed["files"].as_array().unwrap().len(), 1);
    assert_eq!(listed["files"][0]["attributes"]["name"], "notes.txt");
    assert_eq!(
        cli(&["item", "file", "get", "Postgres", &blob_id, "--vault", "Infra"]).code,
        Some(3)
    );
    assert_eq!(cli(&["read", "op://Infra/Postgres/blob.bin"]).code, Some(3));
}

#[tokio::test]
async fn documents_create_get_and_edit() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let dir = tempfile::tempdir().unwrap();
    let first = binary(70_000);
    let path = dir.path().join("bundle.der");
    std::fs::write(&path, &first).unwrap();

    let created = json(&cli(&[
        "document",
        "create",
        "--vault",
        "Infra",
        "--title",
        "TLS bundle",
        path.to_str().unwrap(),
        "--tags",
        "prod,tls",
        "--format",
        "json",
    ]));
    assert_eq!(created["category"], "Document");
    assert_eq!(created["document"]["name"], "bundle.der");
    assert_eq!(created["document"]["size"], first.len());
    assert_eq!(created["tags"], serde_json::json!(["prod", "tls"]));
    let got = raw(f
        .server
        .cli(&owner)
        .args(["document", "get", "TLS bundle", "--vault", "Infra"]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert!(got.stdout == first);
    assert!(got.stderr.is_empty(), "{}", stderr(&got));

    let second = binary(5_000).into_iter().rev().collect::<Vec<u8>>();
    let new_path = dir.path().join("bundle-2.der");
    std::fs::write(&new_path, &second).unwrap();
    let edited = json(&cli(&[
        "document",
        "edit",
        "tls BUNDLE",
        "--vault",
        "Infra",
        new_path.to_str().unwrap(),
        "--name",
        "bundle.der",
        "--format",
        "json",
    ]));
    assert_eq!(edited["id"], created["id"]);
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["document"]["size"], second.len());
    let out = dir.path().join("got.der");
    let got = raw(f.server.cli(&owner).args([
        "document",
        "get",
        created["id"].as_str().unwrap(),
        "--vault",
        "Infra",
        "-o",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code(&got), Some(0), "{}", stderr(&got));
    assert!(std::fs::read(&out).unwrap() == second);
    assert_eq!(mode(&out), 0o600);
    // The document is a file of the item too: listed, readable by reference, not deletable.
    let list = cli(&["item", "file", "list", "TLS bundle", "--vault", "Infra"]);
    assert!(list.stdout.contains("(document)"), "{list:?}");
    let read = raw(f
        .server
        .cli(&owner)
        .args(["read", "op://Infra/TLS bundle/bundle.der"]));
    assert!(read.stdout == second, "{}", stderr(&read));
    let refused = cli(&[
        "item",
        "file",
        "delete",
        "TLS bundle",
        "bundle.der",
        "--vault",
        "Infra",
    ]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("document edit"), "{refused:?}");
    // Not a Document item: a usage error.
    let wrong = cli(&["document", "get", "Postgres", "--vault", "Infra"]);
    assert_eq!(wrong.code, Some(2), "{wrong:?}");
    assert_eq!(
        cli(&["document", "get", "Nope", "--vault", "Infra"]).code,
        Some(3)
    );
}

/// Runs `sesame ARGS` with stdout and stderr on a pseudo-terminal (util-linux `script`)
/// and returns everything the terminal showed.
fn on_terminal(server: &Server, args: &[&str]) -> (Option<i32>, String) {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_sesame"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut command = Command::new("script");
    command
        .args(["-q", "-e", "-c", &quoted.join(" "), "/dev/null"])
        .envs(
            server
                .cli(server.owner_token())
                .get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        );
    let output = raw(&mut command);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn progress_bars_only_on_a_terminal_and_never_with_json() {
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, binary(2 * 1024 * 1024)).unwrap();
    let path = path.to_str().unwrap();

    let (status, shown) = on_terminal(
        &f.server,
        &[
            "item", "file", "attach", "Postgres", "--vault", "Infra", path,
        ],
    );
    assert_eq!(status, Some(0), "{shown}");
    assert!(shown.contains("uploading big.bin"), "{shown}");
    assert!(shown.contains("2.00 MiB/2.00 MiB"), "{shown}");
    let out = dir.path().join("copy.bin");
    let out = out.to_str().unwrap();
    let (status, shown) = on_terminal(
        &f.server,
        &[
            "item", "file", "get", "Postgres", "big.bin", "--vault", "Infra", "-o", out,
        ],
    );
    assert_eq!(status, Some(0), "{shown}");
    assert!(shown.contains("downloading big.bin"), "{shown}");
    assert!(shown.contains("/s"), "a rate: {shown}");

    // JSON output is for programs: no bar even on a terminal.
    let (status, shown) = on_terminal(
        &f.server,
        &[
            "item", "file", "get", "Postgres", "big.bin", "--vault", "Infra", "-o", out,
            "--format", "json",
        ],
    );
    assert_eq!(status, Some(0), "{shown}");
    assert!(!shown.contains("downloading"), "{shown}");
    // And none when stderr is a pipe.
    let piped = raw(f.server.cli(f.server.owner_token()).args([
        "item", "file", "get", "Postgres", "big.bin", "--vault", "Infra", "-o", out,
    ]));
    assert_eq!(code(&piped), Some(0));
    assert!(piped.stderr.is_empty(), "{}", stderr(&piped));
}

#[tokio::test]
async fn service_account_ratelimit_shows_sets_enforces_and_resets() {
    // A window far longer than the test, so a budget never renews mid-test.
    let config = tempfile::tempdir().unwrap();
    let toml = config.path().join("server.toml");
    std::fs::write(&toml, "rate_limit_window_seconds = 1099511627776\n").unwrap();
    let server = Server::start_with_env(&[("SESAME_CONFIG", toml.to_str().unwrap())]);
    let f = Fixture::with_server(server).await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let sa = |args: &[&str]| run(f.server.cli(&f.sa_token).args(args), "");

    let shown = cli(&["service-account", "ratelimit", "ci-reader"]);
    assert_eq!(shown.code, Some(0), "{shown:?}");
    assert!(shown.stdout.starts_with("BUDGET"), "{shown:?}");
    assert!(shown.stdout.contains("10000"), "{shown:?}");
    assert!(!shown.stdout.contains("set for"), "{shown:?}");
    let set = json(&cli(&[
        "service-account",
        "ratelimit",
        "ci-reader",
        "--writes",
        "2",
        "--format",
        "json",
    ]));
    assert_eq!(set["writes"], 2);
    assert_eq!(set["reads"], Value::Null);
    assert_eq!(set["effectiveWrites"], 2);
    assert_eq!(set["principalId"], f.sa_id.as_str());
    // One budget at a time: the other is kept.
    let both = json(&cli(&[
        "service-account",
        "ratelimit",
        &f.sa_id,
        "--reads",
        "500",
        "--format",
        "json",
    ]));
    assert_eq!(
        (&both["reads"], &both["writes"]),
        (&Value::from(500), &Value::from(2))
    );
    let shown = cli(&["service-account", "ratelimit", "ci-reader"]);
    let writes_row = shown
        .stdout
        .lines()
        .find(|l| l.starts_with("writes"))
        .unwrap();
    assert!(
        writes_row.contains(" 2 ") && writes_row.contains("set for this service account"),
        "{shown:?}"
    );

    // Two writes pass, the third is refused: the rate-limit exit code (1) and message.
    let allowed = cli(&[
        "service-account",
        "rights",
        "ci-reader",
        "--can-create-vaults",
        "true",
    ]);
    assert_eq!(allowed.code, Some(0), "{allowed:?}");
    assert_eq!(sa(&["vault", "create", "A"]).code, Some(0));
    assert_eq!(sa(&["vault", "create", "B"]).code, Some(0));
    let limited = sa(&["vault", "create", "C"]);
    assert_eq!(limited.code, Some(1), "{limited:?}");
    assert!(limited.stderr.contains("rate limited"), "{limited:?}");
    // Reads have their own budget.
    assert_eq!(sa(&["vault", "list"]).code, Some(0));

    // `default` gives one budget back; --reset both.
    let back = json(&cli(&[
        "service-account",
        "ratelimit",
        "ci-reader",
        "--writes",
        "default",
        "--format",
        "json",
    ]));
    assert_eq!(
        (&back["reads"], &back["writes"]),
        (&Value::from(500), &Value::Null)
    );
    assert_eq!(
        sa(&["vault", "create", "C"]).code,
        Some(0),
        "writes allowed again"
    );
    let reset = json(&cli(&[
        "service-account",
        "ratelimit",
        "ci-reader",
        "--reset",
        "--format",
        "json",
    ]));
    assert_eq!(
        (&reset["reads"], &reset["writes"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(reset["effectiveReads"], 100_000);

    // Usage errors before any request, the owner refused by the server, others by name.
    for args in [
        &["--writes", "0"][..],
        &["--reads", "1000000001"],
        &["--writes", "many"],
        &["--reset", "--writes", "5"],
    ] {
        let mut full = vec!["service-account", "ratelimit", "ci-reader"];
        full.extend_from_slice(args);
        let out = cli(&full);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
    }
    let itself = cli(&["service-account", "ratelimit", "owner", "--writes", "5"]);
    assert_eq!(itself.code, Some(2), "{itself:?}");
    assert!(itself.stderr.contains("owner"), "{itself:?}");
    assert_eq!(
        cli(&["service-account", "ratelimit", "nobody"]).code,
        Some(3)
    );
    let denied = sa(&["service-account", "ratelimit", "ci-reader"]);
    assert_eq!(denied.code, Some(4), "{denied:?}");
}

//! `sesame run` against a real server: resolution, masking, `.env` files, exit statuses,
//! signals, stdin, and round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use sesame_core::model::{ItemCategory, ItemCreateParams, ItemFieldType};
use support::{field, login, run, Fixture};

const M: &str = "<concealed by sesame>";

#[tokio::test]
async fn references_in_the_environment_are_resolved_and_masked() {
    let f = Fixture::new().await;
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("DB_PASSWORD", "op://Infra/Postgres/password")
            .env("PLAIN", "not-a-secret")
            .args(["run", "--", "sh", "-c"])
            .arg(r#"echo "out $DB_PASSWORD $PLAIN"; echo "err $DB_PASSWORD" >&2; test "$DB_PASSWORD" = pg-top && echo child-saw-it"#),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, format!("out {M} not-a-secret\nchild-saw-it\n"));
    assert_eq!(out.stderr, format!("err {M}\n"));

    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("DB_PASSWORD", "op://Infra/Postgres/password")
            .args(["run", "--no-masking", "--", "sh", "-c", "echo $DB_PASSWORD"]),
        "",
    );
    assert_eq!(out.stdout, "pg-top\n");
}

#[tokio::test]
async fn masking_survives_byte_by_byte_writes_and_substring_values() {
    let f = Fixture::new().await;
    f.owner
        .items()
        .create(login(&f.vault_id, "Longer", "xpg-top-longer"))
        .await
        .unwrap();
    // One write per byte, with pauses so that every byte is a separate read.
    let script = r#"v=$LONG; while [ -n "$v" ]; do rest=${v#?}; printf %s "${v%"$rest"}"; v=$rest; sleep 0.02; done; echo; echo "$SHORT|$LONG|$SHORT$LONG""#;
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("SHORT", "op://Infra/Postgres/password")
            .env("LONG", "op://Infra/Longer/password")
            .args(["run", "--", "sh", "-c", script]),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, format!("{M}\n{M}|{M}|{M}{M}\n"), "{out:?}");
    assert!(!out.stdout.contains("pg") && !out.stdout.contains("longer"));
}

#[tokio::test]
async fn env_files_follow_the_dotenv_rules() {
    let f = Fixture::new().await;
    let dir = &f.server.data_dir;
    std::fs::write(
        dir.join("base.env"),
        "# base settings\nexport HOST=db.internal\nURL=postgres://$HOST:${PORT:-5432}/app # comment\n\
         LITERAL='$HOST stays'\nMULTI=\"line one\nline two\"\nOVERRIDDEN=base\nSHELL_WINS_NOT=file\n\
         PASSWORD=op://Infra/Postgres/password\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("prod.env"),
        "OVERRIDDEN=prod\nQUOTED=\"pw is $PASSWORD\"\n",
    )
    .unwrap();
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("SHELL_WINS_NOT", "shell")
            .env("PORT", "6543")
            .args(["run", "--no-masking", "--env-file"])
            .arg(dir.join("base.env"))
            .arg("--env-file")
            .arg(dir.join("prod.env"))
            .args(["--", "sh", "-c"])
            .arg(r#"printf '%s\n' "$URL" "$LITERAL" "$MULTI" "$OVERRIDDEN" "$SHELL_WINS_NOT" "$PASSWORD" "$QUOTED""#),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "postgres://db.internal:6543/app\n$HOST stays\nline one\nline two\nprod\nfile\npg-top\npw is op://Infra/Postgres/password\n"
    );
    // A syntax error names the file and line; the command does not run.
    std::fs::write(dir.join("bad.env"), "A=1\nB=\"open\n").unwrap();
    let out = run(
        f.server
            .cli(&f.sa_token)
            .args(["run", "--env-file"])
            .arg(dir.join("bad.env"))
            .args(["--", "sh", "-c", "echo ran"]),
        "",
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("bad.env: line 2"), "{}", out.stderr);
    assert!(!out.stdout.contains("ran"));
}

#[tokio::test]
async fn exit_status_stdin_and_failures() {
    let f = Fixture::new().await;
    let cli = || {
        let mut c = f.server.cli(&f.sa_token);
        c.env("DB", "op://Infra/Postgres/password");
        c
    };
    assert_eq!(
        run(cli().args(["run", "--", "sh", "-c", "exit 7"]), "").code,
        Some(7)
    );
    assert_eq!(
        run(cli().args(["run", "--", "sh", "-c", "kill -TERM $$"]), "").code,
        Some(128 + 15)
    );
    let out = run(
        cli().args(["run", "--", "sh", "-c", "cat; echo $DB"]),
        "from stdin\n",
    );
    assert_eq!(out.stdout, format!("from stdin\n{M}\n"));
    let out = run(cli().args(["run", "--", "no-such-command-xyz"]), "");
    assert_eq!(out.code, Some(127), "{out:?}");
    // An unresolvable reference: exit 3, naming the variable, and the command never runs.
    let out = run(
        cli()
            .env("BROKEN", "op://Infra/Postgres/nope")
            .args(["run", "--", "sh", "-c", "echo ran"]),
        "",
    );
    assert_eq!(out.code, Some(3), "{out:?}");
    assert!(
        out.stderr.contains("BROKEN") && !out.stdout.contains("ran"),
        "{out:?}"
    );
    // No references: no credential needed.
    let out = run(
        f.server
            .cli_without_token()
            .args(["run", "--", "sh", "-c", "echo plain"]),
        "",
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "plain\n"),
        "{out:?}"
    );
    // The command is required.
    assert_eq!(run(cli().arg("run"), "").code, Some(2));
}

#[tokio::test]
async fn signals_are_forwarded_to_the_child() {
    let f = Fixture::new().await;
    for (signal, name) in [("-TERM", "TERM"), ("-INT", "INT")] {
        let mut child = f
            .server
            .cli(&f.sa_token)
            .env("DB", "op://Infra/Postgres/password")
            .args(["run", "--", "sh", "-c"])
            .arg(format!(
                "trap 'echo got-{name} $DB; exit 42' {name}; echo ready; while true; do sleep 0.05; done"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("got-{name} {M}\n"));
        assert_eq!(
            status.code(),
            Some(42),
            "sesame exits with the child's status"
        );
    }
}

#[tokio::test]
async fn run_resolves_a_hundred_references_in_at_most_two_round_trips() {
    let f = Fixture::new().await;
    let mut command = f.server.cli(&f.sa_token);
    for i in 0..25 {
        let fields = (0..4)
            .map(|j| {
                field(
                    &format!("f{j}"),
                    &format!("f{j}"),
                    None,
                    ItemFieldType::Concealed,
                    &format!("val-{i}-{j}"),
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
            command.env(format!("SECRET_{i}_{j}"), format!("op://Infra/svc{i}/f{j}"));
        }
    }
    let out = run(
        command.env("SESAME_DEBUG_ROUND_TRIPS", "1").args([
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            "echo $SECRET_24_3 $SECRET_0_0",
        ]),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "val-24-3 val-0-0\n");
    let report = out
        .stderr
        .lines()
        .find(|l| l.starts_with("sesame: round trips:"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    eprintln!("run, 100 references: {report}");
    let after: u64 = report
        .split(", ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(after <= 2, "{report}");
}

#[tokio::test]
async fn multi_line_values_are_masked_whole() {
    let f = Fixture::new().await;
    let out = run(
        f.server
            .cli(&f.sa_token)
            .env("KEY", "op://Infra/Postgres/private key")
            .args([
                "run",
                "--",
                "sh",
                "-c",
                r#"printf '%s\n' "$KEY"; printf 'len=%s\n' "${#KEY}""#,
            ]),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        !out.stdout.contains("OPENSSH") && !out.stdout.contains("b3Bl"),
        "{out:?}"
    );
    assert!(out.stdout.starts_with(M), "{out:?}");
}

/// Ctrl-C at a terminal reaches the child once: the terminal signals the whole foreground
/// process group, so `sesame run` does not forward it a second time. Driven through a
/// pseudo-terminal by Python's `pty` module.
#[test]
fn ctrl_c_at_a_terminal_reaches_the_child_once() {
    const CHILD: &str = r#"
import signal, sys, time
count = 0
def handler(signum, frame):
    global count
    count += 1
signal.signal(signal.SIGINT, handler)
print("ready", flush=True)
deadline = time.time() + 1.5
while time.time() < deadline:
    time.sleep(0.05)
print(f"count={count}", flush=True)
"#;
    const DRIVER: &str = r#"
import os, pty, sys
sesame, child = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sesame, [sesame, "run", "--", sys.executable, "-c", child])
out = b""
while b"ready" not in out:
    out += os.read(fd, 1024)
os.write(fd, b"\x03")
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
print(out.decode(errors="replace"))
print(f"exit={os.waitstatus_to_exitcode(status)}")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", DRIVER, env!("CARGO_BIN_EXE_sesame"), CHILD])
        .env_remove("SESAME_SERVICE_ACCOUNT_TOKEN")
        .output()
        .expect("python3 runs the pseudo-terminal driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("count=1"), "{stdout}");
    assert!(stdout.contains("exit=0"), "{stdout}");
}

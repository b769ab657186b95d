//! `sesame run`: run a command with secret references in its environment resolved, and
//! the resolved values masked in its output.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

use clap::Args;
use sesame_core::reference::SecretReference;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::ctx::Ctx;
use crate::dotenv;
use crate::exit::{CliResult, Failure};
use crate::mask::Masker;

/// `sesame run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A .env file to load (repeatable; later files win, and files win over the shell).
    #[arg(long = "env-file", value_name = "FILE")]
    env_files: Vec<PathBuf>,
    /// Do not mask secret values in the command's output.
    #[arg(long)]
    no_masking: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// The environment of the child: the shell's, overridden by the env files.
fn environment(files: &[PathBuf]) -> CliResult<BTreeMap<String, String>> {
    let mut defined = HashMap::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::other(format!("cannot read {}: {e}", path.display())))?;
        dotenv::parse_into(&text, &mut defined, &|name| std::env::var(name).ok())
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    }
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    env.extend(defined);
    Ok(env)
}

pub(crate) async fn run(args: RunArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let mut env = environment(&args.env_files)?;
    // Variables whose value is a secret reference, by reference.
    let mut by_reference: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &env {
        let value = value.trim();
        if value.starts_with("op://") {
            SecretReference::parse(value).map_err(|e| {
                Failure::usage(format!("variable {name}: {}", sesame_core::Error::from(e)))
            })?;
            by_reference
                .entry(value.to_owned())
                .or_default()
                .push(name.clone());
        }
    }
    let references: Vec<&str> = by_reference.keys().map(String::as_str).collect();
    let values = crate::resolve::resolve_all(ctx, &references, |reference, e| {
        let names = by_reference
            .get(reference)
            .map(|n| n.join(", "))
            .unwrap_or_default();
        format!("variable {names} ({reference}): {e}")
    })
    .await?;
    for (reference, names) in &by_reference {
        if let Some(value) = values.get(reference) {
            for name in names {
                env.insert(name.clone(), value.clone());
            }
        }
    }
    let masking = !args.no_masking && values.values().any(|v| !v.is_empty());
    let secrets: Vec<String> = values.into_values().collect();

    let (program, arguments) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::usage("give the command to run after --"))?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(arguments)
        .env_clear()
        .envs(&env)
        .stdin(Stdio::inherit());
    if masking {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let signals = Signals::install()?;
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("error: cannot run {program:?}: {e}");
            let missing = e.kind() == std::io::ErrorKind::NotFound;
            return Ok(ExitCode::from(if missing { 127 } else { 126 }));
        }
    };
    let pid = child.id();
    let forward = tokio::spawn(signals.forward(pid));
    let mut pumps = Vec::new();
    if let Some(out) = child.stdout.take() {
        pumps.push(tokio::spawn(pump(
            out,
            tokio::io::stdout(),
            Masker::new(&secrets),
        )));
    }
    if let Some(err) = child.stderr.take() {
        pumps.push(tokio::spawn(pump(
            err,
            tokio::io::stderr(),
            Masker::new(&secrets),
        )));
    }
    drop(secrets);
    let status = child
        .wait()
        .await
        .map_err(|e| Failure::other(format!("cannot wait for {program:?}: {e}")))?;
    forward.abort();
    for pump in pumps {
        let _ = pump.await;
    }
    Ok(ExitCode::from(exit_status(status)))
}

/// The status to exit with: the child's code, or 128 + the signal that killed it.
fn exit_status(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return u8::try_from((128 + signal) & 0xff).unwrap_or(1);
        }
    }
    1
}

/// Copies `from` to `to`, masking, flushing after every read so that output stays live.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut masker: Masker,
) {
    let mut buffer = vec![0u8; 8192];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let out = masker.push(&buffer[..n]);
        if to.write_all(&out).await.is_err() || to.flush().await.is_err() {
            break;
        }
    }
    let _ = to.write_all(&masker.finish()).await;
    let _ = to.flush().await;
}

/// SIGINT, SIGTERM and SIGHUP, caught so that they go to the child instead of ending us.
#[cfg(unix)]
struct Signals(Vec<(tokio::signal::unix::Signal, nix::sys::signal::Signal)>);

#[cfg(unix)]
impl Signals {
    fn install() -> CliResult<Self> {
        use nix::sys::signal::Signal as Nix;
        use tokio::signal::unix::{signal, SignalKind};
        let mut caught = Vec::new();
        for (kind, nix) in [
            (SignalKind::interrupt(), Nix::SIGINT),
            (SignalKind::terminate(), Nix::SIGTERM),
            (SignalKind::hangup(), Nix::SIGHUP),
        ] {
            let stream =
                signal(kind).map_err(|e| Failure::other(format!("cannot handle {nix}: {e}")))?;
            caught.push((stream, nix));
        }
        Ok(Self(caught))
    }

    /// Sends every signal received to `pid`, until aborted.
    async fn forward(self, pid: Option<u32>) {
        let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(pid);
        let (mut streams, kinds): (Vec<_>, Vec<_>) = self.0.into_iter().unzip();
        loop {
            let received = {
                let waits = streams
                    .iter_mut()
                    .enumerate()
                    .map(|(i, s)| Box::pin(async move { s.recv().await.map(|()| i) }));
                futures_select(waits.collect()).await
            };
            match received {
                Some(i) => {
                    let signal = kinds[i];
                    let from_terminal = matches!(
                        signal,
                        nix::sys::signal::Signal::SIGINT | nix::sys::signal::Signal::SIGHUP
                    );
                    if from_terminal && in_terminal_foreground() {
                        // The terminal sent it to its whole foreground process group, the
                        // child included: forwarding it would deliver it twice (and a
                        // second Ctrl-C means "force quit" to many programs).
                        continue;
                    }
                    let _ = nix::sys::signal::kill(pid, signal);
                }
                None => return,
            }
        }
    }
}

/// Whether we (and so the child, which shares our process group) are the foreground
/// process group of the terminal on stdin.
#[cfg(unix)]
fn in_terminal_foreground() -> bool {
    nix::unistd::tcgetpgrp(std::io::stdin()).is_ok_and(|fg| fg == nix::unistd::getpgrp())
}

/// The first of `futures` to finish.
#[cfg(unix)]
async fn futures_select<F>(futures: Vec<std::pin::Pin<Box<F>>>) -> Option<usize>
where
    F: std::future::Future<Output = Option<usize>>,
{
    let mut futures = futures;
    std::future::poll_fn(move |cx| {
        for future in &mut futures {
            if let std::task::Poll::Ready(result) = future.as_mut().poll(cx) {
                return std::task::Poll::Ready(result);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> CliResult<Self> {
        Ok(Self)
    }

    async fn forward(self, _pid: Option<u32>) {
        std::future::pending::<()>().await;
    }
}

//! `sesame`: the Sesame command line: read, inject and run with secret references, manage
//! vaults, items and service accounts, and run the server.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

mod args;
mod assign;
mod commands;
mod credential;
mod ctx;
mod dotenv;
mod exit;
mod limits;
mod logging;
mod mask;
mod output;
mod resolve;
mod template;
mod transfer;

use commands::{
    completion, document, events, inject, item, password, read, run, server, service_account,
    share, totp, vault, whoami,
};
use ctx::Ctx;
use exit::{CliResult, Failure};
use output::Format;

/// Sesame: an end-to-end-encrypted secrets manager.
///
/// Authentication, first found wins: --token-file FILE, the environment variable
/// SESAME_SERVICE_ACCOUNT_TOKEN, or the owner credential `sesame server init` saved to
/// $XDG_CONFIG_HOME/sesame/credential (~/.config/sesame/credential). SESAME_URL overrides
/// the server URL recorded in the token.
#[derive(Debug, Parser)]
#[command(name = "sesame", version, about, after_help = exit::help())]
struct Cli {
    /// Output format: `table` for people, `json` for programs (stable, SDK field names).
    #[arg(long, global = true, value_enum, default_value_t = Format::Table, env = "SESAME_FORMAT")]
    format: Format,
    /// Read the token from this file instead of SESAME_SERVICE_ACCOUNT_TOKEN or the saved
    /// owner credential.
    #[arg(long, global = true, value_name = "FILE")]
    token_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show who the credential in use belongs to.
    #[command(
        after_help = "Example:\n  SESAME_SERVICE_ACCOUNT_TOKEN=$(cat ci.token) sesame whoami"
    )]
    Whoami,
    /// Print the secret a reference names.
    #[command(
        after_help = "Examples:\n  sesame read op://Infra/Postgres/password\n  \
        sesame read -n 'op://Infra/GitHub/one-time password?attribute=otp'\n  \
        sesame read op://Infra/Deploy/private-key -o id_deploy --file-mode 0600"
    )]
    Read(read::ReadArgs),
    /// Fill the secret references of a template.
    #[command(
        after_help = "Examples:\n  sesame inject -i config.yml.tpl -o config.yml\n  \
        echo 'db_password: {{ op://$ENV/Postgres/password }}' | ENV=prod sesame inject\n\n\
        Template rules: {{ op://… }} (names may hold spaces) and bare op://… are references;\n\
        $VAR, ${VAR} and ${VAR:-default} expand everywhere, also inside references;\n\
        {{ \"…\" }} is literal text. An error names its line and column and writes nothing."
    )]
    Inject(inject::InjectArgs),
    /// Run a command with the secret references in its environment resolved.
    #[command(after_help = "Examples:\n  \
        DB_PASSWORD=op://Infra/Postgres/password sesame run -- ./migrate.sh\n  \
        sesame run --env-file .env --env-file .env.prod -- npm start\n\n\
        Every variable whose value is a secret reference (op://…), from the shell or an env\n\
        file, is resolved (all with one request) and passed to the command. Resolved values\n\
        are masked in its stdout and stderr unless --no-masking. SIGINT, SIGTERM and SIGHUP\n\
        are forwarded (SIGINT and SIGHUP not when a terminal already sent them to the\n\
        command too), stdin is passed through, and sesame exits with the command's status\n\
        (128+N when signal N killed it).\n\n\
        .env files: NAME=value lines, # comments, optional `export`, \"double\" (escapes,\n\
        multi-line) and 'single' (literal, multi-line) quotes, $VAR/${VAR}/${VAR:-default}\n\
        expansion except in single quotes. Later files win; files win over the shell.")]
    Run(run::RunArgs),
    /// Manage vaults: list, get, create, edit, delete, grant, revoke.
    #[command(after_help = "Example:\n  sesame vault list")]
    Vault {
        #[command(subcommand)]
        command: vault::VaultCommand,
    },
    /// Manage items: get, create, edit, delete, archive, list, and their files.
    #[command(after_help = "Example:\n  sesame item get Postgres --vault Infra --references")]
    Item {
        #[command(subcommand)]
        command: item::ItemCommand,
    },
    /// Manage Document items: create, get, edit (list and delete them with `sesame item`).
    #[command(
        after_help = "Examples:\n  sesame document create --vault Infra --title 'TLS bundle' ./bundle.pem\n  \
        sesame document get 'TLS bundle' --vault Infra -o bundle.pem\n  \
        sesame item list --vault Infra --categories document\n\n\
        A Document item holds one file. To attach files to other items, use `sesame item file`."
    )]
    Document {
        #[command(subcommand)]
        command: document::DocumentCommand,
    },
    /// Manage service accounts (the account owner): create, list, revoke, rotate, ratelimit.
    #[command(
        after_help = "Example:\n  sesame service-account create ci-deploy --vault Infra:read"
    )]
    ServiceAccount {
        #[command(subcommand)]
        command: service_account::ServiceAccountCommand,
    },
    /// Share links: list and revoke yours, open one, show or set the account policy.
    #[command(
        after_help = "Examples:\n  sesame share list\n  sesame share revoke ID\n  \
        sesame share policy --max-expiry 7d"
    )]
    Share {
        #[command(subcommand)]
        command: share::ShareCommand,
    },
    /// Show the account's audit trail and check it against the owner's signed
    /// checkpoints (the account owner).
    #[command(
        after_help = "Examples:\n  sesame events --limit 20\n  sesame events --after 120 --format json\n  \
        sesame events checkpoint"
    )]
    Events(events::EventsArgs),
    /// Generate passwords.
    #[command(after_help = "Example:\n  sesame password generate --recipe memorable --words 4")]
    Password {
        #[command(subcommand)]
        command: password::PasswordCommand,
    },
    /// Print the current one-time password of a URI, a base32 secret or a reference.
    #[command(
        after_help = "Examples:\n  sesame totp 'otpauth://totp/me?secret=JBSWY3DPEHPK3PXP'\n  \
        sesame totp JBSWY3DPEHPK3PXP\n  sesame totp 'op://Infra/GitHub/one-time password'"
    )]
    Totp(totp::TotpArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  sesame completion bash > /etc/bash_completion.d/sesame\n  \
        sesame completion zsh > \"${fpath[1]}/_sesame\"\n  \
        sesame completion fish > ~/.config/fish/completions/sesame.fish"
    )]
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Run and administer a Sesame server.
    #[command(
        after_help = "Example:\n  sesame server init --data-dir ./data && sesame server start --data-dir ./data"
    )]
    Server {
        #[command(subcommand)]
        command: server::ServerCommand,
    },
}

async fn dispatch(command: Command, ctx: &mut Ctx) -> CliResult<ExitCode> {
    match command {
        Command::Whoami => whoami::whoami(ctx).await,
        Command::Read(args) => read::read(args, ctx).await,
        Command::Inject(args) => inject::inject(args, ctx).await,
        Command::Run(args) => run::run(args, ctx).await,
        Command::Vault { command } => vault::vault(command, ctx).await,
        Command::Item { command } => item::item(command, ctx).await,
        Command::Document { command } => document::document(command, ctx).await,
        Command::ServiceAccount { command } => service_account::service_account(command, ctx).await,
        Command::Share { command } => share::share(command, ctx).await.map(|()| ExitCode::SUCCESS),
        Command::Events(args) => events::events(args, ctx).await,
        Command::Password { command } => password::password(command, ctx),
        Command::Totp(args) => totp::totp(args, ctx).await,
        Command::Completion { shell } => Ok(completion::completion(shell, Cli::command())),
        Command::Server { command } => server::run(command).await.map_err(Failure::other),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap exits 0 for --help/--version and 2 for usage errors.
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let log_format = match &cli.command {
        Command::Server { command } => command.log_format(),
        _ => logging::LogFormat::default(),
    };
    logging::init(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut ctx = Ctx::new(cli.format, cli.token_file);
    let result = runtime.block_on(dispatch(cli.command, &mut ctx));
    ctx.report_unreadable();
    ctx.report_round_trips();
    match result {
        Ok(code) => code,
        Err(failure) => {
            // Not eprintln!, which panics when stderr is full or closed.
            let _ = writeln!(std::io::stderr(), "error: {failure}");
            failure.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, at every depth, has an example in its help.
    #[test]
    fn every_command_has_an_example() {
        fn check(command: &clap::Command, path: &str, checked: &mut usize) {
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                let help = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(
                    help.contains("Example"),
                    "`{path}` has no example in --help"
                );
                *checked += 1;
                check(sub, &path, checked);
            }
        }
        let mut checked = 0;
        check(&Cli::command(), "sesame", &mut checked);
        assert!(checked > 30, "{checked}");
        Cli::command().debug_assert();
    }

    /// The modules' `use crate::…` edges form no cycle, and no command module imports
    /// another (nor its parent command): what commands share lives in neutral modules.
    #[test]
    fn modules_import_no_cycle_and_commands_not_each_other() {
        use std::collections::{BTreeMap, BTreeSet};
        use std::path::Path;
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in &files {
            let relative = file.strip_prefix(&src).unwrap();
            let parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
                .collect();
            if parts == ["main"] {
                continue;
            }
            let text = std::fs::read_to_string(file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            if parts[0] == "commands" {
                assert!(
                    !code.contains("crate::commands") && !code.contains("super::"),
                    "{relative:?} imports another command"
                );
            }
            let targets = code
                .match_indices("crate::")
                .map(|(i, m)| {
                    code[i + m.len()..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|t| *t != parts[0]);
            edges.entry(parts[0].clone()).or_default().extend(targets);
        }
        assert!(edges.contains_key("commands") && edges.contains_key("output"));
        // Depth-first: a module met again while still on the path closes a cycle.
        fn visit<'a>(
            node: &'a str,
            edges: &'a BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) {
            assert!(!path.contains(&node), "import cycle: {path:?} -> {node}");
            if done.contains(node) {
                return;
            }
            path.push(node);
            for next in edges.get(node).into_iter().flatten() {
                visit(next, edges, path, done);
            }
            path.pop();
            done.insert(node);
        }
        let mut done = BTreeSet::new();
        for node in edges.keys() {
            visit(node, &edges, &mut Vec::new(), &mut done);
        }
    }

    /// Every number or duration argument, at every depth, refuses the largest value its
    /// type holds with a message naming its range: each goes through `limits`, so no value
    /// can overflow later. `tests/cli_tools.rs` (`NUMERIC_ARGUMENTS`) runs each through the
    /// real binary; a new argument belongs in both.
    #[test]
    fn every_number_and_duration_argument_has_limits() {
        use std::any::TypeId;
        fn largest(id: &clap::builder::ValueParser) -> Option<String> {
            let id = id.type_id();
            let integers: [(TypeId, String); 10] = [
                (TypeId::of::<u8>(), u8::MAX.to_string()),
                (TypeId::of::<u16>(), u16::MAX.to_string()),
                (TypeId::of::<u32>(), u32::MAX.to_string()),
                (TypeId::of::<u64>(), u64::MAX.to_string()),
                (TypeId::of::<usize>(), usize::MAX.to_string()),
                (TypeId::of::<i8>(), i8::MAX.to_string()),
                (TypeId::of::<i16>(), i16::MAX.to_string()),
                (TypeId::of::<i32>(), i32::MAX.to_string()),
                (TypeId::of::<i64>(), i64::MAX.to_string()),
                (
                    TypeId::of::<std::time::Duration>(),
                    "99999999999999999999d".to_owned(),
                ),
            ];
            if id == TypeId::of::<time::Duration>() {
                return Some("99999999999999999999d".to_owned());
            }
            integers
                .into_iter()
                .find(|(t, _)| id == *t)
                .map(|(_, max)| max)
        }
        fn check(command: &clap::Command, path: &[String], found: &mut Vec<String>) {
            for arg in command.get_arguments() {
                // Permissions are a set of names held in bits, not a quantity.
                if !arg.get_action().takes_values() || arg.get_id() == "permissions" {
                    continue;
                }
                let Some(max) = largest(arg.get_value_parser()) else {
                    continue;
                };
                let long = arg
                    .get_long()
                    .unwrap_or_else(|| panic!("{path:?}: a positional number: test it here"));
                let mut argv = path.to_vec();
                argv.extend([format!("--{long}"), max.clone()]);
                let err = Cli::command()
                    .try_get_matches_from(&argv)
                    .expect_err(&format!("{argv:?} was accepted"));
                assert_eq!(
                    err.kind(),
                    clap::error::ErrorKind::ValueValidation,
                    "{argv:?}: {err}"
                );
                let text = err.to_string();
                assert!(text.contains(" to "), "{argv:?} names no range: {text}");
                found.push(argv.join(" "));
            }
            for sub in command.get_subcommands() {
                let mut path = path.to_vec();
                path.push(sub.get_name().to_owned());
                check(sub, &path, found);
            }
        }
        let mut found = Vec::new();
        check(&Cli::command(), &["sesame".to_owned()], &mut found);
        // The ones known today, so the walk itself cannot silently find nothing.
        for known in [
            "events --limit",
            "share policy --max-views",
            "server start --session-ttl",
        ] {
            assert!(
                found.iter().any(|f| f.contains(known)),
                "{known} not found: {found:?}"
            );
        }
    }
}

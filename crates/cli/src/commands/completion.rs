//! `sesame completion SHELL`: a shell completion script for the whole command line.

use std::process::ExitCode;

/// Prints the completion script of `command` (the whole `sesame` command) for `shell`.
pub(crate) fn completion(shell: clap_complete::Shell, mut command: clap::Command) -> ExitCode {
    clap_complete::generate(shell, &mut command, "sesame", &mut std::io::stdout());
    ExitCode::SUCCESS
}

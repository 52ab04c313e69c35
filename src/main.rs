//! The `clickup-members` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = clickup_members::Cli::from_env();
    clickup_members::run(cli).into()
}

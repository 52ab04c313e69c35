//! The `clickup-members` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match clickup_members::Cli::from_env() {
        Ok(cli) => clickup_members::run(cli).into(),
        Err(usage) => clickup_members::usage(&usage).into(),
    }
}

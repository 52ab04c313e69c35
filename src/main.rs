//! The `clickup-members` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = clickup_members::Cli::parse();
    clickup_members::run(cli).into()
}

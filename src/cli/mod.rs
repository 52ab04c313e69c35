//! The command line, in two stages: clap parses the raw flags into [`Cli`] (`args.rs`, the
//! one definition `--help`, the completions and the manual pages come from), then
//! [`Cli::resolve`] makes every cross-check and default in one place and returns the
//! [`Invocation`] to run (`resolve.rs`). This module runs it, and prints completions and
//! manual pages.

mod args;
mod resolve;

use std::io::{IsTerminal, Write};

use crate::commands::{Common, Error, Exit, Invocation, dispatch, report};

pub use args::Cli;
pub(crate) use args::command;
use resolve::Resolved;

/// Runs a parsed command line to its end.
pub fn run(cli: Cli) -> Exit {
    let (common, invocation) = match cli.resolve() {
        Ok(Resolved::Run(common, invocation)) => (common, invocation),
        Ok(Resolved::Completions(shell)) => return completions(shell).unwrap_or_else(report),
        Ok(Resolved::Man(out_dir)) => return man(out_dir.as_deref()).unwrap_or_else(report),
        Err(stop) => return report(stop),
    };
    init_tracing(&common, matches!(invocation, Invocation::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return report(Error::Start(e)),
    };
    let result = runtime.block_on(dispatch(&common, invocation));
    result.unwrap_or_else(report)
}

fn completions(shell: clap_complete::Shell) -> Result<Exit, Error> {
    let mut out = crate::console::stdout();
    out.write_all(&completion_script(shell))?;
    Ok(Exit::Success)
}

/// The completion script for `shell`.
pub(crate) fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    if shell == clap_complete::Shell::Bash {
        // clap_complete names the functions of subcommands from the binary's name with its
        // hyphen turned into a subcommand separator (`clickup__subcmd__members__subcmd__plan`),
        // while the dispatch names them `clickup__members__subcmd__plan`: without this, bash
        // completes the subcommands but none of their flags.
        let text = String::from_utf8_lossy(&script)
            .replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"));
        script = text.into_bytes();
    }
    script
}

const BIN: &str = "clickup-members";

/// The manual page on standard output, or with `out_dir` one page per command
/// (`clickup-members.1`, `clickup-members-plan.1`, …) written there.
fn man(out_dir: Option<&std::path::Path>) -> Result<Exit, Error> {
    let Some(dir) = out_dir else {
        let mut out = crate::console::stdout();
        clap_mangen::Man::new(command()).render(&mut out)?;
        return Ok(Exit::Success);
    };
    let written =
        std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command(), dir));
    written.map_err(|e| Error::io("write the manual pages to", dir, e))?;
    Ok(Exit::Success)
}

/// Log lines on standard error; a controller (`serving`) logs each cycle and when, a command
/// only what goes wrong.
fn init_tracing(common: &Common, serving: bool) {
    let level = match (common.quiet, common.verbose) {
        (true, _) => "error",
        (false, 0) if serving => "info",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("clickup_members={level}")));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && anstream::ColorChoice::global() != anstream::ColorChoice::Never;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match (common.log_json, serving) {
        (true, _) => builder.json().flatten_event(true).try_init(),
        (false, true) => builder.with_ansi(colour).try_init(),
        (false, false) => builder.with_ansi(colour).without_time().try_init(),
    };
}

#[cfg(test)]
mod tests;

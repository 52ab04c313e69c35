//! The command line's definition and its resolution.

use std::path::{Path, PathBuf};

use clap::Parser;

use super::*;
use crate::cli::args::{EXAMPLES, UNUSED, one_dash};
use crate::commands::{self, default_state_path};
use clap::CommandFactory;

#[test]
fn the_command_line_definition_is_consistent() {
    Cli::command().debug_assert();
    command().debug_assert();
}

/// The long help of `sub` (the whole command for `None`), at `width` columns.
fn help(sub: Option<&str>, width: usize) -> String {
    let mut command = command().term_width(width);
    command.build();
    let mut target = match sub {
        Some(name) => command
            .find_subcommand_mut(name)
            .expect("subcommand")
            .clone(),
        None => command,
    };
    target.render_long_help().to_string()
}

#[test]
fn commands_do_not_list_the_global_options_they_ignore() {
    for (name, ids) in UNUSED {
        let text = help(Some(name), 100);
        for id in *ids {
            let flag = format!("--{}", id.replace('_', "-"));
            assert!(
                !text.contains(&format!("{flag} ")) && !text.contains(&format!("{flag}\n")),
                "{name} --help lists {flag}:\n{text}"
            );
        }
    }
    let plan = help(Some("plan"), 100);
    for flag in ["--snapshot", "--state", "--api-url", "-f, --file"] {
        assert!(plan.contains(flag), "plan --help lacks {flag}");
    }
    // Still accepted where global options go.
    let cli = Cli::try_parse_from(["clickup-members", "--snapshot", "s.json", "validate"]);
    assert!(cli.is_ok());
}

#[test]
fn the_examples_in_the_help_are_never_cut_inside_a_command() {
    let text = help(None, 80);
    for line in EXAMPLES.lines().filter(|l| l.contains("clickup-members ")) {
        assert!(
            text.lines().any(|shown| shown == line),
            "{line:?} is not shown whole in:\n{text}"
        );
    }
    let apply = help(Some("apply"), 100);
    let apply = apply.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        apply.contains("invites, replaces, updates, group changes, removals, group deletes"),
        "{apply}"
    );
}

#[test]
fn every_command_is_named_as_on_the_command_line() {
    let definition = command();
    let names: Vec<&str> = definition
        .get_subcommands()
        .map(clap::Command::get_name)
        .filter(|n| *n != "help")
        .collect();
    for name in names {
        let mut args = vec!["clickup-members", name];
        match name {
            "force-unlock" => args.push("x"),
            "completions" => args.push("bash"),
            "snapshot" => args.extend(["--workspace", "1", "--out", "x"]),
            _ => {}
        }
        let cli = Cli::try_parse_from(&args).expect(name);
        assert_eq!(cli.command.name(), name);
    }
}

#[test]
fn a_members_file_or_state_named_for_a_command_that_reads_neither_is_an_error() {
    let resolve = |args: &[&str]| Cli::try_parse_from(args).expect("parse").resolve();
    let Err(Error::Usage(said)) = resolve(&[
        "clickup-members",
        "import",
        "--workspace",
        "1",
        "-f",
        "out.yaml",
    ]) else {
        panic!("import -f is refused");
    };
    assert!(said.contains("--out names the file it writes"), "{said}");
    assert!(resolve(&["clickup-members", "schema", "--state", "s.json"]).is_err());
    assert!(resolve(&["clickup-members", "validate", "-f", "m.yaml"]).is_ok());
}

#[test]
fn an_option_with_one_dash_is_told_its_two_dash_name() {
    let command = command();
    let args = |words: &[&str]| -> Vec<std::ffi::OsString> {
        words.iter().map(std::ffi::OsString::from).collect()
    };
    assert_eq!(
        one_dash(
            &command,
            &args(&["clickup-members", "plan", "-out", "p.json"])
        ),
        Some("--out".to_owned())
    );
    assert_eq!(
        one_dash(
            &command,
            &args(&["clickup-members", "plan", "-refresh=false"])
        ),
        Some("--refresh=false".to_owned())
    );
    assert_eq!(
        one_dash(&command, &args(&["clickup-members", "plan", "-vv"])),
        None
    );
}

#[test]
fn the_state_file_sits_beside_the_members_file() {
    assert_eq!(
        default_state_path(Path::new("examples/acme/members.yaml")),
        PathBuf::from("examples/acme/members.state.json")
    );
    assert_eq!(
        default_state_path(Path::new("members.yaml")),
        PathBuf::from("members.state.json")
    );
}

#[test]
fn global_options_work_before_and_after_the_command() {
    let before = Cli::try_parse_from(["clickup-members", "-f", "x.yaml", "plan"]).expect("parse");
    let after = Cli::try_parse_from(["clickup-members", "plan", "-f", "x.yaml"]).expect("parse");
    assert_eq!(before.global.file, after.global.file);
}

#[test]
fn refresh_takes_an_explicit_false() {
    let cli = Cli::try_parse_from(["clickup-members", "plan", "--refresh=false"]).expect("parse");
    let resolved = cli.resolve().expect("resolve");
    assert!(matches!(
        resolved,
        Resolved::Run(_, Invocation::Plan(p)) if p.refresh == commands::Refresh::Recorded
    ));
}

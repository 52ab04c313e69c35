//! The second stage of the command line: the raw flags turned into the command to run, with
//! every default and cross-check in one place (which `-f` a saved plan applies to, options a
//! command has no use for, values that do not go together).

use std::path::PathBuf;

use crate::cli::args::{ApplyArgs, Cli, Command, LogFormat, SyncFormat, UNUSED};
use crate::commands::{self, Common, Error, Invocation, default_state_path};

impl Cli {
    /// Applies defaults and cross-checks. Also sets the colour choice for the process.
    pub(crate) fn resolve(self) -> Result<Resolved, Error> {
        self.global.color.write_global();
        let common = self.common()?;
        let log_json =
            matches!(&self.command, Command::Serve(s) if s.log_format == LogFormat::Json);
        let invocation = match self.command {
            Command::Completions(c) => return Ok(Resolved::Completions(c.shell)),
            Command::Man(m) => return Ok(Resolved::Man(m.out_dir)),
            command => invocation(command, &common)?,
        };
        Ok(Resolved::Run(Common { log_json, ..common }, invocation))
    }

    /// The options every command shares: the members file (for `apply PLAN` without `-f`,
    /// the one the plan was made from, wherever it is run from), its state, where ClickUp is.
    fn common(&self) -> Result<Common, Error> {
        let g = &self.global;
        let recorded = match (&g.file, &self.command) {
            (None, Command::Apply(ApplyArgs { plan, reviewed, .. })) => {
                match plan.as_ref().or(reviewed.as_ref()) {
                    Some(plan) => crate::engine::recorded_file(plan)?,
                    None => None,
                }
            }
            _ => None,
        };
        self.refuse_unused()?;
        let file = g
            .file
            .clone()
            .or(recorded)
            .unwrap_or_else(|| PathBuf::from("members.yaml"));
        if g.state.is_some() && file.is_dir() {
            return Err(Error::Usage(format!(
                "--state cannot be used with -f {}: with a folder, each Workspace's state file is beside its file",
                file.display()
            )));
        }
        let state = g.state.clone().unwrap_or_else(|| default_state_path(&file));
        if !(g.timeout.is_finite() && g.timeout > 0.0 && g.timeout <= 3600.0) {
            return Err(Error::Usage(format!(
                "--timeout must be a number of seconds between 0 and 3600, not {}",
                g.timeout
            )));
        }
        Ok(Common {
            file,
            state,
            api_url: g.api_url.clone(),
            snapshot: g.snapshot.clone(),
            timeout: std::time::Duration::from_secs_f64(g.timeout),
            verbose: g.verbose,
            quiet: g.quiet,
            log_json: false,
        })
    }

    /// A members file or state named for a command that reads neither would be ignored:
    /// `import -f out.yaml` would write nowhere the user looks.
    fn refuse_unused(&self) -> Result<(), Error> {
        let name = self.command.name();
        let unused = |id: &str| {
            UNUSED
                .iter()
                .any(|(cmd, ids)| *cmd == name && ids.contains(&id))
        };
        if self.global.file.is_some() && unused("file") {
            let out = if matches!(self.command, Command::Import(_) | Command::Snapshot(_)) {
                " (--out names the file it writes)"
            } else {
                ""
            };
            return Err(Error::Usage(format!(
                "-f is not an option of {name}: it reads no members file{out}"
            )));
        }
        if self.global.state.is_some() && unused("state") {
            return Err(Error::Usage(format!(
                "--state is not an option of {name}: it reads no state"
            )));
        }
        Ok(())
    }
}

/// The command to run, with its own options checked against the shared ones.
fn invocation(command: Command, common: &Common) -> Result<Invocation, Error> {
    Ok(match command {
        Command::Validate => Invocation::Validate,
        Command::Schema(s) => Invocation::Schema {
            fragment: s.fragment,
        },
        Command::Plan(p) => {
            if !p.refresh && common.snapshot.is_some() {
                return Err(Error::Usage(
                    "--refresh=false plans against the state's snapshot; it cannot be used with --snapshot"
                        .to_owned(),
                ));
            }
            Invocation::Plan(commands::plan::Options {
                out: p.out,
                format: p.format,
                detailed_exitcode: p.detailed_exitcode,
                refresh: if p.refresh {
                    commands::Refresh::Read
                } else {
                    commands::Refresh::Recorded
                },
                allow_replace: p.allow_replace,
            })
        }
        Command::Apply(a) => Invocation::Apply(commands::apply::Options {
            saved: a.plan,
            reviewed: a.reviewed,
            lock_timeout: a.lock_timeout,
            auto_approve: a.auto_approve,
            allow_replace: a.allow_replace,
            parallelism: usize::from(a.parallelism),
            audit_log: a.audit_log,
        }),
        Command::Show(s) => Invocation::Show {
            plan: s.plan,
            format: s.format,
        },
        Command::Report(r) => Invocation::Report(commands::review::Options {
            format: r.format,
            inactive_days: r.inactive_days,
        }),
        Command::ForceUnlock(f) => Invocation::ForceUnlock {
            lock_id: f.lock_id,
            force: f.force,
        },
        Command::Import(i) => Invocation::Import(commands::import::Options {
            workspace: match (i.workspace, &i.out) {
                (Some(id), _) => Some(id),
                (None, Some(_)) => None,
                (None, None) => {
                    return Err(Error::Usage(
                        "import needs --workspace ID, or --out DIR to write a file for each Workspace the token reaches"
                            .to_owned(),
                    ));
                }
            },
            out: i.out,
            force: i.force,
            with_guest_shares: i.with_guest_shares,
            schema: i.schema,
        }),
        Command::Fmt(f) => Invocation::Fmt(commands::fmt::Options {
            check: f.check,
            diff: f.diff,
        }),
        Command::Serve(s) => Invocation::Serve(commands::serve::Options {
            mode: s.mode,
            interval: s.interval,
            settle: s.settle,
            listen: s.listen,
            allow_replace: s.allow_replace,
        }),
        Command::Snapshot(s) => {
            if common.snapshot.is_some() {
                return Err(Error::Usage(
                    "snapshot reads the live Workspace; it cannot be used with --snapshot"
                        .to_owned(),
                ));
            }
            Invocation::Snapshot(commands::snapshot::Options {
                workspace: s.workspace,
                out: s.out,
                with_guest_shares: s.with_guest_shares,
            })
        }
        Command::Sync(s) => {
            if !s.refresh && common.snapshot.is_some() {
                return Err(Error::Usage(
                    "--refresh=false plans against the state's snapshot; it cannot be used with --snapshot"
                        .to_owned(),
                ));
            }
            Invocation::Sync(commands::sync::Options {
                write: s.write,
                json: s.format == SyncFormat::Json,
                detailed_exitcode: s.detailed_exitcode,
                max_changes: s.max_changes,
                allow_empty: s.allow_empty,
                refresh: if s.refresh {
                    commands::Refresh::Read
                } else {
                    commands::Refresh::Recorded
                },
            })
        }
        Command::Completions(_) | Command::Man(_) => {
            return Err(Error::internal("completions and man pages are not run"));
        }
    })
}

/// A command line, resolved: a command to run, or what the command line itself is asked for.
#[derive(Debug)]
pub(crate) enum Resolved {
    Run(Common, Invocation),
    Completions(clap_complete::Shell),
    Man(Option<PathBuf>),
}

//! The command line's one definition: every command, option, default and help text, from
//! which clap parses the raw flags and `--help`, the completions and the manual pages are
//! made. Only the global options a command has no use for are kept out of its help.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::commands::{self, Format};

const ABOUT: &str = "Manage a ClickUp Workspace's members, guests and user groups as code.";

const LONG_ABOUT: &str = "\
Manage a ClickUp Workspace's members, guests and user groups as code.

Keep the list of who belongs in the Workspace, and with which role, in a YAML file in git. \
`plan` compares it with the live Workspace and prints the difference; `apply` makes only the \
calls that difference needs and records what it did in a state file.";

pub(super) const EXAMPLES: &str = "\
Examples:
  Check a file:
    clickup-members validate -f members.yaml
  Plan offline on a snapshot:
    clickup-members plan -f members.yaml --snapshot workspace.snapshot.json
  Save a plan for review:
    clickup-members plan --out plan.json
  Apply exactly that plan:
    clickup-members apply plan.json
  Apply on merge what the pull request's plan showed:
    clickup-members apply --auto-approve --reviewed plan.json

The token comes from CLICKUP_TOKEN (or the file named by CLICKUP_TOKEN_FILE).";

#[derive(Debug, Parser)]
#[command(
    name = "clickup-members",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub(super) global: Global,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Args)]
pub(super) struct Global {
    /// The desired-state file, or a folder with one file per Workspace (each with its state
    /// beside it) [default: members.yaml; for `apply PLAN`, the file the plan was made from].
    #[arg(short = 'f', long = "file", value_name = "PATH", global = true)]
    pub(super) file: Option<PathBuf>,

    /// The state file [default: beside the file, <file stem>.state.json].
    #[arg(long, value_name = "PATH", global = true)]
    pub(super) state: Option<PathBuf>,

    /// ClickUp's API base URL.
    #[arg(
        long,
        value_name = "URL",
        env = "CLICKUP_API_URL",
        default_value = "https://api.clickup.com/api/v2",
        global = true
    )]
    pub(super) api_url: String,

    /// Work on a local snapshot file instead of the live API (apply writes into it).
    #[arg(long, value_name = "PATH", global = true)]
    pub(super) snapshot: Option<PathBuf>,

    /// Give up on one HTTP request after this many seconds (it is then retried).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, global = true)]
    pub(super) timeout: f64,

    #[command(flatten)]
    pub(super) color: colorchoice_clap::Color,

    /// More logs on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub(super) verbose: u8,

    /// Print only errors and the plan itself.
    #[arg(short, long, global = true)]
    pub(super) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Check the file: syntax, schema and the rules that need no network.
    ///
    /// Every problem is reported at once, each as FILE:LINE:COL: message. Exits 0 when the file
    /// is valid, 1 when it is not.
    Validate,

    /// Compare the file with the live Workspace and print what would change.
    ///
    /// Reads the Workspace from ClickUp (or --snapshot, or with --refresh=false the snapshot
    /// recorded in the state file). Exits 1 when the plan is refused: a guard is broken, a role
    /// cannot be resolved, or the Workspace does not match the file.
    Plan(PlanArgs),

    /// Make the changes of a plan.
    ///
    /// Without PLAN: plans, shows the plan and asks for `yes` on a terminal (without a terminal
    /// it refuses unless --auto-approve is given). With PLAN (a file written by `plan --out`):
    /// re-reads the Workspace and applies that plan if it is still current. With --reviewed
    /// PLAN (the plan a pull request showed): plans again and makes only the changes both
    /// plans hold; what the review did not see is listed and left for a new review (exit 1).
    Apply(ApplyArgs),

    /// Save the live Workspace as a snapshot file, to plan against offline.
    ///
    /// The snapshot holds the members, guests and pending invitations, the custom roles, the
    /// user groups and the token's own user, in ClickUp's own shapes. With
    /// --with-guest-shares it also holds what is shared with each guest (one request per
    /// guest; Enterprise plan only).
    Snapshot(SnapshotArgs),

    /// Write a members file that matches the live Workspace today (to adopt an existing one).
    ///
    /// Everyone is listed with their role, guests with their switches, groups with their
    /// members, and `mode: authoritative`: the first plan shows no changes. Review the file,
    /// commit it, and from then on change the Workspace through it.
    Import(ImportArgs),

    /// Rewrite the file in canonical form, keeping its comments.
    ///
    /// Members and guests sorted by email, groups by name, emails lower-case, ids quoted,
    /// two-space indentation. A file that cannot be rewritten without losing a comment or
    /// changing its meaning is reported and left as it is.
    Fmt(FmtArgs),

    /// Print a saved plan as `plan` printed it, or without PLAN the state file's summary.
    Show(ShowArgs),

    /// The access review for an audit: everyone with access, and what to look at.
    ///
    /// One row per person in the live Workspace (or --snapshot), then the people the file lists
    /// who are not there yet: email, name, kind, role, status, in_file, managed, groups,
    /// last_active, invited, expires, flags. Flags: inactive (no activity for
    /// --inactive-days), pending-long (invited over 30 days ago, not joined), expired, expiring,
    /// unmanaged, not-in-file (the next apply removes them), missing. Dates are UTC days.
    /// Changes nothing.
    Report(ReportArgs),

    /// Remove the lock of a run that died holding it (see the lock id in apply's error).
    ///
    /// Refused while the lock is held by a live process (the operating system's lock, or a
    /// holder on this host whose process still runs): two applies at once on one state can
    /// each send what the other already sent. `--force` removes it anyway.
    ForceUnlock(ForceUnlockArgs),

    /// Read people from Okta, Entra ID, Google or a CSV export into the fragment sync owns.
    ///
    /// The rules of the file's `sync` section name groups of its `sources`; their people are
    /// written into `sync.into`, a fragment the file includes, each entry with the rules that
    /// brought it (`source:`). A person listed by hand elsewhere wins. Without --write: a dry
    /// run that prints the fragment's diff, a summary and the plan the Workspace would get
    /// (reading ClickUp as `plan` does, or --snapshot, or --refresh=false). With --write: the
    /// fragment is written, to be committed and reviewed like any change. Nothing is written
    /// unless every group was read whole; more than max_changes people changing, or a group
    /// read as empty while the fragment holds its people, is refused (exit 1). Credentials come
    /// from the environment only: OKTA_API_TOKEN, or OKTA_CLIENT_ID with
    /// OKTA_PRIVATE_KEY_FILE (and OKTA_PRIVATE_KEY_ID); ENTRA_CLIENT_ID and
    /// ENTRA_CLIENT_SECRET; GOOGLE_APPLICATION_CREDENTIALS.
    Sync(SyncArgs),

    /// Hold the Workspace to the file continuously: plan (and apply) in a loop, with metrics.
    ///
    /// Every --interval, the file is read again from disk (once it has stood still for
    /// --settle) and the Workspace is planned against it; with --mode apply the plan is applied
    /// under the same guards as `apply --auto-approve`. --mode observe (the default) never
    /// writes. HTTP endpoints on --listen: /metrics (Prometheus), /healthz, /readyz, /plan (the
    /// last plan's JSON) and POST /reconcile (a cycle now; at most one every 10 s, none during
    /// a backoff). /plan and /reconcile need `Authorization: Bearer` with the secret of
    /// CLICKUP_MEMBERS_SERVE_TOKEN; without it they answer on a loopback address only. SIGTERM
    /// or SIGINT: the call in flight finishes, the state is written, and it exits 0 within 10 s.
    Serve(ServeArgs),

    /// Print the JSON Schema of the file (for editors: yaml-language-server).
    Schema(SchemaArgs),

    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),

    /// Print the manual page (roff), or write one page per command with --out-dir.
    ///
    /// `clickup-members man > clickup-members.1` prints the main page;
    /// `clickup-members man --out-dir /usr/local/share/man/man1` writes clickup-members.1 and
    /// clickup-members-<command>.1 for every command (`man clickup-members-plan`).
    Man(ManArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  See what the identity provider would change, and the plan it would make:
    clickup-members sync
  Offline, against a snapshot:
    clickup-members sync --snapshot workspace.snapshot.json
  Write the fragment (the scheduled CI job does this and opens a pull request):
    clickup-members sync --write
  A group that really is empty now:
    clickup-members sync --write --allow-empty okta:00g1abcd")]
pub(super) struct SyncArgs {
    /// Write the fragment. Without it, a dry run: nothing is written.
    #[arg(long)]
    pub(super) write: bool,

    /// How to print: text, or the JSON document of what changes.
    #[arg(long, value_enum, default_value_t = SyncFormat::Text)]
    pub(super) format: SyncFormat,

    /// Exit 0 when the fragment does not change, 2 when it does, 1 on an error or a refusal.
    #[arg(long)]
    pub(super) detailed_exitcode: bool,

    /// Allow this many people to change in this run, in place of sync.max_changes.
    #[arg(long, value_name = "N")]
    pub(super) max_changes: Option<u32>,

    /// A rule (FROM:GROUP, as in `source:`) whose group may read as empty while the fragment
    /// holds its people: they are removed. Repeat for several.
    #[arg(long, value_name = "RULE")]
    pub(super) allow_empty: Vec<String>,

    /// With false, the dry run plans against the Workspace the last apply recorded in the
    /// state file (no ClickUp token needed).
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = ArgAction::Set)]
    pub(super) refresh: bool,
}

/// How `sync` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum SyncFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// observe: plan and report only; apply: also make the changes of every plan that is not
    /// refused.
    #[arg(long, value_enum, default_value_t = commands::serve::Mode::Observe)]
    pub(super) mode: commands::serve::Mode,

    /// Time between cycles (`30s`, `5m`, `1h`; from 1s to 7d); after a failed cycle the next
    /// comes after a backoff from 10 s, doubling, at most this.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = interval)]
    pub(super) interval: std::time::Duration,

    /// How long the files (the Workspace files and every fragment they include) must have
    /// stood unchanged before a cycle reads them (`2s`; `0s` reads at once; at most 1m). A file
    /// changed more recently, or read differently a second time, is waited for; a cycle whose
    /// files never stand still for ten times this is counted invalid.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = settle)]
    pub(super) settle: std::time::Duration,

    /// Address of the HTTP endpoints (`/metrics`, `/healthz`, `/readyz`, `/plan`, `POST
    /// /reconcile`). Port 0 picks a free port. On an address other than loopback, /plan and
    /// /reconcile answer only when CLICKUP_MEMBERS_SERVE_TOKEN is set.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    pub(super) listen: String,

    /// Log lines as JSON objects (for log shippers) rather than text.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub(super) log_format: LogFormat,

    /// In --mode apply: allow changes that remove someone and invite them again.
    #[arg(long)]
    pub(super) allow_replace: bool,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum LogFormat {
    Text,
    Json,
}

/// `30s`, `5m`, `1h30m`: at least a second, at most a week (a longer one is a typo, and one
/// no clock can add would overflow every deadline made from it).
fn interval(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration < std::time::Duration::from_secs(1) {
        return Err("the interval must be at least 1s".to_owned());
    }
    if duration > commands::serve::LONGEST_INTERVAL {
        return Err("the interval must be at most 7d".to_owned());
    }
    Ok(duration)
}

/// `2s`, `500ms`, `0s`: at most a minute.
fn settle(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration > commands::serve::LONGEST_SETTLE {
        return Err("the settle time must be at most 1m".to_owned());
    }
    Ok(duration)
}

#[derive(Debug, Args)]
pub(super) struct ManArgs {
    /// Write clickup-members.1 and one clickup-members-<command>.1 per command into this
    /// folder (made if missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub(super) out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// The Workspace (team) id. Without it, --out is a folder that gets one file for each
    /// Workspace the token reaches (with --snapshot DIR: each `<id>.json` in it).
    #[arg(long, value_name = "ID")]
    pub(super) workspace: Option<String>,

    /// Write the file here instead of printing it (a folder when --workspace is not given).
    #[arg(long, value_name = "FILE")]
    pub(super) out: Option<PathBuf>,

    /// Overwrite --out if it exists.
    #[arg(long)]
    pub(super) force: bool,

    /// Also read and list what is shared with each guest (one request per guest).
    #[arg(long)]
    pub(super) with_guest_shares: bool,

    /// The JSON Schema named on the file's first line, for editors.
    #[arg(
        long,
        value_name = "PATH_OR_URL",
        default_value = "members.schema.json"
    )]
    pub(super) schema: String,
}

#[derive(Debug, Args)]
pub(super) struct FmtArgs {
    /// Change nothing; exit 1 if the file is not in canonical form.
    #[arg(long)]
    pub(super) check: bool,

    /// Print what would change, as a unified diff.
    #[arg(long)]
    pub(super) diff: bool,
}

#[derive(Debug, Args)]
pub(super) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(super) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    /// A plan saved by `plan --out`.
    #[arg(value_name = "PLAN")]
    pub(super) plan: Option<PathBuf>,

    /// How to print a saved plan.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(super) format: Format,
}

#[derive(Debug, Args)]
pub(super) struct SchemaArgs {
    /// The schema of a fragment, a file an `include:` names (members, guests and groups only).
    #[arg(long)]
    pub(super) fragment: bool,
}

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    /// How to print the review: csv for spreadsheets and audit tools, json for scripts,
    /// markdown for a pull request or a ticket.
    #[arg(long, value_enum, default_value_t = commands::review::Format::Text)]
    pub(super) format: commands::review::Format,

    /// Flag people with no activity for this many days (never a pending invitee).
    #[arg(long, value_name = "DAYS", default_value_t = crate::review::DEFAULT_INACTIVE_DAYS)]
    pub(super) inactive_days: u32,
}

#[derive(Debug, Args)]
pub(super) struct ForceUnlockArgs {
    /// The lock id, as the error of the blocked apply shows it.
    #[arg(value_name = "LOCK_ID")]
    pub(super) lock_id: String,

    /// Remove the lock even though its holder looks alive (a stuck process on a network file
    /// system, a holder on another host you know is gone).
    #[arg(long)]
    pub(super) force: bool,
}

#[derive(Debug, Args)]
pub(super) struct SnapshotArgs {
    /// The Workspace (team) id.
    #[arg(long, value_name = "ID")]
    pub(super) workspace: String,

    /// Where to write the snapshot.
    #[arg(long, value_name = "FILE")]
    pub(super) out: PathBuf,

    /// Also read what is shared with each guest.
    #[arg(long)]
    pub(super) with_guest_shares: bool,
}

#[derive(Debug, Args)]
pub(super) struct PlanArgs {
    /// Also save the plan (JSON) to this file, for `apply PLAN`.
    #[arg(long, value_name = "PLAN")]
    pub(super) out: Option<PathBuf>,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(super) format: Format,

    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub(super) detailed_exitcode: bool,

    /// Read the live Workspace; --refresh=false plans against the Workspace the last apply
    /// recorded in the state file (for pull requests that get no token).
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = ArgAction::Set)]
    pub(super) refresh: bool,

    /// The apply that follows will run with --allow-replace: do not warn that it refuses the
    /// plan's replaces.
    #[arg(long)]
    pub(super) allow_replace: bool,
}

#[derive(Debug, Args)]
pub(super) struct ApplyArgs {
    /// A plan saved by `plan --out`; it is refused if the Workspace or the file changed since.
    #[arg(value_name = "PLAN")]
    pub(super) plan: Option<PathBuf>,

    /// The plan a pull request showed for review (saved by `plan --out`): the Workspace is
    /// planned again and only the changes both plans hold are made; changes the review did
    /// not see are listed as not reviewed (exit 1), those no longer needed as already done.
    #[arg(long, value_name = "PLAN", conflicts_with = "plan")]
    pub(super) reviewed: Option<PathBuf>,

    /// Apply without asking for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub(super) auto_approve: bool,

    /// Allow changes that remove someone and invite them again (member <-> guest, or a
    /// pending invitation whose role changes).
    #[arg(long)]
    pub(super) allow_replace: bool,

    /// How many changes to send at once (always within the rate limit, and in order: invites,
    /// replaces, updates, group changes, removals, group deletes; when the invitations of a
    /// kind would not all find a free seat, that kind's removals go first).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(super) parallelism: u16,

    /// Append one JSON line per request sent to ClickUp to this file (time, change, method and
    /// path, status, ECODE, duration, plan fingerprint).
    #[arg(long, value_name = "FILE")]
    pub(super) audit_log: Option<PathBuf>,

    /// Wait up to this long (`30s`, `5m`) for the state's lock when another run holds it,
    /// saying once who holds it; `0s` fails at once, naming the holder.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = lock_timeout)]
    pub(super) lock_timeout: std::time::Duration,
}

/// `30s`, `5m`, `0s`: at most a day.
fn lock_timeout(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration > std::time::Duration::from_secs(86_400) {
        return Err("the lock timeout is at most a day (24h)".to_owned());
    }
    Ok(duration)
}

impl Command {
    /// The subcommand's name on the command line.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Command::Validate => "validate",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Snapshot(_) => "snapshot",
            Command::Import(_) => "import",
            Command::Fmt(_) => "fmt",
            Command::Show(_) => "show",
            Command::Report(_) => "report",
            Command::ForceUnlock(_) => "force-unlock",
            Command::Sync(_) => "sync",
            Command::Serve(_) => "serve",
            Command::Schema(_) => "schema",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }
}

/// Global options a command has no use for, by command: not listed in its help nor offered
/// by completion (they are still accepted where global options go).
pub(super) const UNUSED: &[(&str, &[&str])] = &[
    ("import", &["file", "state"]),
    ("snapshot", &["file", "state", "snapshot"]),
    ("force-unlock", &["api_url", "snapshot", "timeout"]),
    ("show", &["api_url", "snapshot", "timeout"]),
    ("validate", &["state", "api_url", "snapshot", "timeout"]),
    ("fmt", &["state", "api_url", "snapshot", "timeout"]),
    (
        "schema",
        &[
            "file", "state", "api_url", "snapshot", "timeout", "color", "verbose", "quiet",
        ],
    ),
    (
        "completions",
        &[
            "file", "state", "api_url", "snapshot", "timeout", "color", "verbose", "quiet",
        ],
    ),
    (
        "man",
        &[
            "file", "state", "api_url", "snapshot", "timeout", "color", "verbose", "quiet",
        ],
    ),
];

/// The command line's definition: what `--help`, the completions and the manual pages show.
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut command = Cli::command();
    // A subcommand that has an argument of a global one's id keeps its own: a hidden copy.
    for (name, ids) in UNUSED {
        let hidden: Vec<clap::Arg> = command
            .get_arguments()
            .filter(|arg| ids.contains(&arg.get_id().as_str()))
            .map(|arg| arg.clone().hide(true))
            .collect();
        command = command.mut_subcommand(*name, |sub| sub.args(hidden));
    }
    command
}

impl Cli {
    /// The command line of this process, or what to print instead (`--help`, `--version`, a
    /// usage error with a hint when an option was written with one dash as terraform writes
    /// them: `-out` for `--out`); [`usage`] prints it.
    pub fn from_env() -> Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let mut command = command();
        let parsed = command
            .try_get_matches_from_mut(&args)
            .and_then(|matches| Cli::from_arg_matches(&matches));
        parsed.map_err(|mut error| {
            if error.kind() == clap::error::ErrorKind::UnknownArgument
                && let Some(meant) = one_dash(&command, &args)
            {
                error.insert(
                    clap::error::ContextKind::SuggestedArg,
                    clap::error::ContextValue::String(meant),
                );
            }
            error
        })
    }
}

/// `--out` for an `-out` among `args` (terraform's one-dash habit), when the command has a
/// long option of that name.
pub(super) fn one_dash(command: &clap::Command, args: &[std::ffi::OsString]) -> Option<String> {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let sub = words
        .iter()
        .find_map(|w| command.find_subcommand(w))
        .unwrap_or(command);
    words.iter().find_map(|word| {
        let rest = word.strip_prefix('-').filter(|r| !r.starts_with('-'))?;
        let name = rest.split('=').next().unwrap_or(rest);
        if name.chars().count() < 2 {
            return None;
        }
        let known = sub
            .get_arguments()
            .chain(command.get_arguments())
            .any(|arg| arg.get_long() == Some(name));
        known.then(|| format!("-{word}"))
    })
}

//! Writes a Workspace snapshot and a members file of any size, with a chosen mix of changes
//! between them, for benchmarks and load tests.
//!
//! ```sh
//! cargo run --release --example generate -- --members 100000 --out /tmp/w100k
//! clickup-members plan -f /tmp/w100k/members.yaml --snapshot /tmp/w100k/workspace.snapshot.json
//! ```
//!
//! Defaults: 1 % of the file's people are invitations, 1 % role changes, 1 % removals; 5 % of
//! the people are guests and 2 % pending invitations; three groups of thousands. `--expires 10`
//! gives 10 % of the file's people an `expires` date, all in the years to come (some as times
//! with their zone). `--roles` writes `role:` for every member, `member` included, where by
//! default only the roles other than `member` are written; `--mode additive` writes a file in
//! additive mode (by default it is authoritative).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

/// What to generate.
pub(crate) struct Options {
    pub(crate) members: usize,
    pub(crate) out: PathBuf,
    /// Percent of the file's people to invite.
    pub(crate) invites: f64,
    /// Percent of members whose role changes.
    pub(crate) role_changes: f64,
    /// Percent of the Workspace to remove.
    pub(crate) removals: f64,
    pub(crate) groups: usize,
    pub(crate) group_size: usize,
    /// Percent of the file's people with an `expires` date.
    pub(crate) expires: f64,
    /// The Workspace's id.
    pub(crate) workspace: String,
    pub(crate) seed: u64,
    /// Every member's `role:` written, `member` included.
    pub(crate) roles: bool,
    /// `policy.mode`: `authoritative` or `additive`.
    pub(crate) mode: String,
}

impl Options {
    /// The default mix for `members` people.
    pub(crate) fn new(members: usize) -> Options {
        Options {
            members,
            out: PathBuf::new(),
            invites: 1.0,
            role_changes: 1.0,
            removals: 1.0,
            groups: 3,
            group_size: 2000,
            expires: 0.0,
            workspace: TEAM.to_owned(),
            seed: 42,
            roles: false,
            mode: "authoritative".to_owned(),
        }
    }
}

/// A generated Workspace and members file.
pub(crate) struct Generated {
    pub(crate) members_yaml: String,
    pub(crate) snapshot_json: Vec<u8>,
    pub(crate) summary: String,
}

#[allow(dead_code)]
fn usage() -> ! {
    eprintln!(
        "usage: generate --members N --out DIR [--invites PCT] [--role-changes PCT] [--removals PCT] [--groups N] [--group-size N] [--expires PCT] [--workspace ID] [--seed N] [--roles] [--mode authoritative|additive]"
    );
    std::process::exit(2)
}

#[allow(dead_code)]
fn options() -> Options {
    let mut o = Options::new(0);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--roles" {
            o.roles = true;
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage());
        let number = || value.parse::<f64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--members" => o.members = number() as usize,
            "--out" => o.out = PathBuf::from(&value),
            "--invites" => o.invites = number(),
            "--role-changes" => o.role_changes = number(),
            "--removals" => o.removals = number(),
            "--groups" => o.groups = number() as usize,
            "--group-size" => o.group_size = number() as usize,
            "--expires" => o.expires = number(),
            "--workspace" => o.workspace.clone_from(&value),
            "--seed" => o.seed = number() as u64,
            "--mode" if value == "authoritative" || value == "additive" => o.mode = value,
            _ => usage(),
        }
    }
    if o.members == 0 || o.out.as_os_str().is_empty() {
        usage();
    }
    o
}

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn chance(&mut self, percent: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 10_000.0 < percent
    }
}

const TEAM: &str = "9006054115";

fn user(id: u64, email: &str, role: u8, custom: Value, pending: bool) -> Value {
    json!({
        "id": id,
        "username": if pending { Value::Null } else { json!(format!("User {id}")) },
        "email": email,
        "color": if pending { Value::Null } else { json!("#7b68ee") },
        "profilePicture": null,
        "initials": "U",
        "role": role,
        "role_subtype": if role == 4 { 2 } else { 0 },
        "role_key": match role { 1 => "owner", 2 => "admin", 4 => "guest", _ => "member" },
        "custom_role": custom,
        "last_active": if pending { Value::Null } else { json!("1750794096125") },
        "date_joined": if pending { Value::Null } else { json!("1679496177299") },
        "date_invited": "1679495796796"
    })
}

#[allow(dead_code)]
fn main() {
    let o = options();
    let generated = generate(&o);
    std::fs::create_dir_all(&o.out).unwrap_or_else(|e| panic!("{}: {e}", o.out.display()));
    std::fs::write(
        o.out.join("workspace.snapshot.json"),
        &generated.snapshot_json,
    )
    .expect("write snapshot");
    std::fs::write(o.out.join("members.yaml"), &generated.members_yaml).expect("write members");
    eprintln!("wrote {}: {}", o.out.display(), generated.summary);
}

/// Builds the snapshot and the members file.
pub(crate) fn generate(o: &Options) -> Generated {
    let mut rng = Rng(o.seed.max(1));
    let mut members = vec![json!({"user": user(1, "owner@corp.example", 1, Value::Null, false)})];
    let mut yaml = String::with_capacity(o.members * 48);
    let _ = write!(
        yaml,
        "# yaml-language-server: $schema=members.schema.json\nversion: 1\nworkspace:\n  id: \"{}\"\n  name: Corp\n\npolicy:\n  mode: {}\n  max_removals: {}\n\nmembers:\n  - email: owner@corp.example\n    role: owner\n",
        o.workspace, o.mode, o.members
    );
    let mut guests_yaml = String::new();
    let mut listed = Vec::new();
    let (mut invites, mut changes, mut removals) = (0, 0, 0);
    for i in 0..o.members {
        let id = 1000 + i as u64;
        let email = format!("person{i:06}@corp.example");
        let guest = rng.chance(5.0);
        let pending = rng.chance(2.0);
        let admin = !guest && rng.chance(3.0);
        let custom = !guest && !admin && rng.chance(5.0);
        let (role, custom_role) = match (guest, admin, custom) {
            (true, _, _) => (4, Value::Null),
            (_, true, _) => (2, Value::Null),
            (_, _, true) => (3, json!({"id": 998877, "name": "Project Lead"})),
            _ => (3, Value::Null),
        };
        let roll = (rng.next() % 1_000_000) as f64 / 10_000.0;
        let invite = roll < o.invites;
        let remove = !invite && roll < o.invites + o.removals;
        let change = !invite
            && !remove
            && !guest
            && !pending
            && roll < o.invites + o.removals + o.role_changes;
        if !invite {
            let mut entry = json!({"user": user(id, &email, role, custom_role, pending)});
            if guest {
                for flag in [
                    "can_see_time_spent",
                    "can_see_time_estimated",
                    "can_edit_tags",
                    "can_create_views",
                    "can_see_points_estimated",
                ] {
                    entry[flag] = json!(false);
                }
            }
            members.push(entry);
        }
        if remove {
            removals += 1;
            continue;
        }
        if invite {
            invites += 1;
        }
        let file_role = match (admin, custom, change) {
            (true, _, false) | (false, false, true) => Some("admin"),
            (_, true, false) => Some("Project Lead"),
            (true, _, true) | (_, true, true) => None,
            _ => None,
        }
        .or(o.roles.then_some("member"));
        if change {
            changes += 1;
        }
        // A day of 2030 to 2034, every tenth as a time with its zone.
        let expires = (o.expires > 0.0 && rng.chance(o.expires)).then(|| {
            let n = rng.next();
            let day = format!(
                "{}-{:02}-{:02}",
                2030 + n % 5,
                1 + n / 5 % 12,
                1 + n / 60 % 28
            );
            if n.is_multiple_of(10) {
                format!("{day}T17:30:00+02:00")
            } else {
                day
            }
        });
        if guest {
            let _ = writeln!(
                guests_yaml,
                "  - email: {email}\n    permissions:\n      can_edit_tags: false"
            );
            if let Some(expires) = &expires {
                let _ = writeln!(guests_yaml, "    expires: \"{expires}\"");
            }
        } else {
            let _ = writeln!(yaml, "  - email: {email}");
            if let Some(role) = file_role {
                let _ = writeln!(yaml, "    role: {role}");
            }
            if let Some(expires) = &expires {
                let _ = writeln!(yaml, "    expires: \"{expires}\"");
            }
        }
        if !pending || invite {
            listed.push((id, email, invite));
        }
    }
    yaml.push_str("\nguests:\n");
    yaml.push_str(&guests_yaml);

    let groups = groups(o, &mut rng, &listed, &mut yaml);

    let snapshot = json!({
        "team": {"id": o.workspace, "name": "Corp", "color": "#40BC86", "avatar": null, "members": members},
        "custom_roles": [
            {"id": 998877, "team_id": o.workspace, "name": "Project Lead", "inherited_role": 3, "date_created": "1651189901020"},
            {"id": 4547089, "team_id": o.workspace, "name": "Client Viewer", "inherited_role": 4, "date_created": "1651189835671"}
        ],
        "groups": groups,
        "me": {"id": 1, "email": "owner@corp.example", "username": "User 1"}
    });
    let mut snapshot_json = serde_json::to_vec_pretty(&snapshot).expect("json");
    snapshot_json.push(b'\n');
    let summary = format!(
        "{} people in the Workspace; the file invites {invites}, changes {changes} roles, removes {removals}, {} groups of about {}",
        snapshot["team"]["members"].as_array().map_or(0, Vec::len),
        o.groups,
        o.group_size
    );
    Generated {
        members_yaml: yaml,
        snapshot_json,
        summary,
    }
}

/// Groups of thousands of the file's people, written into `yaml`: live with one membership,
/// wanted with another. Returns the groups as the snapshot holds them.
fn groups(
    o: &Options,
    rng: &mut Rng,
    listed: &[(u64, String, bool)],
    yaml: &mut String,
) -> Vec<Value> {
    let mut groups = Vec::new();
    yaml.push_str(if o.groups == 0 {
        "\ngroups: []\n"
    } else {
        "\ngroups:\n"
    });
    for g in 0..o.groups {
        let name = format!("Team {g}");
        let pick = |rng: &mut Rng| {
            let mut chosen: Vec<&(u64, String, bool)> = (0..o.group_size.min(listed.len()))
                .map(|_| &listed[(rng.next() % listed.len() as u64) as usize])
                .collect();
            chosen.sort_by_key(|p| p.0);
            chosen.dedup_by_key(|p| p.0);
            chosen
        };
        let live: Vec<Value> = pick(rng)
            .into_iter()
            .filter(|p| !p.2)
            .map(|p| json!({"id": p.0, "username": format!("User {}", p.0), "email": p.1, "color": "#7b68ee", "initials": "U", "profilePicture": null}))
            .collect();
        groups.push(json!({
            "id": format!("6f1a2b3c-0000-4000-8000-{g:012}"), "team_id": o.workspace, "userid": 1,
            "name": name, "handle": format!("team{g}"), "date_created": "1640122639829",
            "initials": "T", "members": live,
            "avatar": {"attachment_id": null, "color": null, "source": null, "icon": null}
        }));
        let _ = writeln!(yaml, "  - name: {name}\n    handle: team{g}\n    members:");
        for p in pick(rng) {
            let _ = writeln!(yaml, "      - {}", p.1);
        }
    }
    groups
}

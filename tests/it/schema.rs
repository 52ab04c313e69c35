//! The JSON Schema in schema/ is generated from the Rust types: it must be current, every
//! example must match it, and it must refuse what `validate` refuses for its shape.

use crate::common::{cli, repo, stdout};

fn schema() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("schema/members.schema.json")).expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn yaml_as_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && !path.to_string_lossy().contains("/ci/")
            && !path.to_string_lossy().contains("/serve/")
        {
            out.push(path);
        }
    }
}

#[test]
fn the_committed_schema_is_what_the_tool_prints() {
    let output = cli().arg("schema").assert().success();
    let committed =
        std::fs::read_to_string(repo().join("schema/members.schema.json")).expect("schema");
    assert!(
        stdout(&output) == committed,
        "schema/members.schema.json is stale: run `cargo run -- schema > schema/members.schema.json`"
    );
}

#[test]
fn the_schema_is_draft_07_for_yaml_language_server() {
    assert_eq!(
        schema()["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
}

#[test]
fn every_example_matches_the_schema() {
    let validator = jsonschema::draft7::new(&schema()).expect("valid schema");
    let fragment: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/fragment.schema.json")).expect("schema"),
    )
    .expect("json");
    let fragments = jsonschema::draft7::new(&fragment).expect("valid schema");
    let mut files = Vec::new();
    yaml_files(&repo().join("examples"), &mut files);
    assert!(!files.is_empty());
    for path in files {
        let instance = yaml_as_json(&path);
        // A fragment names its schema on its first line, as editors read it; the one `sync`
        // writes says so there instead.
        let text = std::fs::read_to_string(&path).expect("read");
        let validator = if text.lines().next().is_some_and(|l| {
            l.contains("fragment.schema.json") || l.starts_with("# Written by clickup-members sync")
        }) {
            &fragments
        } else {
            &validator
        };
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn the_schema_refuses_shape_errors_that_validate_refuses() {
    let validator = jsonschema::draft7::new(&schema()).expect("valid schema");
    let dir = repo().join("tests/fixtures/invalid");
    for name in [
        "unknown-keys.yaml",
        "version-2.yaml",
        "bad-max-removals.yaml",
        "bad-mode.yaml",
        "bad-permission-level.yaml",
        "missing-keys.yaml",
        "wrong-types.yaml",
        "access-with-two-targets.yaml",
        "bad-workspace-id.yaml",
    ] {
        let instance = yaml_as_json(&dir.join(name));
        assert!(!validator.is_valid(&instance), "{name} passes the schema");
    }
}

/// One value changed in a valid file, and whether the file is then valid. Both `validate` and
/// the JSON Schema (what editors check as one types) must give that verdict.
const AGREEMENT: &[(&str, &str, bool)] = &[
    // (what, the YAML after `version: 1` (unless it has its own version), valid)
    (
        "a numeric Workspace id",
        "workspace: {id: 9006054115}",
        true,
    ),
    (
        "a Workspace id in quotes",
        "workspace: {id: \"9006054115\"}",
        true,
    ),
    (
        "a Workspace id with letters",
        "workspace: {id: \"90x\"}",
        false,
    ),
    ("an empty Workspace id", "workspace: {id: \"\"}", false),
    ("a negative Workspace id", "workspace: {id: -1}", false),
    ("a fractional Workspace id", "workspace: {id: 1.5}", false),
    (
        "a Workspace id with spaces",
        "workspace: {id: \" 12 \"}",
        false,
    ),
    (
        "a Workspace name",
        "workspace: {id: \"1\", name: Acme}",
        true,
    ),
    (
        "a numeric Workspace name",
        "workspace: {id: \"1\", name: 42}",
        true,
    ),
    (
        "an empty Workspace name",
        "workspace: {id: \"1\", name: \"\"}",
        false,
    ),
    (
        "a blank Workspace name",
        "workspace: {id: \"1\", name: \"  \"}",
        false,
    ),
    (
        "a Workspace name that is true",
        "workspace: {id: \"1\", name: true}",
        false,
    ),
    (
        "a Workspace name that is a list",
        "workspace: {id: \"1\", name: [a]}",
        false,
    ),
    ("version 1.0", "version: 1.0\nworkspace: {id: \"1\"}", true),
    ("version 2", "version: 2\nworkspace: {id: \"1\"}", false),
    (
        "version as text",
        "version: \"1\"\nworkspace: {id: \"1\"}",
        false,
    ),
    (
        "an expiry date",
        "workspace: {id: \"1\"}\nmembers: [{email: a@b.example, expires: 2027-03-31}]",
        true,
    ),
    (
        "an expiry time with its zone",
        "workspace: {id: \"1\"}\nguests: [{email: a@b.example, expires: \"2027-03-31T17:00:00+02:00\"}]",
        true,
    ),
    (
        "an expiry on a day that does not exist",
        "workspace: {id: \"1\"}\nmembers: [{email: a@b.example, expires: 2027-02-30}]",
        false,
    ),
    (
        "an expiry in words",
        "workspace: {id: \"1\"}\nmembers: [{email: a@b.example, expires: yesterday}]",
        false,
    ),
    (
        "an expiry time without its zone",
        "workspace: {id: \"1\"}\nmembers: [{email: a@b.example, expires: \"2027-03-31T17:00:00\"}]",
        false,
    ),
    (
        "an expiry notice",
        "workspace: {id: \"1\"}\npolicy: {expiry_notice_days: 30}",
        true,
    ),
    (
        "a negative expiry notice",
        "workspace: {id: \"1\"}\npolicy: {expiry_notice_days: -1}",
        false,
    ),
    (
        "admin bounds",
        "workspace: {id: \"1\"}\npolicy: {admins: {min: 1, max: 3}}",
        true,
    ),
    (
        "an admin bound alone",
        "workspace: {id: \"1\"}\npolicy: {admins: {max: 0}}",
        true,
    ),
    (
        "a negative admin bound",
        "workspace: {id: \"1\"}\npolicy: {admins: {min: -1}}",
        false,
    ),
    (
        "a fractional admin bound",
        "workspace: {id: \"1\"}\npolicy: {admins: {max: 2.5}}",
        false,
    ),
    (
        "an admin bound as text",
        "workspace: {id: \"1\"}\npolicy: {admins: {max: \"2\"}}",
        false,
    ),
    (
        "an unknown admin bound",
        "workspace: {id: \"1\"}\npolicy: {admins: {maximum: 2}}",
        false,
    ),
    (
        "seat bounds",
        "workspace: {id: \"1\"}\npolicy: {seats: {max_members: 30, max_guests: 0}}",
        true,
    ),
    (
        "no seat bounds",
        "workspace: {id: \"1\"}\npolicy: {seats: {}}",
        true,
    ),
    (
        "a negative seat bound",
        "workspace: {id: \"1\"}\npolicy: {seats: {max_members: -1}}",
        false,
    ),
    (
        "a seat bound as text",
        "workspace: {id: \"1\"}\npolicy: {seats: {max_guests: ten}}",
        false,
    ),
    (
        "an unknown seat bound",
        "workspace: {id: \"1\"}\npolicy: {seats: {max_admins: 2}}",
        false,
    ),
    (
        "member domains",
        "workspace: {id: \"1\"}\npolicy: {member_domains: [acme.example, Corp.Example]}",
        true,
    ),
    (
        "a member domain with a scheme",
        "workspace: {id: \"1\"}\npolicy: {member_domains: [\"https://acme.example\"]}",
        false,
    ),
    (
        "a member domain with an @",
        "workspace: {id: \"1\"}\npolicy: {member_domains: [\"@acme.example\"]}",
        false,
    ),
    (
        "a member domain without a dot",
        "workspace: {id: \"1\"}\npolicy: {member_domains: [acme]}",
        false,
    ),
    (
        "a member domain with an empty label",
        "workspace: {id: \"1\"}\npolicy: {member_domains: [acme..example]}",
        false,
    ),
    (
        "no member domain at all",
        "workspace: {id: \"1\"}\npolicy: {member_domains: []}",
        false,
    ),
    (
        "member domains as one text",
        "workspace: {id: \"1\"}\npolicy: {member_domains: acme.example}",
        false,
    ),
    (
        "mode additive",
        "workspace: {id: \"1\"}\npolicy: {mode: additive}",
        true,
    ),
    (
        "a misspelt mode",
        "workspace: {id: \"1\"}\npolicy: {mode: authorative}",
        false,
    ),
    (
        "a numeric mode",
        "workspace: {id: \"1\"}\npolicy: {mode: 1}",
        false,
    ),
    (
        "max_removals 0",
        "workspace: {id: \"1\"}\npolicy: {max_removals: 0}",
        true,
    ),
    (
        "max_removals 2.0",
        "workspace: {id: \"1\"}\npolicy: {max_removals: 2.0}",
        true,
    ),
    (
        "max_removals 2.5",
        "workspace: {id: \"1\"}\npolicy: {max_removals: 2.5}",
        false,
    ),
    (
        "max_removals -1",
        "workspace: {id: \"1\"}\npolicy: {max_removals: -1}",
        false,
    ),
    (
        "max_removals as text",
        "workspace: {id: \"1\"}\npolicy: {max_removals: \"3\"}",
        false,
    ),
    (
        "max_removals above 2^32",
        "workspace: {id: \"1\"}\npolicy: {max_removals: 4294967296}",
        false,
    ),
    (
        "protected as one email",
        "workspace: {id: \"1\"}\npolicy: {protected: a@acme.example}",
        false,
    ),
    (
        "protected empty",
        "workspace: {id: \"1\"}\npolicy:\n  protected:",
        true,
    ),
    (
        "protected with a bad email",
        "workspace: {id: \"1\"}\npolicy: {protected: [not-an-email]}",
        false,
    ),
    ("members empty", "workspace: {id: \"1\"}\nmembers:", true),
    (
        "members as a mapping",
        "workspace: {id: \"1\"}\nmembers: {email: a@acme.example}",
        false,
    ),
    (
        "a member",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example}]",
        true,
    ),
    (
        "a member in capitals",
        "workspace: {id: \"1\"}\nmembers: [{email: A@Acme.Example}]",
        true,
    ),
    (
        "a member without email",
        "workspace: {id: \"1\"}\nmembers: [{role: admin}]",
        false,
    ),
    (
        "a member with a bad email",
        "workspace: {id: \"1\"}\nmembers: [{email: not-an-email}]",
        false,
    ),
    (
        "a member with an empty email",
        "workspace: {id: \"1\"}\nmembers: [{email: \"\"}]",
        false,
    ),
    (
        "a member with a numeric email",
        "workspace: {id: \"1\"}\nmembers: [{email: 42}]",
        false,
    ),
    (
        "a member with two @",
        "workspace: {id: \"1\"}\nmembers: [{email: a@b@acme.example}]",
        false,
    ),
    (
        "a member with a space",
        "workspace: {id: \"1\"}\nmembers: [{email: a b@acme.example}]",
        false,
    ),
    (
        "a member as a bare email",
        "workspace: {id: \"1\"}\nmembers: [a@acme.example]",
        false,
    ),
    (
        "a custom role",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, role: Project Lead}]",
        true,
    ),
    (
        "an empty role",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, role: \"\"}]",
        false,
    ),
    (
        "a blank role",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, role: \"  \"}]",
        false,
    ),
    (
        "a numeric role",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, role: 5}]",
        false,
    ),
    (
        "a member with role guest",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, role: Guest}]",
        false,
    ),
    (
        "a misspelt member key",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, rol: admin}]",
        false,
    ),
    (
        "a guest",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example}]",
        true,
    ),
    (
        "a guest's switch",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, permissions: {can_edit_tags: true}}]",
        true,
    ),
    (
        "a guest's switch as text",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, permissions: {can_edit_tags: \"yes\"}}]",
        false,
    ),
    (
        "an unknown switch",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, permissions: {can_fly: true}}]",
        false,
    ),
    (
        "empty permissions",
        "workspace: {id: \"1\"}\nguests:\n  - email: g@partner.example\n    permissions:",
        false,
    ),
    (
        "a guest's custom role",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, custom_role: Client}]",
        true,
    ),
    (
        "an empty guest custom role",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, custom_role: \"\"}]",
        false,
    ),
    (
        "a numeric guest custom role",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, custom_role: 5}]",
        false,
    ),
    (
        "a share",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: \"9\", permission: read}]}]",
        true,
    ),
    (
        "a share by numeric id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{task: 9, permission: edit}]}]",
        true,
    ),
    (
        "a list shared by a non-numeric id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: \"abc\", permission: read}]}]",
        false,
    ),
    (
        "a folder shared by a non-numeric id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{folder: \"9/../1\", permission: read}]}]",
        false,
    ),
    (
        "a task shared by a custom id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{task: \"DEV-42\", permission: read}]}]",
        true,
    ),
    (
        "a share with an empty id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: \"\", permission: read}]}]",
        false,
    ),
    (
        "a share with a negative id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: -9, permission: read}]}]",
        false,
    ),
    (
        "a share with a fractional id",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: 1.5, permission: read}]}]",
        false,
    ),
    (
        "a share of two targets",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: \"9\", task: \"8\", permission: read}]}]",
        false,
    ),
    (
        "a share without a target",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{permission: read}]}]",
        false,
    ),
    (
        "a share with a bad level",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: [{list: \"9\", permission: admin}]}]",
        false,
    ),
    (
        "an empty access",
        "workspace: {id: \"1\"}\nguests:\n  - email: g@partner.example\n    access:",
        false,
    ),
    (
        "no access at all",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, access: []}]",
        true,
    ),
    ("groups: []", "workspace: {id: \"1\"}\ngroups: []", true),
    (
        "an empty groups key",
        "workspace: {id: \"1\"}\ngroups:",
        false,
    ),
    (
        "a group",
        "workspace: {id: \"1\"}\ngroups: [{name: Eng}]",
        true,
    ),
    (
        "a numeric group name",
        "workspace: {id: \"1\"}\ngroups: [{name: 42}]",
        true,
    ),
    (
        "an empty group name",
        "workspace: {id: \"1\"}\ngroups: [{name: \"\"}]",
        false,
    ),
    (
        "a blank group name",
        "workspace: {id: \"1\"}\ngroups: [{name: \"  \"}]",
        false,
    ),
    (
        "a group without name",
        "workspace: {id: \"1\"}\ngroups: [{handle: eng}]",
        false,
    ),
    (
        "a handle",
        "workspace: {id: \"1\"}\ngroups: [{name: Eng, handle: eng}]",
        true,
    ),
    (
        "an empty handle",
        "workspace: {id: \"1\"}\ngroups: [{name: Eng, handle: \"\"}]",
        false,
    ),
    (
        "a numeric handle",
        "workspace: {id: \"1\"}\ngroups: [{name: Eng, handle: 42}]",
        false,
    ),
    (
        "a group's empty member list",
        "workspace: {id: \"1\"}\ngroups:\n  - name: Eng\n    members:",
        true,
    ),
    (
        "a group member with a bad email",
        "workspace: {id: \"1\"}\ngroups: [{name: Eng, members: [nope]}]",
        false,
    ),
    (
        "sources and a sync rule",
        "workspace: {id: \"1\"}\ninclude: [\"s/*.yaml\"]\nsources: {csv: {path: hr.csv}, okta: {url: \"https://acme.okta.com\"}}\nsync: {into: s/p.yaml, max_changes: 10, rules: [{from: csv, group: x, as: guest}, {from: okta, group: \"00g1\", role: admin, expires: 2027-03-31}]}",
        true,
    ),
    (
        "a source over plain http to a loopback address",
        "workspace: {id: \"1\"}\nsources: {okta: {url: \"http://127.0.0.1:8080\"}}",
        true,
    ),
    (
        "a source over plain http",
        "workspace: {id: \"1\"}\nsources: {okta: {url: \"http://acme.okta.com\"}}",
        false,
    ),
    (
        "an unknown kind of source",
        "workspace: {id: \"1\"}\nsources: {ldap: {url: \"https://x.example\"}}",
        false,
    ),
    (
        "an okta source without its url",
        "workspace: {id: \"1\"}\nsources: {okta: {}}",
        false,
    ),
    (
        "a rule from an unknown kind of source",
        "workspace: {id: \"1\"}\ninclude: [\"s/*.yaml\"]\nsources: {csv: {path: hr.csv}}\nsync: {into: s/p.yaml, rules: [{from: ldap, group: x}]}",
        false,
    ),
    (
        "a rule without a group",
        "workspace: {id: \"1\"}\ninclude: [\"s/*.yaml\"]\nsources: {csv: {path: hr.csv}}\nsync: {into: s/p.yaml, rules: [{from: csv}]}",
        false,
    ),
    (
        "a rule as a visitor",
        "workspace: {id: \"1\"}\ninclude: [\"s/*.yaml\"]\nsources: {csv: {path: hr.csv}}\nsync: {into: s/p.yaml, rules: [{from: csv, group: x, as: visitor}]}",
        false,
    ),
    (
        "a sync without into",
        "workspace: {id: \"1\"}\nsync: {rules: []}",
        false,
    ),
    (
        "a negative max_changes",
        "workspace: {id: \"1\"}\ninclude: [\"s/*.yaml\"]\nsync: {into: s/p.yaml, max_changes: -1}",
        false,
    ),
    (
        "a person who joins a group",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, groups: [Eng]}]\ngroups: [{name: Eng}]",
        true,
    ),
    (
        "a person's groups that is not a list",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, groups: Eng}]\ngroups: [{name: Eng}]",
        false,
    ),
    (
        "a person's source",
        "workspace: {id: \"1\"}\nguests: [{email: g@partner.example, source: [\"csv:contractors\"]}]",
        true,
    ),
    (
        "a source that names no rule",
        "workspace: {id: \"1\"}\nmembers: [{email: a@acme.example, source: [hr]}]",
        false,
    ),
];

#[test]
fn validate_and_the_schema_agree_on_every_value() {
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("valid schema");
    let dir = tempfile::tempdir().expect("dir");
    let mut disagreements = Vec::new();
    for (what, yaml, valid) in AGREEMENT {
        let text = if yaml.starts_with("version:") {
            format!("{yaml}\n")
        } else {
            format!("version: 1\n{yaml}\n")
        };
        let path = dir.path().join("members.yaml");
        std::fs::write(&path, &text).expect("write");
        let output = cli()
            .arg("validate")
            .arg("-f")
            .arg(&path)
            .output()
            .expect("run");
        let by_validate = output.status.code() == Some(0);
        let instance: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let by_schema = validator.is_valid(&instance);
        if by_validate != *valid || by_schema != *valid {
            disagreements.push(format!(
                "{what}: expected {}, validate says {}, the schema says {}\n{}",
                verdict(*valid),
                verdict(by_validate),
                verdict(by_schema),
                crate::common::stderr(&output)
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases:\n{}",
        disagreements.len(),
        AGREEMENT.len(),
        disagreements.join("\n")
    );
}

fn verdict(valid: bool) -> &'static str {
    if valid { "valid" } else { "invalid" }
}

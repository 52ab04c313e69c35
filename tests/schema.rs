//! The JSON Schema in schema/ is generated from the Rust types: it must be current, every
//! example must match it, and it must refuse what `validate` refuses for its shape.

mod common;

use common::{cli, repo, stdout};

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
        {
            out.push(path);
        }
    }
}

#[test]
fn the_committed_schema_is_what_the_tool_prints() {
    let output = cli().arg("schema").output().expect("run");
    assert_eq!(output.status.code(), Some(0));
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
    let mut files = Vec::new();
    yaml_files(&repo().join("examples"), &mut files);
    assert!(!files.is_empty());
    for path in files {
        let instance = yaml_as_json(&path);
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

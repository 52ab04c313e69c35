//! Hostile input: random bytes and mutated valid files fed to the members-file loader, the
//! formatter and the snapshot parser. Never a panic; a clear error that points inside the file.

use proptest::prelude::*;

use crate::clickup::wire::SnapshotDoc;
use crate::config;
use crate::format;
use crate::plan::{self, Managed};

const MEMBERS: &str = include_str!("../../examples/acme/members.yaml");
const SNAPSHOT: &str = include_str!("../../examples/acme/workspace.snapshot.json");

/// A change to a text: delete, repeat, insert or swap a piece, or reindent a line.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Repeat { at: usize, len: usize },
    SwapLines { a: usize, b: usize },
    Indent { line: usize, by: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let piece = prop_oneof![
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("[".to_owned()),
        Just("}".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("|\n".to_owned()),
        Just("!!binary ".to_owned()),
        Just("<<: *a\n".to_owned()),
        Just("\t".to_owned()),
        Just("\n---\n".to_owned()),
        Just("#".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("é".to_owned()),
        "[ -~]{0,12}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), piece).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), 0usize..80).prop_map(|(at, len)| Mutation::Repeat { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), 0usize..6).prop_map(|(line, by)| Mutation::Indent { line, by }),
    ]
}

/// The nearest char boundary at or before `at % len`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_owned();
    for m in mutations {
        match m {
            Mutation::Delete { at, len } => {
                let start = boundary(&text, *at);
                let end = boundary(&text, start + len.min(&(text.len() - start)));
                if end >= start {
                    text.replace_range(start..end, "");
                }
            }
            Mutation::Insert { at, text: piece } => {
                let at = boundary(&text, *at);
                text.insert_str(at, piece);
            }
            Mutation::Repeat { at, len } => {
                let start = boundary(&text, *at);
                let end = boundary(&text, start + len.min(&(text.len() - start)));
                if end >= start {
                    let piece = text[start..end].to_owned();
                    text.insert_str(end, &piece);
                }
            }
            Mutation::SwapLines { a, b } => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let n = lines.len();
                lines.swap(a % n, b % n);
                text = lines.join("\n");
            }
            Mutation::Indent { line, by } => {
                let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                let n = lines.len();
                lines[line % n].insert_str(0, &" ".repeat(*by));
                text = lines.join("\n");
            }
        }
    }
    text
}

/// Every diagnostic points at a line of the text (or just past its end) and says something.
fn points_inside(text: &str, diagnostics: &[crate::diag::Diagnostic]) -> Result<(), TestCaseError> {
    prop_assert!(!diagnostics.is_empty(), "an error without a diagnostic");
    // YAML breaks lines at LF, CR and CRLF alike.
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .count() as u32
        + 1;
    for d in diagnostics {
        prop_assert!(
            d.loc.line >= 1 && d.loc.line <= lines,
            "line {} of {lines}: {}",
            d.loc.line,
            d.message
        );
        prop_assert!(d.loc.col >= 1, "column 0: {}", d.message);
        prop_assert!(!d.message.trim().is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_crash_the_loader(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(diagnostics) = config::parse_str(&text) {
            points_inside(&text, &diagnostics)?;
        }
        let _ = format::format(&text);
    }

    #[test]
    fn mutated_member_files_get_a_clear_error_or_a_valid_plan(
        mutations in proptest::collection::vec(mutation(), 1..6)
    ) {
        let text = mutate(MEMBERS, &mutations);
        match config::parse_str(&text) {
            Err(diagnostics) => points_inside(&text, &diagnostics)?,
            Ok(file) => {
                let live = SnapshotDoc::from_json(SNAPSHOT.as_bytes()).expect("snapshot").into_live();
                if let Ok(plan) = plan::compute(&file, &live, &Managed::default(), time::macros::datetime!(2026-12-01 0:00 UTC)) {
                    let _ = plan::guards::check(&plan, &file, &live);
                }
                // What fmt writes means what the file means.
                if let Ok(formatted) = format::format(&text) {
                    let again = config::parse_str(&formatted).map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
                    prop_assert_eq!(again.meaning(), file.meaning());
                }
            }
        }
    }

    #[test]
    fn random_bytes_never_crash_the_snapshot_parser(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(doc) = SnapshotDoc::from_json(&bytes) {
            let _ = doc.into_live();
        }
    }

    #[test]
    fn mutated_snapshots_are_read_or_refused_and_always_planned_safely(
        mutations in proptest::collection::vec(mutation(), 1..6)
    ) {
        let text = mutate(SNAPSHOT, &mutations);
        match SnapshotDoc::from_json(text.as_bytes()) {
            Err(e) => prop_assert!(e.0.starts_with("not a snapshot of a ClickUp Workspace (line ")),
            Ok(doc) => {
                let live = doc.into_live();
                let file = config::parse_str(MEMBERS).expect("valid file");
                if let Ok(plan) = plan::compute(&file, &live, &Managed::default(), time::macros::datetime!(2026-12-01 0:00 UTC)) {
                    let _ = plan::guards::check(&plan, &file, &live);
                }
            }
        }
    }
}

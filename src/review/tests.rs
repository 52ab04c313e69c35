//! The review's rows on its fixture, with the clock pinned: every flag, both modes, the
//! managed column, and what each format makes of names with commas, quotes, line breaks and
//! formulas.

use super::*;
use crate::model::Email;

const MEMBERS: &str = include_str!("../../tests/fixtures/review/members.yaml");
const SNAPSHOT: &str = include_str!("../../tests/fixtures/review/workspace.snapshot.json");
const NOW: OffsetDateTime = time::macros::datetime!(2026-12-01 0:00 UTC);

/// The rows of the fixture's file (edited by `edit`) with `managed` recorded as managed.
fn review(edit: impl Fn(&str) -> String, managed: &[&str], inactive_days: u32) -> Vec<Row> {
    let file = crate::config::parse_str(&edit(MEMBERS)).expect("valid file");
    let doc = SnapshotDoc::from_json(SNAPSHOT.as_bytes()).expect("snapshot");
    let live = doc.to_live();
    let managed = Managed {
        people: managed.iter().map(|e| Email::from_live(e)).collect(),
        groups: std::collections::BTreeSet::new(),
    };
    let plan = crate::plan::compute(&file, &live, &managed, NOW).expect("plan");
    rows(
        Sources {
            file: &file,
            live: &live,
            doc: &doc,
            plan: &plan,
            managed: &managed,
        },
        Options {
            now: NOW,
            inactive_days,
        },
    )
}

fn flags_of(rows: &[Row]) -> Vec<(&str, Vec<&str>)> {
    rows.iter()
        .map(|r| {
            (
                r.email.as_str(),
                r.flags.iter().map(|f| f.key()).collect::<Vec<_>>(),
            )
        })
        .collect()
}

fn row<'a>(rows: &'a [Row], email: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.email == email)
        .unwrap_or_else(|| panic!("no row for {email}"))
}

#[test]
fn every_flag_falls_on_the_person_it_describes_in_additive_mode() {
    let rows = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS);
    assert_eq!(
        flags_of(&rows),
        vec![
            ("ada@acme.example", vec!["inactive"]),
            ("bob@acme.example", vec!["expiring"]),
            ("carl@acme.example", vec!["pending-long"]),
            ("dina@acme.example", vec![]),
            ("erin@partner.example", vec!["expired"]),
            ("frank@acme.example", vec!["unmanaged"]),
            ("gil@acme.example", vec!["inactive"]),
            ("ivan@acme.example", vec![]),
            ("olivia@acme.example", vec![]),
            // Those the file lists and the Workspace does not have come last.
            ("hana@acme.example", vec!["missing"]),
        ]
    );
    let ada = row(&rows, "ada@acme.example");
    assert_eq!(
        (ada.kind, ada.role.as_str(), ada.status, ada.in_file),
        (Kind::Member, "admin", Some(Status::Active), true)
    );
    assert_eq!(ada.groups, ["Design, Ops", "Engineering"]);
    assert_eq!(ada.last_active, Some(time::macros::date!(2026 - 06 - 01)));
    assert_eq!(ada.invited, Some(time::macros::date!(2023 - 03 - 22)));
    let erin = row(&rows, "erin@partner.example");
    assert_eq!((erin.kind, erin.role.as_str()), (Kind::Guest, "guest"));
    assert_eq!(erin.expires, Some(time::macros::date!(2026 - 11 - 15)));
    let carl = row(&rows, "carl@acme.example");
    assert_eq!(carl.status, Some(Status::Pending));
    assert_eq!(
        carl.last_active, None,
        "never active, yet not inactive: pending"
    );
    let hana = row(&rows, "hana@acme.example");
    assert_eq!(
        (hana.status, hana.in_file, hana.managed, hana.name.as_str()),
        (None, true, true, ""),
        "in the file, so managed: the next apply invites her"
    );
    let olivia = row(&rows, "olivia@acme.example");
    assert_eq!(olivia.role, "owner");
}

#[test]
fn in_authoritative_mode_who_the_next_apply_removes_is_not_in_file() {
    let rows = review(
        |m| m.replace("mode: additive", "mode: authoritative"),
        &[],
        DEFAULT_INACTIVE_DAYS,
    );
    assert_eq!(
        row(&rows, "frank@acme.example").flags,
        [Flag::NotInFile],
        "not unmanaged: that is for additive mode"
    );
}

#[test]
fn managed_is_listed_in_the_file_or_recorded_in_the_state() {
    // No state yet: whom the file lists is managed all the same (SPEC §1).
    let rows = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS);
    for row in rows.iter().filter(|r| r.status.is_some()) {
        assert_eq!(row.managed, row.in_file, "{}", row.email);
    }
    assert!(row(&rows, "ada@acme.example").managed);
    assert!(!row(&rows, "frank@acme.example").managed);
    // The state adds those the tool manages though the file no longer lists them.
    let rows = review(
        str::to_owned,
        &["frank@acme.example"],
        DEFAULT_INACTIVE_DAYS,
    );
    let frank = row(&rows, "frank@acme.example");
    assert!(frank.managed && !frank.in_file);
    assert_eq!(frank.flags, [Flag::NotInFile], "additive: no longer listed");
    assert!(row(&rows, "bob@acme.example").managed);
}

#[test]
fn a_person_expired_and_already_gone_is_expired_not_missing() {
    let rows = review(
        |m| {
            m.replace(
            "  - email: olivia@acme.example\n",
            "  - email: otto@acme.example\n    expires: \"2026-10-01\"\n  - email: olivia@acme.example\n",
        )
        },
        &[],
        DEFAULT_INACTIVE_DAYS,
    );
    let otto = row(&rows, "otto@acme.example");
    assert_eq!(otto.flags, [Flag::Expired]);
    assert_eq!(otto.status, None);
    assert_eq!(otto.expires, Some(time::macros::date!(2026 - 10 - 01)));
    // One who is wanted and not there yet is still missing.
    assert_eq!(row(&rows, "hana@acme.example").flags, [Flag::Missing]);
}

#[test]
fn inactive_days_moves_the_line() {
    // frank was last active 2026-11-20: 11 days before.
    let rows = review(str::to_owned, &[], 10);
    assert!(
        row(&rows, "frank@acme.example")
            .flags
            .contains(&Flag::Inactive)
    );
    let rows = review(str::to_owned, &[], 400);
    assert!(
        !row(&rows, "ada@acme.example")
            .flags
            .contains(&Flag::Inactive)
    );
}

fn heading() -> render::Heading {
    render::Heading {
        subject: render::Subject::Workspace {
            name: "Review Workspace".to_owned(),
            id: "9006054115".to_owned(),
        },
        day: NOW.date(),
        inactive_days: DEFAULT_INACTIVE_DAYS,
        unreviewed: Vec::new(),
    }
}

#[test]
fn the_csv_reads_back_to_the_same_cells_and_no_cell_is_a_formula() {
    let rows = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS);
    let mut out = Vec::new();
    render::csv(&mut out, &rows).expect("csv");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), rows.len());
    let bob = records
        .iter()
        .find(|r| &r[0] == "bob@acme.example")
        .expect("bob");
    assert_eq!(&bob[1], "Zed, \"the\" Builder\nJr.");
    assert_eq!(&bob[7], "Engineering");
    assert_eq!(&bob[10], "2026-12-10");
    let ada = records
        .iter()
        .find(|r| &r[0] == "ada@acme.example")
        .expect("ada");
    assert_eq!(
        ada.iter().collect::<Vec<_>>(),
        [
            "ada@acme.example",
            "Ada Admin",
            "member",
            "admin",
            "active",
            "yes",
            "yes",
            "Design, Ops;Engineering",
            "2026-06-01",
            "2023-03-22",
            "",
            "inactive"
        ]
    );
    let ivan = records
        .iter()
        .find(|r| &r[0] == "ivan@acme.example")
        .expect("ivan");
    assert_eq!(&ivan[1], "'=HYPERLINK(\"http://x.example\",\"click\")");
    let hana = records
        .iter()
        .find(|r| &r[0] == "hana@acme.example")
        .expect("hana");
    assert_eq!((&hana[4], &hana[6], &hana[11]), ("", "yes", "missing"));
}

#[test]
fn a_csv_cell_a_spreadsheet_could_run_starts_with_a_quote_whatever_comes_before_it() {
    let ada = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS).remove(0);
    let names = [
        " =1+1",
        "\u{a0}=1+1",
        "\u{3000}+1",
        "\u{ff1d}HYPERLINK(\"http://x.example\")",
        "\u{ff0b}1",
        "\u{ff0d}1",
        "\u{ff20}SUM(A1)",
        "\t=1",
        "\r=1",
        "\u{feff}=1",
        "\u{feff} @x",
        "\n=1",
    ];
    let rows: Vec<Row> = names
        .iter()
        .map(|name| Row {
            name: (*name).to_owned(),
            ..ada.clone()
        })
        .collect();
    let mut out = Vec::new();
    render::csv(&mut out, &rows).expect("csv");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let read: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[1].to_owned())
        .collect();
    assert_eq!(read.len(), names.len());
    for (cell, name) in read.iter().zip(names) {
        assert_eq!(*cell, format!("'{name}"), "{name:?}");
    }
    // A name that only starts with a space stays as it is.
    let mut rows = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS);
    rows[0].name = " Ada".to_owned();
    let mut out = Vec::new();
    render::csv(&mut out, &rows[..1]).expect("csv");
    assert!(String::from_utf8_lossy(&out).contains(", Ada,"));
}

#[test]
fn the_json_has_the_columns_as_keys_with_lists_as_arrays() {
    let rows = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS);
    let mut out = Vec::new();
    render::json(&mut out, &rows).expect("json");
    let value: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let ada = &value[0];
    let keys: Vec<&str> = ada
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut columns = COLUMNS.to_vec();
    columns.sort_unstable();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, columns);
    assert_eq!(
        ada["groups"],
        serde_json::json!(["Design, Ops", "Engineering"])
    );
    assert_eq!(ada["flags"], serde_json::json!(["inactive"]));
    assert_eq!(ada["in_file"], "yes");
    assert_eq!(ada["expires"], serde_json::Value::Null);
    let hana = value
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["email"] == "hana@acme.example")
        .expect("hana");
    assert_eq!(hana["status"], serde_json::Value::Null);
}

#[test]
fn text_and_markdown_tables_keep_names_on_their_line_and_sum_up_the_flags() {
    let rows = review(str::to_owned, &[], DEFAULT_INACTIVE_DAYS);
    let mut text = Vec::new();
    render::text(&mut text, &rows, &heading()).expect("text");
    let text = String::from_utf8(text).expect("utf-8");
    // A title, the summary, a blank line, the header and one line per row.
    assert_eq!(text.lines().count(), 4 + rows.len(), "{text}");
    assert!(text.contains("Zed, \"the\" Builder\\nJr."), "{text}");
    assert!(
        text.contains("9 people (8 members, 1 guest; 2 pending invitations), and 1 in the file but not in the Workspace. Flagged: 2 inactive, 1 pending-long, 1 expired, 1 expiring, 1 unmanaged, 1 missing"),
        "{text}"
    );
    let mut markdown = Vec::new();
    render::markdown(&mut markdown, &rows, &heading()).expect("markdown");
    let markdown = String::from_utf8(markdown).expect("utf-8");
    let table: Vec<&str> = markdown.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + rows.len(), "{markdown}");
    assert_eq!(
        table[0],
        "| email | name | kind | role | status | in_file | managed | groups | last_active | invited | expires | flags |"
    );
    // Every row has the 12 cells, whatever the names hold.
    for line in &table {
        let cells = line.replace("\\|", "").matches('|').count() - 1;
        assert_eq!(cells, 12, "{line}");
    }
    assert!(
        markdown.starts_with("### Access review of Workspace"),
        "{markdown}"
    );
}

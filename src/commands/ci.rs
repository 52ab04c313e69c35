//! What `plan` leaves for CI and reviewers: the markdown on the GitHub job's summary page, and
//! the command that applies a saved plan.

use std::io::Write;
use std::path::Path;

use crate::commands::{Common, default_state_path, display_path};
use crate::console::warning;

/// In a GitHub Actions job, the markdown also goes to the job's summary page.
pub(crate) fn step_summary(render: impl Fn(&mut dyn Write) -> std::io::Result<()>) {
    let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let mut text = Vec::new();
    let appended = render(&mut text).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut file| file.write_all(&text))
    });
    if let Err(e) = appended {
        warning(&format!(
            "cannot append the plan to GITHUB_STEP_SUMMARY ({}): {e}",
            Path::new(&summary).display()
        ));
    }
}

/// `clickup-members apply PLAN` with the options that find the same file, state and
/// Workspace, ready to paste.
pub(crate) fn apply_command(common: &Common, plan: &Path, allow_replace: bool) -> String {
    let mut words = vec![
        "clickup-members".to_owned(),
        "apply".to_owned(),
        shell_word(&display_path(plan)),
        "-f".to_owned(),
        shell_word(&display_path(&common.file)),
    ];
    if common.state != default_state_path(&common.file) {
        words.push("--state".to_owned());
        words.push(shell_word(&display_path(&common.state)));
    }
    if let Some(snapshot) = &common.snapshot {
        words.push("--snapshot".to_owned());
        words.push(shell_word(&display_path(snapshot)));
    }
    if allow_replace {
        words.push("--allow-replace".to_owned());
    }
    words.join(" ")
}

/// A word as a POSIX shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_word("clickup/members.yaml"), "clickup/members.yaml");
        assert_eq!(shell_word("my plan.json"), "'my plan.json'");
        assert_eq!(shell_word("it's.json"), r"'it'\''s.json'");
        assert_eq!(shell_word(""), "''");
    }
}

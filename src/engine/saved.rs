//! Saved plans (`plan --out`, SPEC §3): read back sealed, and applied only while they are
//! exactly the plan made now.

use std::path::Path;

use crate::engine::{Error, Planned, SavedPlanError};
use crate::render::json::{self, JsonPlan};

/// Reads a plan saved by `plan --out`, refusing one changed since it was written.
pub(crate) fn read_saved_plan(path: &Path) -> Result<JsonPlan, SavedPlanError> {
    let name = path.display().to_string();
    let bytes = match crate::fsutil::read_regular(path) {
        Ok(bytes) => bytes,
        Err(error) => return Err(SavedPlanError::Unreadable { name, error }),
    };
    let plan: JsonPlan = match serde_json::from_slice(&bytes) {
        Ok(plan) => plan,
        Err(error) => return Err(SavedPlanError::NotAPlan { name, error }),
    };
    // Every field is covered, the ones only shown (mode, max_removals, the summary) too.
    if plan.plan_digest.as_deref() != Some(plan.digest().as_str()) {
        return Err(SavedPlanError::Tampered { name });
    }
    Ok(plan)
}

impl<W> Planned<W> {
    /// Refuses the saved plan at `path` unless it is the plan made now (`now`, the JSON of
    /// this plan): same version, Workspace, file, Workspace contents, state and changes.
    #[cfg(test)]
    pub(crate) fn check_saved(&self, path: &Path, now: &JsonPlan) -> Result<(), Error> {
        let saved = read_saved_plan(path)?;
        self.check_saved_plan(&path.display().to_string(), &saved, now)
    }

    /// [`Planned::check_saved`] for a saved plan already read, `name` being where it is.
    pub(crate) fn check_saved_plan(
        &self,
        name: &str,
        saved: &JsonPlan,
        now: &JsonPlan,
    ) -> Result<(), Error> {
        let name = name.to_owned();
        if saved.format_version != json::FORMAT_VERSION {
            return Err(SavedPlanError::FormatVersion {
                name,
                found: saved.format_version,
            }
            .into());
        }
        if saved.tool_version != env!("CARGO_PKG_VERSION") {
            return Err(SavedPlanError::ToolVersion {
                name,
                found: saved.tool_version.clone(),
            }
            .into());
        }
        let plan = &self.plan;
        let stale = |why: String| Error::Stale {
            plan: name.clone(),
            why,
        };
        if saved.workspace.id != plan.workspace_id {
            return Err(stale("the file now describes another Workspace".to_owned()));
        }
        if saved.config_digest != plan.config_digest {
            return Err(stale(format!("{} changed", self.context().file_name)));
        }
        if saved.live_fingerprint != plan.live_fingerprint {
            return Err(stale("the Workspace changed".to_owned()));
        }
        if let (Some(then), Some(current)) = (&saved.state, &now.state)
            && then.lineage != current.lineage
        {
            return Err(stale(format!(
                "the state file was replaced by another history (lineage {}, not {})",
                current.lineage, then.lineage
            )));
        }
        if saved.state != now.state {
            return Err(stale("the state file changed".to_owned()));
        }
        if saved.changes != now.changes {
            return Err(stale("the changes differ".to_owned()));
        }
        Ok(())
    }
}

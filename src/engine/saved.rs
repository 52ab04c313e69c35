//! Saved plans (`plan --out`, SPEC §3): read back sealed, and applied only while they are
//! exactly the plan made now.

use std::path::Path;

use crate::engine::{Error, Planned, SavedPlanError};
use crate::render::json::{self, JsonPlan, JsonPlans};

/// What `plan --out` saved: the plan of one Workspace file, or the plans of a folder.
#[derive(Debug, Clone)]
pub(crate) enum SavedDoc {
    One(Box<JsonPlan>),
    Folder(JsonPlans),
}

/// Reads a plan saved by `plan --out`, refusing one changed since it was written.
pub(crate) fn read_saved_plan(path: &Path) -> Result<JsonPlan, SavedPlanError> {
    match read_saved(path)? {
        SavedDoc::One(plan) => Ok(*plan),
        SavedDoc::Folder(all) => Err(SavedPlanError::OfAFolder {
            name: path.display().to_string(),
            folder: all.folder.map_or_else(
                || "DIR".to_owned(),
                |f| crate::fsutil::beside(path, &f).display().to_string(),
            ),
        }),
    }
}

/// Reads what `plan --out` saved, of a file or of a folder, refusing any plan in it changed
/// since it was written.
pub(crate) fn read_saved(path: &Path) -> Result<SavedDoc, SavedPlanError> {
    let name = path.display().to_string();
    let bytes = match crate::fsutil::read_regular(path) {
        Ok(bytes) => bytes,
        Err(error) => return Err(SavedPlanError::Unreadable { name, error }),
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(error) => return Err(SavedPlanError::NotAPlan { name, error }),
    };
    let doc = if value.get("workspaces").is_some() {
        serde_json::from_value(value).map(SavedDoc::Folder)
    } else {
        serde_json::from_value(value).map(|plan| SavedDoc::One(Box::new(plan)))
    };
    let doc = doc.map_err(|error| SavedPlanError::NotAPlan {
        name: name.clone(),
        error,
    })?;
    let plans = match &doc {
        SavedDoc::One(plan) => std::slice::from_ref(&**plan),
        SavedDoc::Folder(all) => all.workspaces.as_slice(),
    };
    if plans.iter().any(|plan| plan.plan_digest.is_none()) {
        return Err(SavedPlanError::NotSaved { name });
    }
    // A plan of another format or made by another version is read as nothing else.
    for plan in plans {
        if plan.format_version != json::FORMAT_VERSION {
            return Err(SavedPlanError::FormatVersion {
                name,
                found: plan.format_version,
            });
        }
        if plan.tool_version != env!("CARGO_PKG_VERSION") {
            return Err(SavedPlanError::ToolVersion {
                name,
                found: plan.tool_version.clone(),
            });
        }
    }
    // Every field is covered, the ones only shown (mode, max_removals, the summary) too.
    if plans
        .iter()
        .any(|plan| plan.plan_digest.as_deref() != Some(plan.digest().as_str()))
    {
        return Err(SavedPlanError::Tampered { name });
    }
    Ok(doc)
}

/// The members file (or folder of Workspace files) a saved plan records it was made from,
/// found from the saved plan's folder; `None` for a plan that records none or cannot be read
/// (reading it again says why). A file recorded but gone is an error saying which `-f` to
/// pass.
pub(crate) fn recorded_file(path: &Path) -> Result<Option<std::path::PathBuf>, Error> {
    let Ok(bytes) = crate::fsutil::read_regular(path) else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Recorded {
        file: Option<String>,
        folder: Option<String>,
    }
    let Ok(recorded) = serde_json::from_slice::<Recorded>(&bytes) else {
        return Ok(None);
    };
    let Some(relative) = recorded.folder.or(recorded.file) else {
        return Ok(None);
    };
    let found = crate::fsutil::beside(path, &relative);
    if found.exists() {
        return Ok(Some(found));
    }
    Err(Error::PlannedFileGone {
        plan: path.to_owned(),
        expected: found,
        relative,
    })
}

impl<W> Planned<W> {
    /// Refuses the saved plan at `path` unless it is the plan made now.
    #[cfg(test)]
    pub(crate) fn check_saved(&self, path: &Path) -> Result<(), Error> {
        let saved = read_saved_plan(path)?;
        match crate::engine::verdict::stale(self, &saved) {
            Some(why) => Err(Error::Stale {
                plan: path.display().to_string(),
                why,
            }),
            None => Ok(()),
        }
    }
}

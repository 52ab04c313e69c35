//! clickup-members: a ClickUp Workspace's members, guests and user groups, managed as code.
//!
//! A YAML file says who belongs in the Workspace and with which role. `plan` compares it with the
//! live Workspace and shows the difference; `apply` makes only the calls the difference needs and
//! records what it did in a state file.
//!
//! The shape (ARCHITECTURE.md): `cli` and `commands` are the command line; `engine` is plan and
//! apply as library calls; `clickup` reads and writes a Workspace (ClickUp or a snapshot),
//! `state` remembers, `render` prints; the pure core (`config`, `plan`, `live`) reads the file
//! and computes and guards the changes.

mod audit;
mod cli;
mod clickup;
mod clock;
mod commands;
mod config;
mod console;
mod diag;
mod engine;
mod escape;
mod format;
mod fsutil;
mod live;
mod lock;
mod model;
mod plan;
mod render;
mod review;
mod state;
mod stop;
mod sync;
mod yaml;

#[cfg(test)]
mod testing;

pub use cli::Cli;
pub use cli::run;
pub use commands::Exit;
pub use commands::usage;

/// Entry points for the benchmarks (`cargo bench`): the stages of a plan, one by one. Not a
/// stable API.
#[doc(hidden)]
pub mod bench {
    /// A parsed and checked members file.
    #[derive(Debug)]
    pub struct File(crate::config::MembersFile);

    /// A Workspace read from a snapshot.
    #[derive(Debug)]
    pub struct Workspace(crate::live::Live);

    /// A plan, as rendered.
    #[derive(Debug)]
    pub struct Plan(crate::render::json::JsonPlan);

    fn context() -> crate::render::Context {
        crate::render::Context {
            file_name: "members.yaml".to_owned(),
            saved_plan: None,
            max_chars: crate::render::MAX_CHARS,
            held_back: false,
        }
    }

    /// Why a stage failed on its input.
    #[derive(Debug, thiserror::Error)]
    pub enum Error {
        #[error("the members file has {0} problems")]
        File(usize),
        #[error("not a snapshot: {0}")]
        Snapshot(String),
        #[error("no plan: {0} problems")]
        Plan(usize),
        #[error("the plan breaks {0} guards")]
        Guards(usize),
    }

    /// Parses, decodes and checks a members file (what `validate` does).
    pub fn load(text: &str) -> Result<File, Error> {
        crate::config::parse_str(text)
            .map(File)
            .map_err(|d| Error::File(d.len()))
    }

    /// Reads a snapshot into the live model.
    pub fn workspace(json: &[u8]) -> Result<Workspace, Error> {
        crate::clickup::wire::SnapshotDoc::from_json(json)
            .map(|doc| Workspace(doc.into_live()))
            .map_err(|e| Error::Snapshot(e.0))
    }

    /// Computes and guards the plan, as its JSON form.
    pub fn plan(file: &File, workspace: &Workspace) -> Result<Plan, Error> {
        let managed = crate::plan::Managed::default();
        let plan = crate::plan::compute(&file.0, &workspace.0, &managed, crate::clock::now())
            .map_err(|e| Error::Plan(e.len()))?;
        let violations = crate::plan::guards::check(&plan, &file.0, &workspace.0);
        if !violations.is_empty() {
            return Err(Error::Guards(violations.len()));
        }
        Ok(Plan(crate::render::json::to_json(&plan, None, &context())))
    }

    impl Plan {
        pub fn changes(&self) -> usize {
            self.0.changes.len()
        }

        pub fn text(&self) -> Vec<u8> {
            let mut out = Vec::new();
            let _ = crate::render::text(&mut out, &self.0, &context());
            out
        }

        pub fn json(&self) -> Vec<u8> {
            let mut out = Vec::new();
            let _ = crate::render::json::write(&mut out, &self.0);
            out
        }

        pub fn markdown(&self) -> Vec<u8> {
            let mut out = Vec::new();
            let _ = crate::render::markdown(&mut out, &self.0, &context());
            out
        }
    }
}

//! clickup-members: a ClickUp Workspace's members, guests and user groups, managed as code.
//!
//! A YAML file says who belongs in the Workspace and with which role. `plan` compares it with the
//! live Workspace and shows the difference; `apply` makes only the calls the difference needs and
//! records what it did in a state file.
//!
//! The shape: `config` reads the file, `wire` reads ClickUp's JSON into the `live` model, the
//! pure `plan` computes and guards the changes, `render` prints them, `apply` sends them through
//! a `workspace::Workspace`, and `state` remembers.

mod apply;
mod audit;
mod cli;
mod clock;
mod commands;
mod config;
mod diag;
mod format;
mod fsutil;
mod http;
mod live;
mod lock;
mod model;
mod plan;
mod render;
mod snapshot;
mod state;
mod stop;
mod wire;
mod workspace;
mod yaml;

pub use cli::Cli;
pub use commands::{Exit, run};

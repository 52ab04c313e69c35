//! The integration tests, in one binary: the command line run as a user runs it, against
//! local fakes of ClickUp (`fake`, checked against ClickUp's official OpenAPI on every request)
//! and of GitHub and GitLab, with the outside validators the CI recipes are checked with.
//!
//! `cargo test` runs them all but the 45 s chaos soak, which `.ci/test` adds
//! (`cargo test --test it soak -- --ignored` runs it alone).

mod common;
mod fake;

mod attacks;
mod ci_recipes;
mod clickup_contract;
mod first_day;
mod fmt_import;
mod fragments;
mod identity_fakes;
mod live;
mod many;
mod plan_apply;
mod report;
mod reviewed;
mod robustness;
mod run;
mod schema;
mod security;
mod serve;
mod soak;
mod sync;
mod sync_edges;
mod validate;

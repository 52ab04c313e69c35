//! Reading every rule's group: the providers the rules use, set up from the environment, and
//! the csv export read once. A group that cannot be read whole is an error at its rule's line;
//! every rule is tried, except those of a provider that already failed as a whole (its
//! credentials, its token endpoint, an outage), so that one run names every problem.

use std::path::Path;

use crate::config::{MembersFile, Rule, SourceKind, Sources};
use crate::diag::Loc;
use crate::model::Email;
use crate::sync::merge::{Found, RuleRead};
use crate::sync::provider::{self, Provider, Source};
use crate::sync::{Error, csv};

/// How many ids of users left out for want of an email a warning names.
const NAMED: usize = 5;

/// The sources the rules read, set up.
#[derive(Debug, Default)]
pub(crate) struct Readers {
    okta: Option<Provider>,
    entra: Option<Provider>,
    google: Option<Provider>,
    csv: Option<csv::Export>,
}

impl Readers {
    /// Sets up each source a rule reads: a provider's credentials from the environment, the
    /// csv export read whole. No network.
    pub(crate) fn open(
        file: &MembersFile,
        base: &Path,
        options: &provider::Options,
    ) -> Result<Readers, Error> {
        let sources = file.sources.clone().unwrap_or_default();
        let rules = file.sync.as_ref().map_or(&[][..], |s| &s.rules[..]);
        let mut readers = Readers::default();
        let mut problems = Vec::new();
        for kind in SourceKind::ALL {
            let Some(first) = rules.iter().find(|r| r.from.value == kind) else {
                continue;
            };
            if kind == SourceKind::Csv {
                if let Some(source) = &sources.csv {
                    let path = crate::sync::within(base, &source.path.value);
                    if let Err(e) = crate::sync::stays_inside(base, &path) {
                        return Err(match e {
                            Error::Outside { path, .. } => Error::Outside {
                                path,
                                loc: source.path.loc,
                            },
                            other => other,
                        });
                    }
                    let csv_rules: Vec<&Rule> =
                        rules.iter().filter(|r| r.from.value == kind).collect();
                    readers.csv = Some(csv::read(&path, &csv_rules)?);
                }
                continue;
            }
            let Some(source) = provider_source(&sources, kind) else {
                continue;
            };
            match Provider::new(&source, options.clone()) {
                Ok(opened) => *readers.slot(kind) = Some(opened),
                Err(e) => problems.push((first.loc, e.to_string())),
            }
        }
        if problems.is_empty() {
            Ok(readers)
        } else {
            Err(Error::Read(problems))
        }
    }

    fn slot(&mut self, kind: SourceKind) -> &mut Option<Provider> {
        match kind {
            SourceKind::Okta => &mut self.okta,
            SourceKind::Entra => &mut self.entra,
            SourceKind::Google | SourceKind::Csv => &mut self.google,
        }
    }

    fn provider(&self, kind: SourceKind) -> Option<&Provider> {
        match kind {
            SourceKind::Okta => self.okta.as_ref(),
            SourceKind::Entra => self.entra.as_ref(),
            SourceKind::Google => self.google.as_ref(),
            SourceKind::Csv => None,
        }
    }

    /// Which credentials each provider uses: `okta: API token (OKTA_API_TOKEN)`.
    pub(crate) fn credentials(&self) -> Vec<String> {
        [SourceKind::Okta, SourceKind::Entra, SourceKind::Google]
            .into_iter()
            .filter_map(|kind| {
                self.provider(kind)
                    .map(|p| format!("{}: {}", kind.key(), p.credentials()))
            })
            .collect()
    }

    /// Reads every rule's group, in order: what each read and the warnings, or every rule
    /// that could not be read whole.
    pub(crate) async fn read_all(
        &self,
        rules: &[Rule],
    ) -> Result<(Vec<RuleRead>, Vec<String>), Error> {
        let mut reads = Vec::with_capacity(rules.len());
        let mut warnings = Vec::new();
        let mut problems: Vec<(Loc, String)> = Vec::new();
        let mut failed: Vec<SourceKind> = Vec::new();
        for rule in rules {
            let kind = rule.from.value;
            if failed.contains(&kind) {
                continue;
            }
            let name = rule.name();
            let read = match kind {
                SourceKind::Csv => Ok(self.csv_rows(rule)),
                _ => match self.provider(kind) {
                    Some(p) => from_provider(p, rule, &mut warnings).await,
                    None => continue,
                },
            };
            match read {
                Ok(read) => {
                    tracing::info!(
                        "{name}: {} read in {}, {} kept",
                        crate::render::count(read.read, "person", "people"),
                        crate::render::count(read.pages, "page", "pages"),
                        read.found.len()
                    );
                    reads.push(read);
                }
                Err(e) => {
                    if !e.about_the_group() {
                        failed.push(kind);
                    }
                    problems.push((rule.loc, format!("{name}: {e}")));
                }
            }
        }
        if problems.is_empty() {
            Ok((reads, warnings))
        } else {
            Err(Error::Read(problems))
        }
    }

    /// A csv rule's rows.
    fn csv_rows(&self, rule: &Rule) -> RuleRead {
        let rows = self
            .csv
            .as_ref()
            .map_or(&[][..], |export| export.group(&rule.group.value));
        RuleRead {
            found: rows
                .iter()
                .map(|row| Found {
                    email: row.email.clone(),
                    row: Some(row.clone()),
                })
                .collect(),
            read: rows.len(),
            pages: 1,
            dropped: 0,
        }
    }
}

/// A provider rule's group, its emails checked: one that is not an address is left out with
/// a warning, as are the users without one.
async fn from_provider(
    provider: &Provider,
    rule: &Rule,
    warnings: &mut Vec<String>,
) -> Result<RuleRead, provider::Error> {
    let name = rule.name();
    let group = provider.read_group(&rule.group.value).await?;
    let mut found = Vec::with_capacity(group.emails.len());
    let mut dropped = group.dropped;
    for text in &group.emails {
        match Email::parse(text.trim()) {
            Ok(email) => found.push(Found { email, row: None }),
            Err(why) => {
                dropped += 1;
                warnings.push(format!(
                    "{name}: \"{}\" is not a valid email address ({why}): left out",
                    crate::escape::visible(text)
                ));
            }
        }
    }
    if !group.without_email.is_empty() {
        let n = group.without_email.len();
        let shown: Vec<String> = group
            .without_email
            .iter()
            .take(NAMED)
            .map(|id| crate::escape::visible(id).into_owned())
            .collect();
        warnings.push(format!(
            "{name}: {} without a usable email left out ({}{})",
            crate::render::count(n, "user", "users"),
            shown.join(", "),
            if n > NAMED { ", …" } else { "" }
        ));
    }
    Ok(RuleRead {
        found,
        read: group.read,
        pages: group.pages,
        dropped,
    })
}

/// A provider's source as the client takes it, with the default URLs.
fn provider_source(sources: &Sources, kind: SourceKind) -> Option<Source> {
    let url = |u: &Option<crate::config::At<String>>, default: &str| {
        u.as_ref()
            .map_or_else(|| default.to_owned(), |u| u.value.clone())
    };
    match kind {
        SourceKind::Okta => sources.okta.as_ref().map(|o| Source::Okta {
            url: o.url.value.clone(),
        }),
        SourceKind::Entra => sources.entra.as_ref().map(|e| Source::Entra {
            tenant: e.tenant.value.clone(),
            login_url: url(&e.login_url, "https://login.microsoftonline.com"),
            graph_url: url(&e.graph_url, "https://graph.microsoft.com"),
        }),
        SourceKind::Google => sources.google.as_ref().map(|g| Source::Google {
            subject: g.subject.value.clone(),
            api_url: url(&g.api_url, "https://admin.googleapis.com"),
        }),
        SourceKind::Csv => None,
    }
}

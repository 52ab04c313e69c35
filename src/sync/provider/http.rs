//! Sending a provider's requests and the URLs they go to. A request is sent again after the
//! wait its provider asks for when rate-limited (a reset time, a `Retry-After`, or an
//! exponential backoff), and after an exponential backoff from 200 ms with jitter on a 5xx or
//! a timeout, a bounded number of times; all the waits of one provider together stay within
//! its budget, and a stop cuts them short. Base URLs are https, or plain http to a loopback
//! address only; a path segment is percent-encoded; a next page is fetched only from the host
//! the pages came from. No redirect is followed. What an answer means is the provider's.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use url::Url;

use super::{Error, Options};
use crate::clickup::http::{https_client, is_loopback, redact, redact_text};
use crate::stop::StopSignal;

/// The most an answer may hold (a page of 999 Graph users is about 200 KB).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Where the exponential backoff of a rate limit without a reset time starts (Google says:
/// 1 s, then 2, 4…, with jitter). Shorter in tests, which wait for real.
const LIMIT_BACKOFF_FROM: Duration = if cfg!(test) {
    Duration::from_millis(20)
} else {
    Duration::from_secs(1)
};

/// The longest step of that backoff.
const LIMIT_BACKOFF_MOST: Duration = Duration::from_secs(64);

/// What a provider's answer says of its rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limit {
    /// Limited: try again after this long (a small jitter is added).
    After(Duration),
    /// Limited, with no time given: back off exponentially.
    Backoff,
}

/// Whether an answer is a rate limit, and how long it asks to wait.
pub(super) type LimitFn = fn(&Answer) -> Option<Limit>;

/// An answer: its status, headers and body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

/// The HTTP side of one provider: its client, its rate-limit signal, and its waits' budget.
#[derive(Debug)]
pub(super) struct Http {
    client: reqwest::Client,
    /// The provider's name, for messages: `Okta`, `Microsoft Graph`, `Google`.
    pub(super) provider: &'static str,
    limit: LimitFn,
    stop: StopSignal,
    timeout: Duration,
    retries: usize,
    budget: Duration,
    /// What the waits have taken so far.
    spent: Mutex<Duration>,
}

/// Why a request is sent again.
enum Why {
    /// A rate limit, answered with this status.
    Limited(u16),
    /// A 5xx or no answer, as said.
    Failed(String),
}

/// Why one attempt got no answer to judge.
enum Failed {
    /// A timeout, a broken connection, a body cut short: worth another try.
    Transient(String),
    /// Anything else.
    Final(Error),
}

impl Http {
    pub(super) fn new(
        provider: &'static str,
        limit: LimitFn,
        options: &Options,
    ) -> Result<Http, Error> {
        let client = https_client(options.timeout).map_err(|e| Error::Client(e.to_string()))?;
        Ok(Http {
            client,
            provider,
            limit,
            stop: options.stop.clone(),
            timeout: options.timeout,
            retries: options.retries,
            budget: options.wait_budget,
            spent: Mutex::new(Duration::ZERO),
        })
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `build` makes (again for each attempt, so that a signed assertion is
    /// fresh each time) until it is answered with something that is neither a rate limit nor
    /// a 5xx, the retries of 5xx and timeouts are spent, a wait would pass the budget, or a
    /// stop is requested. `what` names the request in messages.
    pub(super) async fn send<F>(&self, what: &str, build: F) -> Result<Answer, Error>
    where
        F: Fn() -> Result<reqwest::RequestBuilder, Error>,
    {
        let mut failures = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(10))
            .with_max_times(self.retries)
            .build();
        let mut limits = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(LIMIT_BACKOFF_FROM)
            .with_max_delay(LIMIT_BACKOFF_MOST)
            .without_max_times()
            .build();
        // The tries that failed (a 5xx or no answer); rate limits are bounded by the budget.
        let mut failed = 0_usize;
        loop {
            self.check_stop(what)?;
            let why = match self.attempt(what, build()?).await {
                Ok(answer) => match (self.limit)(&answer) {
                    Some(limit) => {
                        let delay = match limit {
                            Limit::After(delay) => delay.saturating_add(jitter()),
                            Limit::Backoff => limits.next().unwrap_or(LIMIT_BACKOFF_MOST),
                        };
                        let why = Why::Limited(answer.status.as_u16());
                        self.wait(what, delay, &why).await?;
                        continue;
                    }
                    None if answer.status.is_server_error() => {
                        format!("HTTP {}", answer.status.as_u16())
                    }
                    None => return Ok(answer),
                },
                Err(Failed::Transient(why)) => why,
                Err(Failed::Final(error)) => return Err(error),
            };
            failed += 1;
            match failures.next() {
                Some(delay) => {
                    self.wait(what, delay, &Why::Failed(why)).await?;
                }
                None => {
                    return Err(Error::Unavailable {
                        what: what.to_owned(),
                        why: format!(
                            "{} kept failing ({why}) on {failed} tries; try again later",
                            self.provider
                        ),
                    });
                }
            }
        }
    }

    /// One attempt: sent, and its answer read (up to [`MAX_BODY`]).
    async fn attempt(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, Failed> {
        let response = request.send().await.map_err(|e| self.failed(what, &e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(Failed::Final(Error::Answer {
                what: what.to_owned(),
                why: format!(
                    "a redirect (HTTP {}), which is not followed: credentials go only where configured",
                    status.as_u16()
                ),
            }));
        }
        let headers = response.headers().clone();
        let body = read_body(what, response, self).await?;
        tracing::debug!("{what}: HTTP {}", status.as_u16());
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// What a request that got no answer failed with. The URL is left out of the text: its
    /// query is not for messages.
    fn failed(&self, what: &str, error: &reqwest::Error) -> Failed {
        if error.is_builder() {
            return Failed::Final(Error::Answer {
                what: what.to_owned(),
                why: "the request could not be built".to_owned(),
            });
        }
        if error.is_timeout() {
            return Failed::Transient(format!("no answer within {:?}", self.timeout));
        }
        let mut why = String::from("no answer");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            why.push_str(": ");
            why.push_str(&cause.to_string());
            source = cause.source();
        }
        Failed::Transient(why)
    }

    /// Waits `delay`, when the budget allows it; a stop cuts it short.
    async fn wait(&self, what: &str, delay: Duration, why: &Why) -> Result<(), Error> {
        let provider = self.provider;
        {
            let mut spent = self
                .spent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if spent.saturating_add(delay) > self.budget {
                let kept = match why {
                    Why::Limited(status) => {
                        format!("{provider} kept limiting the requests (HTTP {status})")
                    }
                    Why::Failed(failure) => format!("{provider} kept failing ({failure})"),
                };
                return Err(Error::Unavailable {
                    what: what.to_owned(),
                    why: format!(
                        "{kept}: waiting {delay:.1?} more would pass the {} all the waits of {provider} may take; try again later",
                        humantime::format_duration(self.budget),
                    ),
                });
            }
            *spent += delay;
        }
        match why {
            Why::Limited(status) => tracing::warn!(
                "{what}: {provider} limits the requests (HTTP {status}); trying again in {delay:.1?}"
            ),
            Why::Failed(failure) => {
                tracing::warn!(
                    "{what}: {provider} failed ({failure}); trying again in {delay:.1?}"
                );
            }
        }
        self.stop.sleep(delay).await;
        self.check_stop(what)
    }

    fn check_stop(&self, what: &str) -> Result<(), Error> {
        match self.stop.reason() {
            Some(reason) => Err(Error::Stopped {
                what: what.to_owned(),
                reason: reason.message,
            }),
            None => Ok(()),
        }
    }
}

/// A small random wait added to the one a provider asks for, so that clients told the same
/// reset do not all come back at once; never nothing, so that a reset already past cannot
/// make a busy loop.
fn jitter() -> Duration {
    Duration::from_millis(fastrand::u64(250..750))
}

async fn read_body(
    what: &str,
    mut response: reqwest::Response,
    http: &Http,
) -> Result<Vec<u8>, Failed> {
    let too_large = || {
        Failed::Final(Error::Answer {
            what: what.to_owned(),
            why: format!(
                "the answer holds more than the {} MiB an answer may; not read",
                MAX_BODY / (1024 * 1024)
            ),
        })
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| http.failed(what, &e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A base URL as configured (`what` names where: `sources.okta.url`): checked as
/// [`endpoint_url`] checks, without a user name, password, query or fragment, its path without
/// a final `/`.
pub(super) fn base_url(text: &str, what: &str) -> Result<Url, Error> {
    let mut url = endpoint_url(text, what)?;
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// A URL credentials are sent to (`what` names where it comes from): https, or plain http to
/// a loopback address only.
pub(super) fn endpoint_url(text: &str, what: &str) -> Result<Url, Error> {
    let refused = |url: String, why: String| Error::Url {
        what: what.to_owned(),
        url,
        why,
    };
    let url =
        Url::parse(text).map_err(|e| refused(redact_text(text), format!("not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(refused(
                redact(&url),
                "refusing to send credentials over plain http://; use https:// (plain http is allowed only to a loopback address)".to_owned(),
            ));
        }
        other => {
            let why = format!("must be https://, not {other}://");
            return Err(refused(redact(&url), why));
        }
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(refused(redact(&url), "has no host".to_owned()));
    }
    Ok(url)
}

/// `base` followed by `tail` (a path from `/`, and its query), as one URL.
pub(super) fn join(base: &Url, tail: &str) -> Result<Url, Error> {
    let text = format!("{}{tail}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).map_err(|e| Error::Url {
        what: "a request to".to_owned(),
        url: redact(base),
        why: format!("cannot be made ({e})"),
    })
}

/// `text` as one path segment or query value: everything but RFC 3986's unreserved characters
/// percent-encoded, so no group id can add a segment (`/`), a query (`?`) or climb (`..`).
pub(super) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The pages of one read: the next one is fetched only from the scheme, host and port the
/// pages come from (the token goes nowhere else), and never twice (no endless loop).
#[derive(Debug)]
pub(super) struct Pages {
    origin: Url,
    seen: HashSet<Url>,
}

impl Pages {
    /// The pages of a read whose first page is `first`.
    pub(super) fn new(first: &Url) -> Pages {
        Pages {
            origin: first.clone(),
            seen: HashSet::from([first.clone()]),
        }
    }

    /// `next`, when it may be fetched.
    pub(super) fn follow(&mut self, what: &str, next: Url) -> Result<Url, Error> {
        let same = next.scheme() == self.origin.scheme()
            && next.host() == self.origin.host()
            && next.port_or_known_default() == self.origin.port_or_known_default();
        if !same {
            return Err(Error::Answer {
                what: what.to_owned(),
                why: format!(
                    "the next page is on another host ({}), where the token is not sent",
                    redact(&next)
                ),
            });
        }
        if !self.seen.insert(next.clone()) {
            return Err(Error::Answer {
                what: what.to_owned(),
                why: format!("the next page {} was read already", redact(&next)),
            });
        }
        Ok(next)
    }
}

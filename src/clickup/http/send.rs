//! Sending one request: its URL, token and body, a turn from the pacer, the answer's status,
//! rate-limit headers and body (read up to a bound), and what the answer means for the caller
//! (a body, a rate limit to wait out, a failure worth another try, or one that is final). No
//! retry here: that is `retry`.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::pace::{self, Permit, Window};
use super::{HttpWorkspace, errors};
use crate::clickup::WsError;
use crate::clickup::wire::api::ErrorBody;
use crate::clickup::wire::routes::Route;

/// How a failed attempt is handled.
#[derive(Debug)]
pub(super) enum Fail {
    /// 429 or `APP_002`: wait for the window to end, then try again.
    RateLimited { window: Window, error: WsError },
    /// 5xx, a timeout, a broken connection or an unreadable answer: try again after a backoff.
    /// `sent` is false only when the request surely never reached ClickUp.
    Transient { sent: bool, error: WsError },
    /// Anything else: give up.
    Fatal(WsError),
}

impl Fail {
    pub(super) fn error(&self) -> &WsError {
        match self {
            Fail::RateLimited { error, .. }
            | Fail::Transient { error, .. }
            | Fail::Fatal(error) => error,
        }
    }

    pub(super) fn retryable(&self) -> bool {
        !matches!(self, Fail::Fatal(_))
    }
}

impl HttpWorkspace {
    pub(super) fn url(&self, path: &str) -> Result<url::Url, WsError> {
        self.base
            .join(path)
            .map_err(|e| WsError::local(format!("bad request path {path}: {e}")))
    }

    /// One attempt of one request: prepared, paced, sent, its answer read and judged.
    pub(super) async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), Fail> {
        let request = self.prepare(method, path, query, body)?;
        let permit = self.wait_for_turn(method, path).await?;
        tracing::debug!("{method} /{path}");
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                drop(permit);
                self.tell_listener(method, path, None);
                return Err(transport_error(&e));
            }
        };
        let status = response.status();
        self.tell_listener(method, path, Some(status.as_u16()));
        let window = self.take_in_window(response.headers());
        if status.is_redirection() {
            return Err(redirect_refused(method, path, status, response.headers()));
        }
        let bytes = read_body(response)
            .await
            .map_err(|fail| fail.at(method, path))?;
        tracing::debug!("{method} /{path} -> {}", status.as_u16());
        let judged = self.judge(method, path, status, window, bytes);
        // Given back only now, so that a request it wakes finds a 429 already told to the
        // pacer (`exhausted`), even one without rate-limit headers.
        drop(permit);
        judged
    }

    /// The request with its query, token and body, not sent yet.
    fn prepare(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<reqwest::RequestBuilder, Fail> {
        let mut url = self.url(path).map_err(Fail::Fatal)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let header = self
            .token
            .header()
            .map_err(|_| Fail::Fatal(WsError::local("the token cannot be sent")))?;
        let mut request = self
            .client
            .request(method.clone(), url)
            .header(reqwest::header::AUTHORIZATION, header);
        if let Some(body) = body {
            request = request.json(body);
        }
        Ok(request)
    }

    /// Waits for the pacer to let a request start. Nothing is sent when the rate limit is used
    /// up until later than the longest wait, or once a stop is requested.
    async fn wait_for_turn(&self, method: &Method, path: &str) -> Result<Permit<'_>, Fail> {
        let permit = self
            .pacer
            .acquire(&self.stop)
            .await
            .map_err(|pace::TooFar(reset)| {
                Fail::Fatal(WsError::local(format!(
                    "{method} /{path}: {}",
                    pace::too_far(reset, self.later)
                )))
            })?;
        if let Some(reason) = self.stop.reason() {
            return Err(Fail::Fatal(WsError::local(format!(
                "not sent: {}",
                reason.message
            ))));
        }
        Ok(permit)
    }

    /// Tells the listener a request was answered with `status`, or got no answer (`None`).
    fn tell_listener(&self, method: &Method, path: &str, status: Option<u16>) {
        if let Some(listener) = &self.listener {
            listener.answered(method.as_str(), Route::of(method.as_str(), path), status);
        }
    }

    /// The rate-limit headers of an answer, told to the listener and the pacer.
    fn take_in_window(&self, headers: &reqwest::header::HeaderMap) -> Window {
        let window = Window::from_headers(headers);
        if let (Some(listener), Some(remaining)) = (&self.listener, window.remaining) {
            listener.rate_limit_remaining(remaining);
        }
        self.pacer.observe(window);
        window
    }

    /// What an answer means: its body, a rate limit to wait out, a server error worth another
    /// try, or a final failure with ClickUp's sentence.
    fn judge(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        window: Window,
        bytes: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), Fail> {
        // A 200 may carry ClickUp's error shape; such a body is small, and a large answer
        // (a Workspace's members) is not read twice to find out.
        let error_body = if status.is_success() && bytes.len() > 4096 {
            ErrorBody::default()
        } else {
            ErrorBody::parse(&bytes)
        };
        if status.is_success() && error_body.ecode.is_none() {
            return Ok((status.as_u16(), bytes));
        }
        let error = errors::api_error(
            status.as_u16(),
            &error_body,
            &bytes,
            (&self.team_id, self.named_by),
            path,
        );
        if status == StatusCode::TOO_MANY_REQUESTS || error_body.ecode.as_deref() == Some("APP_002")
        {
            return Err(self.rate_limited(method, path, window, error));
        }
        if status.is_server_error() {
            return Err(Fail::Transient { sent: true, error });
        }
        Err(Fail::Fatal(error))
    }

    /// A 429 (or `APP_002`): nothing more starts before the window ends. A window that ends
    /// later than the longest wait is not waited for: the failure is final for this run.
    fn rate_limited(&self, method: &Method, path: &str, window: Window, error: WsError) -> Fail {
        self.pacer.exhausted(window);
        if let Some(reset) = window.reset_at
            && reset > std::time::SystemTime::now() + pace::LONGEST_WAIT
        {
            return Fail::Fatal(WsError {
                message: format!("{method} /{path}: {}", pace::too_far(reset, self.later)),
                transient: true,
                ..error
            });
        }
        Fail::RateLimited { window, error }
    }
}

/// A redirect is never followed: the token goes to the API URL and nowhere else.
fn redirect_refused(
    method: &Method,
    path: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
) -> Fail {
    let to = headers
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|l| l.host_str().map(str::to_owned))
        .unwrap_or_else(|| "elsewhere".to_owned());
    Fail::Fatal(WsError::local(format!(
        "{method} /{path}: ClickUp answered HTTP {} with a redirect to {to}; it is not followed, so the token is sent to the API URL only (check --api-url)",
        status.as_u16()
    )))
}

/// The most an answer may hold: several times the `GET /team` of a 100,000-people Workspace.
const MAX_BODY: u64 = 256 * 1024 * 1024;

/// Reads an answer's body, refusing one larger than [`MAX_BODY`] before it fills memory.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Fail> {
    let too_large = |size: String| {
        Fail::Fatal(WsError::local(format!(
            "the answer is {size}, more than the {} MiB an answer may hold; not read",
            MAX_BODY / (1024 * 1024)
        )))
    };
    if let Some(length) = response.content_length()
        && length > MAX_BODY
    {
        return Err(too_large(format!("{length} bytes")));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if (bytes.len() + chunk.len()) as u64 > MAX_BODY {
            return Err(too_large("larger".to_owned()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

impl Fail {
    /// The same failure; a final one names the request (retried ones are named when the
    /// retries are spent).
    fn at(self, method: &Method, path: &str) -> Fail {
        match self {
            Fail::Fatal(mut error) => {
                error.message = format!("{method} /{path}: {}", error.message);
                Fail::Fatal(error)
            }
            other => other,
        }
    }
}

fn transport_error(e: &reqwest::Error) -> Fail {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "lost the connection"
    };
    // The innermost cause says what happened ("connection closed before message completed").
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    Fail::Transient {
        sent: !e.is_connect(),
        error: WsError::local(format!("{what} ({cause})")),
    }
}

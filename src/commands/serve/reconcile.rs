//! `POST /reconcile` (a cycle now, for a git webhook), held to what ClickUp's rate limit can
//! bear: requests that come while one waits are folded into it, no more than one cycle per
//! [`SPACING`] is started by them, and none during the backoff after a failed cycle (that cycle's
//! retry reads the file again anyway). Nothing here runs a cycle: the loop asks when one is due.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The least time between two cycles started by `POST /reconcile`.
pub(super) const SPACING: Duration = Duration::from_secs(10);

/// The requests for a cycle, shared by the endpoint and the loop.
#[derive(Debug, Default)]
pub(super) struct Requests {
    state: Mutex<State>,
    asked: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// A request waits for the next cycle.
    pending: bool,
    /// When the last cycle started by a request began.
    last: Option<Instant>,
    /// Until when the loop backs off after a failed cycle.
    backoff_until: Option<Instant>,
}

/// What a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// A cycle starts now.
    Now,
    /// A cycle starts in this long: the last one a request started is too recent.
    Later(Duration),
    /// A request already waits, for this long: this one is folded into it.
    Folded(Duration),
    /// The loop backs off after a failed cycle; its next try, in this long, reads the file
    /// again. This request starts nothing.
    Backoff(Duration),
}

impl Answer {
    /// The answer's text.
    pub(super) fn sentence(self) -> String {
        match self {
            Answer::Now => "a cycle starts now\n".to_owned(),
            Answer::Later(wait) => format!(
                "a cycle starts in {}: POST /reconcile starts at most one cycle every {}\n",
                seconds(wait),
                seconds(SPACING)
            ),
            Answer::Folded(wait) if wait.is_zero() => {
                "a cycle is already asked for and starts when the one running ends; this request is folded into it\n".to_owned()
            }
            Answer::Folded(wait) => format!(
                "a cycle is already asked for and starts in {}; this request is folded into it\n",
                seconds(wait)
            ),
            Answer::Backoff(wait) => format!(
                "the last cycle failed: the next try comes after its backoff, in {}, and reads the file again; POST /reconcile does not cut a backoff short\n",
                seconds(wait)
            ),
        }
    }
}

/// A wait in whole seconds, rounded up (`7s`, `1m 40s`).
pub(super) fn seconds(wait: Duration) -> String {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    humantime::format_duration(Duration::from_secs(whole)).to_string()
}

impl Requests {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request for a cycle: what it is answered.
    pub(super) fn ask(&self) -> Answer {
        let now = Instant::now();
        let mut state = self.state();
        if let Some(until) = state.backoff_until.filter(|until| *until > now) {
            return Answer::Backoff(until - now);
        }
        let due = state.last.map_or(now, |last| (last + SPACING).max(now));
        if state.pending {
            return Answer::Folded(due - now);
        }
        state.pending = true;
        self.asked.notify_one();
        if due > now {
            Answer::Later(due - now)
        } else {
            Answer::Now
        }
    }

    /// Resolves when a request waits and a cycle may start for it; that cycle counts as
    /// started by a request.
    pub(super) async fn due(&self) {
        loop {
            let wait = {
                let mut state = self.state();
                let now = Instant::now();
                match (state.pending, state.last) {
                    (false, _) => None,
                    (true, Some(last)) if last + SPACING > now => Some(last + SPACING - now),
                    (true, _) => {
                        state.pending = false;
                        state.last = Some(now);
                        return;
                    }
                }
            };
            match wait {
                // A request that comes meanwhile leaves a permit: it is not missed.
                None => self.asked.notified().await,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// A cycle starts, for whatever reason: the requests made before answer to it.
    pub(super) fn cycle_starts(&self) {
        self.state().pending = false;
    }

    /// The loop backs off until `until` after a failed cycle (`None`: it does not).
    pub(super) fn backoff(&self, until: Option<Instant>) {
        self.state().backoff_until = until;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `due` resolves within `within`.
    async fn due_within(requests: &Requests, within: Duration) -> bool {
        tokio::time::timeout(within, requests.due()).await.is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn requests_are_folded_and_start_one_cycle_per_spacing() {
        let requests = Requests::default();
        assert!(!due_within(&requests, Duration::from_secs(60)).await);
        assert_eq!(requests.ask(), Answer::Now);
        assert!(due_within(&requests, Duration::ZERO).await);
        // The next one waits for the spacing; those after it are folded into it.
        assert_eq!(requests.ask(), Answer::Later(SPACING));
        assert_eq!(requests.ask(), Answer::Folded(SPACING));
        assert!(!due_within(&requests, SPACING - Duration::from_millis(1)).await);
        assert!(due_within(&requests, Duration::from_millis(2)).await);
        assert!(
            !due_within(&requests, SPACING * 3).await,
            "one cycle per request"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_backoff_is_not_cut_short_and_any_cycle_answers_the_requests_before_it() {
        let requests = Requests::default();
        requests.backoff(Some(Instant::now() + Duration::from_secs(40)));
        assert_eq!(requests.ask(), Answer::Backoff(Duration::from_secs(40)));
        requests.backoff(None);
        assert_eq!(requests.ask(), Answer::Now);
        requests.cycle_starts();
        assert!(!due_within(&requests, SPACING * 2).await);
        assert!(
            Answer::Backoff(Duration::from_millis(7_200))
                .sentence()
                .contains("in 8s")
        );
    }
}

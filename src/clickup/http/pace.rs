//! Pacing by ClickUp's rate-limit headers: every answer says how many requests are left in the
//! window (`X-RateLimit-Remaining`) and when it ends (`X-RateLimit-Reset`, seconds since the
//! epoch; a value over 10^12 is milliseconds). Requests are started only while the window has
//! room for them, counting those in flight, so a run never goes over the limit while the headers
//! are present.
//!
//! The reset is a time on ClickUp's clock; it is turned into a wait on the monotonic clock when
//! it is heard, so that a later step of this machine's wall clock neither lengthens nor shortens
//! a wait. A reset further ahead than [`LONGEST_WAIT`] is not waited for: requests are refused
//! with a sentence for that long, once, and then it is forgotten and one request probes the
//! window again. A long-running process (`serve`) is never held dark for longer.
//!
//! A request that finds no room waits for the window to end or for the pacer's state to change
//! (a request ends, an answer tells the window), whichever comes first, and then looks again;
//! it never polls. No I/O here: the client hands in the headers it reads.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::clickup::http::Later;
use crate::stop::StopSignal;

/// After the reset time, wait this much more: the window may close a little after it.
const MARGIN: Duration = Duration::from_millis(50);
/// A 429 always waits at least this long, whatever the reset header says (SPEC §5).
const MIN_WAIT_AFTER_429: Duration = Duration::from_secs(1);
/// Never wait longer than this for one window, whatever the header says.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// A request that waits longer than this for a window's end says so, once.
const WARN_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct State {
    /// Requests that may still start in this window; `None` when unknown (before the first
    /// answer, and after a reset), when only one request at a time is let through.
    available: Option<u64>,
    /// The window's end as ClickUp told it: a later one is a new window.
    told: Option<SystemTime>,
    /// When the window ends on the monotonic clock: at most [`LONGEST_WAIT`] after it was heard.
    ends: Option<Instant>,
    /// `told` lies further ahead than [`LONGEST_WAIT`]: until `ends`, a request that finds no
    /// room is refused rather than kept waiting.
    far: bool,
    in_flight: u64,
}

#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
    /// Told whenever `state` changes: the requests waiting for room look again.
    changed: Notify,
    /// The wall clock a reset is measured from (tests step it).
    wall: fn() -> SystemTime,
}

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer {
            state: Mutex::default(),
            changed: Notify::new(),
            wall: SystemTime::now,
        }
    }
}

/// A started request; dropping it ends it.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.pacer.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.pacer.changed.notify_waiters();
    }
}

/// What a request finds when it asks to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// It starts: it is counted in flight.
    Start,
    /// The window is used up until this reset, further ahead than [`LONGEST_WAIT`].
    Refused(SystemTime),
    /// The window is used up: it ends in this long.
    UntilWindowEnds(Duration),
    /// The window is unknown and a request is in flight: its answer will tell.
    UntilChanged,
}

/// The rate-limit headers of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) remaining: Option<u64>,
    pub(crate) reset_at: Option<SystemTime>,
}

impl Window {
    pub(crate) fn from_headers(headers: &reqwest::header::HeaderMap) -> Window {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        Window {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            remaining: number("x-ratelimit-remaining").map(|v| v as u64),
            reset_at: number("x-ratelimit-reset").map(reset_time),
        }
    }

    /// How long to wait for this window to end (for a 429): until the reset, at least a second
    /// (a reset already past means the clocks disagree, not that the window is open), or a
    /// minute when ClickUp did not say.
    pub(crate) fn wait(&self) -> Duration {
        match self.reset_at {
            Some(reset) => until(reset).max(MIN_WAIT_AFTER_429),
            None => Duration::from_secs(60),
        }
    }
}

/// `X-RateLimit-Reset` in seconds, or milliseconds when it is over 10^12. A value no clock
/// can hold (`1e30`) is the farthest time there is, never a panic.
fn reset_time(value: f64) -> SystemTime {
    let seconds = if value > 1e12 { value / 1000.0 } else { value };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d))
        .unwrap_or_else(far_future)
}

/// A time later than any real reset: a day past the longest wait.
fn far_future() -> SystemTime {
    SystemTime::now() + LONGEST_WAIT + Duration::from_secs(86_400)
}

/// The most a run waits for one rate-limit window, in all: a reset later than this is not
/// waited for, and the request fails with a sentence (ClickUp's windows are a minute long).
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(300);

/// Why a request is not sent: ClickUp says the rate limit is used up until this time, later
/// than the longest wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", too_far(*.0, Later::RunAgain))]
pub(crate) struct TooFar(pub(crate) SystemTime);

/// [`TooFar`] as a sentence; `later` says whether to tell a person to run again.
pub(crate) fn too_far(reset: SystemTime, later: Later) -> String {
    let ahead = reset
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs();
    let when = if ahead > 86_400 {
        "more than a day from now".to_owned()
    } else {
        format!("{ahead} s from now")
    };
    let then = match later {
        Later::RunAgain => ": run again later, or check what else uses this token",
        Later::NextCycle => "; check what else uses this token",
    };
    format!(
        "ClickUp says the rate limit is used up until {when} (X-RateLimit-Reset), longer than the {} s clickup-members waits for a window; nothing more was sent{then}",
        LONGEST_WAIT.as_secs()
    )
}

fn until(reset: SystemTime) -> Duration {
    (reset.duration_since(SystemTime::now()).unwrap_or_default() + MARGIN).min(MAX_WAIT)
}

impl State {
    /// Takes in the window's end as ClickUp told it, `now` on both clocks.
    fn ends_at(&mut self, told: SystemTime, wall: SystemTime, now: Instant) {
        let ahead = told.duration_since(wall).unwrap_or_default();
        self.told = Some(told);
        self.far = ahead > LONGEST_WAIT;
        self.ends = Some(now + ahead.min(LONGEST_WAIT));
    }

    /// The window is over: what it told is forgotten.
    fn forget(&mut self) {
        self.available = None;
        self.told = None;
        self.ends = None;
        self.far = false;
    }

    /// Whether a request may start at `now`; one that does is counted.
    fn turn(&mut self, now: Instant) -> Turn {
        if self.ends.is_some_and(|end| now >= end + MARGIN) {
            self.forget();
        }
        match self.available {
            None if self.in_flight == 0 => {
                self.in_flight += 1;
                Turn::Start
            }
            Some(n) if n > 0 => {
                self.available = Some(n - 1);
                self.in_flight += 1;
                Turn::Start
            }
            None => Turn::UntilChanged,
            Some(_) => match (self.ends, self.told) {
                (Some(_), Some(reset)) if self.far => Turn::Refused(reset),
                (Some(end), _) => {
                    Turn::UntilWindowEnds((end + MARGIN).saturating_duration_since(now))
                }
                // Out of requests with no reset known: learn it from the next answer.
                (None, _) => {
                    self.available = None;
                    self.turn(now)
                }
            },
        }
    }
}

impl Pacer {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until the window has room (or a stop is requested), then counts the request as
    /// started. A window that ends later than [`LONGEST_WAIT`] is not waited for: the reason
    /// comes back instead, until [`LONGEST_WAIT`] after it was heard.
    pub(crate) async fn acquire(&self, stop: &StopSignal) -> Result<Permit<'_>, TooFar> {
        let mut warned = false;
        loop {
            // Listening before the state is read, so that no change after it goes unheard.
            let mut changed = std::pin::pin!(self.changed.notified());
            changed.as_mut().enable();
            let turn = self.lock().turn(Instant::now());
            let wait = match turn {
                Turn::Start => return Ok(Permit { pacer: self }),
                Turn::Refused(reset) => return Err(TooFar(reset)),
                Turn::UntilWindowEnds(wait) => Some(wait),
                Turn::UntilChanged => None,
            };
            if let Some(wait) = wait
                && !warned
                && wait > WARN_AFTER
            {
                warned = true;
                tracing::warn!(
                    "waiting {:.0?} for ClickUp's rate-limit window to end",
                    wait
                );
            }
            if stop.is_set() {
                let mut state = self.lock();
                state.in_flight += 1;
                return Ok(Permit { pacer: self });
            }
            tracing::trace!(?wait, "waiting for the rate-limit window");
            match wait {
                Some(wait) => tokio::select! {
                    () = changed => {}
                    () = stop.sleep(wait) => {}
                },
                None => tokio::select! {
                    () = changed => {}
                    () = stop.stopped() => {}
                },
            }
        }
    }

    /// Takes in the headers of an answer to a request that is still counted in flight.
    pub(crate) fn observe(&self, window: Window) {
        let Some(remaining) = window.remaining else {
            return;
        };
        let wall = (self.wall)();
        let mut state = self.lock();
        // The others in flight may not be counted by ClickUp yet: assume they will be.
        let others = state.in_flight.saturating_sub(1);
        let room = remaining.saturating_sub(others);
        let new_window = match (window.reset_at, state.told) {
            (Some(new), Some(old)) => new > old,
            (Some(_), None) => true,
            (None, _) => false,
        };
        state.available = match state.available {
            Some(current) if !new_window => Some(current.min(room)),
            _ => Some(room),
        };
        if let Some(told) = window.reset_at {
            state.ends_at(told, wall, Instant::now());
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// After a 429: nothing more starts before the window ends.
    pub(crate) fn exhausted(&self, window: Window) {
        let wall = (self.wall)();
        let mut state = self.lock();
        state.available = Some(0);
        let told = window
            .reset_at
            .unwrap_or_else(|| wall + Duration::from_secs(60));
        state.ends_at(told, wall, Instant::now());
        drop(state);
        self.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(remaining: u64, reset_in: u64) -> Window {
        Window {
            remaining: Some(remaining),
            reset_at: Some(SystemTime::now() + Duration::from_secs(reset_in)),
        }
    }

    #[test]
    fn a_reset_no_clock_can_hold_is_far_ahead_never_a_panic() {
        for value in [1e30, f64::MAX, 1.8e19] {
            assert!(
                reset_time(value) > SystemTime::now() + LONGEST_WAIT,
                "{value}"
            );
        }
    }

    #[tokio::test]
    async fn a_window_that_ends_too_far_ahead_is_not_waited_for() {
        let pacer = Pacer::default();
        let first = pacer.acquire(&StopSignal::default()).await.expect("first");
        pacer.observe(window(0, 3600));
        drop(first);
        let started = std::time::Instant::now();
        let refused = pacer
            .acquire(&StopSignal::default())
            .await
            .expect_err("an hour is too long")
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(
            refused.starts_with("ClickUp says the rate limit is used up until 3599 s from now")
                || refused
                    .starts_with("ClickUp says the rate limit is used up until 3600 s from now"),
            "{refused}"
        );
    }

    #[test]
    fn a_429_whose_reset_is_past_waits_a_second() {
        let past = Window {
            remaining: Some(0),
            reset_at: Some(SystemTime::now() - Duration::from_secs(30)),
        };
        assert_eq!(past.wait(), Duration::from_secs(1));
        assert!(window(0, 5).wait() > Duration::from_secs(4));
        assert_eq!(Window::default().wait(), Duration::from_secs(60));
    }

    #[test]
    fn reset_is_read_in_seconds_or_milliseconds() {
        let s = reset_time(1_700_000_000.0);
        let ms = reset_time(1_700_000_000_000.0);
        assert_eq!(s, ms);
    }

    #[tokio::test]
    async fn only_one_request_goes_out_while_the_window_is_unknown() {
        let pacer = Pacer::default();
        let first = pacer.acquire(&StopSignal::default()).await;
        let second = tokio::time::timeout(
            Duration::from_millis(30),
            pacer.acquire(&StopSignal::default()),
        )
        .await;
        assert!(second.is_err(), "a second request started blind");
        drop(first);
    }

    #[tokio::test]
    async fn requests_in_flight_count_against_the_window() {
        let pacer = Pacer::default();
        let probe = pacer.acquire(&StopSignal::default()).await;
        pacer.observe(window(3, 60));
        drop(probe);
        let a = pacer.acquire(&StopSignal::default()).await;
        let b = pacer.acquire(&StopSignal::default()).await;
        let c = pacer.acquire(&StopSignal::default()).await;
        let fourth = tokio::time::timeout(
            Duration::from_millis(30),
            pacer.acquire(&StopSignal::default()),
        )
        .await;
        assert!(fourth.is_err(), "went over the window");
        // An answer that counts only itself still leaves no room for the other two in flight.
        pacer.observe(window(2, 60));
        drop(a);
        let fourth = tokio::time::timeout(
            Duration::from_millis(30),
            pacer.acquire(&StopSignal::default()),
        )
        .await;
        assert!(fourth.is_err(), "went over the window");
        drop((b, c));
    }

    #[tokio::test]
    async fn a_new_window_opens_after_the_reset() {
        let pacer = Pacer::default();
        let probe = pacer.acquire(&StopSignal::default()).await;
        pacer.observe(Window {
            remaining: Some(0),
            reset_at: Some(SystemTime::now() + Duration::from_millis(100)),
        });
        drop(probe);
        let started = std::time::Instant::now();
        let _next = pacer.acquire(&StopSignal::default()).await;
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    /// Paused time: a request waiting for the one in flight starts the moment it ends or its
    /// answer tells the window, without a tick of the clock.
    #[tokio::test(start_paused = true)]
    async fn a_waiting_request_starts_as_soon_as_the_window_is_known_or_the_request_ends() {
        let stop = StopSignal::default();
        let pacer = Pacer::default();
        let started = Instant::now();
        let first = pacer.acquire(&stop).await.expect("first");
        let ends = async {
            tokio::task::yield_now().await;
            drop(first);
        };
        let (second, ()) = tokio::join!(
            tokio::time::timeout(Duration::from_secs(1), pacer.acquire(&stop)),
            ends
        );
        let second = second.expect("woken when the request ended");
        let told = async {
            tokio::task::yield_now().await;
            pacer.observe(window(5, 60));
        };
        let (third, ()) = tokio::join!(
            tokio::time::timeout(Duration::from_secs(1), pacer.acquire(&stop)),
            told
        );
        assert!(third.expect("woken when the window was told").is_ok());
        drop(second);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    /// A wall clock that a test steps back.
    static BEHIND: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    fn stepped() -> SystemTime {
        SystemTime::now() - Duration::from_secs(BEHIND.load(std::sync::atomic::Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn a_reset_far_ahead_holds_requests_back_once_for_the_longest_wait_then_is_forgotten() {
        let stop = StopSignal::default();
        let pacer = Pacer::default();
        let first = pacer.acquire(&stop).await.expect("first");
        pacer.exhausted(window(0, 3 * 3600));
        drop(first);
        assert!(
            pacer.acquire(&stop).await.is_err(),
            "waited for three hours"
        );
        tokio::time::advance(LONGEST_WAIT - Duration::from_secs(1)).await;
        assert!(pacer.acquire(&stop).await.is_err(), "forgotten too early");
        tokio::time::advance(Duration::from_secs(2)).await;
        let probe = pacer
            .acquire(&stop)
            .await
            .expect("still dark after the longest wait");
        // The probe is told the same again: held back once more, for as long, not longer.
        pacer.exhausted(window(0, 3 * 3600));
        drop(probe);
        assert!(pacer.acquire(&stop).await.is_err());
        tokio::time::advance(LONGEST_WAIT + Duration::from_secs(1)).await;
        assert!(pacer.acquire(&stop).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_backward_step_of_the_wall_clock_does_not_lengthen_a_wait() {
        let stop = StopSignal::default();
        let pacer = Pacer {
            wall: stepped,
            ..Pacer::default()
        };
        let probe = pacer.acquire(&stop).await.expect("probe");
        pacer.observe(Window {
            remaining: Some(0),
            reset_at: Some(stepped() + Duration::from_secs(30)),
        });
        drop(probe);
        // The wall clock steps ten minutes back: the window still ends in 30 s.
        BEHIND.store(600, std::sync::atomic::Ordering::SeqCst);
        let started = Instant::now();
        let next = pacer.acquire(&stop).await;
        assert!(next.is_ok(), "refused after the clock stepped back");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(30) && waited <= Duration::from_secs(31),
            "{waited:?}"
        );
    }
}

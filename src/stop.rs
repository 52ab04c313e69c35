//! A request to stop an apply (Ctrl-C, SIGTERM, or a state file that cannot be written): once
//! set, no new request is sent, the ones in flight finish, and waits for a rate-limit window or
//! a retry end early.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Why the apply stops, and the exit code that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StopReason {
    pub(crate) message: String,
    /// 130 for SIGINT, 143 for SIGTERM; `None` for other reasons (exit 1).
    pub(crate) exit_code: Option<u8>,
}

/// Shared by everything that must stop; cloning shares it.
#[derive(Debug, Clone)]
pub(crate) struct StopSignal(Arc<watch::Sender<Option<StopReason>>>);

impl Default for StopSignal {
    fn default() -> Self {
        StopSignal(Arc::new(watch::Sender::new(None)))
    }
}

impl StopSignal {
    /// Asks everything to stop; the first reason wins.
    pub(crate) fn request(&self, reason: StopReason) {
        self.0.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    pub(crate) fn reason(&self) -> Option<StopReason> {
        self.0.borrow().clone()
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// Resolves when a stop is requested.
    pub(crate) async fn stopped(&self) {
        let mut receiver = self.0.subscribe();
        // An error means the sender is gone, which cannot happen while `self` lives.
        let _ = receiver.wait_for(Option::is_some).await;
    }

    /// Sleeps for `duration`, or less if a stop is requested meanwhile.
    pub(crate) async fn sleep(&self, duration: Duration) {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.stopped() => {}
        }
    }
}

/// Resolves with the exit code of the first SIGINT (130) or SIGTERM (143) after this call;
/// from the call on, those signals are this process's to handle, not its end.
pub(crate) fn interrupted() -> std::pin::Pin<Box<dyn std::future::Future<Output = u8> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        Box::pin(async move {
            match streams {
                (Ok(mut interrupt), Ok(mut terminate)) => tokio::select! {
                    _ = interrupt.recv() => 130,
                    _ = terminate.recv() => 143,
                },
                _ => std::future::pending().await,
            }
        })
    }
    #[cfg(not(unix))]
    {
        Box::pin(async move {
            match tokio::signal::ctrl_c().await {
                Ok(()) => 130,
                Err(_) => std::future::pending().await,
            }
        })
    }
}

/// On the first SIGINT or SIGTERM (Ctrl-C elsewhere), asks `stop` to stop and `warn`s what
/// happens; on the second, quits at once.
pub(crate) fn listen_for_signals(stop: &StopSignal, warn: fn(&str)) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            warn("cannot listen for Ctrl-C; an interrupted apply loses the call in flight");
            return;
        };
        let stop = stop.clone();
        tokio::spawn(async move {
            let (name, code) = tokio::select! {
                _ = interrupt.recv() => ("SIGINT", 130),
                _ = terminate.recv() => ("SIGTERM", 143),
            };
            warn(&format!(
                "{name} received: no new change is started; the calls in flight finish and the state is saved (send it again to quit now)"
            ));
            stop.request(StopReason {
                message: format!("interrupted by {name}"),
                exit_code: Some(code),
            });
            let code = tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
            };
            std::process::exit(code);
        });
    }
    #[cfg(not(unix))]
    {
        let _ = warn;
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.request(StopReason {
                    message: "interrupted by Ctrl-C".to_owned(),
                    exit_code: Some(130),
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_ends_a_sleep_early_and_the_first_reason_wins() {
        let stop = StopSignal::default();
        let other = stop.clone();
        let sleeper = tokio::spawn(async move {
            other.sleep(Duration::from_secs(3600)).await;
        });
        stop.request(StopReason {
            message: "first".into(),
            exit_code: Some(130),
        });
        stop.request(StopReason {
            message: "second".into(),
            exit_code: None,
        });
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woke up")
            .expect("joined");
        assert_eq!(stop.reason().map(|r| r.message), Some("first".to_owned()));
    }
}

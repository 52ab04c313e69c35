//! One run of a Workspace, written once (SPEC §10): take the state's lock when the run writes,
//! read the state, read the Workspace, plan, decide whether the plan may be applied, apply,
//! record, release, in that order, whatever starts it: `plan`, `apply` and `report` on a file
//! or on a folder (a file is a folder of one target), and every cycle of `serve`.
//!
//! [`prepare`] does everything up to the verdict and hands back the plan (holding the lock when
//! the run writes); the caller shows it, asks, or checks a folder's plans together; [`Prepared::
//! finish`] applies what the verdict allows, records it and releases the lock. [`run`] is both
//! at once.

use std::path::PathBuf;
use std::time::Duration;

use crate::clickup::Workspace;
use crate::config::Decoded;
use crate::engine::{
    Against, Applied, ApplyOptions, Error, Inputs, Observer, Planned, Review, Source, StateStore,
    apply, plan,
};
use crate::lock::{LockError, StateLock};
use crate::stop::StopSignal;

/// What one Workspace's run needs: its file (already read, for a folder read whole first),
/// where its state is kept, and where its Workspace is read.
pub(crate) struct Target<W> {
    pub(crate) file: PathBuf,
    pub(crate) decoded: Option<Decoded>,
    pub(crate) store: StateStore,
    pub(crate) source: Source<W>,
    /// The time the run plans at (the clock, or a time a test pins), for `expires`.
    pub(crate) now: time::OffsetDateTime,
}

/// What a run is for.
#[derive(Debug)]
pub(crate) enum Purpose {
    /// A plan to show: no lock, no write (`plan`, a controller in observe mode).
    /// `allow_replace`: the apply that follows accepts replaces.
    Plan { allow_replace: bool },
    /// The access review: every custom role and group read, the Workspace kept as read; no
    /// lock, no write.
    Review,
    /// A plan made under the state's lock and applied as far as its verdict allows (`apply`,
    /// a controller in apply mode).
    Apply(Box<Writing>),
}

/// How a run that writes goes.
#[derive(Debug, Clone)]
pub(crate) struct Writing {
    /// A saved plan the plan made now must be, or a reviewed one whose changes are kept.
    pub(crate) against: Option<Against>,
    pub(crate) allow_replace: bool,
    /// Up to this many changes of a phase in flight.
    pub(crate) parallelism: usize,
    /// Once set, no new request is sent; those in flight finish and the state is saved.
    pub(crate) stop: StopSignal,
    /// What holds the lock, as its file says (`clickup-members apply …`).
    pub(crate) holder: String,
    /// How long to wait for a lock another run holds; zero fails at once.
    pub(crate) lock_timeout: Duration,
}

/// A run planned and judged: the plan, holding the state's lock when the run writes.
/// Dropping it releases the lock with nothing applied.
#[derive(Debug)]
pub(crate) struct Prepared<W> {
    pub(crate) planned: Planned<W>,
    writing: Option<(Box<Writing>, StateLock)>,
    store: StateStore,
}

/// How a run ended.
#[derive(Debug)]
pub(crate) enum Outcome<W> {
    /// A run that does not write: its plan, with its verdict.
    Planned(Box<Planned<W>>),
    /// A run that wrote: what it made (a change that failed is in it, not an error), and with
    /// a reviewed plan what was not reviewed and what was done already.
    Applied {
        applied: Box<Applied>,
        review: Option<Review>,
    },
}

/// Takes the lock (when the run writes), then plans: the state and the Workspace are read
/// under the lock, so no other run can record between this run's reads and its writes.
pub(crate) async fn prepare<W: Workspace>(
    target: Target<W>,
    purpose: Purpose,
    observer: &mut dyn Observer,
) -> Result<Prepared<W>, Error> {
    let Target {
        file,
        decoded,
        store,
        source,
        now,
    } = target;
    let (writing, keep_doc, read_all, against, allow_replace) = match purpose {
        Purpose::Plan { allow_replace } => (None, false, false, None, allow_replace),
        Purpose::Review => (None, true, true, None, true),
        Purpose::Apply(writing) => {
            let lock = lock(&store, &writing, observer).await?;
            let (against, allow_replace) = (writing.against.clone(), writing.allow_replace);
            (Some((writing, lock)), true, false, against, allow_replace)
        }
    };
    let inputs = Inputs {
        file,
        state: store.path.clone(),
        source,
        keep_doc,
        read_all,
        now,
        decoded,
        against,
        allow_replace,
    };
    let planned = plan(inputs, observer).await?;
    Ok(Prepared {
        planned,
        writing,
        store,
    })
}

impl<W: Workspace> Prepared<W> {
    /// Applies what the verdict allows, records it in the state, and releases the lock; a run
    /// that does not write hands its plan back. A plan apply refuses is the error that says
    /// why, with nothing sent.
    pub(crate) async fn finish(self, observer: &mut dyn Observer) -> Result<Outcome<W>, Error> {
        let Prepared {
            planned,
            writing,
            store,
        } = self;
        let Some((writing, lock)) = writing else {
            return Ok(Outcome::Planned(Box::new(planned)));
        };
        if let Some(refused) = planned.verdict.error(true) {
            return Err(refused);
        }
        let review = planned.review.clone();
        let options = ApplyOptions {
            allow_replace: writing.allow_replace,
            parallelism: writing.parallelism,
            stop: writing.stop,
        };
        let applied = apply(planned, &store, observer, &options).await?;
        drop(lock);
        Ok(Outcome::Applied {
            applied: Box::new(applied),
            review,
        })
    }
}

/// A whole run: [`prepare`], then [`Prepared::finish`].
pub(crate) async fn run<W: Workspace>(
    target: Target<W>,
    purpose: Purpose,
    observer: &mut dyn Observer,
) -> Result<Outcome<W>, Error> {
    prepare(target, purpose, observer)
        .await?
        .finish(observer)
        .await
}

/// Takes the state's lock, waiting up to the run's lock timeout for one another run holds
/// (saying once who holds it); a lock a dead run left is taken over, with a warning.
async fn lock(
    store: &StateStore,
    writing: &Writing,
    observer: &mut dyn Observer,
) -> Result<StateLock, Error> {
    let started = tokio::time::Instant::now();
    let mut told = false;
    loop {
        match StateLock::acquire(&store.path, &writing.holder) {
            Ok(lock) => {
                tracing::debug!("holding the state lock {}", lock.info.id);
                if let Some(previous) = &lock.taken_over {
                    observer.warning(&format!(
                        "took over the lock left by a run that ended without releasing it: {}",
                        previous.describe()
                    ));
                }
                return Ok(lock);
            }
            Err(LockError::Held { holder, path })
                if started.elapsed() < writing.lock_timeout && !writing.stop.is_set() =>
            {
                if !told {
                    told = true;
                    let who = holder
                        .as_deref()
                        .map_or_else(|| "another process".to_owned(), |h| h.describe());
                    observer.warning(&format!(
                        "the state is locked by {who} (lock file {}); waiting up to {} for it",
                        path.display(),
                        humantime::format_duration(writing.lock_timeout)
                    ));
                }
                let left = writing.lock_timeout.saturating_sub(started.elapsed());
                writing
                    .stop
                    .sleep(left.min(Duration::from_millis(200)))
                    .await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

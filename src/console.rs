//! Standard output for every command, such that a closed pipe never changes what a command does
//! nor the exit code it ends with.
//!
//! `clickup-members plan | head` closes standard output early. A write to it then fails with
//! `BrokenPipe`; if that error ended the command, `plan --out plan.json | head` would exit 0
//! without saving the plan and `apply --auto-approve | true` would exit 0 having applied nothing.
//! So a closed standard output is noted and the command goes on: what it prints is dropped, or,
//! for `apply` (whose lines are the record of what it did), written to standard error instead.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

static CLOSED: AtomicBool = AtomicBool::new(false);
static TO_STDERR: AtomicBool = AtomicBool::new(false);

/// From now on, what cannot be written to a closed standard output goes to standard error.
pub(crate) fn divert_to_stderr_when_closed() {
    TO_STDERR.store(true, Ordering::SeqCst);
}

/// Whether standard output was found closed.
pub(crate) fn closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Standard output, with colour as `--color` and the terminal decide.
pub(crate) fn stdout() -> Stdout {
    Stdout(anstream::stdout().lock())
}

/// Writes a whole document (text with styles) to standard output at once. When colour is off
/// the styles are stripped here, in one pass, so that standard output gets one write rather than
/// one a line.
pub(crate) fn write_styled(bytes: &[u8]) -> io::Result<()> {
    let mut out = stdout();
    if anstream::AutoStream::choice(&io::stdout()) == anstream::ColorChoice::Never {
        out.write_all(&anstream::adapter::strip_bytes(bytes).into_vec())?;
    } else {
        out.write_all(bytes)?;
    }
    out.flush()
}

#[derive(Debug)]
pub(crate) struct Stdout(anstream::AutoStream<io::StdoutLock<'static>>);

impl Stdout {
    fn divert(buf: &[u8]) -> io::Result<usize> {
        if TO_STDERR.load(Ordering::SeqCst) {
            anstream::stderr().lock().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn mark_closed() {
        if !CLOSED.swap(true, Ordering::SeqCst) && TO_STDERR.load(Ordering::SeqCst) {
            warning("standard output is closed; the apply goes on and reports here instead");
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if closed() {
            return Self::divert(buf);
        }
        match self.0.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                Self::mark_closed();
                Self::divert(buf)
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if closed() {
            return Ok(());
        }
        match self.0.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                Self::mark_closed();
                Ok(())
            }
            other => other,
        }
    }
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = AnsiColor::Cyan.on_default().bold();

/// Prints `Warning: message` on stderr.
pub(crate) fn warning(message: &str) {
    let mut err = anstream::stderr().lock();
    let message = crate::escape::visible_lines(message);
    let _ = writeln!(err, "{WARNING}Warning:{WARNING:#} {message}");
}

/// Prints `Note: message` on stderr.
pub(crate) fn note(message: &str) {
    let mut err = anstream::stderr().lock();
    let message = crate::escape::visible_lines(message);
    let _ = writeln!(err, "{NOTE}Note:{NOTE:#} {message}");
}

/// Prints `Error: message` on stderr.
pub(crate) fn error(message: &str) {
    let mut err = anstream::stderr().lock();
    let message = crate::escape::visible_lines(message);
    let _ = writeln!(err, "{ERROR}Error:{ERROR:#} {message}");
}

//! The terminal side of a run: a spinner naming the step that runs, and one
//! log line per stage.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

use super::{LogArgs, LogFormat};
use dongne::error::Result;

/// Runs `steps` with a spinner on a terminal. Log lines written while the
/// spinner is drawn would land in the middle of its line: every event goes
/// through the spinner's `suspend`, which clears it, writes the line and
/// draws it again. The run's reading and logging happen on this thread,
/// which the scoped dispatcher covers.
pub fn with_progress(log: &LogArgs, steps: impl FnOnce(&Progress) -> Result<()>) -> Result<()> {
    let progress = Progress::new(log);
    let Some(bar) = progress.bar.clone() else {
        return steps(&progress);
    };
    let inner = tracing::dispatcher::get_default(|d| d.clone());
    let scoped = Dispatch::new(Suspending { inner, bar });
    let result = tracing::dispatcher::with_default(&scoped, || steps(&progress));
    progress.finish();
    result
}

/// One line per stage: `stage`, what was counted, how many, seconds.
pub fn stage(log: &LogArgs, stage: &str, what: &str, count: usize, seconds: Option<f64>) {
    if log.quiet {
        return;
    }
    // Text is for people (aligned columns); JSON carries the same figures as
    // fields, one object per line.
    match (log.log_format, seconds) {
        (LogFormat::Json, Some(s)) => tracing::info!(stage, what, count, seconds = s),
        (LogFormat::Json, None) => tracing::info!(stage, what, count),
        (LogFormat::Text, Some(s)) => {
            tracing::info!("{stage:<12} {what:<12} {count:>9} {s:>8.3} s")
        }
        (LogFormat::Text, None) => tracing::info!("{stage:<12} {what:<12} {count:>9}"),
    }
}

/// A spinner on stderr naming the step that runs, with its time. Only when
/// stderr is a terminal, the log format is text and the run is not quiet: a
/// cron or Kubernetes log gets plain lines, never control characters.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(log: &LogArgs) -> Progress {
        let wanted =
            !log.quiet && log.log_format == LogFormat::Text && std::io::stderr().is_terminal();
        let bar = wanted.then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    pub fn stage(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
        }
    }

    /// A line on stderr that does not break the spinner.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The process's subscriber, with every event written while the spinner is
/// suspended. Everything else is passed through unchanged.
struct Suspending {
    inner: Dispatch,
    bar: ProgressBar,
}

impl Subscriber for Suspending {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values)
    }
    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows)
    }
    fn event(&self, event: &Event<'_>) {
        self.bar.suspend(|| self.inner.event(event))
    }
    fn enter(&self, span: &Id) {
        self.inner.enter(span)
    }
    fn exit(&self, span: &Id) {
        self.inner.exit(span)
    }
    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }
    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }
}

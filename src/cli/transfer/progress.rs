//! The transfer's progress line on stderr.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

/// A progress line on stderr (only when it is a terminal), at most 4 times a second.
pub(super) struct Progress {
    label: &'static str,
    total: u64,
    started: Instant,
    shown: Instant,
    live: bool,
}

impl Progress {
    pub(super) fn new(label: &'static str, total: u64) -> Self {
        let now = Instant::now();
        Self {
            label,
            total,
            started: now,
            shown: now,
            live: std::io::stderr().is_terminal(),
        }
    }

    pub(super) fn update(&mut self, done: u64) {
        if !self.live || self.shown.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.shown = Instant::now();
        let pct = (done * 100).checked_div(self.total).unwrap_or(100);
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        eprint!(
            "\r{} {pct:>3}%  {:.1} / {:.1} MB  {:.0} MB/s   ",
            self.label,
            done as f64 / 1e6,
            self.total as f64 / 1e6,
            done as f64 / 1e6 / secs
        );
    }

    pub(super) fn done(&mut self) {
        if self.live {
            eprintln!(
                "\r{} 100%  {:.1} MB{:30}",
                self.label,
                self.total as f64 / 1e6,
                ""
            );
        }
    }
}

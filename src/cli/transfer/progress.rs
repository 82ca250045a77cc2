//! The transfer's progress bar on stderr: done and total, rate, time left (indicatif).
//!
//! Drawn only when stderr is a terminal (indicatif hides itself otherwise, so scripts and logs
//! see only the final lines), at most 4 times a second. The rate and time left are indicatif's
//! smoothed estimates, so one slow frame does not make the estimate jump.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How the bar reads, as wide as the terminal:
/// `sending [#####>-----] 12.00 MiB/48.00 MiB 95.21 MiB/s, 1s left`.
const TEMPLATE: &str =
    "{msg} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec}, {eta} left";

/// A progress bar on stderr for one direction of a transfer.
pub(super) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub(super) fn new(label: &'static str, total: u64) -> Self {
        // Nothing to show before the size is known (a recipient's placeholder).
        let target = if total == 0 {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr_with_hz(4)
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
            bar.set_style(style.progress_chars("#>-"));
        }
        bar.set_message(label);
        Self { bar }
    }

    /// `done` bytes of the total have gone through.
    pub(super) fn update(&mut self, done: u64) {
        self.bar.set_position(done);
    }

    /// The transfer is complete: the bar stays on screen, full.
    pub(super) fn done(&mut self) {
        if let Some(total) = self.bar.length() {
            self.bar.set_position(total);
        }
        self.bar.finish();
    }
}

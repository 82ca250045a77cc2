//! A transfer's progress bar: percent, bytes, a smoothed rate and the time left, redrawn at most
//! about ten times a second however often the transfer reports, with a coarser summary (every
//! 10 %) in a live region for screen readers.
//!
//! [`Estimate`] is the arithmetic, given times in milliseconds (the page passes
//! `performance.now()`), so it is tested without a clock.

use super::fixed::Fixed;
use leptos::prelude::*;

/// Least time between two redraws.
const REDRAW_MS: f64 = 100.0;
/// How quickly the rate follows a change: the weight of the newest sample (per redraw).
const SMOOTHING: f64 = 0.3;

/// What the bar shows at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reading {
    pub done: u64,
    pub total: u64,
    /// Bytes per second, smoothed; `None` until two samples are apart.
    pub rate: Option<f64>,
}

impl Reading {
    /// Whole percent, 0 before anything is known.
    pub fn percent(&self) -> u64 {
        (self.done.saturating_mul(100))
            .checked_div(self.total)
            .unwrap_or(0)
    }

    /// Seconds left at the current rate.
    pub fn seconds_left(&self) -> Option<f64> {
        let rate = self.rate.filter(|r| *r > 0.0)?;
        Some(self.total.saturating_sub(self.done) as f64 / rate)
    }

    /// "42%  (12.0 of 30.0 MB) · 85.3 MB/s · 12 s left".
    pub fn describe(&self) -> String {
        if self.total == 0 {
            return String::new();
        }
        let mut text = format!(
            "{}%  ({} of {} MB)",
            self.percent(),
            Fixed(self.done as f64 / 1e6, 1),
            Fixed(self.total as f64 / 1e6, 1)
        );
        if let Some(rate) = self.rate {
            text.push_str(&format!(" · {} MB/s", Fixed(rate / 1e6, 1)));
        }
        if self.done < self.total
            && let Some(left) = self.seconds_left()
        {
            text.push_str(&format!(" · {} left", duration(left)));
        }
        text
    }
}

fn duration(secs: f64) -> String {
    let secs = secs.ceil().min(359_999.0) as u64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs / 60 % 60),
    }
}

/// The rate estimate and the redraw throttle.
#[derive(Debug, Clone, Default)]
pub struct Estimate {
    /// The last sample the rate was computed from (ms, bytes).
    last: Option<(f64, u64)>,
    shown: Reading,
}

impl Estimate {
    /// Takes a report of `done` of `total` bytes at `now_ms`; the reading to draw if it is time
    /// to redraw (at most every [`REDRAW_MS`], always at the start and the end).
    pub fn update(&mut self, now_ms: f64, done: u64, total: u64) -> Option<Reading> {
        let restart = total != self.shown.total || done < self.shown.done;
        if restart {
            self.last = Some((now_ms, done));
            self.shown = Reading {
                done,
                total,
                rate: None,
            };
            return Some(self.shown);
        }
        let (then, before) = self.last.unwrap_or((now_ms, done));
        let elapsed = now_ms - then;
        if elapsed < REDRAW_MS && done < total {
            return None;
        }
        if elapsed > 0.0 {
            let sample = (done - before.min(done)) as f64 * 1000.0 / elapsed;
            self.shown.rate = Some(match self.shown.rate {
                Some(rate) => rate + SMOOTHING * (sample - rate),
                None => sample,
            });
        }
        self.last = Some((now_ms, done));
        self.shown.done = done;
        Some(self.shown)
    }
}

/// The progress bar with its text, fed `(done, total)` reports; `id` names its elements
/// (`{id}-progress`, `{id}-percent`, `{id}-live`).
#[component]
pub fn Meter(#[prop(into)] progress: Signal<(u64, u64)>, id: &'static str) -> impl IntoView {
    let (reading, set_reading) = signal(Reading::default());
    let estimate = StoredValue::new(Estimate::default());
    Effect::new(move |_| {
        let (done, total) = progress.get();
        let drawn = estimate
            .try_update_value(|e| e.update(now_ms(), done, total))
            .flatten();
        if let Some(r) = drawn {
            set_reading.set(r);
        }
    });
    // Screen readers hear every tenth, not every redraw.
    let tenth = Memo::new(move |_| {
        let r = reading.get();
        (r.total > 0).then(|| r.percent() / 10 * 10)
    });
    view! {
        <div class="meter">
            <progress id=format!("{id}-progress") max="100" value=move || reading.get().percent()></progress>
            <output id=format!("{id}-percent")>{move || reading.get().describe()}</output>
            <span id=format!("{id}-live") class="visually-hidden" role="status" aria-live="polite">
                {move || tenth.get().map(|p| format!("{p}% done")).unwrap_or_default()}
            </span>
        </div>
    }
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return crate::client::now_ms();
    #[cfg(not(feature = "hydrate"))]
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_redraws_ten_times_a_second_with_a_smoothed_rate() {
        let mut e = Estimate::default();
        let first = e.update(0.0, 0, 100_000_000).unwrap();
        assert_eq!((first.percent(), first.rate), (0, None));
        // 1,000 reports in one second at 10 MB/s (one per ms): about ten redraws.
        let drawn: Vec<Reading> = (1..=1000u32)
            .filter_map(|ms| e.update(f64::from(ms), u64::from(ms) * 10_000, 100_000_000))
            .collect();
        assert_eq!(drawn.len(), 10);
        let last = drawn.last().unwrap();
        assert_eq!(last.percent(), 10);
        let rate = last.rate.unwrap();
        assert!((rate - 10e6).abs() < 1.0, "{rate}");
        assert!((last.seconds_left().unwrap() - 9.0).abs() < 1e-6);
        assert_eq!(
            last.describe(),
            "10%  (10.0 of 100.0 MB) · 10.0 MB/s · 9 s left"
        );
        // The rate halves: the estimate moves toward it, not at once.
        let slower = e.update(1100.0, 10_500_000, 100_000_000).unwrap();
        let r = slower.rate.unwrap();
        assert!(r < 10e6 && r > 5e6, "{r}");
        // The end is always drawn, whenever it comes, and shows no time left.
        let end = e.update(1101.0, 100_000_000, 100_000_000).unwrap();
        assert_eq!(end.percent(), 100);
        assert!(
            end.describe().starts_with("100%  (100.0 of 100.0 MB) · ")
                && !end.describe().contains("left")
        );
        // A new transfer starts afresh.
        assert_eq!(e.update(2000.0, 0, 5).unwrap().rate, None);
        assert_eq!(duration(58.2), "59 s");
        assert_eq!(duration(59.2), "1 min 0 s");
        assert_eq!(duration(61.0), "1 min 1 s");
        assert_eq!(duration(7322.0), "2 h 2 min");
        assert_eq!(Reading::default().describe(), "");
    }
}

//! The soundness chart of Victor's many-runs mode: the measured acceptance rate of an honest and
//! a bluffing Peggy as runs finish, against the bluffer's theory 2^−k·t with its 3σ band, and
//! the rounds in which the bluffer was caught. Plain SVG written as text (one small function
//! instead of a reactive view per shape, which keeps the WASM bundle small): the server renders
//! the frame, the page redraws it as runs come in. Every drawn figure is also in `data-*`
//! attributes, so tests (and screen readers, via the summary) read numbers, not pixels.

use super::fixed::Fixed;
use crate::protocol::identify::soundness::Tally;
use leptos::prelude::*;
use std::fmt::Write;

/// What the chart shows: the two tallies and the rate after each batch of runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartData {
    /// Runs planned per Peggy (the x axis).
    pub planned: u32,
    pub honest: Tally,
    pub cheater: Tally,
    /// (runs so far, acceptance rate) for each Peggy, one point per batch.
    pub honest_curve: Vec<(u32, f64)>,
    pub cheater_curve: Vec<(u32, f64)>,
}

impl ChartData {
    /// An empty chart for `planned` runs of t rounds with k secrets.
    pub fn new(planned: u32, k: usize, rounds: u32) -> Self {
        Self {
            planned: planned.max(1),
            honest: Tally::new(k, rounds),
            cheater: Tally::new(k, rounds),
            honest_curve: Vec::new(),
            cheater_curve: Vec::new(),
        }
    }

    /// Notes the current rates as a point of each curve.
    pub fn mark(&mut self) {
        self.honest_curve
            .push((self.honest.runs(), self.honest.rate()));
        self.cheater_curve
            .push((self.cheater.runs(), self.cheater.rate()));
    }
}

const LEFT: f64 = 52.0;
const RIGHT: f64 = 628.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 214.0;
/// Bars drawn in the caught-in-round histogram (later rounds are rare: 2^−k per round).
const MAX_BARS: usize = 16;

fn x_of(runs: u32, planned: u32) -> f64 {
    LEFT + (RIGHT - LEFT) * f64::from(runs) / f64::from(planned.max(1))
}

fn y_of(rate: f64) -> f64 {
    BOTTOM - (BOTTOM - TOP) * rate.clamp(0.0, 1.0)
}

fn polyline(curve: &[(u32, f64)], planned: u32) -> String {
    curve
        .iter()
        .map(|&(m, rate)| format!("{},{}", Fixed(x_of(m, planned), 1), Fixed(y_of(rate), 1)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The band p ± 3σ(m) for m = 1 … planned, as a closed polygon.
fn band(data: &ChartData) -> String {
    let p = data.cheater.expected();
    let steps = 64u32;
    let at = |i: u32| (data.planned * i / steps).max(1);
    let upper = (0..=steps).map(|i| {
        let m = at(i);
        (m, p + 3.0 * data.cheater.sigma_after(m))
    });
    let lower = (0..=steps).rev().map(|i| {
        let m = at(i);
        (m, p - 3.0 * data.cheater.sigma_after(m))
    });
    polyline(&upper.chain(lower).collect::<Vec<_>>(), data.planned)
}

/// A rate with four decimals, or "< 0.0001".
fn rate_text(rate: f64) -> String {
    if rate == 0.0 || rate >= 0.0001 {
        format!("{0}", Fixed(rate, 4))
    } else {
        "< 0.0001".to_owned()
    }
}

/// One sentence per Peggy, as the chart's text equivalent.
pub fn summary(data: &ChartData) -> String {
    let (k, rounds) = data.cheater.shape();
    let bits = k as u32 * rounds;
    let c = &data.cheater;
    if c.runs() == 0 {
        return format!(
            "A Peggy without the secret passes a run of {rounds} round(s) with probability 2^-{bits} = {}.",
            rate_text(c.expected())
        );
    }
    let verdict = if c.deviation() <= 3.0 {
        "within 3σ of the theory"
    } else {
        "outside 3σ of the theory"
    };
    format!(
        "Peggy without the secret: accepted {} of {} runs = {}; theory 2^-{bits} = {} ± {} (3σ): {verdict}. Honest Peggy: accepted {} of {}.",
        c.accepted(),
        c.runs(),
        rate_text(c.rate()),
        rate_text(c.expected()),
        rate_text(3.0 * c.sigma()),
        data.honest.accepted(),
        data.honest.runs()
    )
}

/// The acceptance-rate chart as SVG text.
pub fn rate_svg(d: &ChartData) -> String {
    let c = &d.cheater;
    let mut svg = format!(
        r#"<svg id="soundness-chart" class="chart" viewBox="0 0 640 240" role="img" aria-label="acceptance rate against runs" data-planned="{}" data-runs="{}" data-accepted="{}" data-rate="{}" data-expected="{}" data-sigma="{}" data-honest-runs="{}" data-honest-accepted="{}">"#,
        d.planned,
        c.runs(),
        c.accepted(),
        Fixed(c.rate(), 6),
        Fixed(c.expected(), 6),
        Fixed(c.sigma(), 6),
        d.honest.runs(),
        d.honest.accepted()
    );
    for (t, label) in [
        (0.0, "0"),
        (0.25, "0.25"),
        (0.5, "0.5"),
        (0.75, "0.75"),
        (1.0, "1"),
    ] {
        let y = y_of(t);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{2}" x2="{3}" y1="{4}" y2="{5}"/><text class="tick" x="{}" y="{}" text-anchor="end">{label}</text>"#,
            Fixed(LEFT - 6.0, 1),
            Fixed(y + 4.0, 1),
            Fixed(LEFT, 0),
            Fixed(RIGHT, 0),
            Fixed(y, 1),
            Fixed(y, 1)
        );
    }
    let p = c.expected();
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{0}" x2="{1}" y1="{2}" y2="{3}"/><line class="axis" x1="{4}" x2="{5}" y1="{6}" y2="{7}"/><text class="tick" x="{8}" y="230">0</text><text class="tick" x="320" y="230" text-anchor="middle">runs finished →</text><text class="tick" x="{9}" y="230" text-anchor="end">{planned} runs</text><polygon class="band" points="{band}"/><line class="theory" x1="{10}" x2="{11}" y1="{12}" y2="{13}" data-p="{14}"/><polyline class="measured honest" points="{honest}" data-points="{hn}"/><polyline class="measured cheater" points="{cheater}" data-points="{cn}"/></svg>"#,
        Fixed(LEFT, 0),
        Fixed(LEFT, 0),
        Fixed(TOP, 0),
        Fixed(BOTTOM, 0),
        Fixed(LEFT, 0),
        Fixed(RIGHT, 0),
        Fixed(BOTTOM, 0),
        Fixed(BOTTOM, 0),
        Fixed(LEFT, 0),
        Fixed(RIGHT, 0),
        Fixed(LEFT, 0),
        Fixed(RIGHT, 0),
        Fixed(y_of(p), 1),
        Fixed(y_of(p), 1),
        Fixed(p, 6),
        planned = d.planned,
        band = band(d),
        honest = polyline(&d.honest_curve, d.planned),
        hn = d.honest_curve.len(),
        cheater = polyline(&d.cheater_curve, d.planned),
        cn = d.cheater_curve.len()
    );
    svg
}

/// In which round the bluffer was caught: measured bars and the theory's marks, as SVG text.
pub fn caught_svg(d: &ChartData) -> String {
    let mut svg = format!(
        r#"<svg id="caught-chart" class="chart" viewBox="0 0 640 152" role="img" aria-label="round in which the bluffer was caught"><text class="tick" x="{0}" y="12">caught in round …</text>"#,
        Fixed(LEFT, 0)
    );
    let caught = d.cheater.caught();
    let shown = caught.len().min(MAX_BARS);
    let runs = f64::from(d.cheater.runs().max(1));
    let top = f64::from(caught.iter().copied().max().unwrap_or(0).max(1));
    let slot = (RIGHT - LEFT) / shown.max(1) as f64;
    for (i, &count) in caught.iter().take(shown).enumerate() {
        let round = i as u32 + 1;
        let expected = d.cheater.expected_caught_share(round) * runs;
        let scale = |v: f64| 100.0 * v / top.max(expected);
        // Bars stand on y = 124 and reach at most y = 24, under the label.
        let (height, mark) = (scale(f64::from(count)), 124.0 - scale(expected));
        let x = LEFT + slot * i as f64;
        let _ = write!(
            svg,
            r#"<g class="bar" data-round="{round}" data-count="{count}" data-expected="{6}"><rect x="{}" y="{}" width="{}" height="{7}"/><line class="theory" x1="{}" x2="{}" y1="{8}" y2="{9}"/><text class="tick" x="{}" y="140" text-anchor="middle">{round}</text></g>"#,
            Fixed(x + slot * 0.15, 1),
            Fixed(124.0 - height, 1),
            Fixed(slot * 0.7, 1),
            Fixed(x + slot * 0.1, 1),
            Fixed(x + slot * 0.9, 1),
            Fixed(x + slot / 2.0, 1),
            Fixed(expected, 3),
            Fixed(height, 1),
            Fixed(mark, 1),
            Fixed(mark, 1)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[component]
pub fn SoundnessChart(data: Signal<ChartData>) -> impl IntoView {
    view! {
        <figure class="soundness">
            <div inner_html=move || rate_svg(&data.get()) />
            <figcaption>
                <span class="key honest">"— honest Peggy"</span>" "
                <span class="key cheater">"— Peggy without the secret"</span>" "
                <span class="key theory">"— theory 2^-k·t, shaded: ±3σ"</span>
            </figcaption>
            <div inner_html=move || caught_svg(&data.get()) />
            <p id="soundness-summary">{move || summary(&data.get())}</p>
        </figure>
    }
}

//! The rounds table both role pages show, and the pure helpers behind it: a run's stage and a
//! demo round's formulas as HTML.

use super::rows::{Rows, WINDOW, first_shown};
use crate::components::round_steps::Stage;
use crate::protocol::{
    ffs::explain::{Answer, Check, Commit, Term, subscript},
    identify::{ChallengeBits, Nonce, WireNumber, readable::Readable},
};
use leptos::prelude::*;

/// One round as a page shows it, each value once it came. Numbers show in hex; a demo-sized run
/// shows them in decimal with the round's worked formulas.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct RoundRow {
    pub(super) round: u32,
    pub(super) x: Option<WireNumber>,
    pub(super) e: Option<ChallengeBits>,
    pub(super) y: Option<WireNumber>,
    pub(super) passed: Option<bool>,
    /// A cheating Peggy's bet ê (her page only) and whether Victor's e matched it.
    pub(super) guess: Option<ChallengeBits>,
    pub(super) guessed: Option<bool>,
    /// Demo mode: Peggy's nonce (her page only) and the formulas worked out so far.
    pub(super) nonce: Option<Nonce>,
    pub(super) commit: Option<Commit>,
    pub(super) answer: Option<Answer>,
    pub(super) check: Option<Check>,
}

impl RoundRow {
    /// Whether the round has worked formulas to show (a demo-sized run).
    fn is_demo(&self) -> bool {
        self.commit.is_some() || self.answer.is_some() || self.check.is_some()
    }
}

/// The step a run is at: the verdict once it came, else the last round's progress (a run
/// that has started but has no round yet waits for the first commitment).
pub(super) fn stage_of(last: Option<&RoundRow>, running: bool, finished: bool) -> Option<Stage> {
    if finished {
        return Some(Stage::Verdict);
    }
    let Some(last) = last else {
        return running.then_some(Stage::Commit);
    };
    Some(if last.y.is_some() || last.passed.is_some() {
        Stage::Check
    } else if last.e.is_some() {
        Stage::Response
    } else if last.x.is_some() {
        Stage::Challenge
    } else {
        Stage::Commit
    })
}

/// `s = (157, 43215, 4646)` as HTML, the factors the challenge selects marked. Every part is a
/// decimal number or a fixed symbol: nothing to escape.
fn terms_html(name: &str, terms: &[Term]) -> String {
    let items: Vec<String> = terms
        .iter()
        .map(|t| {
            let class = if t.selected { r#" class="picked""# } else { "" };
            format!(
                r#"<span{class} title="{name}{}">{}</span>"#,
                subscript(t.j),
                t.value
            )
        })
        .collect();
    format!(
        r#"<span class="terms">{name} = ({})</span>"#,
        items.join(", ")
    )
}

/// A demo round's worked formulas, as the HTML of the row under it (one view type for all of
/// them keeps the bundle small).
fn formulas_html(row: &RoundRow) -> String {
    let mut html = String::new();
    if let Some(c) = &row.commit {
        html.push_str(&format!(r#"<div class="commit-formula">{c}</div>"#));
    }
    if let Some(a) = &row.answer {
        let s = terms_html("s", &a.secrets);
        html.push_str(&format!(
            r#"<div class="answer-formula">{s} → <span>{a}</span></div>"#
        ));
    }
    if let Some(c) = &row.check {
        let i = terms_html("I", &c.identifiers);
        let class = if c.outcome.passed() { "pass" } else { "fail" };
        html.push_str(&format!(
            r#"<div class="check-formula">{i} → <span class="{class}">{c}</span></div>"#
        ));
    }
    html
}

/// A big number shortened for a table cell (the full value is in the cell's title).
fn short(hex: &str) -> String {
    if hex.len() <= 18 {
        hex.to_owned()
    } else {
        format!("{}…{}", &hex[..8], &hex[hex.len() - 8..])
    }
}

/// A value's text, or nothing before it came.
fn text(value: Option<&impl ToString>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

/// The rounds of a run: x, e, y, the check, and the soundness error after each passed round.
/// With `guesses` (a cheating Peggy's own page) a column shows her bet ê beside Victor's e.
#[component]
pub(super) fn RoundsTable(
    id: &'static str,
    rows: Rows,
    k: Signal<u32>,
    readable: RwSignal<Option<Readable>>,
    #[prop(optional, into)] guesses: Signal<bool>,
) -> impl IntoView {
    let shown = move |v: &Option<WireNumber>| {
        v.as_ref().map_or_else(String::new, |v| {
            readable.with_untracked(|r| {
                r.as_ref()
                    .map_or_else(|| short(&v.to_string()), |r| r.decimal(v))
            })
        })
    };
    // A long run shows its last rounds only (see WINDOW), until the reader asks for every round.
    let all = RwSignal::new(false);
    let first = Memo::new(move |_| first_shown(rows.len(), WINDOW, all.get()));
    view! {
        <table id=id class="rounds">
            <thead>
                <tr>
                    <th>"round"</th>
                    <Show when=move || guesses.get()>
                        <th>"her guess ê"</th>
                    </Show>
                    <th>"x = ±r² mod n"</th>
                    <th>"e"</th>
                    <th>"y = r·∏ sⱼ^eⱼ mod n"</th>
                    <th>"y²·∏ Iⱼ^eⱼ ≡ ±x ?"</th>
                    <th>"chance of a bluff"</th>
                </tr>
            </thead>
            <Show when=move || { first.get() > 0 }>
                <tbody class="folded">
                    <tr>
                        <td colspan="8">
                            {move || format!("Rounds 1–{} are folded; the last {WINDOW} are below. ", first.get())}
                            <button class="show-all" on:click=move |_| all.set(true)>"Show every round"</button>
                        </td>
                    </tr>
                </tbody>
            </Show>
            <tbody>
                // Keyed by round: a round's row is built once, and each later step of the round
                // updates its cells through the row's own signal.
                <For each=move || rows.from(first.get()) key=|row| row.with_untracked(|r| r.round) children=move |row| {
                    let round = row.with_untracked(|r| r.round);
                    let check = move || row.with(|r| match r.passed {
                        Some(true) => ("pass", "✓ pass"),
                        Some(false) => ("fail", "✗ fail: caught"),
                        None => ("", "…"),
                    });
                    let guess_class = move || row.with(|r| match r.guessed {
                        Some(true) => "mono bits guess right",
                        Some(false) => "mono bits guess wrong",
                        None => "mono bits guess",
                    });
                    let soundness = move || row.with(|r| match r.passed {
                        Some(true) => format!("2^-{}", k.get_untracked() * r.round),
                        _ => String::new(),
                    });
                    let formulas = move || row.with(|r| r.is_demo().then(|| formulas_html(r)));
                    view! {
                        <tr class="round" data-round=round>
                            <td>{round}</td>
                            <Show when=move || guesses.get()>
                                <td class=guess_class>{move || row.with(|r| text(r.guess.as_ref()))}</td>
                            </Show>
                            <td class="mono x" title=move || row.with(|r| text(r.x.as_ref()))>{move || row.with(|r| shown(&r.x))}</td>
                            <td class="mono bits">{move || row.with(|r| text(r.e.as_ref()))}</td>
                            <td class="mono y" title=move || row.with(|r| text(r.y.as_ref()))>{move || row.with(|r| shown(&r.y))}</td>
                            <td class=move || check().0>{move || check().1}</td>
                            <td class="mono">{soundness}</td>
                        </tr>
                        {move || formulas().map(|html| view! {
                            <tr class="formula" data-round=round><td colspan="8" inner_html=html /></tr>
                        })}
                    }
                } />
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        ffs::{BoxedUint, SecretKey, wire},
        identify::readable::parse_nonce,
    };

    /// Round 1 with the values given as wire text (empty: not there yet).
    fn row(x: &str, e: &str, y: &str, passed: Option<bool>) -> RoundRow {
        let number = |text: &str| (!text.is_empty()).then(|| WireNumber::parse(text).unwrap());
        RoundRow {
            round: 1,
            x: number(x),
            e: (!e.is_empty()).then(|| ChallengeBits::parse(e).unwrap()),
            y: number(y),
            passed,
            ..RoundRow::default()
        }
    }

    #[test]
    fn the_stage_follows_the_last_round() {
        assert_eq!(stage_of(None, false, false), None);
        assert_eq!(stage_of(None, true, false), Some(Stage::Commit));
        assert_eq!(
            stage_of(Some(&row("1", "", "", None)), true, false),
            Some(Stage::Challenge)
        );
        assert_eq!(
            stage_of(Some(&row("1", "0", "", None)), true, false),
            Some(Stage::Response)
        );
        assert_eq!(
            stage_of(Some(&row("1", "0", "2", None)), true, false),
            Some(Stage::Check)
        );
        assert_eq!(
            stage_of(Some(&row("1", "0", "2", Some(true))), true, true),
            Some(Stage::Verdict)
        );
    }

    /// The Handbook's round as Peggy's page writes it under the row: the formulas with the
    /// selected s₃ and I₃ marked, and nothing else in the HTML but numbers and symbols.
    #[test]
    fn a_handbook_round_as_html() {
        let key = SecretKey::handbook_example().unwrap();
        let view = Readable::for_peggy(&key).unwrap();
        let nonce = Nonce {
            r: WireNumber::new(parse_nonce("1279", key.public_key()).unwrap()),
            negative: true,
        };
        let (x, y) = (
            wire::encode(&BoxedUint::from(25898u64)),
            wire::encode(&BoxedUint::from(403104u64)),
        );
        let mut row = row(&x, "001", &y, Some(true));
        let (Some(x), Some(e), Some(y)) = (&row.x, &row.e, &row.y) else {
            panic!("the row has its values");
        };
        (row.answer, row.check) = (view.answer(&nonce, e), view.check(x, e, y));
        row.commit = view.commit(&nonce);
        let html = formulas_html(&row);
        assert!(
            html.contains(r#"<div class="commit-formula">x = −1279² mod 553913 = 25898</div>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="picked" title="s₃">4646</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span title="s₁">157</span>"#), "{html}");
        assert!(
            html.contains(r#"<span class="picked" title="I₃">124423</span>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="pass">403104² · 124423 mod 553913 = 25898 = x ✓</span>"#),
            "{html}"
        );
        assert_eq!(html.matches("picked").count(), 2);
    }
}

//! What a run's events do to its rounds table, as pure functions over any [`RowStore`]: a plain
//! `Vec` in the tests, [`Rows`] (one signal per row) on the pages.
//!
//! Rounds arrive in order, so the row an event changes is the last one or a new one: each event
//! costs O(1), and on the page it touches its own row's signal only; the list's signal changes
//! once per round. A run of t rounds does O(t) work, however long it is.

use super::rounds::RoundRow;
use crate::protocol::{
    ffs::explain::Check,
    identify::{PeggyEvent, VictorEvent, WireNumber, readable::Readable},
};
use leptos::prelude::*;

/// Where a run's rows live.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // the server only renders
pub(super) trait RowStore {
    /// Changes round `round`'s row, adding it after the last if it is new.
    fn change(&mut self, round: u32, change: impl FnOnce(&mut RoundRow));
}

impl RowStore for Vec<RoundRow> {
    fn change(&mut self, round: u32, change: impl FnOnce(&mut RoundRow)) {
        match self.last_mut() {
            Some(row) if row.round == round => change(row),
            _ => {
                let mut row = RoundRow {
                    round,
                    ..RoundRow::default()
                };
                change(&mut row);
                self.push(row);
            }
        }
    }
}

/// Rounds a table shows of a long run: the last `WINDOW`; the earlier ones fold into one line
/// until the reader asks for them. A browser lays a table out and paints it again on every frame
/// in time that grows with its rows, so a table of every round made a run of t rounds cost O(t²)
/// in the page (t = 1024 took 12.9 ms a round against 4.4 at t = 256).
pub(super) const WINDOW: usize = 100;

/// The index of the first of `len` rows a table shows: the last `window`, or all of them.
pub(super) fn first_shown(len: usize, window: usize, all: bool) -> usize {
    if all { 0 } else { len.saturating_sub(window) }
}

/// Applies one of Peggy's events (`readable`: the demo mode's numbers, when the run has them).
/// Events that are not about a round change nothing.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) fn peggy_event(
    rows: &mut impl RowStore,
    event: PeggyEvent,
    readable: Option<&Readable>,
) {
    match event {
        PeggyEvent::Committed {
            round,
            x,
            guess,
            nonce,
        } => rows.change(round, |r| {
            r.commit = readable.zip(nonce.as_ref()).and_then(|(v, n)| v.commit(n));
            r.x = Some(x);
            r.guess = guess;
            r.nonce = nonce;
        }),
        PeggyEvent::Answered {
            round,
            e,
            y,
            guessed,
        } => rows.change(round, |r| {
            r.answer = readable
                .zip(r.nonce.as_ref())
                .and_then(|(v, n)| v.answer(n, &e));
            r.e = Some(e);
            r.y = Some(y);
            r.guessed = guessed;
        }),
        PeggyEvent::Checked { round, passed } => rows.change(round, |r| {
            r.passed = Some(passed);
            r.check = check(readable, r, r.y.as_ref());
        }),
        PeggyEvent::Started { .. } | PeggyEvent::Finished { .. } | PeggyEvent::Unpaired { .. } => {}
    }
}

/// Applies one of Victor's events, as [`peggy_event`] does.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) fn victor_event(
    rows: &mut impl RowStore,
    event: VictorEvent,
    readable: Option<&Readable>,
) {
    match event {
        VictorEvent::Committed { round, x } => rows.change(round, |r| r.x = Some(x)),
        VictorEvent::Challenged { round, e } => rows.change(round, |r| r.e = Some(e)),
        VictorEvent::Checked { round, y, passed } => rows.change(round, |r| {
            r.check = check(readable, r, Some(&y));
            r.y = Some(y);
            r.passed = Some(passed);
        }),
        VictorEvent::Finished(_) => {}
    }
}

/// The demo mode's check of a row's x and e with y, once all three came.
fn check(readable: Option<&Readable>, row: &RoundRow, y: Option<&WireNumber>) -> Option<Check> {
    readable?.check(row.x.as_ref()?, row.e.as_ref()?, y?)
}

/// A page's rows: the list of rows (changed when a round is added or the run starts afresh) and
/// one signal per row (changed when its round moves on).
#[derive(Clone, Copy)]
pub(super) struct Rows {
    list: RwSignal<Vec<RwSignal<RoundRow>>>,
}

impl Rows {
    pub(super) fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
        }
    }

    /// How many rows there are, tracked: re-run when a round is added or the table cleared.
    pub(super) fn len(&self) -> usize {
        self.list.with(Vec::len)
    }

    /// The rows from index `first` on, tracked like [`Rows::len`].
    pub(super) fn from(&self, first: usize) -> Vec<RwSignal<RoundRow>> {
        self.list
            .with(|l| l.get(first..).map(<[_]>::to_vec))
            .unwrap_or_default()
    }

    pub(super) fn clear(&self) {
        self.list.set(Vec::new());
    }

    /// The last row's value, tracked (the stage of the run follows it).
    pub(super) fn last(&self) -> Option<RoundRow> {
        self.list.with(|l| l.last().copied()).map(|row| row.get())
    }
}

impl RowStore for Rows {
    fn change(&mut self, round: u32, change: impl FnOnce(&mut RoundRow)) {
        let last = self.list.with_untracked(|l| l.last().copied());
        match last {
            Some(row) if row.with_untracked(|r| r.round == round) => row.update(change),
            _ => {
                let mut row = RoundRow {
                    round,
                    ..RoundRow::default()
                };
                change(&mut row);
                let row = RwSignal::new(row);
                self.list.update(|l| l.push(row));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        ffs::{BoxedUint, SecretKey},
        identify::{ChallengeBits, Nonce, readable::parse_nonce},
    };

    fn hex(v: u64) -> WireNumber {
        WireNumber::new(BoxedUint::from(v))
    }

    fn bits(text: &str) -> ChallengeBits {
        ChallengeBits::parse(text).unwrap()
    }

    #[test]
    fn a_long_run_shows_its_last_rounds_unless_all_are_asked_for() {
        assert_eq!(first_shown(0, WINDOW, false), 0);
        assert_eq!(first_shown(WINDOW, WINDOW, false), 0);
        assert_eq!(first_shown(WINDOW + 1, WINDOW, false), 1);
        assert_eq!(first_shown(1024, WINDOW, false), 1024 - WINDOW);
        assert_eq!(first_shown(1024, WINDOW, true), 0);
    }

    #[test]
    fn peggys_events_fill_one_row_per_round_in_order() {
        let mut rows = Vec::new();
        peggy_event(&mut rows, PeggyEvent::Started { rounds: 2 }, None);
        assert!(rows.is_empty());
        for round in 1..=2 {
            peggy_event(
                &mut rows,
                PeggyEvent::Committed {
                    round,
                    x: hex(10 + u64::from(round)),
                    guess: Some(bits("01")),
                    nonce: None,
                },
                None,
            );
            peggy_event(
                &mut rows,
                PeggyEvent::Answered {
                    round,
                    e: bits("01"),
                    y: hex(20),
                    guessed: Some(round == 1),
                },
                None,
            );
            peggy_event(
                &mut rows,
                PeggyEvent::Checked {
                    round,
                    passed: round == 1,
                },
                None,
            );
        }
        peggy_event(
            &mut rows,
            PeggyEvent::Finished {
                accepted: false,
                rounds_passed: 1,
                rounds: 2,
            },
            None,
        );
        assert_eq!(rows.len(), 2);
        let second = &rows[1];
        assert_eq!(
            (second.round, second.x.clone(), second.e.clone()),
            (2, Some(hex(12)), Some(bits("01")))
        );
        assert_eq!((rows[0].passed, second.passed), (Some(true), Some(false)));
        assert_eq!((rows[0].guessed, second.guessed), (Some(true), Some(false)));
        assert_eq!(second.guess, Some(bits("01")));
        // Without the demo mode's numbers, no formulas.
        assert!(rows.iter().all(|r| r.commit.is_none() && r.check.is_none()));
    }

    /// The Handbook's round on both pages: the same numbers and formulas, whichever side.
    #[test]
    fn both_pages_work_out_the_handbook_round() {
        let key = SecretKey::handbook_example().unwrap();
        let (x, y) = (hex(25898), hex(403104));
        let nonce = Nonce {
            r: WireNumber::new(parse_nonce("1279", key.public_key()).unwrap()),
            negative: true,
        };
        let peggy_view = Readable::for_peggy(&key).unwrap();
        let mut peggy = Vec::new();
        for event in [
            PeggyEvent::Committed {
                round: 1,
                x: x.clone(),
                guess: None,
                nonce: Some(nonce),
            },
            PeggyEvent::Answered {
                round: 1,
                e: bits("001"),
                y: y.clone(),
                guessed: None,
            },
            PeggyEvent::Checked {
                round: 1,
                passed: true,
            },
        ] {
            peggy_event(&mut peggy, event, Some(&peggy_view));
        }
        let victor_view = Readable::for_victor(key.public_key()).unwrap();
        let mut victor = Vec::new();
        for event in [
            VictorEvent::Committed {
                round: 1,
                x: x.clone(),
            },
            VictorEvent::Challenged {
                round: 1,
                e: bits("001"),
            },
            VictorEvent::Checked {
                round: 1,
                y: y.clone(),
                passed: true,
            },
        ] {
            victor_event(&mut victor, event, Some(&victor_view));
        }
        let (p, v) = (&peggy[0], &victor[0]);
        assert_eq!((&p.x, &p.e, &p.y, p.passed), (&v.x, &v.e, &v.y, v.passed));
        assert_eq!(
            p.commit.as_ref().unwrap().to_string(),
            "x = −1279² mod 553913 = 25898"
        );
        assert!(p.answer.is_some() && v.answer.is_none());
        let check = v.check.as_ref().unwrap().to_string();
        assert_eq!(check, "403104² · 124423 mod 553913 = 25898 = x ✓");
        assert_eq!(p.check.as_ref().unwrap().to_string(), check);
    }

    /// A run of 1,024 rounds is 1,024 rows in round order, each event landing on its own
    /// round's row (rounds never go back, so the store looks at the last row only).
    #[test]
    fn a_long_run_is_one_row_per_round() {
        let mut rows = Vec::new();
        for round in 1..=1024 {
            victor_event(&mut rows, VictorEvent::Committed { round, x: hex(4) }, None);
            victor_event(
                &mut rows,
                VictorEvent::Challenged {
                    round,
                    e: bits("1"),
                },
                None,
            );
        }
        assert_eq!(rows.len(), 1024);
        assert!(
            rows.iter()
                .zip(1..)
                .all(|(r, i)| r.round == i && r.e == Some(bits("1")))
        );
    }
}

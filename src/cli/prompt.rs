//! Asking for the phrase at the terminal: `zkrelay receive` without `ZKRELAY_CODE`.
//!
//! At a terminal the phrase is read with a line editor (rustyline) on the terminal itself, so a
//! redirected stdout (`receive --stdout > file`) never carries the prompt. The public channel
//! name (`482193-cedar`) shows as typed; the four secret words show as `*`, one per letter, so
//! a screen share or a shoulder sees neither the words nor (beyond their lengths) anything
//! else. Tab completes the word under the cursor once its prefix names one word of the list,
//! and adds the `-` that follows. From a pipe the phrase is one bounded line of stdin.

use crate::protocol::relay::{Completion, MAX_CODE_TEXT, complete};
use rustyline::{
    Behavior, ColorMode, CompletionType, Config, Context, Editor, Helper,
    completion::Completer,
    error::ReadlineError,
    highlight::{CmdKind, Highlighter},
    hint::Hinter,
    history::DefaultHistory,
    validate::Validator,
};
use std::{
    borrow::Cow,
    io::{BufRead, IsTerminal, Read},
};

/// Parts of a phrase that are public: the channel's number and its word.
const PUBLIC_PARTS: usize = 2;

/// Reads the phrase: from the terminal with the code hidden and Tab completion, else one line
/// of stdin (at most a few hundred bytes are read).
pub fn read_phrase() -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(4 * MAX_CODE_TEXT as u64)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the code: {e}"))?;
        return Ok(line);
    }
    let config = Config::builder()
        .behavior(Behavior::PreferTerm)
        .color_mode(ColorMode::Forced)
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut editor: Editor<PhraseHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| format!("cannot use the terminal: {e}"))?;
    editor.set_helper(Some(PhraseHelper));
    match editor.readline("Enter the code (Tab completes a word): ") {
        Ok(line) => Ok(line),
        Err(ReadlineError::Interrupted | ReadlineError::Eof) => Err("no code was entered".into()),
        Err(e) => Err(format!("cannot read the code: {e}")),
    }
}

fn is_separator(c: char) -> bool {
    c == '-' || c.is_whitespace()
}

/// The line as shown: separators and the public parts as typed, every other character `*`.
pub fn masked(line: &str) -> String {
    let mut part = 0;
    let mut in_part = false;
    line.chars()
        .map(|c| {
            if is_separator(c) {
                if in_part {
                    part += 1;
                }
                in_part = false;
                c
            } else {
                in_part = true;
                if part < PUBLIC_PARTS { c } else { '*' }
            }
        })
        .collect()
}

/// What Tab puts in place of the text before `pos` ([`complete`]: the last word finished, with
/// the `-` that follows unless it is the phrase's last word), when the typed prefix names exactly
/// one word of the list. Several candidates are not listed: that would show what is hidden.
pub fn completion(line: &str, pos: usize) -> Option<String> {
    match complete(line.get(..pos)?) {
        Completion::Unique(text) => Some(text),
        Completion::Ambiguous(_) | Completion::Nothing => None,
    }
}

/// rustyline's hooks: completion and the mask, nothing else.
struct PhraseHelper;

impl Completer for PhraseHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(completion(line, pos).map_or((pos, Vec::new()), |text| (0, vec![text])))
    }
}

impl Highlighter for PhraseHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Owned(masked(line))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        true
    }
}

impl Hinter for PhraseHelper {
    type Hint = String;
}

impl Validator for PhraseHelper {}

impl Helper for PhraseHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_words_are_masked_and_the_channel_is_not() {
        assert_eq!(
            masked("482193-cedar-comet-maple-otter-tulip"),
            "482193-cedar-*****-*****-*****-*****"
        );
        assert_eq!(masked(" 482193  Cedar comet"), " 482193  Cedar *****");
        assert_eq!(masked("482193-ced"), "482193-ced");
        assert_eq!(masked("482193--cedar--x"), "482193--cedar--*");
        assert_eq!(masked(""), "");
        // Whatever is typed, no letter of the third part onwards shows.
        assert_eq!(masked("a b cdé-fg"), "a b ***-**");
    }

    #[test]
    fn tab_completes_a_unique_prefix_and_nothing_else() {
        let tab = |line: &str, pos| completion(line, pos);
        assert_eq!(tab("482193-acor", 11).as_deref(), Some("482193-acorn-"));
        let last = "482193-cedar-comet-maple-otter-acor";
        assert_eq!(
            tab(last, last.len()).as_deref(),
            Some("482193-cedar-comet-maple-otter-acorn")
        );
        // Ambiguous (the candidates would show the hidden prefix), unknown, or the number.
        assert_eq!(tab("482193-cedar-ac", 15), None);
        assert_eq!(tab("482193-zzz", 10), None);
        assert_eq!(tab("4821", 4), None);
        // The text before the cursor is what completes; a cursor past the end or inside a
        // character is no completion, not a panic.
        assert_eq!(
            tab("482193-acor-comet", 11).as_deref(),
            Some("482193-acorn-")
        );
        assert_eq!(tab("482193-acor", 99), None);
        assert_eq!(tab("482193-é", 8), None);
    }
}

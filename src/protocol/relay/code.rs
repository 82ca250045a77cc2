//! What two people share: the public channel name and the secret code, read together as one
//! phrase such as `482193-cedar-comet-maple-otter-tulip`.
//!
//! - The **code** is four words from a fixed list of 256 (32 bits): the SPAKE2 password. It never
//!   goes to the server. 32 bits are plenty for a PAKE: an attacker gets one online guess per
//!   exchange, and a wrong guess makes both sides abort.
//! - The **channel name** is drawn by the server, independently of the code: six digits and a
//!   word (900,000 × 256 = 230.4 million names), so that with joins rate-limited per address a
//!   stranger cannot find live channels faster than blind luck (docs/SECURITY.md).

use super::Error;
use rand_core::{CryptoRng, RngCore};
use std::fmt;

/// Words in a code.
pub const WORDS: usize = 4;
/// Longest text [`Code::parse`] looks at.
pub const MAX_CODE_TEXT: usize = 128;

/// The shared secret, normalized (`word-word-word-word`). Its `Debug` form hides the words.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// A random code.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; WORDS];
        rng.fill_bytes(&mut bytes);
        let words: Vec<&str> = bytes.iter().map(|&b| word(b)).collect();
        Self(words.join("-"))
    }

    /// Reads a code typed by a person: any case, words separated by `-` or spaces.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_CODE_TEXT {
            return Err(Error::BadCode);
        }
        let lower = text.trim().to_ascii_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| c == '-' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() != WORDS || !words.iter().all(|w| WORDLIST.contains(w)) {
            return Err(Error::BadCode);
        }
        Ok(Self(words.join("-")))
    }

    /// The SPAKE2 password.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(<hidden>)")
    }
}

/// Digits of a channel name's number (the first is not 0).
pub const CHANNEL_DIGITS: u32 = 6;

/// How many channel names there are: 900,000 numbers × 256 words.
pub const CHANNEL_NAMES: u64 = 9 * 10u64.pow(CHANNEL_DIGITS - 1) * WORDLIST.len() as u64;

/// A random channel name, `NNNNNN-word`.
pub fn channel_name<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> String {
    let low = 10u32.pow(CHANNEL_DIGITS - 1);
    // Rejection sampling keeps both parts uniform.
    let number = loop {
        let candidate = rng.next_u32() >> 8; // 24 bits
        if candidate < (1 << 24) / (9 * low) * (9 * low) {
            break low + candidate % (9 * low);
        }
    };
    let mut byte = [0u8; 1];
    rng.fill_bytes(&mut byte);
    let [byte] = byte;
    format!("{number}-{}", word(byte))
}

/// Whether `name` has the shape of [`channel_name`]'s names: six digits (no leading 0), `-`, a
/// word of the list.
pub fn is_channel_name(name: &str) -> bool {
    let Some((number, word)) = name.split_once('-') else {
        return false;
    };
    number.len() == CHANNEL_DIGITS as usize
        && number.bytes().all(|b| b.is_ascii_digit())
        && !number.starts_with('0')
        && WORDLIST.contains(&word)
}

/// What people read to each other: the public channel name, then the code, e.g.
/// `482193-cedar-comet-maple-otter-tulip`.
pub fn phrase(channel: &str, code: &Code) -> String {
    format!("{channel}-{code}")
}

/// Splits a phrase into its channel (everything before the last four words) and code. Words may
/// be separated by `-` or spaces, in any case.
pub fn split_phrase(text: &str) -> Result<(String, Code), Error> {
    if text.len() > MAX_CODE_TEXT {
        return Err(Error::BadCode);
    }
    let lower = text.trim().to_ascii_lowercase();
    let parts: Vec<&str> = lower
        .split(|c: char| c == '-' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let split = parts.len().checked_sub(WORDS).ok_or(Error::BadCode)?;
    let (channel, code) = parts.split_at(split);
    let channel = channel.join("-");
    if !is_channel_name(&channel) {
        return Err(Error::BadCode);
    }
    Ok((channel, Code::parse(&code.join("-"))?))
}

/// Words in a whole phrase: the channel's number and word, then the code's [`WORDS`].
pub const PHRASE_WORDS: usize = 2 + WORDS;

/// What Tab does to a phrase being typed ([`complete`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The last word had one possible ending: the whole text, completed (followed by `-` while
    /// words are still to come).
    Unique(String),
    /// Several words of the list start so: the candidates, in the list's order.
    Ambiguous(Vec<&'static str>),
    /// Nothing to complete: no word started, digits, no word of the list starts so, the phrase
    /// is whole, or the text is longer than a phrase can be.
    Nothing,
}

/// Completes the last word of a phrase being typed against [`WORDLIST`]: `482193-ced` →
/// `482193-cedar-`. Case is ignored (the completed word is lowercase); the text before the word
/// is kept as typed.
pub fn complete(text: &str) -> Completion {
    if text.len() > MAX_CODE_TEXT {
        return Completion::Nothing;
    }
    let start = text
        .rfind(|c: char| c == '-' || c.is_whitespace())
        .map_or(0, |at| at + 1);
    let (before, prefix) = text.split_at(start);
    let prefix = prefix.to_ascii_lowercase();
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_lowercase()) {
        return Completion::Nothing;
    }
    let candidates: Vec<&'static str> = WORDLIST
        .iter()
        .copied()
        .filter(|w| w.starts_with(&prefix))
        .collect();
    match candidates.as_slice() {
        [] => Completion::Nothing,
        [word] => {
            let words = before
                .split(|c: char| c == '-' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .count()
                + 1;
            let next = if words < PHRASE_WORDS { "-" } else { "" };
            let completed = format!("{before}{word}{next}");
            // A whole last word: nothing to add, and Tab must move on as usual.
            if completed == text {
                Completion::Nothing
            } else {
                Completion::Unique(completed)
            }
        }
        _ => Completion::Ambiguous(candidates),
    }
}

/// The word a byte stands for.
#[allow(clippy::indexing_slicing, reason = "a u8 always indexes the 256 words")]
fn word(byte: u8) -> &'static str {
    WORDLIST[usize::from(byte)]
}

/// 256 short, distinct, easy-to-say words: one byte each.
pub const WORDLIST: [&str; 256] = [
    "acid", "acorn", "actor", "adobe", "agent", "album", "alert", "alley", "amber", "anchor",
    "angle", "ankle", "apple", "apron", "arena", "armor", "arrow", "aspen", "atlas", "attic",
    "autumn", "award", "bacon", "badge", "bagel", "baker", "balmy", "bamboo", "banjo", "barn",
    "basil", "basin", "beach", "beacon", "beard", "beetle", "bench", "berry", "bike", "bison",
    "blade", "blanket", "blaze", "bloom", "blues", "boat", "bonus", "boots", "bottle", "bounce",
    "brave", "bread", "brick", "bridge", "brook", "brush", "bucket", "buffalo", "bugle", "cabin",
    "cactus", "camel", "candle", "canoe", "canyon", "carbon", "cargo", "carpet", "castle", "cedar",
    "cello", "chalk", "cherry", "chess", "chimney", "cider", "circus", "citrus", "clover",
    "cobalt", "cocoa", "comet", "coral", "cosmic", "cotton", "cougar", "crane", "crayon",
    "cricket", "crown", "cube", "cycle", "daisy", "dance", "delta", "denim", "desert", "diesel",
    "dingo", "dock", "dolphin", "domino", "donkey", "dragon", "dream", "drift", "drum", "eagle",
    "easel", "echo", "eclipse", "elbow", "elder", "ember", "emerald", "engine", "falcon", "fancy",
    "feather", "fender", "fern", "fiddle", "fjord", "flame", "flint", "flute", "forest", "fossil",
    "fox", "frost", "galaxy", "garden", "garlic", "gecko", "geyser", "ginger", "glacier", "glove",
    "goblin", "gopher", "grape", "gravel", "guitar", "habit", "hammer", "harbor", "harvest",
    "hazel", "helmet", "hermit", "hiker", "honey", "hornet", "husky", "igloo", "index", "indigo",
    "iris", "island", "ivory", "jacket", "jaguar", "jasmine", "jelly", "jigsaw", "jungle", "kayak",
    "kernel", "kettle", "kiwi", "koala", "ladder", "lagoon", "lantern", "laser", "lemon", "lilac",
    "linen", "lizard", "lobster", "locket", "lotus", "lunar", "magnet", "mango", "maple", "marble",
    "meadow", "melon", "meteor", "mint", "mirror", "mocha", "monkey", "mosaic", "motor", "muffin",
    "nectar", "needle", "nickel", "noodle", "nova", "oasis", "ocean", "olive", "onion", "opal",
    "orbit", "orchid", "otter", "oyster", "paddle", "panda", "papaya", "parrot", "pebble",
    "pepper", "piano", "pickle", "pilot", "pine", "pixel", "planet", "plum", "polar", "pony",
    "poppy", "prism", "puzzle", "quartz", "quill", "rabbit", "radar", "raven", "reef", "ribbon",
    "river", "robin", "rocket", "saddle", "salmon", "sandal", "satin", "scarf", "shadow", "silver",
    "sketch", "sonic", "spruce", "summit", "tango", "tiger", "tulip", "velvet", "walnut", "willow",
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn codes_round_trip_and_bad_ones_are_refused() {
        let mut words = WORDLIST.to_vec();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), 256, "the word list has duplicates");
        let code = Code::generate(&mut OsRng);
        assert_eq!(Code::parse(&code.to_string()).unwrap(), code);
        assert_eq!(format!("{code:?}"), "Code(<hidden>)");
        let typed = Code::parse("  Comet MAPLE-otter   tulip ").unwrap();
        assert_eq!(typed.to_string(), "comet-maple-otter-tulip");
        let (channel, parsed) = split_phrase("482193-cedar-comet-maple-otter-tulip").unwrap();
        assert_eq!((channel.as_str(), parsed), ("482193-cedar", typed.clone()));
        let (channel, parsed) = split_phrase(" 482193 Cedar comet MAPLE otter-tulip").unwrap();
        assert_eq!((channel.as_str(), parsed), ("482193-cedar", typed));
        for bad in [
            "",
            "comet-maple-otter",
            "comet-maple-otter-tulip-fox",
            "comet-maple-otter-zzz",
        ] {
            assert_eq!(Code::parse(bad).unwrap_err(), Error::BadCode, "{bad}");
        }
        assert_eq!(
            Code::parse(&"comet ".repeat(100)).unwrap_err(),
            Error::BadCode
        );
        for bad in [
            "comet-maple-otter-tulip-x",
            "4821",
            "4821-comet-maple-otter-tulip",
            "482193-comet-maple-otter-tulip",
            "082193-cedar-comet-maple-otter-tulip",
            "482193-zzz-comet-maple-otter-tulip",
            "a/b-cedar-comet-maple-otter-tulip",
        ] {
            assert!(split_phrase(bad).is_err(), "{bad}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn channel_names_have_their_shape_and_spread_over_the_space() {
        assert_eq!(CHANNEL_NAMES, 230_400_000);
        let mut seen = std::collections::HashSet::new();
        let mut first_digits = [0u32; 10];
        for _ in 0..2000 {
            let name = channel_name(&mut OsRng);
            assert!(is_channel_name(&name), "{name}");
            first_digits[usize::from(name.as_bytes()[0] - b'0')] += 1;
            seen.insert(name);
        }
        assert!(seen.len() > 1990, "names repeat: {}", seen.len());
        assert_eq!(first_digits[0], 0);
        // Leading digits 1–9 are equally likely: each about 222 of 2000.
        assert!(
            first_digits[1..].iter().all(|&n| (120..340).contains(&n)),
            "{first_digits:?}"
        );
        assert!(!is_channel_name("48219-cedar"));
        assert!(!is_channel_name("4821931-cedar"));
        assert!(!is_channel_name("482193-cedar-x"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn tab_completes_a_unique_word_and_lists_ambiguous_ones() {
        let unique = |text: &str, want: &str| {
            assert_eq!(complete(text), Completion::Unique(want.into()), "{text:?}")
        };
        unique("482193-ced", "482193-cedar-");
        unique("482193-cedar-COM", "482193-cedar-comet-");
        unique("482193 cedar com", "482193 cedar comet-");
        // The last word of a phrase gets no separator after it.
        unique(
            "482193-cedar-comet-maple-otter-tul",
            "482193-cedar-comet-maple-otter-tulip",
        );
        // A whole word that starts no other is still completed (the separator is added).
        unique("482193-cedar", "482193-cedar-");
        assert_eq!(
            complete("482193-cedar-c"),
            Completion::Ambiguous(
                WORDLIST
                    .iter()
                    .copied()
                    .filter(|w| w.starts_with('c'))
                    .collect()
            )
        );
        assert_eq!(
            complete("482193-ba"),
            Completion::Ambiguous(vec![
                "bacon", "badge", "bagel", "baker", "balmy", "bamboo", "banjo", "barn", "basil",
                "basin"
            ])
        );
        for nothing in [
            "",
            "4821",
            "482193-cedar-comet-maple-otter-tulip",
            "482193-",
            "482193-cedar ",
            "482193-zzz",
            "482193-c3",
            "é",
        ] {
            assert_eq!(complete(nothing), Completion::Nothing, "{nothing:?}");
        }
        assert_eq!(
            complete(&format!("{}ced", "-".repeat(MAX_CODE_TEXT))),
            Completion::Nothing
        );
        // Every word of the list completes from a prefix that only it has.
        for word in WORDLIST {
            let shortest = (1..=word.len())
                .map(|n| &word[..n])
                .find(|p| WORDLIST.iter().filter(|w| w.starts_with(p)).count() == 1)
                .unwrap();
            unique(&format!("482193-{shortest}"), &format!("482193-{word}-"));
        }
    }
}

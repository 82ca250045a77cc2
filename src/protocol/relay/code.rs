//! The code two people share: four words from a fixed list of 256 (32 bits of entropy).
//!
//! 32 bits are plenty for a PAKE: an attacker gets one online guess per exchange, and a wrong
//! guess makes both sides abort. The code is the SPAKE2 password; it never goes to the server.

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
        let words: Vec<&str> = bytes.iter().map(|&b| WORDLIST[usize::from(b)]).collect();
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

/// What people read to each other: the public channel name, then the code, e.g.
/// `4821-comet-maple-otter-tulip`.
pub fn phrase(channel: &str, code: &Code) -> String {
    format!("{channel}-{code}")
}

/// Splits a phrase into its channel (the first `-`-separated part) and code.
pub fn split_phrase(text: &str) -> Result<(String, Code), Error> {
    let text = text.trim();
    if text.len() > MAX_CODE_TEXT {
        return Err(Error::BadCode);
    }
    let (channel, rest) = text.split_once(['-', ' ']).ok_or(Error::BadCode)?;
    let channel_ok = !channel.is_empty()
        && channel.len() <= 64
        && channel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !channel_ok {
        return Err(Error::BadCode);
    }
    Ok((channel.to_owned(), Code::parse(rest)?))
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
        let (channel, parsed) = split_phrase("4821-comet-maple-otter-tulip").unwrap();
        assert_eq!((channel.as_str(), parsed), ("4821", typed));
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
            "a/b-comet-maple-otter-tulip",
        ] {
            assert!(split_phrase(bad).is_err(), "{bad}");
        }
    }
}

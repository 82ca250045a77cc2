//! The receive link a sender shares (a QR code or a pasted address): `{origin}/receive#code=PHRASE`.
//!
//! The phrase rides in the URL *fragment*, which browsers never send to the server (nor put in a
//! `Referer`), so the relay still never sees the code; the receive page reads it, then erases it
//! from the address bar and the history. A fragment is whatever a stranger's link says, so
//! [`phrase_from_fragment`] takes only a well-formed phrase out of it, or nothing.

use super::code::{MAX_CODE_TEXT, phrase, split_phrase};

/// The page a receive link opens.
pub const RECEIVE_PATH: &str = "/receive";
/// The fragment's key that carries the phrase.
const CODE_KEY: &str = "code=";
/// Longest fragment looked at: the key, a phrase and a few other parameters.
const MAX_FRAGMENT: usize = 2 * MAX_CODE_TEXT;

/// The address that opens the receive page with `phrase` filled in: `{origin}/receive#code=…`.
/// `origin` is the page's own (`https://host:port`, no trailing `/`).
pub fn receive_link(origin: &str, phrase: &str) -> String {
    format!(
        "{}{RECEIVE_PATH}#{CODE_KEY}{phrase}",
        origin.trim_end_matches('/')
    )
}

/// The phrase a receive link's fragment carries (with or without its `#`), normalized
/// (lowercase, words joined by `-`); `None` unless the fragment has exactly one `code=` whose
/// value is a whole phrase of letters, digits and `-` (other `&`-separated keys are ignored).
pub fn phrase_from_fragment(fragment: &str) -> Option<String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.len() > MAX_FRAGMENT {
        return None;
    }
    let mut values = fragment.split('&').filter_map(|p| p.strip_prefix(CODE_KEY));
    let value = values.next()?;
    if values.next().is_some()
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let (channel, code) = split_phrase(value).ok()?;
    Some(phrase(&channel, &code))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHRASE: &str = "482193-cedar-comet-maple-otter-tulip";

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_link_carries_the_phrase_in_its_fragment_and_reads_back() {
        let link = receive_link("https://relay.example:8443/", PHRASE);
        assert_eq!(
            link,
            "https://relay.example:8443/receive#code=482193-cedar-comet-maple-otter-tulip"
        );
        let (before, fragment) = link.split_once('#').unwrap();
        assert!(
            !before.contains("cedar"),
            "the phrase must not reach the server"
        );
        assert_eq!(phrase_from_fragment(fragment).as_deref(), Some(PHRASE));
        assert_eq!(
            phrase_from_fragment(&format!("#{fragment}")).as_deref(),
            Some(PHRASE)
        );
        // Typed in another case, among other keys: normalized.
        assert_eq!(
            phrase_from_fragment("#x=1&code=482193-Cedar-COMET-maple-otter-tulip&y").as_deref(),
            Some(PHRASE)
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn hostile_fragments_give_no_phrase() {
        let long = format!("#code={PHRASE}&{}", "x".repeat(MAX_FRAGMENT));
        for bad in [
            "",
            "#",
            "#code=",
            "#code",
            // Not a phrase: bad words, too few words, a bad channel.
            "#code=482193-cedar-comet-maple-otter-zebra",
            "#code=482193-cedar-comet-maple-otter",
            "#code=082193-cedar-comet-maple-otter-tulip",
            "#code=comet-maple-otter-tulip",
            // Other keys only, or one that merely ends in "code=".
            "#phrase=482193-cedar-comet-maple-otter-tulip",
            "#xcode=482193-cedar-comet-maple-otter-tulip",
            // Two codes: which one would the person have meant?
            "#code=482193-cedar-comet-maple-otter-tulip&code=482193-cedar-comet-maple-otter-tulip",
            // Characters a phrase never has: escapes, spaces, markup, other separators.
            "#code=482193-cedar-comet-maple-otter-tulip%00",
            "#code=482193%2Dcedar-comet-maple-otter-tulip",
            "#code=482193 cedar comet maple otter tulip",
            "#code=<script>",
            "#code=482193-cedar-comet-maple-otter-tulip/",
            "#code=482193-cedar-comet-maple-otter-tulip\u{202e}",
            long.as_str(),
        ] {
            assert_eq!(phrase_from_fragment(bad), None, "{bad:?}");
        }
        let oversized = format!("#code={}", "a-".repeat(MAX_CODE_TEXT));
        assert_eq!(phrase_from_fragment(&oversized), None);
    }
}

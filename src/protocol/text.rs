//! Text a person typed (names, file names): what must never be shown as part of it.

/// Unicode's bidirectional formatting characters (U+061C ARABIC LETTER MARK, U+200E/F, U+202A–E,
/// U+2066–9): invisible, they reorder what follows — `photo\u{202e}gpj.exe` reads as
/// "photoexe.jpg" — so names refuse them (or drop them) along with control characters.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_bidi_formatting_character_and_nothing_else() {
        let bidi: Vec<char> = (0..=0x2100u32)
            .filter_map(char::from_u32)
            .filter(|&c| super::is_bidi_control(c))
            .collect();
        let expected: Vec<char> = [
            0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
        ]
        .into_iter()
        .chain(0x2066..=0x2069)
        .filter_map(char::from_u32)
        .collect();
        assert_eq!(bidi, expected);
    }
}

//! Received file names, made safe: one path component, printable, bounded.

use super::Error;
use crate::protocol::text::is_bidi_control;

/// Longest name kept, in bytes.
pub const MAX_FILENAME_BYTES: usize = 255;
/// Longest extension (with its dot) that [`shorten_filename`] keeps when it cuts a name.
const MAX_KEPT_EXTENSION: usize = 16;

/// Reduces a name the other side sent to something safe to create inside the chosen folder:
/// the last component after any `/` or `\`; control characters and Unicode bidirectional
/// controls removed; surrounding spaces and dots trimmed (so never `.`, `..` or a hidden file);
/// at most 255 bytes (cut as [`shorten_filename`] does). Nothing left is [`Error::BadFilename`].
pub fn sanitize_filename(name: &str) -> Result<String, Error> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !is_hidden_char(*c)).collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let short = shorten_filename(trimmed, MAX_FILENAME_BYTES);
    let result = short.trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    if result.is_empty() {
        Err(Error::BadFilename)
    } else {
        Ok(result.to_owned())
    }
}

/// Characters a received name may never show: control characters (NUL included) and Unicode
/// bidirectional controls. [`sanitize_filename`] drops them; a manifest refuses them.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `name` cut to at most `max` bytes on a character boundary. A short extension (the last `.` and
/// at most 15 bytes after it, at most half of `max`) is kept and the part before it is cut
/// instead, so a long `report….pdf` stays a `.pdf`.
pub fn shorten_filename(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = match name.rfind('.') {
        Some(dot) if dot > 0 => &name[dot..],
        _ => "",
    };
    let ext = if ext.len() <= MAX_KEPT_EXTENSION && ext.len() * 2 <= max {
        ext
    } else {
        ""
    };
    let stem = cut_at_char(&name[..name.len() - ext.len()], max - ext.len());
    if stem.is_empty() {
        // Never just the extension (a hidden file): then a plain cut.
        return cut_at_char(name, max).to_owned();
    }
    format!("{stem}{ext}")
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn cut_at_char(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn names_are_reduced_to_one_safe_component() {
        let ok = |input: &str, want: &str| {
            assert_eq!(sanitize_filename(input).unwrap(), want, "{input:?}")
        };
        ok("report.pdf", "report.pdf");
        ok("../../etc/passwd", "passwd");
        ok("a\\b\\c.txt", "c.txt");
        ok("/abs/path/x", "x");
        ok("bad\nname\u{7}.txt", "badname.txt");
        ok("evil\u{202e}txt.exe", "eviltxt.exe");
        ok("a\u{061c}b.txt", "ab.txt");
        ok("  .hidden ", "hidden");
        ok("..foo..", "foo");
        let long = "é".repeat(200);
        let cut = sanitize_filename(&long).unwrap();
        assert!(cut.len() <= MAX_FILENAME_BYTES && cut.chars().all(|c| c == 'é'));
        // A long name keeps its extension.
        let long = format!("{}.pdf", "é".repeat(200));
        let cut = sanitize_filename(&long).unwrap();
        assert!(cut.len() <= MAX_FILENAME_BYTES, "{cut}");
        assert!(cut.ends_with("é.pdf"), "{cut}");
        for bad in ["", ".", "..", "a/..", "dir/", " ", "\u{1}\u{2}"] {
            assert_eq!(
                sanitize_filename(bad).unwrap_err(),
                Error::BadFilename,
                "{bad:?}"
            );
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn names_are_cut_on_char_boundaries_keeping_short_extensions() {
        assert_eq!(shorten_filename("a.txt", 5), "a.txt");
        // "é" is 2 bytes: 9 bytes of room before ".txt" hold 4 of them.
        assert_eq!(shorten_filename("éééééé.txt", 13), "éééé.txt");
        // No dot, only a leading dot, an extension too long to keep: a plain cut.
        assert_eq!(shorten_filename("ééééé", 5), "éé");
        assert_eq!(shorten_filename(".ééé", 4), ".é");
        let long_ext = format!("a.{}", "x".repeat(20));
        assert_eq!(shorten_filename(&long_ext, 10), "a.xxxxxxxx");
        // An extension over half the room is not kept either.
        assert_eq!(shorten_filename("abcdef.txt", 7), "abcdef.");
        // Never only the extension: "𝄞" (4 bytes) does not fit in the 3 bytes before ".",
        // so the cut is plain.
        assert_eq!(shorten_filename("𝄞𝄞.", 4), "𝄞");
        for name in ["ééééé.txt", "日本語のファイル名.tar.gz", "x.y", "𝄞𝄞𝄞.𝄞"]
        {
            let ext = &name[name.rfind('.').unwrap()..];
            for max in 0..=name.len() + 1 {
                let cut = shorten_filename(name, max);
                assert!(cut.len() <= max, "{name} in {max}: {cut}");
                let kept_ext = cut.strip_suffix(ext).filter(|_| cut.len() < name.len());
                assert!(
                    name.starts_with(&cut) || kept_ext.is_some_and(|stem| name.starts_with(stem)),
                    "{name} in {max}: {cut}"
                );
            }
        }
    }
}

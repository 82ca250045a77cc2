//! Received file names, made safe: one path component, printable, bounded.

use super::Error;

/// Longest name kept, in bytes.
pub const MAX_FILENAME_BYTES: usize = 255;

/// Reduces a name the other side sent to something safe to create inside the chosen folder:
/// the last component after any `/` or `\`; control characters and Unicode bidirectional
/// controls removed; surrounding spaces and dots trimmed (so never `.`, `..` or a hidden file);
/// at most 255 bytes (cut on a character boundary). Nothing left is [`Error::BadFilename`].
pub fn sanitize_filename(name: &str) -> Result<String, Error> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let mut end = trimmed.len().min(MAX_FILENAME_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let result = trimmed[..end].trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    if result.is_empty() {
        Err(Error::BadFilename)
    } else {
        Ok(result.to_owned())
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
        ok("  .hidden ", "hidden");
        ok("..foo..", "foo");
        let long = "é".repeat(200);
        let cut = sanitize_filename(&long).unwrap();
        assert!(cut.len() <= MAX_FILENAME_BYTES && cut.chars().all(|c| c == 'é'));
        for bad in ["", ".", "..", "a/..", "dir/", " ", "\u{1}\u{2}"] {
            assert_eq!(
                sanitize_filename(bad).unwrap_err(),
                Error::BadFilename,
                "{bad:?}"
            );
        }
    }
}

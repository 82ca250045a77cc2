//! A QR code drawn as SVG: the `qrcode` crate computes the modules (no image or SVG features, so
//! nothing else is linked), and [`qr_path`] turns the dark ones into one `<path>`. Used on /send
//! for the receive link, so the recipient can point a phone at the sender's screen.

use leptos::prelude::*;
use qrcode::{Color, EcLevel, QrCode as Code};

/// Light modules around the code, as the standard asks for its readers.
const QUIET_ZONE: usize = 4;

/// The side of the drawing in modules (the code's plus the quiet zone) and an SVG path with one
/// unit square per dark module; `None` if `text` does not fit in a QR code.
pub fn qr_path(text: &str) -> Option<(usize, String)> {
    let code = Code::with_error_correction_level(text, EcLevel::M).ok()?;
    let width = code.width();
    let mut path = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some((width + 2 * QUIET_ZONE, path))
}

/// `text` as an SVG QR code (class `qr`), labelled `label`, with `text` itself in `data-text`.
/// Written as text, as the charts are: an SVG built by the view macro costs more bundle.
pub fn qr_svg(text: &str, label: &str) -> String {
    let (side, path) = qr_path(text).unwrap_or_default();
    format!(
        r##"<svg class="qr" role="img" aria-label="{}" data-text="{}" viewBox="0 0 {side} {side}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##,
        escape(label),
        escape(text)
    )
}

/// `text` safe as HTML text or inside a double-quoted attribute (pages that write their markup as
/// text use it too).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` as a QR code, labelled for screen readers; the text itself is in `data-text` too (so
/// a test, or a person inspecting the page, reads what the code says).
#[component]
pub fn QrCode(#[prop(into)] text: String, #[prop(into)] label: String) -> impl IntoView {
    view! { <div class="qr-box" inner_html=qr_svg(&text, &label) /> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receive_link_becomes_a_code_with_finder_patterns_and_a_quiet_zone() {
        let link = "https://relay.example/receive#code=482193-cedar-comet-maple-otter-tulip";
        let (side, path) = qr_path(link).unwrap();
        let code = Code::with_error_correction_level(link, EcLevel::M).unwrap();
        assert_eq!(side, code.width() + 2 * QUIET_ZONE);
        // Version n is 17 + 4n modules wide; a 75-byte link needs at least version 4 at level M.
        assert!(
            (code.width() - 17).is_multiple_of(4) && code.width() >= 33,
            "{}",
            code.width()
        );
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        assert_eq!(path.matches('M').count(), dark);
        // The top-left finder pattern: its corner module is dark, drawn just inside the quiet zone;
        // nothing is drawn in the quiet zone itself.
        assert!(path.starts_with(&format!("M{QUIET_ZONE} {QUIET_ZONE}h1v1h-1z")));
        for square in path.split('M').skip(1) {
            let (x, rest) = square.split_once(' ').unwrap();
            let y = rest.split_once('h').unwrap().0;
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((QUIET_ZONE..side - QUIET_ZONE).contains(&x), "{square}");
            assert!((QUIET_ZONE..side - QUIET_ZONE).contains(&y), "{square}");
        }
        // Another link, another picture.
        assert_ne!(qr_path(&link.replace("tulip", "tiger")).unwrap().1, path);
        assert!(qr_path(&"x".repeat(5000)).is_none());
        let svg = qr_svg("a\"<b>&", "QR");
        assert!(
            svg.contains(r#"data-text="a&quot;&lt;b&gt;&amp;""#),
            "{svg}"
        );
    }
}

//! `/send` and `/receive`: the Relay in the browser. Rendered on the server; the transfer itself
//! runs in the hydrated page (see `crate::client::transfer`). transfer/send.rs: the text or
//! files, the phrase with its QR code and copy buttons; transfer/receive.rs: the phrase (from a
//! receive link's fragment, Tab-completed), the list of several files to accept; both end with
//! [`Delivered`]: what went, its size and SHA-256.

mod receive;
mod send;

use crate::components::{fixed::Fixed, qr_code::escape};
use leptos::prelude::*;
pub use receive::ReceivePage;
pub use send::SendPage;

/// One item of a finished transfer, as both pages list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    pub size: u64,
    /// Lowercase hex, once computed.
    pub sha256: Option<String>,
    /// The receiver's object URL of the file, for its Save link.
    pub url: Option<String>,
    /// The name the Save link downloads to.
    pub download: String,
}

/// A size for people: bytes up to 10 kB, then kB / MB with one decimal.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..10_000 => format!("{bytes} bytes"),
        10_000..10_000_000 => format!("{} kB", Fixed(bytes as f64 / 1e3, 1)),
        _ => format!("{} MB", Fixed(bytes as f64 / 1e6, 1)),
    }
}

/// The end state as HTML text: each item's name, size, SHA-256 and (receiver) its Save link;
/// the first link is `#{id}-download`, the others `#{id}-download-{i}`. Text rather than a
/// `<For>` view, which costs the bundle more than the list is worth.
pub fn delivered_html(items: &[Item], id: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut html = format!(r#"<ul id="{id}-done" class="delivered panel">"#);
    for (i, item) in items.iter().enumerate() {
        let sha = item.sha256.as_deref().unwrap_or("");
        html.push_str(&format!(
            r#"<li class="delivered-item" data-name="{name}" data-size="{size}" data-sha256="{sha}"><strong>{name}</strong> · {shown}<br>SHA-256 <code class="sha256">{code}</code>"#,
            name = escape(&item.name),
            size = item.size,
            sha = escape(sha),
            shown = human_size(item.size),
            code = if sha.is_empty() { "…".to_owned() } else { escape(sha) },
        ));
        if let Some(url) = &item.url {
            let link = if i == 0 {
                format!("{id}-download")
            } else {
                format!("{id}-download-{i}")
            };
            html.push_str(&format!(
                r#"<br><a id="{link}" href="{}" download="{name}">Save {name}</a>"#,
                escape(url),
                name = escape(&item.download),
            ));
        }
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    html
}

/// Names and sizes as `<li>` items (HTML text, escaped), with `class` on each.
pub fn list_html(items: &[(String, u64)], class: &str) -> String {
    items
        .iter()
        .map(|(name, size)| {
            format!(
                r#"<li class="{class}">{} · {}</li>"#,
                escape(name),
                human_size(*size)
            )
        })
        .collect()
}

/// [`delivered_html`] for a signal.
#[component]
fn Delivered(items: ReadSignal<Vec<Item>>, id: &'static str) -> impl IntoView {
    view! { <div inner_html=move || items.with(|items| delivered_html(items, id)) /> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(9_999), "9999 bytes");
        assert_eq!(human_size(12_345), "12.3 kB");
        assert_eq!(human_size(5_242_880), "5242.9 kB");
        assert_eq!(human_size(10_000_000), "10.0 MB");
    }

    #[test]
    fn the_end_state_escapes_what_the_other_side_named() {
        let item = |name: &str, url: Option<&str>| Item {
            name: name.into(),
            size: 3,
            sha256: Some("ab".into()),
            url: url.map(Into::into),
            download: name.into(),
        };
        assert_eq!(delivered_html(&[], "x"), "");
        let html = delivered_html(
            &[
                item("<img src=x onerror=alert(1)>", Some("blob:o/1")),
                item("b\"c", Some("blob:o/2")),
            ],
            "receive",
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"data-name="&lt;img src=x onerror=alert(1)&gt;""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<a id="receive-download" href="blob:o/1""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<a id="receive-download-1" href="blob:o/2" download="b&quot;c">"#),
            "{html}"
        );
        assert!(html.contains(r#"data-sha256="ab""#) && html.contains("3 bytes"));
        assert_eq!(
            list_html(&[("<b>".into(), 12_345)], "f"),
            r#"<li class="f">&lt;b&gt; · 12.3 kB</li>"#
        );
    }
}

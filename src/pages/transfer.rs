//! `/send` and `/receive`: the Relay in the browser. Rendered on the server; the transfer itself
//! runs in the hydrated page (see `crate::client::transfer`). transfer/send.rs: the text or
//! files, the phrase with its QR code and copy buttons; transfer/receive.rs: the phrase (from a
//! receive link's fragment, Tab-completed), the list of several files to accept; both end with
//! [`Delivered`]: what went, its size and SHA-256.

mod receive;
mod send;

use crate::components::fixed::Fixed;
use leptos::prelude::*;
pub use receive::ReceivePage;
pub use send::SendPage;

/// One item of a finished transfer, as both pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// The end state: each item's name, size, SHA-256 and (receiver) its Save link; the first link
/// is `#{id}-download`, the others `#{id}-download-{i}`.
#[component]
fn Delivered(items: ReadSignal<Vec<Item>>, id: &'static str) -> impl IntoView {
    view! {
        <Show when=move || !items.get().is_empty()>
            <ul id=format!("{id}-done") class="delivered panel">
                <For each=move || items.get().into_iter().enumerate() key=|(i, item)| (*i, item.clone())
                    children=move |(i, item)| view! {
                    <li class="delivered-item" data-name=item.name.clone() data-size=item.size.to_string()
                        data-sha256=item.sha256.clone().unwrap_or_default()>
                        <strong>{item.name.clone()}</strong>
                        " · " {human_size(item.size)}
                        <br />
                        "SHA-256 " <code class="sha256">{item.sha256.clone().unwrap_or_else(|| "…".into())}</code>
                        {item.url.clone().map(|url| view! {
                            <br />
                            <a id=if i == 0 { format!("{id}-download") } else { format!("{id}-download-{i}") }
                                href=url download=item.download.clone()>
                                "Save " {item.download.clone()}
                            </a>
                        })}
                    </li>
                } />
            </ul>
        </Show>
    }
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
}

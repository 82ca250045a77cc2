//! `/receive`: the phrase (filled in from a receive link's fragment, which is then erased from
//! the address and the history; Tab completes its words), several files' list to accept or
//! decline, the progress, and what arrived with its SHA-256 and the downloads started.

use super::{Delivered, Item, human_size, list_html};
use crate::{
    components::Meter,
    protocol::relay::{Completion, complete},
};
use leptos::{ev, prelude::*};
use leptos_router::components::A;

/// Several files offered: each file's path and size, and the total.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Offer {
    /// The first [`SHOWN_FILES`] files.
    files: Vec<(String, u64)>,
    count: usize,
    folders: usize,
    total: u64,
}

#[component]
pub fn ReceivePage() -> impl IntoView {
    let (code, set_code) = signal(String::new());
    let (candidates, set_candidates) = signal(Vec::<&'static str>::new());
    let (progress, set_progress) = signal((0u64, 0u64));
    let (status, set_status) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (received_text, set_received_text) = signal(None::<String>);
    let (delivered, set_delivered) = signal(Vec::<Item>::new());
    let (offer, set_offer) = signal(None::<Offer>);
    #[cfg(feature = "hydrate")]
    let answer = StoredValue::new_local(None::<futures::channel::oneshot::Sender<bool>>);
    let button = NodeRef::<leptos::html::Button>::new();

    // A receive link: take the phrase from the fragment, then erase the fragment so the code
    // stays neither in the address bar nor in the history. The person still presses Receive.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(window) = web_sys::window() else {
                return;
            };
            let location = window.location();
            let hash = location.hash().unwrap_or_default();
            if hash.is_empty() {
                return;
            }
            if let Some(phrase) = crate::protocol::relay::phrase_from_fragment(&hash) {
                set_code.set(phrase);
            }
            let bare = format!(
                "{}{}",
                location.pathname().unwrap_or_default(),
                location.search().unwrap_or_default()
            );
            if let Ok(history) = window.history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&bare));
            }
            if let Some(b) = button.get_untracked() {
                let _ = b.focus();
            }
        }
    });
    let on_key = move |ev: ev::KeyboardEvent| {
        if ev.key() != "Tab" || ev.shift_key() || ev.ctrl_key() || ev.alt_key() {
            return;
        }
        match complete(&code.get_untracked()) {
            Completion::Unique(text) => {
                ev.prevent_default();
                set_code.set(text);
                set_candidates.set(Vec::new());
            }
            Completion::Ambiguous(words) => {
                ev.prevent_default();
                set_candidates.set(words);
            }
            // Tab moves on as usual.
            Completion::Nothing => set_candidates.set(Vec::new()),
        }
    };
    let decide = move |yes: bool| {
        set_offer.set(None);
        set_status.set(if yes { "receiving…" } else { "declining…" }.into());
        #[cfg(feature = "hydrate")]
        if let Some(tx) = answer.try_update_value(Option::take).flatten() {
            let _ = tx.send(yes);
        }
    };
    let start = move |_| {
        set_busy.set(true);
        set_received_text.set(None);
        set_delivered.set(Vec::new());
        set_offer.set(None);
        set_candidates.set(Vec::new());
        set_progress.set((0, 0));
        set_status.set("joining…".into());
        #[cfg(feature = "hydrate")]
        {
            use crate::client::{digest, transfer::Incoming};
            let phrase = code.get_untracked();
            // Object URLs of an earlier receive.
            for item in delivered.get_untracked() {
                if let Some(url) = item.url {
                    let _ = web_sys::Url::revoke_object_url(&url);
                }
            }
            leptos::task::spawn_local(async move {
                let ask = move |manifest: crate::protocol::relay::Manifest| {
                    let (tx, rx) = futures::channel::oneshot::channel();
                    answer.set_value(Some(tx));
                    set_offer.set(Some(offer_of(&manifest)));
                    set_status.set("the sender offers these files: accept them?".into());
                    rx
                };
                let result = crate::client::transfer::receive(
                    &phrase,
                    move |done, total| {
                        set_status.set("receiving…".into());
                        set_progress.set((done, total));
                    },
                    ask,
                )
                .await;
                set_offer.set(None);
                match result {
                    Ok(Incoming::Text(t)) => {
                        set_status.set(format!("received a text of {} bytes", t.len()));
                        let sha = digest::sha256_text(&t);
                        set_delivered.set(vec![Item {
                            name: "a text".into(),
                            size: t.len() as u64,
                            sha256: Some(sha),
                            url: None,
                            download: String::new(),
                        }]);
                        set_received_text.set(Some(t));
                    }
                    Ok(Incoming::Files(files)) => {
                        let total: u64 = files.iter().map(|f| f.size).sum();
                        set_status.set(match files.as_slice() {
                            [one] => format!("received {}: {} bytes", one.name, one.size),
                            _ => format!("received {} files: {total} bytes", files.len()),
                        });
                        set_delivered.set(
                            files
                                .iter()
                                .map(|f| Item {
                                    name: f.shown.clone(),
                                    size: f.size,
                                    sha256: None,
                                    url: web_sys::Url::create_object_url_with_blob(&f.blob).ok(),
                                    download: f.name.clone(),
                                })
                                .collect(),
                        );
                        start_downloads(&delivered.get_untracked()).await;
                        set_status.update(|s| {
                            s.push_str(match files.len() {
                                1 => " — the download has started (or use Save below)",
                                _ => " — the downloads have started (or use the Save links below)",
                            })
                        });
                        for (i, file) in files.iter().enumerate() {
                            let sha = digest::sha256_hex(&file.blob)
                                .await
                                .unwrap_or_else(|e| format!("({e})"));
                            set_delivered.update(|items| {
                                if let Some(item) = items.get_mut(i) {
                                    item.sha256 = Some(sha);
                                }
                            });
                        }
                    }
                    Err(e) => set_status.set(format!("stopped: {e}")),
                }
                set_busy.set(false);
            });
        }
    };
    view! {
        <section class="role-page">
            <h1>"Receive"</h1>
            <p>"Type the code the sender read to you (Tab completes a word), or open the link they sent. If it matches, the data arrives encrypted; if not, both sides stop and nothing is sent."</p>
            <div class="panel">
                <input id="receive-code" type="text" placeholder="482193-cedar-comet-maple-otter-tulip" autocomplete="off"
                    spellcheck="false" aria-describedby="receive-candidates"
                    prop:value=move || code.get()
                    on:keydown=on_key
                    on:input=move |ev| { set_code.set(event_target_value(&ev)); set_candidates.set(Vec::new()); } />
                <button id="receive-button" node_ref=button on:click=start disabled=move || busy.get()>"Receive"</button>
            </div>
            <p id="receive-candidates" class="muted" aria-live="polite">
                {move || {
                    let words = candidates.get();
                    (!words.is_empty()).then(|| format!("could be: {}", words.join(", ")))
                }}
            </p>
            <Show when=move || offer.get().is_some()>
                <div id="receive-offer" class="panel offer">
                    {move || offer.get().map(|o| view! {
                        <p>{format!("{} files, {} in all{}:", o.count, human_size(o.total),
                            if o.folders > 0 { format!(" (and {} folders)", o.folders) } else { String::new() })}</p>
                        <ul inner_html=list_html(&o.files, "offered-file") />
                    })}
                    <button id="receive-accept" on:click=move |_| decide(true)>"Accept"</button>
                    " " <button id="receive-decline" on:click=move |_| decide(false)>"Decline"</button>
                </div>
            </Show>
            <Meter progress=progress id="receive" />
            <p id="receive-status">{move || status.get()}</p>
            <Show when=move || received_text.get().is_some()>
                <pre id="receive-text">{move || received_text.get().unwrap_or_default()}</pre>
            </Show>
            <Delivered items=delivered id="receive" />
            <p class="muted"><A href="/">"Choose another role"</A></p>
        </section>
    }
}

/// Most files an offer lists on the page (the count and total cover them all).
const SHOWN_FILES: usize = 200;

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn offer_of(manifest: &crate::protocol::relay::Manifest) -> Offer {
    use crate::protocol::relay::Entry;
    let entries = manifest.entries();
    Offer {
        files: entries
            .iter()
            .filter_map(|e| match e {
                Entry::File { size, .. } => Some((e.display(), *size)),
                Entry::Dir { .. } => None,
            })
            .take(SHOWN_FILES)
            .collect(),
        count: manifest.file_count(),
        folders: entries.len() - manifest.file_count(),
        total: manifest.total_size(),
    }
}

/// Starts each item's download, one after another (a moment apart, so the browser takes each).
#[cfg(feature = "hydrate")]
async fn start_downloads(items: &[Item]) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(url) = &item.url else { continue };
        if i > 0 {
            crate::client::sleep_ms(300).await;
        }
        let Ok(anchor) = document.create_element("a") else {
            return;
        };
        let _ = anchor.set_attribute("href", url);
        let _ = anchor.set_attribute("download", &item.download);
        if let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlElement>() {
            anchor.click();
        }
    }
}

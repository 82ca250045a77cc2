//! `/send`: a text, or files picked or dropped (several go as one transfer); once the phrase
//! exists, the phrase and a receive link (the phrase in its fragment) with copy buttons and a QR
//! code; the progress; what was delivered with its SHA-256.

use super::{Delivered, Item, list_html};
use crate::{
    components::{Meter, QrCode},
    protocol::relay::receive_link,
};
use leptos::{ev, prelude::*};
use leptos_router::components::A;

#[component]
pub fn SendPage() -> impl IntoView {
    let (text, set_text) = signal(String::new());
    // What was picked or dropped, for people; the files themselves stay in the browser.
    let (picked, set_picked) = signal(Vec::<(String, u64)>::new());
    #[cfg(feature = "hydrate")]
    let files = StoredValue::new_local(Vec::<web_sys::File>::new());
    let (over, set_over) = signal(false);
    let (phrase, set_phrase) = signal(None::<String>);
    let (progress, set_progress) = signal((0u64, 0u64));
    let (status, set_status) = signal(String::new());
    let (copied, set_copied) = signal(String::new());
    let (delivered, set_delivered) = signal(Vec::<Item>::new());
    let (busy, set_busy) = signal(false);
    // The last attempt failed in a way a fresh channel and code put right.
    let (start_again, set_start_again) = signal(false);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let phrase_shown = NodeRef::<leptos::html::Code>::new();
    let link_shown = NodeRef::<leptos::html::A>::new();

    #[cfg(feature = "hydrate")]
    let take_files = move |list: Option<web_sys::FileList>| {
        let list: Vec<web_sys::File> = list
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        set_picked.set(list.iter().map(|f| (f.name(), f.size() as u64)).collect());
        files.set_value(list);
    };
    let on_pick = move |_: ev::Event| {
        #[cfg(feature = "hydrate")]
        take_files(file_input.get().and_then(|i| i.files()));
        #[cfg(not(feature = "hydrate"))]
        let _ = set_picked;
    };
    let on_drag = move |ev: ev::DragEvent| {
        // Without this the browser opens the dropped file instead.
        ev.prevent_default();
        set_over.set(true);
    };
    let on_drop = move |ev: ev::DragEvent| {
        ev.prevent_default();
        set_over.set(false);
        #[cfg(feature = "hydrate")]
        take_files(ev.data_transfer().and_then(|d| d.files()));
    };
    let link = move || {
        let origin = {
            #[cfg(feature = "hydrate")]
            {
                web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .unwrap_or_default()
            }
            #[cfg(not(feature = "hydrate"))]
            String::new()
        };
        phrase.get().map(|p| receive_link(&origin, &p))
    };
    let copy = move |what: &'static str| {
        #[cfg(feature = "hydrate")]
        {
            use crate::client::clipboard::{Copied, copy};
            let (value, node): (Option<String>, Option<web_sys::Element>) = match what {
                "phrase" => (
                    phrase.get_untracked(),
                    phrase_shown.get_untracked().map(Into::into),
                ),
                _ => (link(), link_shown.get_untracked().map(Into::into)),
            };
            let Some(value) = value else { return };
            leptos::task::spawn_local(async move {
                set_copied.set(match copy(&value, node).await {
                    Copied::Done => format!("the {what} is copied"),
                    Copied::Selected => {
                        format!("the {what} is selected: press Ctrl+C (or ⌘C) to copy it")
                    }
                });
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (what, set_copied, phrase_shown, link_shown);
    };
    let start = move |_| {
        set_busy.set(true);
        set_start_again.set(false);
        set_phrase.set(None);
        set_copied.set(String::new());
        set_delivered.set(Vec::new());
        set_progress.set((0, 0));
        set_status.set("preparing…".into());
        #[cfg(feature = "hydrate")]
        {
            use crate::client::{digest, transfer::Outgoing};
            let mut chosen = files.get_value();
            let text = text.get_untracked();
            let outgoing = match chosen.len() {
                0 => Outgoing::Text(text.clone()),
                1 => Outgoing::File(chosen.remove(0)),
                _ => Outgoing::Files(chosen),
            };
            leptos::task::spawn_local(async move {
                let result = crate::client::transfer::send(
                    outgoing.clone(),
                    move |p| {
                        set_phrase.set(Some(p));
                        set_status.set("waiting for the recipient…".into());
                    },
                    move |done, total| set_progress.set((done, total)),
                )
                .await;
                set_status.set(match &result {
                    Ok(bytes) => format!("delivered: {bytes} bytes, confirmed by the recipient"),
                    Err(e) => {
                        set_start_again.set(e.start_again());
                        format!("stopped: {e}")
                    }
                });
                set_busy.set(false);
                if result.is_err() {
                    return;
                }
                let sent: Vec<web_sys::File> = match outgoing {
                    Outgoing::Text(t) => {
                        let sha = digest::sha256_text(&t);
                        set_delivered.set(vec![item("a text".into(), t.len() as u64, Some(sha))]);
                        return;
                    }
                    Outgoing::File(f) => vec![f],
                    Outgoing::Files(fs) => fs,
                };
                set_delivered.set(
                    sent.iter()
                        .map(|f| item(f.name(), f.size() as u64, None))
                        .collect(),
                );
                for (i, file) in sent.into_iter().enumerate() {
                    let sha = digest::sha256_hex(&file)
                        .await
                        .unwrap_or_else(|e| format!("({e})"));
                    set_delivered.update(|items| {
                        if let Some(item) = items.get_mut(i) {
                            item.sha256 = Some(sha);
                        }
                    });
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (text, set_start_again, set_delivered);
    };
    view! {
        <section class="role-page">
            <h1>"Send"</h1>
            <p>"Type a text, or choose or drop files, then press Send. You get a code to read to the recipient (or a link and a QR code to share); the data travels end-to-end encrypted through the relay."</p>
            <div class="panel">
                <textarea id="send-text" rows="4" placeholder="a text to send"
                    prop:value=move || text.get()
                    on:input=move |ev| set_text.set(event_target_value(&ev))></textarea>
                <div id="send-drop" class="drop-zone" class:over=move || over.get()
                    on:dragenter=on_drag on:dragover=on_drag
                    on:dragleave=move |_| set_over.set(false) on:drop=on_drop>
                    <p>"Drop files here, or "
                        <label>"choose: " <input id="send-file" type="file" multiple node_ref=file_input on:change=on_pick /></label>
                    </p>
                    <ul id="send-picked" inner_html=move || picked.with(|p| list_html(p, "picked-file")) />
                </div>
                <button id="send-button" on:click=start disabled=move || busy.get()>"Send"</button>
            </div>
            <Show when=move || phrase.get().is_some()>
                <div class="panel share">
                    <div>
                        <p>"Read this code to the recipient:"</p>
                        <p><code id="send-phrase" class="phrase" node_ref=phrase_shown>{move || phrase.get().unwrap_or_default()}</code>
                            " " <button id="copy-phrase" on:click=move |_| copy("phrase")>"Copy code"</button></p>
                        <p>"or send them this link (the code is in the part after #, which never reaches the server):"</p>
                        <p><a id="send-link" node_ref=link_shown href=move || link().unwrap_or_default()>{move || link().unwrap_or_default()}</a>
                            " " <button id="copy-link" on:click=move |_| copy("link")>"Copy link"</button></p>
                        <p id="copy-status" role="status">{move || copied.get()}</p>
                    </div>
                    {move || link().map(|l| view! { <QrCode text=l label="QR code of the receive link" /> })}
                </div>
            </Show>
            <Meter progress=progress id="send" />
            <p id="send-status">{move || status.get()}</p>
            <Delivered items=delivered id="send" />
            <Show when=move || !busy.get() && start_again.get()>
                <button id="send-again" on:click=start>"Start again on a fresh channel"</button>
            </Show>
            <p class="muted"><A href="/">"Choose another role"</A></p>
        </section>
    }
}

/// A delivered item without a Save link.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn item(name: String, size: u64, sha256: Option<String>) -> Item {
    Item {
        download: name.clone(),
        name,
        size,
        sha256,
        url: None,
    }
}

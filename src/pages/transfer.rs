//! `/send` and `/receive`: the Relay in the browser. Rendered on the server; the transfer itself
//! runs in the hydrated page (see `crate::client::transfer`).

use crate::components::fixed::Fixed;
use leptos::prelude::*;
use leptos_router::components::A;

fn percent((done, total): (u64, u64)) -> String {
    match (done * 100).checked_div(total) {
        Some(p) => format!(
            "{p}%  ({} of {} MB)",
            Fixed(done as f64 / 1e6, 1),
            Fixed(total as f64 / 1e6, 1)
        ),
        None => String::new(),
    }
}

#[component]
pub fn SendPage() -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let (phrase, set_phrase) = signal(None::<String>);
    let (progress, set_progress) = signal((0u64, 0u64));
    let (status, set_status) = signal(String::new());
    let (busy, set_busy) = signal(false);
    // The last attempt failed in a way a fresh channel and code put right.
    let (start_again, set_start_again) = signal(false);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let start = move |_| {
        set_busy.set(true);
        set_start_again.set(false);
        set_phrase.set(None);
        set_progress.set((0, 0));
        set_status.set("preparing…".into());
        #[cfg(feature = "hydrate")]
        {
            let file = file_input
                .get()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0));
            let text = text.get_untracked();
            leptos::task::spawn_local(async move {
                let outgoing = match file {
                    Some(file) => crate::client::transfer::Outgoing::File(file),
                    None => crate::client::transfer::Outgoing::Text(text),
                };
                let result = crate::client::transfer::send(
                    outgoing,
                    move |p| {
                        set_phrase.set(Some(p));
                        set_status.set("waiting for the recipient…".into());
                    },
                    move |done, total| set_progress.set((done, total)),
                )
                .await;
                set_status.set(match result {
                    Ok(bytes) => format!("delivered: {bytes} bytes, confirmed by the recipient"),
                    Err(e) => {
                        set_start_again.set(e.start_again());
                        format!("stopped: {e}")
                    }
                });
                set_busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (file_input, text, set_start_again);
    };
    view! {
        <section class="role-page">
            <h1>"Send"</h1>
            <p>"Type a text or choose a file, then press Send. You get a code to read to the recipient; the data travels end-to-end encrypted through the relay."</p>
            <div class="panel">
                <textarea id="send-text" rows="4" placeholder="a text to send"
                    prop:value=move || text.get()
                    on:input=move |ev| set_text.set(event_target_value(&ev))></textarea>
                <p><label>"or a file: " <input id="send-file" type="file" node_ref=file_input /></label></p>
                <button id="send-button" on:click=start disabled=move || busy.get()>"Send"</button>
            </div>
            <Show when=move || phrase.get().is_some()>
                <div class="panel">
                    <p>"Read this code to the recipient:"</p>
                    <p><code id="send-phrase" class="phrase">{move || phrase.get().unwrap_or_default()}</code></p>
                </div>
            </Show>
            <progress id="send-progress" max="100"
                value=move || { let (d, t) = progress.get(); (d * 100).checked_div(t).unwrap_or(0) }></progress>
            <output id="send-percent">{move || percent(progress.get())}</output>
            <p id="send-status">{move || status.get()}</p>
            <Show when=move || !busy.get() && start_again.get()>
                <button id="send-again" on:click=start>"Start again on a fresh channel"</button>
            </Show>
            <p class="muted"><A href="/">"Choose another role"</A></p>
        </section>
    }
}

#[component]
pub fn ReceivePage() -> impl IntoView {
    let (code, set_code) = signal(String::new());
    let (progress, set_progress) = signal((0u64, 0u64));
    let (status, set_status) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (received_text, set_received_text) = signal(None::<String>);
    let (download, set_download) = signal(None::<(String, String)>);
    let start = move |_| {
        set_busy.set(true);
        set_received_text.set(None);
        set_download.set(None);
        set_progress.set((0, 0));
        set_status.set("joining…".into());
        #[cfg(feature = "hydrate")]
        {
            let phrase = code.get_untracked();
            leptos::task::spawn_local(async move {
                let result = crate::client::transfer::receive(&phrase, move |done, total| {
                    set_status.set("receiving…".into());
                    set_progress.set((done, total));
                })
                .await;
                match result {
                    Ok(crate::client::transfer::Incoming::Text(t)) => {
                        set_status.set(format!("received a text of {} bytes", t.len()));
                        set_received_text.set(Some(t));
                    }
                    Ok(crate::client::transfer::Incoming::File { name, size, blob }) => {
                        set_status.set(format!("received {name}: {size} bytes"));
                        match web_sys::Url::create_object_url_with_blob(&blob) {
                            Ok(url) => set_download.set(Some((url, name))),
                            Err(_) => set_status.set("cannot offer the file".into()),
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
            <p>"Type the code the sender read to you. If it matches, the data arrives encrypted; if not, both sides stop and nothing is sent."</p>
            <div class="panel">
                <input id="receive-code" type="text" placeholder="482193-cedar-comet-maple-otter-tulip" autocomplete="off"
                    prop:value=move || code.get()
                    on:input=move |ev| set_code.set(event_target_value(&ev)) />
                <button id="receive-button" on:click=start disabled=move || busy.get()>"Receive"</button>
            </div>
            <progress id="receive-progress" max="100"
                value=move || { let (d, t) = progress.get(); (d * 100).checked_div(t).unwrap_or(0) }></progress>
            <output id="receive-percent">{move || percent(progress.get())}</output>
            <p id="receive-status">{move || status.get()}</p>
            <Show when=move || received_text.get().is_some()>
                <pre id="receive-text">{move || received_text.get().unwrap_or_default()}</pre>
            </Show>
            <Show when=move || download.get().is_some()>
                <a id="receive-download"
                    href=move || download.get().map(|d| d.0).unwrap_or_default()
                    download=move || download.get().map(|d| d.1).unwrap_or_default()>
                    "Save " {move || download.get().map(|d| d.1).unwrap_or_default()}
                </a>
            </Show>
            <p class="muted"><A href="/">"Choose another role"</A></p>
        </section>
    }
}

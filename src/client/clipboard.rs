//! Copy to the clipboard: `navigator.clipboard.writeText` where the page may use it (secure
//! contexts), else the text is selected on the page and `document.execCommand("copy")` tried,
//! so the person can at least press Ctrl+C.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What [`copy`] managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// The text is on the clipboard.
    Done,
    /// The text is selected on the page: the person copies it.
    Selected,
}

/// Puts `text` on the clipboard, or selects `shown` (the element that shows it).
pub async fn copy(text: &str, shown: Option<web_sys::Element>) -> Copied {
    if let Some(window) = web_sys::window() {
        let navigator = window.navigator();
        let has_clipboard =
            Reflect::get(&navigator, &JsValue::from_str("clipboard")).is_ok_and(|c| c.is_object());
        if has_clipboard
            && JsFuture::from(navigator.clipboard().write_text(text))
                .await
                .is_ok()
        {
            return Copied::Done;
        }
        if let (Some(element), Ok(Some(selection))) = (shown, window.get_selection()) {
            let _ = selection.select_all_children(&element);
            // Deprecated but still the one way to copy outside secure contexts.
            if let Some(document) = window.document()
                && let Ok(exec) = Reflect::get(&document, &JsValue::from_str("execCommand"))
                && let Some(exec) = exec.dyn_ref::<Function>()
                && exec
                    .call1(&document, &JsValue::from_str("copy"))
                    .is_ok_and(|done| done.is_truthy())
            {
                return Copied::Done;
            }
        }
    }
    Copied::Selected
}

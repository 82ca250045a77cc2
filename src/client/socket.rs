//! A WebSocket to this page's server that reports [`SocketEvent`]s to one callback.
//!
//! The [`Socket`] owns its JavaScript callbacks; dropping it detaches them and closes the
//! connection, so keep it alive (e.g. in a `StoredValue`) as long as you want events.

use std::{cell::RefCell, rc::Rc};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// Something that happened on the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    Open,
    Text(String),
    Binary(Vec<u8>),
    /// The connection ended (`code` as in RFC 6455; 1006 when it broke without a close frame).
    Closed {
        code: u16,
        reason: String,
    },
}

/// The sending half: handed to the event callback, and reachable from [`Socket::link`].
#[derive(Clone)]
pub struct Link {
    ws: WebSocket,
}

impl Link {
    pub fn send_text(&self, text: &str) -> Result<(), String> {
        self.ws.send_with_str(text).map_err(|e| format!("{e:?}"))
    }

    pub fn send_binary(&self, bytes: &[u8]) -> Result<(), String> {
        self.ws
            .send_with_u8_array(bytes)
            .map_err(|e| format!("{e:?}"))
    }

    /// Sends a binary message held in JavaScript memory.
    pub fn send_js(&self, bytes: &js_sys::Uint8Array) -> Result<(), String> {
        self.ws
            .send_with_js_u8_array(bytes)
            .map_err(|e| format!("{e:?}"))
    }

    /// Bytes queued by `send_*` and not yet handed to the network (for flow control).
    pub fn buffered(&self) -> u32 {
        self.ws.buffered_amount()
    }

    pub fn close(&self) {
        let _ = self.ws.close();
    }
}

pub struct Socket {
    link: Link,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens `ws[s]://<this host><path>`.
    pub fn connect(
        path: &str,
        on_event: impl FnMut(&Link, SocketEvent) + 'static,
    ) -> Result<Self, String> {
        let ws = WebSocket::new(&url_for(path)?).map_err(|e| format!("{e:?}"))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let link = Link { ws: ws.clone() };
        let on_event = Rc::new(RefCell::new(on_event));
        let emit = move |event: SocketEvent| {
            // A callback that re-enters (e.g. closes the socket synchronously) is skipped, not
            // a panic.
            if let Ok(mut f) = on_event.try_borrow_mut() {
                f(&link, event);
            }
        };
        let emit_open = emit.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| emit_open(SocketEvent::Open));
        let emit_message = emit.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            if let Some(text) = data.as_string() {
                emit_message(SocketEvent::Text(text));
            } else if let Ok(buffer) = data.dyn_into::<js_sys::ArrayBuffer>() {
                emit_message(SocketEvent::Binary(
                    js_sys::Uint8Array::new(&buffer).to_vec(),
                ));
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            emit(SocketEvent::Closed {
                code: e.code(),
                reason: e.reason(),
            })
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            link: Link { ws },
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// The sending half of this socket.
    pub fn link(&self) -> &Link {
        &self.link
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let ws = &self.link.ws;
        ws.set_onopen(None);
        ws.set_onmessage(None);
        ws.set_onclose(None);
        let _ = ws.close();
    }
}

fn url_for(path: &str) -> Result<String, String> {
    let location = web_sys::window().ok_or("no window")?.location();
    let protocol = location.protocol().map_err(|e| format!("{e:?}"))?;
    let host = location.host().map_err(|e| format!("{e:?}"))?;
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    Ok(format!("{scheme}://{host}{path}"))
}

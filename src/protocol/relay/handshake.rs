//! The Relay's HTTP steps, up to a confirmed key, for any client: the CLI (over reqwest) and the
//! browser (over fetch) implement [`RelayApi`] and run these same functions.
//!
//! Nothing here touches the network or the clock itself: the transport is the caller's
//! [`RelayApi`], the randomness the caller's RNG. After [`sender`] or [`recipient`] both sides
//! hold the same [`SharedKey`], confirmed through the relay, and `h_k` to open their data
//! connections with.

use super::{CURVE, Code, RecipientPake, SenderPake, SharedKey, check_curve, phrase};
use rand_core::{CryptoRng, RngCore};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

type Result<T> = core::result::Result<T, String>;

/// The relay's HTTP API as a client reaches it. Every method returns the reply when its
/// `success` is true, else the relay's `message` (or the transport's failure) as the error.
// The futures need not be `Send`: the browser's are not, and each client awaits them in place.
#[allow(async_fn_in_trait)]
pub trait RelayApi {
    /// `POST path` with a JSON body.
    async fn post(&self, path: &str, body: Value) -> Result<Value>;
    /// `GET path`.
    async fn get(&self, path: &str) -> Result<Value>;
    /// `GET path` (which has its query already) as a long poll, repeated until the value is
    /// there; `what` names whom we wait for, in the error when waiting gives up.
    async fn wait(&self, path: &str, what: &str) -> Result<Value>;
}

/// A seat on a channel: its name and the uuid that proves the seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub channel: String,
    pub uuid: String,
}

/// The confirmed exchange: the key and the `h_k` that opens a data connection.
pub struct Confirmed {
    pub key: SharedKey,
    pub h_k: String,
}

/// A field of a relay reply.
pub fn field<T: DeserializeOwned>(reply: &Value, name: &str) -> Result<T> {
    serde_json::from_value(reply[name].clone())
        .map_err(|_| format!("the relay's reply lacks a valid {name}"))
}

/// Takes the sender's seat: on `channel` if given, else on a new random channel.
pub async fn open_sender(api: &impl RelayApi, channel: Option<&str>) -> Result<Seat> {
    let body = match channel {
        Some(c) => json!({ "channel": c, "role": "sender" }),
        None => json!({}),
    };
    let opened = api.post("/open", body).await?;
    Ok(Seat {
        channel: field(&opened, "channel")?,
        uuid: field(&opened, "uuid")?,
    })
}

/// Takes the recipient's seat on `channel`.
pub async fn open_recipient(api: &impl RelayApi, channel: &str) -> Result<Seat> {
    let opened = api
        .post("/open", json!({ "channel": channel, "role": "recipient" }))
        .await?;
    Ok(Seat {
        channel: channel.to_owned(),
        uuid: field(&opened, "uuid")?,
    })
}

/// The sender's SPAKE2 exchange and key confirmation. `announce` gets the phrase to read aloud
/// once the recipient can join.
pub async fn sender<R: RngCore + CryptoRng>(
    api: &impl RelayApi,
    seat: &Seat,
    code: &Code,
    rng: R,
    announce: impl FnOnce(&str),
) -> Result<Confirmed> {
    let Seat { channel, uuid } = seat;
    let (pake, x) = SenderPake::start(rng, code);
    api.post(
        &format!("/channel/{channel}"),
        json!({ "uuid": uuid, "x": x, "curve": CURVE }),
    )
    .await?;
    announce(&phrase(channel, code));
    let got = api
        .wait(&format!("/sender/{channel}/y?uuid={uuid}"), "the recipient")
        .await?;
    let y: String = field(&got, "y")?;
    let hh_k: String = field(&got, "hh_k")?;
    // Older relays do not say; absent reads as not contested.
    let contested = field::<Option<bool>>(&got, "contested")?.unwrap_or(false);
    let key = pake
        .finish(&y)
        .map_err(|_| someone_else_joined(contested))?;
    key.confirm_hh_k(&hh_k)
        .map_err(|_| someone_else_joined(contested))?;
    let h_k = key.h_k();
    api.post(
        &format!("/sender/{channel}/h_k"),
        json!({ "uuid": uuid, "h_k": h_k }),
    )
    .await?;
    Ok(Confirmed { key, h_k })
}

/// Starts every message of a failed exchange on the sender's side: clients test for it to offer a
/// fresh channel.
pub const START_AGAIN: &str = "someone else joined this channel";

/// The sender's error when the recipient's half of the exchange did not match the code.
fn someone_else_joined(contested: bool) -> String {
    if contested {
        format!("{START_AGAIN} — start again (your recipient was turned away; nothing was sent)")
    } else {
        format!("{START_AGAIN}, or the code was mistyped — start again (nothing was sent)")
    }
}

/// The recipient's SPAKE2 exchange and key confirmation.
pub async fn recipient<R: RngCore + CryptoRng>(
    api: &impl RelayApi,
    seat: &Seat,
    code: &Code,
    rng: R,
) -> Result<Confirmed> {
    let Seat { channel, uuid } = seat;
    let values = api
        .wait(&format!("/channel/{channel}?uuid={uuid}"), "the sender")
        .await?;
    let x: Option<String> = field(&values, "x")?;
    let x = x.ok_or("the sender has not started")?;
    let curve: Option<String> = field(&values, "curve")?;
    check_curve(curve.as_deref().unwrap_or_default()).map_err(|e| e.to_string())?;
    let (pake, y) = RecipientPake::start(rng, code);
    let key = pake.finish(&x).map_err(|e| e.to_string())?;
    api.post(
        &format!("/channel/{channel}"),
        json!({ "uuid": uuid, "y": y, "hh_k": key.hh_k() }),
    )
    .await?;
    let got = api
        .wait(
            &format!("/recipient/{channel}/h_k?uuid={uuid}"),
            "the sender's confirmation",
        )
        .await
        .map_err(|e| {
            if e.contains("no such channel") || e.contains("was closed") {
                "the sender ended the exchange: probably a wrong code".to_owned()
            } else {
                e
            }
        })?;
    let h_k: String = field(&got, "h_k")?;
    key.confirm_h_k(&h_k)
        .map_err(|_| "the sender used a different code; nothing was received".to_owned())?;
    Ok(Confirmed { key, h_k })
}

/// The data-connection version this code speaks: 2 = the AES-256-GCM frames of [`super::Sealer`].
pub const DATA_VERSION: &str = "2";

/// The hello that opens a data connection (a line on TCP, without its `\n`; a text message on
/// WebSocket).
pub fn data_hello(seat: &Seat, h_k: &str) -> String {
    format!(
        "zkrelay-data {DATA_VERSION} {} {} {h_k}",
        seat.channel, seat.uuid
    )
}

/// Asks the relay to open the data plane for this seat (`role` is `sender` or `recipient`);
/// returns the reply (its `data_port` is where raw TCP clients connect).
pub async fn open_data(api: &impl RelayApi, role: &str, seat: &Seat) -> Result<Value> {
    api.get(&format!("/{role}/{}/open?uuid={}", seat.channel, seat.uuid))
        .await
}

/// Closes the channel (either seat may); failures are ignored, the channel expires anyway.
pub async fn close(api: &impl RelayApi, seat: &Seat) {
    let _ = api
        .post(
            &format!("/close/{}", seat.channel),
            json!({ "uuid": seat.uuid }),
        )
        .await;
}

//! The Relay's HTTP steps, up to a confirmed key, for any client: the CLI (over reqwest) and the
//! browser (over fetch) run these same functions on a [`RelayClient`].
//!
//! Nothing here touches the network or the clock itself: the transport is the client's, the
//! randomness the caller's RNG. After [`sender`] or [`recipient`] both sides hold the same
//! [`SharedKey`], confirmed through the relay, and `h_k` to open their data connections with.

use super::{PostValues, RelayClient, Seat, TransferError, Transport};
use crate::{
    api::ErrorCode,
    protocol::relay::{CURVE, Code, RecipientPake, SenderPake, SharedKey, check_curve, phrase},
};
use rand_core::{CryptoRng, RngCore};

/// The confirmed exchange: the key and the `h_k` that opens a data connection.
pub struct Confirmed {
    pub key: SharedKey,
    pub h_k: String,
}

/// The sender's SPAKE2 exchange and key confirmation. `announce` gets the phrase to read aloud
/// once the recipient can join.
pub async fn sender<R: RngCore + CryptoRng>(
    api: &RelayClient<impl Transport>,
    seat: &Seat,
    code: &Code,
    rng: R,
    announce: impl FnOnce(&str),
) -> Result<Confirmed, TransferError> {
    let (pake, x) = SenderPake::start(rng, code);
    api.post_values(seat, &PostValues::sender(&seat.uuid, x, CURVE))
        .await?;
    announce(&phrase(&seat.channel, code));
    let got = api.wait_y(seat).await?;
    let contested = got.contested;
    let key = pake
        .finish(&got.y)
        .map_err(|_| TransferError::SomeoneElseJoined { contested })?;
    key.confirm_hh_k(&got.hh_k)
        .map_err(|_| TransferError::SomeoneElseJoined { contested })?;
    let h_k = key.h_k();
    api.post_h_k(seat, &h_k).await?;
    Ok(Confirmed { key, h_k })
}

/// The recipient's SPAKE2 exchange and key confirmation.
pub async fn recipient<R: RngCore + CryptoRng>(
    api: &RelayClient<impl Transport>,
    seat: &Seat,
    code: &Code,
    rng: R,
) -> Result<Confirmed, TransferError> {
    let values = api.wait_values(seat).await?;
    let x = values
        .x
        .ok_or(TransferError::Local("the sender has not started".into()))?;
    check_curve(values.curve.as_deref().unwrap_or_default())?;
    let (pake, y) = RecipientPake::start(rng, code);
    let key = pake.finish(&x)?;
    api.post_values(seat, &PostValues::recipient(&seat.uuid, y, key.hh_k()))
        .await?;
    let got = api.wait_h_k(seat).await.map_err(|e| match e {
        // The sender closes the channel when our half did not match the code.
        TransferError::Refused(refusal) if refusal.code == ErrorCode::NotFound => {
            TransferError::SenderEnded
        }
        other => other,
    })?;
    key.confirm_h_k(&got.h_k)
        .map_err(|_| TransferError::WrongCode)?;
    Ok(Confirmed { key, h_k: got.h_k })
}

//! A channel table's inside: the map with its ordered expirations (behind the table's lock) and
//! each channel behind its own.

use super::{ChannelError, PerSide, Side, client_key, constant_time_eq};
use std::{
    collections::{BTreeSet, HashMap},
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
};
use tokio::{sync::watch, time::Instant};

pub(super) struct Seat {
    pub(super) uuid: String,
    /// The client key it was taken from.
    pub(super) key: IpAddr,
}

/// One channel, behind its own lock.
pub(super) struct Channel<T> {
    pub(super) seats: PerSide<Option<Seat>>,
    /// Client keys ([`client_key`]) on this channel: at most two.
    pub(super) ips: Vec<IpAddr>,
    /// Counts changes; `None` once the channel is freed, which ends every receiver.
    pub(super) changed: Option<watch::Sender<u64>>,
    pub(super) state: T,
}

impl<T> Channel<T> {
    pub(super) fn admits(&self, key: IpAddr) -> bool {
        self.ips.contains(&key)
    }

    pub(super) fn bump(&self) {
        if let Some(changed) = &self.changed {
            changed.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// The channel as `ip` may see it: freed and foreign channels read alike.
    pub(super) fn open_to(&mut self, ip: IpAddr) -> Result<&mut Self, ChannelError> {
        if self.changed.is_some() && self.admits(client_key(ip)) {
            Ok(self)
        } else {
            Err(ChannelError::NotYours)
        }
    }

    /// The side whose seat `uuid` proves.
    pub(super) fn seat_of(&self, uuid: &str) -> Result<Side, ChannelError> {
        [Side::A, Side::B]
            .into_iter()
            .find(|side| {
                self.seats
                    .get(*side)
                    .as_ref()
                    .is_some_and(|seat| constant_time_eq(seat.uuid.as_bytes(), uuid.as_bytes()))
            })
            .ok_or(ChannelError::NotYourSeat)
    }
}

pub(super) type Shared<T> = Arc<Mutex<Channel<T>>>;

pub(super) struct Slot<T> {
    pub(super) channel: Shared<T>,
    /// `None`: lives until closed or removed.
    pub(super) expires: Option<Instant>,
}

/// The map and the expirations, ordered by time (ties by name).
pub(super) struct Table<T> {
    pub(super) channels: HashMap<String, Slot<T>>,
    pub(super) expirations: BTreeSet<(Instant, String)>,
    /// Set when the [`Sweeper`] is dropped.
    pub(super) shutdown: bool,
}

impl<T> Table<T> {
    pub(super) fn next_expiry(&self) -> Option<Instant> {
        self.expirations.first().map(|(at, _)| *at)
    }

    /// Sets the slot's deadline; true if it is now the earliest (the sweeper must know).
    pub(super) fn set_expiry(&mut self, name: &str, expires: Option<Instant>) -> bool {
        let Some(slot) = self.channels.get_mut(name) else {
            return false;
        };
        if let Some(old) = slot.expires.take() {
            self.expirations.remove(&(old, name.to_owned()));
        }
        slot.expires = expires;
        let Some(at) = expires else {
            return false;
        };
        let earliest = self.next_expiry().is_none_or(|first| at < first);
        self.expirations.insert((at, name.to_owned()));
        earliest
    }

    pub(super) fn take(&mut self, name: &str) -> Option<Shared<T>> {
        let slot = self.channels.remove(name)?;
        if let Some(at) = slot.expires {
            self.expirations.remove(&(at, name.to_owned()));
        }
        Some(slot.channel)
    }
}

/// A panic while a lock was held cannot leave a channel half-updated in a way later calls rely
/// on, so a poisoned lock is simply taken over.
pub(super) fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks a channel freed (ending its receivers) and hands back its state, to be dropped once no
/// lock is held; `None` if it was freed already.
pub(super) fn free<T: Default>(channel: &mut Channel<T>) -> Option<T> {
    channel.changed.take()?;
    channel.seats = PerSide::default();
    Some(std::mem::take(&mut channel.state))
}

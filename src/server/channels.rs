//! The relay core: a table of channels, each with exactly two seats, shared by Identify (Peggy and
//! Victor) and Relay (sender and recipient).
//!
//! Rules every use inherits:
//! - a channel has two seats, [`Side::A`] and [`Side::B`]; taking a seat yields a random uuid that
//!   proves it on every later call;
//! - at most two distinct client addresses ([`client_key`]: an IPv4 address, an IPv6 /64) ever
//!   touch a channel: seats are taken only from an address already on the channel or while there
//!   is room; every other call must come from one of them;
//! - to any other address a channel it may not use looks exactly like one that does not exist
//!   ([`ChannelError::NotYours`]): the same code, status and sentence, so refusals tell a scanner
//!   nothing;
//! - either seat may close the channel, or leave it alone ([`Channels::vacate`]: its address
//!   leaves too, so someone else may take the seat); a channel expires at its deadline
//!   (creation + TTL, or none once its user says so, e.g. a stapled transfer) and the sweeper
//!   frees it;
//! - the table is bounded; rate limits are the callers' ([`super::limits`]).
//!
//! Each use keeps its own per-channel state `T` (the PAKE board, an identification run). Waiters
//! can sleep until a channel changes ([`Channels::wait_for`]) instead of polling.
//!
//! Locking follows tokio's mini-redis: the table's lock guards only the map and the expirations
//! (lookups, inserts, removals); each channel has its own lock, under which its seats are checked
//! and its use's work runs (the PAKE board's checks, the Identify referee), so one busy channel
//! never holds up another. No code holds the table's lock while it takes a channel's. Expirations
//! are kept in order and the sweeper sleeps until the earliest, woken early when an earlier one
//! is set; dropping the [`Sweeper`] stops it. A freed channel's state is dropped after every
//! lock is released (dropping one may close sockets).

mod error;
mod sweeper;
mod table;
#[cfg(test)]
mod tests;

pub use error::ChannelError;
pub use sweeper::Sweeper;

use table::{Channel, Seat, Shared, Slot, Table, free, lock};

use super::limits::client_key;
use crate::api::ApiError;
use crate::rng::random_hex;
use std::{
    collections::{BTreeSet, HashMap},
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use subtle::ConstantTimeEq;
use tokio::{
    sync::{Notify, watch},
    time::Instant,
};

/// One of a channel's two seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The sender (Relay) or Peggy (Identify).
    A,
    /// The recipient (Relay) or Victor (Identify).
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// One value per seat.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PerSide<T> {
    a: T,
    b: T,
}

impl<T> PerSide<T> {
    pub fn get(&self, side: Side) -> &T {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    pub fn get_mut(&mut self, side: Side) -> &mut T {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }
}

/// Longest channel name a client may choose.
pub const MAX_NAME_LEN: usize = 64;

/// Limits of a channel table.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A channel is freed this long after it was created, unless its deadline is lifted.
    pub ttl: Duration,
    /// Most channels alive at once.
    pub max_channels: usize,
}

struct Inner<T> {
    table: Mutex<Table<T>>,
    /// Wakes the sweeper: an earlier deadline, or shutdown.
    sweep: Notify,
    limits: Limits,
}

/// A table of two-seat channels with per-channel state `T`. Cheap to clone (shared).
pub struct Channels<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Channels<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// What taking a seat returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub channel: String,
    pub uuid: String,
    pub side: Side,
}

impl<T: Default + Send + 'static> Channels<T> {
    pub fn new(limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                table: Mutex::new(Table {
                    channels: HashMap::new(),
                    expirations: BTreeSet::new(),
                    shutdown: false,
                }),
                sweep: Notify::new(),
                limits,
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table<T>> {
        lock(&self.inner.table)
    }

    /// The channel named `name`, if any (its lock is the caller's to take).
    fn lookup(&self, name: &str) -> Result<Shared<T>, ChannelError> {
        self.table()
            .channels
            .get(name)
            .map(|slot| Arc::clone(&slot.channel))
            .ok_or(ChannelError::NotYours)
    }

    /// Creates a channel named `name` (or with a name from `fresh` that is not in use) and takes
    /// its `side`. A taken name is a conflict.
    pub fn create(
        &self,
        ip: IpAddr,
        name: Option<&str>,
        side: Side,
        mut fresh: impl FnMut() -> String,
    ) -> Result<Opened, ChannelError> {
        if let Some(name) = name {
            validate_name(name)?;
        }
        let limits = self.inner.limits;
        let key = client_key(ip);
        let uuid = random_hex(16);
        let mut seats = PerSide::default();
        *seats.get_mut(side) = Some(Seat {
            uuid: uuid.clone(),
            key,
        });
        let channel = Channel {
            seats,
            ips: vec![key],
            changed: Some(watch::channel(0).0),
            state: T::default(),
        };
        let mut table = self.table();
        if table.channels.len() >= limits.max_channels {
            return Err(ChannelError::Full);
        }
        let name = match name {
            Some(n) if table.channels.contains_key(n) => return Err(ChannelError::NameTaken),
            Some(n) => n.to_owned(),
            None => (0..16)
                .map(|_| fresh())
                .find(|n| !table.channels.contains_key(n))
                .ok_or(ChannelError::Full)?,
        };
        let slot = Slot {
            channel: Arc::new(Mutex::new(channel)),
            expires: None,
        };
        table.channels.insert(name.clone(), slot);
        let earliest = table.set_expiry(&name, Some(Instant::now() + limits.ttl));
        drop(table);
        if earliest {
            self.inner.sweep.notify_one();
        }
        Ok(Opened {
            channel: name,
            uuid,
            side,
        })
    }

    /// Takes `side` of the existing channel `name`. Refused as [`ChannelError::NotYours`] when
    /// the channel is missing, full of other addresses, or — to an address not on it — when the
    /// seat is taken; `refused` then runs on the state of a channel that exists (to note the
    /// attempt).
    pub fn join(
        &self,
        ip: IpAddr,
        name: &str,
        side: Side,
        refused: impl FnOnce(&mut T),
    ) -> Result<Opened, ChannelError> {
        validate_name(name)?;
        let shared = self.lookup(name)?;
        let mut channel = lock(&shared);
        if channel.changed.is_none() {
            return Err(ChannelError::NotYours);
        }
        let key = client_key(ip);
        let seat_taken = channel.seats.get(side).is_some();
        let stranger = !channel.admits(key);
        if seat_taken || (stranger && channel.ips.len() >= 2) {
            refused(&mut channel.state);
            channel.bump();
            return Err(if stranger {
                ChannelError::NotYours
            } else {
                ChannelError::SeatTaken
            });
        }
        let uuid = random_hex(16);
        *channel.seats.get_mut(side) = Some(Seat {
            uuid: uuid.clone(),
            key,
        });
        if stranger {
            channel.ips.push(key);
        }
        channel.bump();
        Ok(Opened {
            channel: name.to_owned(),
            uuid,
            side,
        })
    }

    /// Runs `f` on the channel's state as the seat that `uuid` proves, from `ip`, under the
    /// channel's own lock; waiters then see a change.
    pub fn with_seat<R>(
        &self,
        name: &str,
        ip: IpAddr,
        uuid: &str,
        f: impl FnOnce(Side, &mut T) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let shared = self.lookup(name)?;
        let mut guard = lock(&shared);
        let channel = guard.open_to(ip)?;
        let side = channel.seat_of(uuid)?;
        let result = f(side, &mut channel.state);
        channel.bump();
        result
    }

    /// Like [`with_seat`](Self::with_seat) without signalling a change (for reads).
    pub fn read_seat<R>(
        &self,
        name: &str,
        ip: IpAddr,
        uuid: &str,
        f: impl FnOnce(Side, &T) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let shared = self.lookup(name)?;
        let mut guard = lock(&shared);
        let channel = guard.open_to(ip)?;
        let side = channel.seat_of(uuid)?;
        f(side, &channel.state)
    }

    /// Calls `read` (as [`read_seat`](Self::read_seat)) until it returns `Some`, the channel
    /// changes no more within `wait`, or the channel goes away ([`ChannelError::Closed`]).
    /// `Ok(None)` means "not yet".
    pub async fn wait_for<R>(
        &self,
        name: &str,
        ip: IpAddr,
        uuid: &str,
        wait: Duration,
        read: impl Fn(Side, &T) -> Result<Option<R>, ApiError>,
    ) -> Result<Option<R>, ApiError> {
        let deadline = Instant::now() + wait;
        let shared = self.lookup(name)?;
        let mut first = true;
        loop {
            let mut changes = {
                let mut guard = lock(&shared);
                let Some(changed) = guard.changed.as_ref().map(watch::Sender::subscribe) else {
                    return Err(if first {
                        ChannelError::NotYours
                    } else {
                        ChannelError::Closed
                    }
                    .into());
                };
                let channel = guard.open_to(ip)?;
                let side = channel.seat_of(uuid)?;
                if let Some(value) = read(side, &channel.state)? {
                    return Ok(Some(value));
                }
                changed
            };
            first = false;
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(ChannelError::Closed.into()),
                Err(_) => return Ok(None),
            }
        }
    }

    /// Closes the channel as the seat `uuid` proves; waiters wake and see it gone.
    pub fn close(&self, name: &str, ip: IpAddr, uuid: &str) -> Result<(), ChannelError> {
        let shared = self.lookup(name)?;
        let state = {
            let mut guard = lock(&shared);
            guard.open_to(ip)?.seat_of(uuid)?;
            free(&mut guard)
        };
        self.unlink(name, &shared);
        drop(state);
        Ok(())
    }

    /// Frees the seat `uuid` proves and leaves the rest of the channel as it is. The seat's
    /// address leaves the channel unless the other seat was taken from it too, so the seat is
    /// open to someone else (within the two-address rule). Returns the side freed.
    pub fn vacate(&self, name: &str, ip: IpAddr, uuid: &str) -> Result<Side, ChannelError> {
        let shared = self.lookup(name)?;
        let mut guard = lock(&shared);
        let channel = guard.open_to(ip)?;
        let side = channel.seat_of(uuid)?;
        if let Some(seat) = channel.seats.get_mut(side).take() {
            let shared_key = channel
                .seats
                .get(side.other())
                .as_ref()
                .is_some_and(|other| other.key == seat.key);
            if !shared_key {
                channel.ips.retain(|key| *key != seat.key);
            }
        }
        channel.bump();
        Ok(side)
    }

    /// A receiver that sees every change of the channel and fails once the channel is gone.
    pub fn watch(&self, name: &str) -> Option<watch::Receiver<u64>> {
        let shared = self.lookup(name).ok()?;
        let guard = lock(&shared);
        guard.changed.as_ref().map(watch::Sender::subscribe)
    }

    /// Sets when the channel expires (`None`: never, until closed or removed); false if it is
    /// gone.
    pub fn set_expiry(&self, name: &str, expires: Option<Instant>) -> bool {
        let mut table = self.table();
        if !table.channels.contains_key(name) {
            return false;
        }
        if table.set_expiry(name, expires) {
            self.inner.sweep.notify_one();
        }
        true
    }

    /// Removes the channel if it exists, with no checks (the server's own decision).
    pub fn remove(&self, name: &str) -> Option<T> {
        let shared = self.table().take(name)?;
        free(&mut lock(&shared))
    }

    /// Number of live channels.
    pub fn len(&self) -> usize {
        self.table().channels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the table's link to `shared`, if `name` still names it.
    fn unlink(&self, name: &str, shared: &Shared<T>) {
        let mut table = self.table();
        if table
            .channels
            .get(name)
            .is_some_and(|slot| Arc::ptr_eq(&slot.channel, shared))
        {
            table.take(name);
        }
    }
}

/// Checks a channel name: 1–64 of `a-z A-Z 0-9 - _`.
pub fn validate_name(name: &str) -> Result<(), ChannelError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ChannelError::BadName)
    }
}

/// Compares two secrets in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

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
//!   ([`not_yours`]): the same code, status and sentence, so refusals tell a scanner nothing;
//! - either seat may close the channel, or leave it alone ([`Channels::vacate`]: its address
//!   leaves too, so someone else may take the seat); a channel expires at its deadline
//!   (creation + TTL, or none once its user says so, e.g. a stapled transfer) and the sweeper
//!   frees it;
//! - the table is bounded; rate limits are the callers' ([`super::limits`]).
//!
//! Each use keeps its own per-channel state `T` (the PAKE board, an identification run). Waiters
//! can sleep until a channel changes ([`Channels::wait_change`]) instead of polling.

use super::limits::client_key;
use crate::api::{ApiError, ErrorCode};
use rand::Rng;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

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

    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
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

struct Seat {
    uuid: String,
    /// The client key it was taken from.
    key: IpAddr,
}

struct Channel<T> {
    seats: [Option<Seat>; 2],
    /// Client keys ([`client_key`]) on this channel: at most two.
    ips: Vec<IpAddr>,
    /// `None`: lives until closed or removed.
    expires: Option<Instant>,
    changed: watch::Sender<u64>,
    state: T,
}

impl<T> Channel<T> {
    fn admits(&self, key: IpAddr) -> bool {
        self.ips.contains(&key)
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }
}

struct Table<T> {
    channels: HashMap<String, Channel<T>>,
}

/// A table of two-seat channels with per-channel state `T`. Cheap to clone (shared).
pub struct Channels<T> {
    inner: Arc<(Mutex<Table<T>>, Limits)>,
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
            inner: Arc::new((
                Mutex::new(Table {
                    channels: HashMap::new(),
                }),
                limits,
            )),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table<T>> {
        // A panic while holding the lock cannot leave a channel half-updated in a way later calls
        // rely on, so a poisoned lock is simply taken over.
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn limits(&self) -> &Limits {
        &self.inner.1
    }

    /// Creates a channel named `name` (or with a name from `fresh` that is not in use) and takes
    /// its `side`. A taken name is a conflict.
    pub fn create(
        &self,
        ip: IpAddr,
        name: Option<&str>,
        side: Side,
        mut fresh: impl FnMut() -> String,
    ) -> Result<Opened, ApiError> {
        if let Some(name) = name {
            validate_name(name)?;
        }
        let limits = *self.limits();
        let mut table = self.table();
        if table.channels.len() >= limits.max_channels {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "the relay is full; try again later",
            ));
        }
        let name = match name {
            Some(n) if table.channels.contains_key(n) => {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "a channel with this name is open already",
                ));
            }
            Some(n) => n.to_owned(),
            None => (0..16)
                .map(|_| fresh())
                .find(|n| !table.channels.contains_key(n))
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::Unavailable, "the relay is full; try again later")
                })?,
        };
        table.channels.insert(
            name.clone(),
            Channel {
                seats: [None, None],
                ips: Vec::with_capacity(2),
                expires: Some(Instant::now() + limits.ttl),
                changed: watch::channel(0).0,
                state: T::default(),
            },
        );
        take_seat(&mut table, &name, ip, side, |_| {})
    }

    /// Takes `side` of the existing channel `name`. Refused with [`not_yours`] when the channel
    /// is missing, full of other addresses, or — to an address not on it — when the seat is
    /// taken; `refused` then runs on the state of a channel that exists (to note the attempt).
    pub fn join(
        &self,
        ip: IpAddr,
        name: &str,
        side: Side,
        refused: impl FnOnce(&mut T),
    ) -> Result<Opened, ApiError> {
        validate_name(name)?;
        let mut table = self.table();
        take_seat(&mut table, name, ip, side, refused)
    }

    /// Runs `f` on the channel's state as the seat that `uuid` proves, from `ip`.
    pub fn with_seat<R>(
        &self,
        name: &str,
        ip: IpAddr,
        uuid: &str,
        f: impl FnOnce(Side, &mut T) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut table = self.table();
        let channel = find(&mut table, name, ip)?;
        let side = seat_of(channel, uuid)?;
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
        let mut table = self.table();
        let channel = find(&mut table, name, ip)?;
        let side = seat_of(channel, uuid)?;
        f(side, &channel.state)
    }

    /// Calls `read` (as [`read_seat`](Self::read_seat)) until it returns `Some`, the channel
    /// changes no more within `wait`, or the channel goes away. `Ok(None)` means "not yet".
    pub async fn wait_for<R>(
        &self,
        name: &str,
        ip: IpAddr,
        uuid: &str,
        wait: Duration,
        read: impl Fn(Side, &T) -> Result<Option<R>, ApiError>,
    ) -> Result<Option<R>, ApiError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut changes = {
                let mut table = self.table();
                let channel = find(&mut table, name, ip)?;
                let side = seat_of(channel, uuid)?;
                if let Some(value) = read(side, &channel.state)? {
                    return Ok(Some(value));
                }
                channel.changed.subscribe()
            };
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(closed_error()),
                Err(_) => return Ok(None),
            }
        }
    }

    /// Closes the channel as the seat `uuid` proves; waiters wake and see it gone.
    pub fn close(&self, name: &str, ip: IpAddr, uuid: &str) -> Result<(), ApiError> {
        let mut table = self.table();
        let channel = find(&mut table, name, ip)?;
        seat_of(channel, uuid)?;
        table.channels.remove(name);
        Ok(())
    }

    /// Frees the seat `uuid` proves and leaves the rest of the channel as it is. The seat's
    /// address leaves the channel unless the other seat was taken from it too, so the seat is
    /// open to someone else (within the two-address rule). Returns the side freed.
    pub fn vacate(&self, name: &str, ip: IpAddr, uuid: &str) -> Result<Side, ApiError> {
        let mut table = self.table();
        let channel = find(&mut table, name, ip)?;
        let side = seat_of(channel, uuid)?;
        if let Some(seat) = channel.seats[side.index()].take() {
            let shared = channel.seats[side.other().index()]
                .as_ref()
                .is_some_and(|other| other.key == seat.key);
            if !shared {
                channel.ips.retain(|key| *key != seat.key);
            }
        }
        channel.bump();
        Ok(side)
    }

    /// A receiver that sees every change of the channel and fails once the channel is gone.
    pub fn watch(&self, name: &str) -> Option<watch::Receiver<u64>> {
        self.table()
            .channels
            .get(name)
            .map(|c| c.changed.subscribe())
    }

    /// Sets when the channel expires (`None`: never, until closed or removed); false if it is
    /// gone.
    pub fn set_expiry(&self, name: &str, expires: Option<Instant>) -> bool {
        match self.table().channels.get_mut(name) {
            Some(channel) => {
                channel.expires = expires;
                true
            }
            None => false,
        }
    }

    /// Removes the channel if it exists, with no checks (the server's own decision).
    pub fn remove(&self, name: &str) -> Option<T> {
        self.table().channels.remove(name).map(|c| c.state)
    }

    /// Number of live channels.
    pub fn len(&self) -> usize {
        self.table().channels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frees expired channels; returns how many went. Their states are dropped after the lock
    /// is released (dropping one may close sockets).
    pub fn sweep(&self, now: Instant) -> usize {
        let expired: Vec<Channel<T>> = {
            let mut table = self.table();
            let names: Vec<String> = table
                .channels
                .iter()
                .filter(|(_, c)| c.expires.is_some_and(|at| at <= now))
                .map(|(name, _)| name.clone())
                .collect();
            names
                .iter()
                .filter_map(|name| table.channels.remove(name))
                .collect()
        };
        expired.len()
    }

    /// Runs [`sweep`](Self::sweep) every `period` until the runtime stops.
    pub fn spawn_sweeper(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let channels = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let freed = channels.sweep(Instant::now());
                if freed > 0 {
                    tracing::info!(freed, "relay: expired channels freed");
                }
            }
        })
    }
}

fn closed_error() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "the channel was closed")
}

/// What an address hears about a channel it may not use, and about one that does not exist.
pub fn not_yours() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such channel, or it is not open to you: check the phrase; if it is right, someone \
         else joined this channel — ask the sender to start again",
    )
}

fn take_seat<T>(
    table: &mut Table<T>,
    name: &str,
    ip: IpAddr,
    side: Side,
    refused: impl FnOnce(&mut T),
) -> Result<Opened, ApiError> {
    let key = client_key(ip);
    let Some(channel) = table.channels.get_mut(name) else {
        return Err(not_yours());
    };
    let seat_taken = channel.seats[side.index()].is_some();
    if !channel.admits(key) && (channel.ips.len() >= 2 || seat_taken) {
        refused(&mut channel.state);
        channel.bump();
        return Err(not_yours());
    }
    if seat_taken {
        refused(&mut channel.state);
        channel.bump();
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "that seat of the channel is already taken",
        ));
    }
    let uuid = random_hex(16);
    channel.seats[side.index()] = Some(Seat {
        uuid: uuid.clone(),
        key,
    });
    if !channel.admits(key) {
        channel.ips.push(key);
    }
    channel.bump();
    Ok(Opened {
        channel: name.to_owned(),
        uuid,
        side,
    })
}

fn find<'t, T>(
    table: &'t mut Table<T>,
    name: &str,
    ip: IpAddr,
) -> Result<&'t mut Channel<T>, ApiError> {
    let key = client_key(ip);
    match table.channels.get_mut(name) {
        Some(channel) if channel.admits(key) => Ok(channel),
        _ => Err(not_yours()),
    }
}

fn seat_of<T>(channel: &Channel<T>, uuid: &str) -> Result<Side, ApiError> {
    for side in [Side::A, Side::B] {
        if let Some(seat) = &channel.seats[side.index()]
            && constant_time_eq(seat.uuid.as_bytes(), uuid.as_bytes())
        {
            return Ok(side);
        }
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "the uuid does not hold a seat on this channel",
    ))
}

/// Compares two secrets in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Checks a channel name: 1–64 of `a-z A-Z 0-9 - _`.
pub fn validate_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "a channel name is 1 to {MAX_NAME_LEN} letters, digits, '-' or '_'"
        )))
    }
}

/// `bytes` random bytes from a CSPRNG, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    fn table(ttl: Duration) -> Channels<Vec<&'static str>> {
        Channels::new(Limits {
            ttl,
            max_channels: 10,
        })
    }

    fn counter() -> impl FnMut() -> String {
        let mut n = 1000;
        move || {
            n += 1;
            n.to_string()
        }
    }

    #[test]
    fn two_seats_two_addresses_and_nothing_more() {
        let t = table(Duration::from_secs(60));
        let a = t.create(ip(2), None, Side::A, counter()).unwrap();
        assert_eq!(a.channel, "1001");
        let b = t.join(ip(3), &a.channel, Side::B, |_| {}).unwrap();
        assert_ne!(a.uuid, b.uuid);
        // Both seats are taken; a third address hears what it would hear of no channel at all.
        let third = t
            .join(ip(4), &a.channel, Side::B, |s| s.push("tried"))
            .unwrap_err();
        let missing = t.join(ip(4), "nothing-here", Side::B, |_| {}).unwrap_err();
        assert_eq!(third, missing);
        assert_eq!(third, not_yours());
        let taken = t.join(ip(3), &a.channel, Side::B, |_| {}).unwrap_err();
        assert_eq!(taken.code, ErrorCode::Conflict);
        let read = t
            .read_seat(&a.channel, ip(4), &a.uuid, |_, _| Ok(()))
            .unwrap_err();
        assert_eq!(read, not_yours());
        // The two already there are unaffected (and see the refused attempts noted).
        t.with_seat(&a.channel, ip(2), &a.uuid, |side, s| {
            assert_eq!(side, Side::A);
            s.push("x");
            Ok(())
        })
        .unwrap();
        let seen = t.read_seat(&a.channel, ip(3), &b.uuid, |side, s| Ok((side, s.clone())));
        assert_eq!(seen.unwrap(), (Side::B, vec!["tried", "x"]));
        // A wrong uuid proves nothing.
        let wrong = t
            .read_seat(&a.channel, ip(2), "00", |_, _| Ok(()))
            .unwrap_err();
        assert_eq!(wrong.code, ErrorCode::Forbidden);
        t.close(&a.channel, ip(3), &b.uuid).unwrap();
        assert!(t.is_empty());
    }

    #[test]
    fn a_stranger_cannot_take_a_free_seat_beside_two_people_on_one_address() {
        let t = table(Duration::from_secs(60));
        let a = t.create(ip(2), Some("chan"), Side::A, counter()).unwrap();
        // Sender and recipient behind one address (a NAT): the channel has one address.
        t.join(ip(2), "chan", Side::B, |_| {}).unwrap();
        assert_eq!(
            t.join(ip(5), "chan", Side::B, |_| {}).unwrap_err(),
            not_yours()
        );
        assert_eq!(
            t.join(ip(5), "chan", Side::A, |_| {}).unwrap_err(),
            not_yours()
        );
        t.close("chan", ip(2), &a.uuid).unwrap();
    }

    #[test]
    fn a_vacated_seat_is_open_to_another_address_and_the_other_seat_stays() {
        let t = table(Duration::from_secs(60));
        let a = t.create(ip(2), Some("run"), Side::A, counter()).unwrap();
        let b = t.join(ip(3), "run", Side::B, |_| {}).unwrap();
        assert_eq!(
            t.join(ip(4), "run", Side::B, |_| {}).unwrap_err(),
            not_yours()
        );
        assert_eq!(t.vacate("run", ip(3), &b.uuid).unwrap(), Side::B);
        // The uuid and the address are gone from the channel; seat A is untouched.
        assert_eq!(
            t.read_seat("run", ip(3), &b.uuid, |_, _| Ok(()))
                .unwrap_err(),
            not_yours()
        );
        t.read_seat("run", ip(2), &a.uuid, |side, _| {
            assert_eq!(side, Side::A);
            Ok(())
        })
        .unwrap();
        let c = t.join(ip(4), "run", Side::B, |_| {}).unwrap();
        assert_eq!(
            t.join(ip(3), "run", Side::B, |_| {}).unwrap_err(),
            not_yours()
        );
        // Two seats from one address: vacating one keeps the address for the other.
        t.vacate("run", ip(4), &c.uuid).unwrap();
        let d = t.join(ip(2), "run", Side::B, |_| {}).unwrap();
        t.vacate("run", ip(2), &d.uuid).unwrap();
        t.read_seat("run", ip(2), &a.uuid, |_, _| Ok(())).unwrap();
        // A wrong uuid or a stranger frees nothing.
        assert_eq!(
            t.vacate("run", ip(2), "00").unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(t.vacate("run", ip(5), &a.uuid).unwrap_err(), not_yours());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn ipv4_mapped_and_ipv6_64_are_one_address() {
        let t = table(Duration::from_secs(60));
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let a = t.create(v4, None, Side::A, counter()).unwrap();
        t.read_seat(&a.channel, mapped, &a.uuid, |_, _| Ok(()))
            .unwrap();
        let six: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        let b = t.join(six, &a.channel, Side::B, |_| {}).unwrap();
        t.read_seat(&a.channel, same_64, &b.uuid, |_, _| Ok(()))
            .unwrap();
        let other_64: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(
            t.read_seat(&a.channel, other_64, &b.uuid, |_, _| Ok(()))
                .unwrap_err(),
            not_yours()
        );
    }

    #[test]
    fn names_are_checked_and_the_table_bounded() {
        let t = table(Duration::from_secs(60));
        for bad in ["", "a/b", "a b", &"x".repeat(65), "ä"] {
            assert_eq!(
                t.create(ip(2), Some(bad), Side::A, counter())
                    .unwrap_err()
                    .code,
                ErrorCode::InvalidValue
            );
            assert_eq!(
                t.join(ip(2), bad, Side::B, |_| {}).unwrap_err().code,
                ErrorCode::InvalidValue
            );
        }
        t.create(ip(2), Some("named"), Side::A, counter()).unwrap();
        let again = t.create(ip(3), Some("named"), Side::A, counter());
        assert_eq!(again.unwrap_err().code, ErrorCode::Conflict);
        let mut fresh = counter();
        for i in 0..9 {
            t.create(ip(10 + i), None, Side::A, &mut fresh).unwrap();
        }
        let full = t.create(ip(30), None, Side::A, counter()).unwrap_err();
        assert_eq!(full.code, ErrorCode::Unavailable);
    }

    #[test]
    fn the_sweeper_frees_expired_channels_but_not_held_ones() {
        let t = table(Duration::from_millis(10));
        let a = t.create(ip(2), Some("chan"), Side::A, counter()).unwrap();
        t.create(ip(2), Some("held"), Side::A, counter()).unwrap();
        assert!(t.set_expiry("held", None));
        assert_eq!(t.sweep(Instant::now()), 0);
        assert_eq!(t.sweep(Instant::now() + Duration::from_millis(20)), 1);
        let gone = t
            .read_seat("chan", ip(2), &a.uuid, |_, _| Ok(()))
            .unwrap_err();
        assert_eq!(gone.code, ErrorCode::NotFound);
        assert!(t.watch("held").is_some());
        assert!(!t.set_expiry("chan", None));
    }

    #[tokio::test]
    async fn waiters_wake_on_change_and_on_close() {
        let t = table(Duration::from_secs(60));
        let a = t.create(ip(2), None, Side::A, counter()).unwrap();
        let b = t.join(ip(3), &a.channel, Side::B, |_| {}).unwrap();
        let waiter = {
            let (t, name, uuid) = (t.clone(), a.channel.clone(), a.uuid.clone());
            tokio::spawn(async move {
                t.wait_for(&name, ip(2), &uuid, Duration::from_secs(10), |_, s| {
                    Ok(s.first().copied())
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        t.with_seat(&a.channel, ip(3), &b.uuid, |_, s| {
            s.push("y");
            Ok(())
        })
        .unwrap();
        assert_eq!(waiter.await.unwrap().unwrap(), Some("y"));
        // Not yet: a short wait returns None.
        let none = t
            .wait_for(
                &a.channel,
                ip(2),
                &a.uuid,
                Duration::from_millis(10),
                |_, s| Ok(s.get(5).copied()),
            )
            .await;
        assert_eq!(none.unwrap(), None);
        let closing = {
            let (t, name, uuid) = (t.clone(), a.channel.clone(), a.uuid.clone());
            tokio::spawn(async move {
                t.wait_for(&name, ip(2), &uuid, Duration::from_secs(10), |_, s| {
                    Ok(s.get(5).copied())
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        t.close(&a.channel, ip(2), &a.uuid).unwrap();
        assert_eq!(
            closing.await.unwrap().unwrap_err().code,
            ErrorCode::NotFound
        );
    }
}

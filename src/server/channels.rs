//! The relay core: a table of channels, each with exactly two seats, shared by Identify (Peggy and
//! Victor) and Relay (sender and recipient).
//!
//! Rules every use inherits:
//! - a channel has two seats, [`Side::A`] and [`Side::B`]; taking a seat yields a random uuid that
//!   proves it on every later call;
//! - at most two distinct client IP addresses ever touch a channel: seats are taken only from an
//!   address already on the channel or while there is room; every other call must come from one of
//!   them, so a third address is refused and the two already there are unaffected;
//! - either seat may close the channel; a channel nobody finishes expires after its TTL and the
//!   sweeper frees it;
//! - creating channels is rate-limited per IP, and the table is bounded.
//!
//! Each use keeps its own per-channel state `T` (the PAKE board, an identification run). Waiters
//! can sleep until a channel changes ([`Channels::wait_change`]) instead of polling.

use crate::api::{ApiError, ErrorCode};
use rand::Rng;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};
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
    /// A channel is freed this long after it was created, finished or not.
    pub ttl: Duration,
    /// Channels one IP may create per minute.
    pub opens_per_ip_per_minute: u32,
    /// Most channels alive at once.
    pub max_channels: usize,
}

struct Seat {
    uuid: String,
}

struct Channel<T> {
    seats: [Option<Seat>; 2],
    ips: Vec<IpAddr>,
    expires: Instant,
    changed: watch::Sender<u64>,
    state: T,
}

impl<T> Channel<T> {
    fn admits(&self, ip: IpAddr) -> bool {
        self.ips.contains(&ip)
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }
}

struct Table<T> {
    channels: HashMap<String, Channel<T>>,
    /// Per IP: start of the current one-minute window and channels created in it.
    opens: HashMap<IpAddr, (Instant, u32)>,
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
                    opens: HashMap::new(),
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

    /// Takes `side` of the channel `name` (creating it if missing), or of a new channel with a
    /// random name when `name` is `None`.
    pub fn open(&self, ip: IpAddr, name: Option<&str>, side: Side) -> Result<Opened, ApiError> {
        if let Some(name) = name {
            validate_name(name)?;
        }
        let now = Instant::now();
        let limits = *self.limits();
        let mut table = self.table();
        let existing = name.is_some_and(|n| table.channels.contains_key(n));
        if !existing {
            if table.channels.len() >= limits.max_channels {
                return Err(ApiError::new(
                    ErrorCode::Unavailable,
                    "the relay is full; try again later",
                ));
            }
            let window = table.opens.entry(ip).or_insert((now, 0));
            if now.duration_since(window.0) >= Duration::from_secs(60) {
                *window = (now, 0);
            }
            if window.1 >= limits.opens_per_ip_per_minute {
                return Err(ApiError::new(
                    ErrorCode::RateLimited,
                    "too many new channels from your address; wait a minute",
                ));
            }
            window.1 += 1;
            let name = match name {
                Some(n) => n.to_owned(),
                None => fresh_name(&table.channels),
            };
            table.channels.insert(
                name.clone(),
                Channel {
                    seats: [None, None],
                    ips: Vec::with_capacity(2),
                    expires: now + limits.ttl,
                    changed: watch::channel(0).0,
                    state: T::default(),
                },
            );
            return take_seat(&mut table, &name, ip, side);
        }
        let name = name.unwrap_or_default().to_owned();
        take_seat(&mut table, &name, ip, side)
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

    /// A receiver that sees every change of the channel and fails once the channel is gone.
    pub fn watch(&self, name: &str) -> Option<watch::Receiver<u64>> {
        self.table()
            .channels
            .get(name)
            .map(|c| c.changed.subscribe())
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

    /// Frees expired channels and stale rate-limit windows; returns how many channels went.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut table = self.table();
        let before = table.channels.len();
        table.channels.retain(|_, c| c.expires > now);
        table
            .opens
            .retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        before - table.channels.len()
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

fn take_seat<T>(
    table: &mut Table<T>,
    name: &str,
    ip: IpAddr,
    side: Side,
) -> Result<Opened, ApiError> {
    let Some(channel) = table.channels.get_mut(name) else {
        return Err(ApiError::new(ErrorCode::NotFound, "no such channel"));
    };
    if !channel.admits(ip) && channel.ips.len() >= 2 {
        return Err(third_address());
    }
    let seat = &mut channel.seats[side.index()];
    if seat.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "that seat of the channel is already taken",
        ));
    }
    let uuid = random_hex(16);
    *seat = Some(Seat { uuid: uuid.clone() });
    if !channel.admits(ip) {
        channel.ips.push(ip);
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
    let channel = table
        .channels
        .get_mut(name)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such channel (or it expired)"))?;
    if !channel.admits(ip) {
        return Err(third_address());
    }
    Ok(channel)
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

fn third_address() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "this channel already has two other client addresses",
    )
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a client-chosen channel name: 1–64 of `a-z A-Z 0-9 - _`.
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

/// A random name not in use: 4 digits while that is easy, longer as the table fills.
fn fresh_name<T>(channels: &HashMap<String, Channel<T>>) -> String {
    let mut rng = rand::thread_rng();
    for digits in [4u32, 4, 4, 4, 6, 6, 6, 6, 9, 9, 9, 9] {
        let low = 10u64.pow(digits - 1);
        let name = rng.gen_range(low..low * 10).to_string();
        if !channels.contains_key(&name) {
            return name;
        }
    }
    random_hex(16)
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
            opens_per_ip_per_minute: 3,
            max_channels: 10,
        })
    }

    #[test]
    fn two_seats_two_addresses_and_nothing_more() {
        let t = table(Duration::from_secs(60));
        let a = t.open(ip(2), None, Side::A).unwrap();
        assert_eq!(a.channel.len(), 4);
        let b = t.open(ip(3), Some(&a.channel), Side::B).unwrap();
        assert_ne!(a.uuid, b.uuid);
        // Both seats are taken; a third address is refused before anything else.
        let third = t.open(ip(4), Some(&a.channel), Side::B).unwrap_err();
        assert_eq!(third.code, ErrorCode::Forbidden);
        let taken = t.open(ip(3), Some(&a.channel), Side::B).unwrap_err();
        assert_eq!(taken.code, ErrorCode::Conflict);
        let read = t
            .read_seat(&a.channel, ip(4), &a.uuid, |_, _| Ok(()))
            .unwrap_err();
        assert_eq!(read.code, ErrorCode::Forbidden);
        // The two already there are unaffected.
        t.with_seat(&a.channel, ip(2), &a.uuid, |side, s| {
            assert_eq!(side, Side::A);
            s.push("x");
            Ok(())
        })
        .unwrap();
        let seen = t.read_seat(&a.channel, ip(3), &b.uuid, |side, s| Ok((side, s.clone())));
        assert_eq!(seen.unwrap(), (Side::B, vec!["x"]));
        // A wrong uuid proves nothing.
        let wrong = t
            .read_seat(&a.channel, ip(2), "00", |_, _| Ok(()))
            .unwrap_err();
        assert_eq!(wrong.code, ErrorCode::Forbidden);
        t.close(&a.channel, ip(3), &b.uuid).unwrap();
        assert!(t.is_empty());
    }

    #[test]
    fn names_are_checked_rate_limited_and_bounded() {
        let t = table(Duration::from_secs(60));
        for bad in ["", "a/b", "a b", &"x".repeat(65), "ä"] {
            assert_eq!(
                t.open(ip(2), Some(bad), Side::A).unwrap_err().code,
                ErrorCode::InvalidValue
            );
        }
        for _ in 0..3 {
            t.open(ip(2), None, Side::A).unwrap();
        }
        let limited = t.open(ip(2), None, Side::A).unwrap_err();
        assert_eq!(limited.code, ErrorCode::RateLimited);
        for i in 0..7 {
            t.open(ip(10 + i), Some(&format!("named-{i}")), Side::A)
                .unwrap();
        }
        let full = t.open(ip(30), None, Side::A).unwrap_err();
        assert_eq!(full.code, ErrorCode::Unavailable);
    }

    #[test]
    fn the_sweeper_frees_expired_channels() {
        let t = table(Duration::from_millis(10));
        let a = t.open(ip(2), Some("chan"), Side::A).unwrap();
        assert_eq!(t.sweep(Instant::now()), 0);
        assert_eq!(t.sweep(Instant::now() + Duration::from_millis(20)), 1);
        let gone = t
            .read_seat("chan", ip(2), &a.uuid, |_, _| Ok(()))
            .unwrap_err();
        assert_eq!(gone.code, ErrorCode::NotFound);
    }

    #[tokio::test]
    async fn waiters_wake_on_change_and_on_close() {
        let t = table(Duration::from_secs(60));
        let a = t.open(ip(2), None, Side::A).unwrap();
        let b = t.open(ip(3), Some(&a.channel), Side::B).unwrap();
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

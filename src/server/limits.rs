//! Who a client is, and how much one client may ask for.
//!
//! - [`client_key`]: the address that stands for one person everywhere (rate limits, connection
//!   caps, a channel's two addresses): an IPv4-mapped IPv6 address is its IPv4 address, and an
//!   IPv6 address counts as its /64 (one home or phone network gets a /64 and picks addresses in
//!   it at will).
//! - [`RateLimit`]: a keyed GCRA limiter (`governor`): a burst, then a steady rate, per client.
//!   [`RateLimit::admit`] holds a refusal for `[server] refusal_delay_ms` before answering it, so a
//!   client that asks again the moment it is refused asks about once a second per connection
//!   (and the per-address connection cap bounds its connections) instead of spinning a core.
//! - [`RateLimits`]: every limited operation of the server, built from the config.

use super::Config;
use crate::api::{ApiError, ErrorCode};
use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};
use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    time::Duration,
};

/// The address that stands for the client at `ip`: IPv4 as is (also when it arrives IPv4-mapped
/// on a dual-stack socket), IPv6 cut to its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// One limited operation: `burst` at once, then `per_minute` a minute, for each client key.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// What is limited, for the error ("new channels", "joins").
    what: &'static str,
    /// How long [`RateLimit::admit`] holds a refusal, at most.
    refusal_delay: Duration,
}

impl RateLimit {
    /// `per_minute` and `burst` of at least 1 (the config checks; 0 reads as 1).
    pub fn new(what: &'static str, per_minute: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
            what,
            refusal_delay: Duration::ZERO,
        }
    }

    /// Refusals through [`RateLimit::admit`] wait `delay` (at most until the limit would admit).
    pub fn with_refusal_delay(mut self, delay: Duration) -> Self {
        self.refusal_delay = delay;
        self
    }

    /// Like [`RateLimit::check`], but a refusal is answered only after the refusal delay, or
    /// when the limit would let the client through, whichever comes first.
    pub async fn admit(&self, ip: IpAddr) -> Result<(), ApiError> {
        match self.limiter.check_key(&client_key(ip)) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                tokio::time::sleep(wait.min(self.refusal_delay)).await;
                Err(rate_limited(self.what, wait))
            }
        }
    }

    /// Takes one unit for the client at `ip`, or says how long to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.limiter
            .check_key(&client_key(ip))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                rate_limited(self.what, wait)
            })
    }

    /// Forgets clients whose allowance is full again (bounded memory under many addresses).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients currently remembered.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

fn rate_limited(what: &str, wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::new(
        ErrorCode::RateLimited,
        format!("too many {what} from your address; try again in {secs} s"),
    )
}

/// The server's per-client rate limits.
pub struct RateLimits {
    /// Relay: new channels.
    pub channel_opens: RateLimit,
    /// Relay: joins of a named channel, found or not (what a scan of names spends).
    pub channel_joins: RateLimit,
    /// Identify: Peggy and Victor WebSockets.
    pub identify_sockets: RateLimit,
    /// Identify: moduli drawn.
    pub draws: RateLimit,
    /// Identify: Peggy registrations.
    pub registrations: RateLimit,
}

impl RateLimits {
    pub fn new(config: &Config) -> Self {
        let relay = &config.relay;
        let identify = &config.identify;
        let delay = Duration::from_millis(config.server.refusal_delay_ms);
        Self {
            channel_opens: RateLimit::new(
                "new channels",
                relay.channels_per_ip_per_minute,
                relay.channels_per_ip_per_minute,
            )
            .with_refusal_delay(delay),
            channel_joins: RateLimit::new(
                "channel joins",
                relay.joins_per_ip_per_minute,
                relay.join_burst,
            )
            .with_refusal_delay(delay),
            identify_sockets: RateLimit::new(
                "Identify connections",
                identify.runs_per_ip_per_minute,
                identify.runs_per_ip_per_minute,
            )
            .with_refusal_delay(delay),
            draws: RateLimit::new(
                "moduli drawn",
                identify.draws_per_ip_per_minute,
                identify.draws_per_ip_per_minute,
            )
            .with_refusal_delay(delay),
            registrations: RateLimit::new(
                "registrations",
                identify.registrations_per_ip_per_minute,
                identify.registrations_per_ip_per_minute,
            )
            .with_refusal_delay(delay),
        }
    }

    /// Forgets idle clients of every limit.
    pub fn forget_idle(&self) {
        for limit in [
            &self.channel_opens,
            &self.channel_joins,
            &self.identify_sockets,
            &self.draws,
            &self.registrations,
        ] {
            limit.forget_idle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_is_one_key() {
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), v4);
        assert_eq!(client_key(v4), v4);
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        assert_eq!(
            client_key("::1".parse().unwrap()),
            "::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_burst_then_refused_per_key() {
        let limit = RateLimit::new("joins", 1, 3);
        let me: IpAddr = "127.0.0.2".parse().unwrap();
        let you: IpAddr = "127.0.0.3".parse().unwrap();
        for _ in 0..3 {
            limit.check(me).unwrap();
        }
        let refused = limit.check(me).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(refused.message.contains("joins"), "{refused}");
        // The same person over IPv6-mapped IPv4 is still limited; someone else is not.
        assert!(limit.check("::ffff:127.0.0.2".parse().unwrap()).is_err());
        limit.check(you).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_held_for_the_delay_or_until_the_limit_admits() {
        let me: IpAddr = "127.0.0.2".parse().unwrap();
        // One a minute: the next unit is 60 s away, so the refusal waits the whole delay.
        let slow = RateLimit::new("draws", 1, 1).with_refusal_delay(Duration::from_secs(1));
        slow.admit(me).await.unwrap();
        let asked = tokio::time::Instant::now();
        let refused = slow.admit(me).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert_eq!(asked.elapsed(), Duration::from_secs(1));
        // 600 a minute: the next unit is 100 ms away, sooner than the delay.
        let fast = RateLimit::new("joins", 600, 1).with_refusal_delay(Duration::from_secs(1));
        fast.admit(me).await.unwrap();
        let asked = tokio::time::Instant::now();
        fast.admit(me).await.unwrap_err();
        assert!(
            asked.elapsed() <= Duration::from_millis(100),
            "{:?}",
            asked.elapsed()
        );
        // Without a delay a refusal is immediate.
        let now = RateLimit::new("joins", 1, 1);
        now.admit(me).await.unwrap();
        let asked = tokio::time::Instant::now();
        now.admit(me).await.unwrap_err();
        assert_eq!(asked.elapsed(), Duration::ZERO);
    }
}

//! Runtime configuration: `Leptos.toml`, then environment overrides.
//!
//! The file shipped at the repository root is also built into the binary as the defaults, so every
//! key has exactly one documented default. A settings file may leave keys out but may not add
//! unknown ones. `ZKRELAY_<SECTION>_<KEY>` overrides any key; `DATABASE_URL` overrides
//! `[database] url`.

use serde::{Deserialize, Deserializer};
use std::{
    net::{IpAddr, SocketAddr},
    path::Path,
};
use toml::{Table, Value};

const DEFAULTS: &str = include_str!("../../Leptos.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub blum: BlumConfig,
    pub relay: RelayConfig,
    pub identify: IdentifyConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the web app listens; the first is the primary (never empty).
    #[serde(deserialize_with = "addr_list")]
    pub listen: Vec<SocketAddr>,
    pub site_root: String,
    pub max_body_bytes: usize,
    /// Extra origins allowed besides the server's own (`scheme://host[:port]`, lowercase).
    #[serde(deserialize_with = "origin_list")]
    pub allowed_origins: Vec<String>,
    pub header_read_timeout_secs: u64,
    /// How long a rate-limited HTTP request or Identify socket waits for its refusal, at most
    /// (never longer than until the limit lets it through).
    pub refusal_delay_ms: u64,
    pub max_connections_per_ip: u32,
    pub max_websockets_per_ip: u32,
    /// 0 = derived from the open-file limit.
    pub max_connections: u32,
    /// Balancers whose connections open with a PROXY protocol v2 header naming the real client
    /// (empty: none; every peer is the client itself).
    #[serde(deserialize_with = "ip_list")]
    pub trusted_proxies: Vec<IpAddr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlumConfig {
    pub pool_size: u32,
    pub modulus_bits: u32,
    pub on_demand_generators: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayConfig {
    /// Where the TCP data port listens (every entry on the same port).
    #[serde(deserialize_with = "addr_list")]
    pub data_listen: Vec<SocketAddr>,
    /// The data port announced to clients (0: the one bound); behind a balancer, its port.
    pub public_data_port: u16,
    pub max_channels: usize,
    pub channel_ttl_secs: u64,
    pub transfer_idle_secs: u64,
    pub idle_timeout_secs: u64,
    pub max_frame_bytes: usize,
    pub channels_per_ip_per_minute: u32,
    pub joins_per_ip_per_minute: u32,
    pub join_burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifyConfig {
    pub idle_timeout_secs: u64,
    pub run_ttl_secs: u64,
    pub max_runs: usize,
    pub runs_per_ip_per_minute: u32,
    pub step_timeout_secs: u64,
    pub draws_per_ip_per_minute: u32,
    pub registrations_per_ip_per_minute: u32,
}

impl Config {
    /// The built-in defaults (the repository's `Leptos.toml`), with no file and no environment.
    pub fn defaults() -> Self {
        Self::build(None, |_| None)
            .unwrap_or_else(|e| panic!("built-in Leptos.toml is invalid: {e}"))
    }

    /// Loads `path` (if given) over the defaults, then applies the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let file = match path {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read config {}: {e}", p.display()))?,
            ),
            None => None,
        };
        Self::build(file.as_deref(), |name| std::env::var(name).ok())
    }

    /// Merges `file` over the defaults and applies `env` (a lookup by variable name).
    pub fn build(file: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut table: Table = DEFAULTS
            .parse()
            .map_err(|e| format!("built-in defaults: {e}"))?;
        if let Some(text) = file {
            let overlay: Table = text.parse().map_err(|e| format!("config file: {e}"))?;
            merge(&mut table, overlay)?;
        }
        apply_env(&mut table, &env)?;
        let config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| format!("config: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("config: {what}"))
            }
        };
        check(
            (1024..=4096).contains(&self.blum.modulus_bits)
                && self.blum.modulus_bits.is_multiple_of(2),
            "[blum] modulus_bits must be an even number in 1024..=4096",
        )?;
        check(
            self.blum.pool_size <= 1024,
            "[blum] pool_size must be at most 1024",
        )?;
        check(
            self.server.max_body_bytes >= 1024,
            "[server] max_body_bytes must be at least 1024",
        )?;
        check(
            self.relay.idle_timeout_secs >= 1,
            "[relay] idle_timeout_secs must be at least 1",
        )?;
        check(
            self.identify.idle_timeout_secs >= 1,
            "[identify] idle_timeout_secs must be at least 1",
        )?;
        check(
            self.identify.run_ttl_secs >= 1,
            "[identify] run_ttl_secs must be at least 1",
        )?;
        check(
            self.relay.channel_ttl_secs >= 1,
            "[relay] channel_ttl_secs must be at least 1",
        )?;
        check(
            (1024..=64 << 20).contains(&self.relay.max_frame_bytes),
            "[relay] max_frame_bytes must be in 1 KiB..=64 MiB",
        )?;
        check(
            self.relay
                .data_listen
                .iter()
                .all(|a| Some(a.port()) == self.relay.data_listen.first().map(|f| f.port())),
            "[relay] data_listen: every address must have the same port",
        )?;
        check(
            self.server.refusal_delay_ms <= 10_000,
            "[server] refusal_delay_ms must be at most 10000",
        )?;
        for (value, what) in [
            (
                self.relay.channels_per_ip_per_minute,
                "[relay] channels_per_ip_per_minute",
            ),
            (
                self.relay.joins_per_ip_per_minute,
                "[relay] joins_per_ip_per_minute",
            ),
            (self.relay.join_burst, "[relay] join_burst"),
            (
                self.identify.runs_per_ip_per_minute,
                "[identify] runs_per_ip_per_minute",
            ),
            (
                self.identify.draws_per_ip_per_minute,
                "[identify] draws_per_ip_per_minute",
            ),
            (
                self.identify.registrations_per_ip_per_minute,
                "[identify] registrations_per_ip_per_minute",
            ),
            (
                self.blum.on_demand_generators,
                "[blum] on_demand_generators",
            ),
            (
                self.server.max_connections_per_ip,
                "[server] max_connections_per_ip",
            ),
            (
                self.server.max_websockets_per_ip,
                "[server] max_websockets_per_ip",
            ),
            (
                u32::try_from(self.server.header_read_timeout_secs).unwrap_or(u32::MAX),
                "[server] header_read_timeout_secs",
            ),
            (
                u32::try_from(self.relay.transfer_idle_secs).unwrap_or(u32::MAX),
                "[relay] transfer_idle_secs",
            ),
            (
                u32::try_from(self.identify.step_timeout_secs).unwrap_or(u32::MAX),
                "[identify] step_timeout_secs",
            ),
        ] {
            check(value >= 1, &format!("{what} must be at least 1"))?;
        }
        Ok(())
    }
}

/// Reads a comma-separated list (blank entries skipped), each entry through `parse`, whose
/// error names what the entry should have been.
fn comma_list<T, E: serde::de::Error>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<Vec<T>, E> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| parse(part).map_err(|what| E::custom(format!("{part:?} is not {what}"))))
        .collect()
}

/// Reads `"a:1, b:2"` as a non-empty list of socket addresses.
fn addr_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SocketAddr>, D::Error> {
    let addrs = comma_list(&String::deserialize(d)?, |part| {
        part.parse::<SocketAddr>().map_err(|_| "an address:port")
    })?;
    if addrs.is_empty() {
        return Err(serde::de::Error::custom(
            "at least one address:port is needed",
        ));
    }
    Ok(addrs)
}

/// Reads `"10.0.0.5, ::1"` as a list of IP addresses (possibly empty), IPv4-mapped ones as IPv4.
fn ip_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    comma_list(&String::deserialize(d)?, |part| {
        part.parse::<IpAddr>()
            .map(|ip| ip.to_canonical())
            .map_err(|_| "an IP address")
    })
}

/// Reads `"https://a.example, http://b:8080"` as a list of origins (possibly empty), lowercased
/// and without a trailing `/`.
fn origin_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    comma_list(&String::deserialize(d)?, |part| {
        let origin = part.trim_end_matches('/').to_ascii_lowercase();
        let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
            && !origin
                .split_once("//")
                .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/'));
        if ok {
            Ok(origin)
        } else {
            Err("an origin (scheme://host[:port])")
        }
    })
}

/// Copies `overlay` into `base`; every key must already exist there with the same kind of value.
fn merge(base: &mut Table, overlay: Table) -> Result<(), String> {
    for (section, value) in overlay {
        let Some(Value::Table(target)) = base.get_mut(&section) else {
            return Err(format!("config file: unknown section [{section}]"));
        };
        let Value::Table(entries) = value else {
            return Err(format!("config file: [{section}] must be a table"));
        };
        for (key, value) in entries {
            match target.get(&key) {
                Some(old) if old.same_type(&value) => {
                    target.insert(key, value);
                }
                Some(old) => {
                    return Err(format!(
                        "config file: [{section}] {key} must be a {}",
                        old.type_str()
                    ));
                }
                None => return Err(format!("config file: unknown key [{section}] {key}")),
            }
        }
    }
    Ok(())
}

/// Replaces each value for which `ZKRELAY_<SECTION>_<KEY>` (or `DATABASE_URL`) is set.
fn apply_env(table: &mut Table, env: &impl Fn(&str) -> Option<String>) -> Result<(), String> {
    for (section, entries) in table.iter_mut() {
        let Value::Table(entries) = entries else {
            continue;
        };
        for (key, value) in entries.iter_mut() {
            let name = format!("ZKRELAY_{}_{}", section, key).to_uppercase();
            let raw = match (section.as_str(), key.as_str()) {
                ("database", "url") => env(&name).or_else(|| env("DATABASE_URL")),
                _ => env(&name),
            };
            if let Some(raw) = raw {
                *value = parse_like(value, &raw).ok_or_else(|| {
                    format!("environment: {name}={raw:?} is not a {}", value.type_str())
                })?;
            }
        }
    }
    Ok(())
}

fn parse_like(old: &Value, raw: &str) -> Option<Value> {
    match old {
        Value::Integer(_) => raw.trim().parse().ok().map(Value::Integer),
        Value::Float(_) => raw.trim().parse().ok().map(Value::Float),
        Value::Boolean(_) => raw.trim().parse().ok().map(Value::Boolean),
        Value::String(_) => Some(Value::String(raw.to_owned())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_are_the_shipped_file() {
        let c = Config::defaults();
        assert_eq!(c.server.listen[0].to_string(), "127.0.0.1:3000");
        assert_eq!(c.server.listen[1].to_string(), "[::1]:3000");
        assert!(c.server.allowed_origins.is_empty());
        assert_eq!(c.blum.modulus_bits, 2048);
        assert_eq!(c.blum.pool_size, 16);
    }

    #[test]
    fn file_then_environment_override() {
        let file = "[blum]\npool_size = 4\n[server]\nlisten = \"127.0.0.1:4000\"\n";
        let c = Config::build(
            Some(file),
            env(&[
                ("ZKRELAY_BLUM_POOL_SIZE", "7"),
                ("DATABASE_URL", "sqlite::memory:"),
            ]),
        )
        .unwrap();
        assert_eq!(c.blum.pool_size, 7);
        assert_eq!(c.server.listen, vec!["127.0.0.1:4000".parse().unwrap()]);
        assert_eq!(c.database.url, "sqlite::memory:");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Config::build(Some("[blum]\npool_sise = 4\n"), env(&[])).unwrap_err();
        assert!(err.contains("pool_sise"), "{err}");
        let err = Config::build(Some("[blum]\npool_size = \"4\"\n"), env(&[])).unwrap_err();
        assert!(err.contains("integer"), "{err}");
        let err = Config::build(None, env(&[("ZKRELAY_BLUM_MODULUS_BITS", "512")])).unwrap_err();
        assert!(err.contains("modulus_bits"), "{err}");
        let err =
            Config::build(None, env(&[("ZKRELAY_RELAY_IDLE_TIMEOUT_SECS", "soon")])).unwrap_err();
        assert!(err.contains("ZKRELAY_RELAY_IDLE_TIMEOUT_SECS"), "{err}");
        let err = Config::build(None, env(&[("ZKRELAY_SERVER_LISTEN", " , ")])).unwrap_err();
        assert!(err.contains("address"), "{err}");
        let err = Config::build(
            None,
            env(&[("ZKRELAY_SERVER_ALLOWED_ORIGINS", "evil.example")]),
        )
        .unwrap_err();
        assert!(err.contains("origin"), "{err}");
        let err = Config::build(
            None,
            env(&[("ZKRELAY_RELAY_DATA_LISTEN", "127.0.0.1:3001, [::1]:3002")]),
        )
        .unwrap_err();
        assert!(err.contains("same port"), "{err}");
        let err = Config::build(None, env(&[("ZKRELAY_RELAY_JOIN_BURST", "0")])).unwrap_err();
        assert!(err.contains("join_burst"), "{err}");
    }

    #[test]
    fn lists_of_addresses_and_origins() {
        let c = Config::build(
            None,
            env(&[
                ("ZKRELAY_SERVER_LISTEN", "0.0.0.0:8080,[::]:8080"),
                (
                    "ZKRELAY_SERVER_ALLOWED_ORIGINS",
                    "https://Relay.Example/, http://a:1",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen.len(), 2);
        assert_eq!(
            c.server.allowed_origins,
            vec!["https://relay.example".to_owned(), "http://a:1".to_owned()]
        );
        assert!(Config::defaults().server.trusted_proxies.is_empty());
        let proxies = "10.0.0.5, ::ffff:10.0.0.6,::1";
        let c = Config::build(None, env(&[("ZKRELAY_SERVER_TRUSTED_PROXIES", proxies)])).unwrap();
        let expected: Vec<std::net::IpAddr> = ["10.0.0.5", "10.0.0.6", "::1"]
            .iter()
            .map(|ip| ip.parse().unwrap())
            .collect();
        assert_eq!(c.server.trusted_proxies, expected);
        let bad = env(&[("ZKRELAY_SERVER_TRUSTED_PROXIES", "10.0.0.0/8")]);
        assert!(Config::build(None, bad).unwrap_err().contains("10.0.0.0/8"));
    }
}

//! Request rates: every state-changing request (POST, PUT, PATCH, DELETE) counts against its
//! client address and against the whole process, answered 429 with `Retry-After` past the
//! limit, before anything is read or written. It runs once per request from the network (an
//! outer layer), so a page's in-process call to its API is not counted twice. The client
//! address is the peer's, or, behind a load balancer listed in `trusted_proxies`, the last
//! address of `X-Forwarded-For` that is not one of them. Counts are per instance (GCRA,
//! `governor`); the login throttling in `auth` is in the database and holds across instances.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The client address of a request, as an extension every handler can read (`None` for a
/// request made in process, such as a test's or the demo seed's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// What counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber's network).
    pub fn key(&self) -> String {
        self.limiter_key()
            .map_or_else(String::new, |ip| ip.to_string())
    }

    /// The client of `request`: its peer, or the address a trusted proxy forwarded for.
    fn of(request: &Request, trusted_proxies: &[IpNet]) -> ClientIp {
        let Some(peer) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return ClientIp(None);
        };
        let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|n| n.contains(ip));
        if !trusted(&peer) {
            return ClientIp(Some(peer));
        }
        // The rightmost address a proxy of ours did not add is the client's; anything to its
        // left was written by the client itself.
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        let client = forwarded.into_iter().rev().find(|ip| !trusted(ip));
        ClientIp(Some(client.unwrap_or(peer)))
    }

    /// The address standing for the client: IPv6 addresses brought to their /64.
    fn limiter_key(&self) -> Option<IpAddr> {
        self.0.map(|ip| match ip {
            IpAddr::V4(_) => ip,
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        })
    }
}

/// The rate limits of a process.
pub struct Limits {
    per_client: Option<DefaultKeyedRateLimiter<IpAddr>>,
    global: Option<DefaultDirectRateLimiter>,
    trusted_proxies: Vec<IpNet>,
    checks: AtomicU64,
}

impl Limits {
    /// `writes_per_minute` state-changing requests per client address (bursts of a fifth of
    /// it), and a hundred times as many for the whole process; 0 turns limiting off (a load
    /// test's set-up).
    pub fn new(writes_per_minute: u32, trusted_proxies: Vec<IpNet>) -> Limits {
        let quota = |per_minute: u32| {
            NonZeroU32::new(per_minute).map(|n| {
                let burst = NonZeroU32::new((per_minute / 5).max(20)).unwrap_or(n);
                Quota::per_minute(n).allow_burst(burst)
            })
        };
        Limits {
            per_client: quota(writes_per_minute).map(RateLimiter::keyed),
            global: quota(writes_per_minute.saturating_mul(100)).map(RateLimiter::direct),
            trusted_proxies,
            checks: AtomicU64::new(0),
        }
    }

    /// The default: 300 writes a minute per client address (five a second, bursts of 60).
    pub fn standard() -> Limits {
        Limits::new(300, Vec::new())
    }

    fn check(&self, client: &ClientIp) -> Result<(), ApiError> {
        let refused = |wait: std::time::Duration| ApiError::TooManyRequests {
            retry_after_secs: i64::try_from(wait.as_secs()).unwrap_or(60) + 1,
        };
        let now = DefaultClock::default().now();
        if let (Some(limiter), Some(key)) = (&self.per_client, client.limiter_key()) {
            // Forget addresses whose allowance is full again, now and then.
            if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
                limiter.retain_recent();
            }
            limiter
                .check_key(&key)
                .map_err(|until| refused(until.wait_time_from(now)))?;
        }
        if let Some(global) = &self.global {
            global
                .check()
                .map_err(|until| refused(until.wait_time_from(now)))?;
        }
        Ok(())
    }
}

/// The outer layer: finds the client address (the [`ClientIp`] extension) and counts
/// state-changing requests.
pub async fn limit(
    State(limits): State<Arc<Limits>>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = ClientIp::of(&request, &limits.trusted_proxies);
    request.extensions_mut().insert(client);
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes && let Err(e) = limits.check(&client) {
        return e.into_response();
    }
    next.run(request).await
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<ClientIp, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> Request {
        let mut r = Request::new(axum::body::Body::empty());
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        if let Some(f) = forwarded {
            r.headers_mut()
                .insert("x-forwarded-for", f.parse().unwrap());
        }
        r
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_forwarded() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| ClientIp(Some(s.parse().unwrap()));
        // A client's own X-Forwarded-For is ignored.
        assert_eq!(
            ClientIp::of(&request("203.0.113.9:1", Some("1.2.3.4")), &proxies),
            ip("203.0.113.9")
        );
        // Behind our balancer, the rightmost address it did not add.
        assert_eq!(
            ClientIp::of(
                &request("10.0.0.2:1", Some("6.6.6.6, 198.51.100.7, 10.0.0.3")),
                &proxies
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            ClientIp::of(&request("10.0.0.2:1", None), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            ClientIp::of(&Request::new(axum::body::Body::empty()), &proxies),
            ClientIp(None)
        );
        assert_eq!(ip("2001:db8:1:2:3:4:5:6").key(), "2001:db8:1:2::");
    }

    #[test]
    fn writes_past_the_quota_wait() {
        let limits = Limits::new(60, Vec::new());
        let a = ClientIp(Some("198.51.100.1".parse().unwrap()));
        let b = ClientIp(Some("198.51.100.2".parse().unwrap()));
        for _ in 0..20 {
            limits.check(&a).unwrap();
        }
        let Err(ApiError::TooManyRequests { retry_after_secs }) = limits.check(&a) else {
            panic!("the 21st write within a second passed");
        };
        assert!((1..=2).contains(&retry_after_secs));
        // Another address is not held back; an in-process call is not limited per client.
        limits.check(&b).unwrap();
        limits.check(&ClientIp(None)).unwrap();
        assert!(Limits::new(0, Vec::new()).check(&a).is_ok());
    }
}

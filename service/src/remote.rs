//! Requests to other parties (issuers, wallets, verifiers), bounded: HTTPS only (plain HTTP too
//! when the service itself is served over HTTP, for a local set-up), ten-second timeouts, no
//! redirects, 1 MiB bodies, and only to public addresses ([`OutboundPolicy`]): every name is
//! resolved by [`GuardedResolver`], which drops loopback, private, link-local, unique-local,
//! multicast and unspecified addresses before the connection is made, so what is checked is
//! what is dialled (a DNS answer that changes between a check and the connection changes
//! nothing). Every failure is an `Upstream` problem that says what failed, not what the other
//! party or the network answered (those words would make a port scanner); the reason is
//! logged. Also the two fetches every relying party makes: an issuer's published keys (JWT VC
//! Issuer Metadata) and a verified status list token.

use crate::error::{ApiError, ApiResult};
use carnet_core::metadata::{JwtVcIssuerMetadata, well_known_url};
use carnet_core::sd_jwt::StatusReference;
use carnet_core::status_list::{MEDIA_TYPE, Status, StatusListToken};
use ipnet::IpNet;
use serde_json::Value;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Where outbound requests may go besides public addresses: the platform's own public URLs
/// and what the operator lists (`CARNET_ALLOW_OUTBOUND` / `--allow-outbound`: hosts, host:port
/// pairs, CIDR ranges, comma-separated), for a deployment on a private network or tests with
/// peers on 127.0.0.1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Host names (lower case) or IP literals allowed at any port.
    hosts: HashSet<String>,
    /// Host names or IP literals allowed at one port.
    host_ports: HashSet<(String, u16)>,
    /// Address ranges allowed.
    nets: Vec<IpNet>,
}

impl std::str::FromStr for OutboundPolicy {
    type Err = String;

    /// `a.example, b.example:8443, 10.0.0.0/8, 127.0.0.1:9000, [::1]:8080, ::1`.
    fn from_str(list: &str) -> Result<OutboundPolicy, String> {
        let mut policy = OutboundPolicy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            policy.add(entry)?;
        }
        Ok(policy)
    }
}

impl OutboundPolicy {
    fn add(&mut self, entry: &str) -> Result<(), String> {
        let invalid = || format!("`{entry}`: a host, host:port or CIDR range");
        if let Ok(net) = entry.parse::<IpNet>() {
            self.nets.push(net);
        } else if let Ok(ip) = entry.parse::<IpAddr>() {
            self.hosts.insert(ip.to_string());
        } else if let Ok(addr) = entry.parse::<SocketAddr>() {
            self.host_ports.insert((addr.ip().to_string(), addr.port()));
        } else {
            let (host, port) = match entry.rsplit_once(':') {
                Some((host, port)) => (host, Some(port.parse::<u16>().map_err(|_| invalid())?)),
                None => (entry, None),
            };
            let host = host.to_ascii_lowercase();
            let name_ok = !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !name_ok {
                return Err(invalid());
            }
            match port {
                Some(port) => self.host_ports.insert((host, port)),
                None => self.hosts.insert(host),
            };
        }
        Ok(())
    }

    /// Allows the host and port of `url` (a service's own public URL).
    pub fn allow_url(&mut self, url: &str) {
        if let Ok(url) = reqwest::Url::parse(url)
            && let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default())
        {
            self.host_ports.insert((host_key(host), port));
        }
    }

    /// Whether `host` is listed, at any port or at some port.
    fn lists(&self, host: &str) -> bool {
        self.hosts.contains(host) || self.host_ports.iter().any(|(h, _)| h == host)
    }

    /// Whether `host` is listed at `port` (or at any port).
    fn lists_at(&self, host: &str, port: u16) -> bool {
        self.hosts.contains(host) || self.host_ports.contains(&(host.to_owned(), port))
    }

    /// Whether a connection to `ip`, found for `host`, may be made.
    fn may_dial(&self, host: &str, ip: IpAddr) -> bool {
        is_public(ip) || self.nets.iter().any(|n| n.contains(&ip)) || self.lists(host)
    }
}

/// A URL's host as the policy writes it: names in lower case, IPv6 without brackets.
fn host_key(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918), shared (RFC
/// 6598), link-local, unique-local, multicast, broadcast, unspecified, documentation or
/// reserved; IPv4 addresses carried in IPv6 (mapped, compatible, NAT64) are judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // ::a.b.c.d (compatible, deprecated) and 64:ff9b::/96 (NAT64).
            if (s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified())
                || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return is_public_v4(v4);
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site local, deprecated
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// The resolver of every outbound request: looks the name up, then keeps only the addresses
/// the policy lets us dial. reqwest connects to what it returns, so a name that resolves to
/// a private address is refused at connection time, whatever it resolved to before.
struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}: no address this service may reach")]
struct Refused(String);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> =
                found.filter(|a| policy.may_dial(&host, a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The largest status list inflated (bytes).
const MAX_STATUS_LIST: usize = 4 * 1024 * 1024;

const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Remote {
    http: reqwest::Client,
    allow_http: bool,
    policy: Arc<OutboundPolicy>,
    /// Times a request is sent again when it got no answer or a 5xx (see [`Remote::retrying`]).
    retries: u32,
}

/// A failed exchange with another party: the problem says `what` failed in words of ours; the
/// reason (the network's or the party's words) is only logged.
fn upstream(kind: &'static str, what: &str, reason: impl std::fmt::Display) -> ApiError {
    tracing::info!(what, %reason, kind, "outbound request failed");
    let detail = match kind {
        "upstream-unreachable" => format!("{what} could not be reached"),
        "upstream-too-large" => format!("{what}: the answer is too large"),
        "upstream-refused" => format!("{what}: this address may not be reached from here"),
        "upstream-error" => format!("{what} answered with an error"),
        "upstream-not-found" => format!("{what} answered that this does not exist there"),
        _ => format!("{what}: the answer is not acceptable"),
    };
    ApiError::Upstream { kind, detail }
}

impl Remote {
    /// A client for `config`'s service: plain HTTP allowed when the service itself is served
    /// over HTTP, addresses as `config.outbound` allows.
    pub fn new(config: &crate::ServiceConfig) -> Remote {
        let policy = Arc::new(config.outbound.clone());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve the names itself, past the resolver.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .user_agent(concat!("carnet/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Remote {
            http,
            allow_http: config.public_url.starts_with("http://"),
            policy,
            retries: 0,
        }
    }

    /// The same client, sending a request again (up to three times, over about four seconds)
    /// when it got no answer or a 5xx: for the requests the other party answers alike when asked
    /// twice, such as OpenID4VCI token and credential requests, so that a restart of the party
    /// during the exchange costs a delay instead of the exchange.
    pub fn retrying(&self) -> Remote {
        Remote {
            retries: 3,
            ..self.clone()
        }
    }

    /// A URL we may call, or a 422 naming `field`. An IP literal is judged here (no resolver
    /// sees it); a name when its addresses are found ([`GuardedResolver`]).
    pub fn check(&self, url: &str, field: &str) -> ApiResult<reqwest::Url> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| ApiError::invalid_field(field, "not a URL"))?;
        let scheme_ok =
            parsed.scheme() == "https" || (self.allow_http && parsed.scheme() == "http");
        if !scheme_ok || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ApiError::invalid_field(
                field,
                "only https URLs without credentials",
            ));
        }
        let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
            return Err(ApiError::invalid_field(field, "not a URL"));
        };
        let host = host_key(host);
        let refused =
            || ApiError::invalid_field(field, "this address may not be reached from here");
        if let Ok(ip) = host.parse::<IpAddr>() {
            let allowed = is_public(ip)
                || self.policy.nets.iter().any(|n| n.contains(&ip))
                || self.policy.lists_at(&host, port);
            if !allowed {
                return Err(refused());
            }
        } else if self.policy.lists(&host) && !self.policy.lists_at(&host, port) {
            // The name is allowed to private addresses at another port only: here it must
            // resolve to public ones, which the resolver cannot tell apart by port.
            return Err(refused());
        }
        Ok(parsed)
    }

    /// Sends `request`, mapping a refusal by the resolver to its own problem.
    async fn dispatch(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> ApiResult<reqwest::Response> {
        request.send().await.map_err(|e| {
            let refused = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                .any(|e| e.is::<Refused>());
            if refused {
                upstream("upstream-refused", what, &e)
            } else {
                upstream("upstream-unreachable", what, &e)
            }
        })
    }

    async fn read(
        response: reqwest::Response,
        what: &str,
        max: usize,
    ) -> ApiResult<(u16, Vec<u8>)> {
        let status = response.status().as_u16();
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(upstream("upstream-too-large", what, "declared length"));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| upstream("upstream-unreachable", what, e))?
        {
            if body.len() + chunk.len() > max {
                return Err(upstream("upstream-too-large", what, "body length"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> ApiResult<(u16, Vec<u8>)> {
        let response = self.dispatch(request, what).await?;
        Remote::read(response, what, MAX_BODY).await
    }

    /// A JSON answer with a 2xx status; an error answer becomes `upstream-error` with the
    /// party's OAuth `error` and description when it gave them.
    async fn json(&self, request: reqwest::RequestBuilder, what: &str) -> ApiResult<Value> {
        let mut request = request;
        let mut attempt = 0;
        let (status, body) = loop {
            let again = request.try_clone().filter(|_| attempt < self.retries);
            let answer = self.send(request, what).await;
            let transient = match &answer {
                Err(ApiError::Upstream { kind, .. }) => *kind == "upstream-unreachable",
                Ok((status, _)) => matches!(status, 500 | 502 | 503 | 504),
                Err(_) => false,
            };
            match again {
                Some(next) if transient => {
                    tokio::time::sleep(Duration::from_millis(300 * 3u64.pow(attempt))).await;
                    attempt += 1;
                    request = next;
                }
                _ => break answer?,
            }
        };
        // An empty success (a verifier acknowledging a direct_post) reads as `{}`.
        let value: Option<Value> = if body.is_empty() && (200..300).contains(&status) {
            Some(Value::Object(Default::default()))
        } else {
            carnet_core::json::from_slice(&body).ok()
        };
        if !(200..300).contains(&status) {
            return Err(error_answer(what, status, value.as_ref()));
        }
        value.ok_or_else(|| upstream("upstream-invalid", what, "the answer is not JSON"))
    }

    /// A JSON call with extra headers and an optional JSON body; an empty success reads `{}`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
        what: &str,
    ) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        let mut request = self
            .http
            .request(method, url)
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.json(request, what).await
    }

    /// A binary answer (a document) of at most `max` bytes, with its content type.
    pub async fn get_bytes(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        max: usize,
        what: &str,
    ) -> ApiResult<(String, Vec<u8>)> {
        let url = self.check(url, what)?;
        let mut request = self.http.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self.dispatch(request, what).await?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let (status, body) = Remote::read(response, what, max).await?;
        if !(200..300).contains(&status) {
            return Err(error_answer(what, status, None));
        }
        Ok((content_type, body))
    }

    pub async fn get_json(&self, url: &str, what: &str) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        self.json(
            self.http.get(url).header("accept", "application/json"),
            what,
        )
        .await
    }

    pub async fn get_text(&self, url: &str, accept: &str, what: &str) -> ApiResult<String> {
        let url = self.check(url, what)?;
        let (status, body) = self
            .send(self.http.get(url).header("accept", accept), what)
            .await?;
        if !(200..300).contains(&status) {
            return Err(error_answer(what, status, None));
        }
        String::from_utf8(body).map_err(|_| upstream("upstream-invalid", what, "not UTF-8"))
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        what: &str,
    ) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        self.json(self.http.post(url).form(form), what).await
    }

    pub async fn post_json(
        &self,
        url: &str,
        body: &Value,
        bearer: Option<&str>,
        what: &str,
    ) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        let mut request = self.http.post(url).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.json(request, what).await
    }
}

/// The error codes of OAuth 2.0, OpenID4VCI and OpenID4VP that a party's error answer may
/// name to the user (a closed vocabulary, unlike the description beside it).
const OAUTH_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "invalid_token",
    "insufficient_scope",
    "invalid_credential_request",
    "unknown_credential_configuration",
    "unknown_credential_identifier",
    "invalid_proof",
    "invalid_nonce",
    "invalid_encryption_parameters",
    "credential_request_denied",
    "invalid_transaction_id",
    "issuance_pending",
    "vp_formats_not_supported",
    "invalid_request_uri_method",
    "wallet_unavailable",
];

/// A party's error answer: `upstream-not-found` for a 404 (something the caller may act on:
/// it is gone there), else `upstream-error` naming the party's OAuth error code when it is
/// one of the registered ones. Neither the status nor the description goes to the user.
fn error_answer(what: &str, status: u16, body: Option<&Value>) -> ApiError {
    if status == 404 {
        return upstream("upstream-not-found", what, status);
    }
    let code = body
        .and_then(|v| v["error"].as_str())
        .and_then(|c| OAUTH_ERRORS.iter().find(|known| **known == c));
    let reason = body.map_or_else(|| status.to_string(), |b| format!("{status} {b}"));
    match code {
        Some(code) => {
            tracing::info!(what, %reason, "outbound request answered with an error");
            ApiError::Upstream {
                kind: "upstream-error",
                detail: format!("{what} answered with an error ({code})"),
            }
        }
        None => upstream("upstream-error", what, reason),
    }
}

/// What we found wrong with a party's answer (our own check's words).
pub fn invalid(what: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::Upstream {
        kind: "upstream-invalid",
        detail: format!("{what}: {why}"),
    }
}

pub fn rejected(why: impl std::fmt::Display) -> ApiError {
    ApiError::Upstream {
        kind: "credential-rejected",
        detail: format!("the issuer's credential was refused: {why}"),
    }
}

/// The keys `issuer` publishes (JWT VC Issuer Metadata, inline or at `jwks_uri`).
pub async fn issuer_jwks(remote: &Remote, issuer: &str) -> ApiResult<carnet_core::metadata::Jwks> {
    let what = "the issuer's JWT VC metadata";
    let url = well_known_url(issuer, "jwt-vc-issuer").map_err(|e| invalid(what, e))?;
    let metadata: JwtVcIssuerMetadata =
        serde_json::from_value(remote.get_json(&url, what).await?).map_err(|e| invalid(what, e))?;
    metadata.check(issuer).map_err(|e| invalid(what, e))?;
    let jwks = match (&metadata.jwks, &metadata.jwks_uri) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(uri)) => {
            serde_json::from_value(remote.get_json(uri, "the issuer's JWKS").await?)
                .map_err(|e| invalid("the issuer's JWKS", e))?
        }
        (None, None) => return Err(invalid(what, "no keys")),
    };
    Ok(jwks)
}

/// The status of `reference`, from its list token signed by one of `jwks`.
pub async fn fetch_list(
    remote: &Remote,
    jwks: &carnet_core::metadata::Jwks,
    uri: &str,
    now: i64,
) -> ApiResult<StatusListToken> {
    let what = "the credential's status list";
    let token = remote.get_text(uri, MEDIA_TYPE, what).await?;
    let kid = carnet_core::jws::Jws::parse(&token)
        .map_err(|e| invalid(what, format!("{e:?}")))?
        .header_str("kid")
        .map(str::to_owned);
    let key = jwks
        .keys
        .iter()
        .filter_map(|jwk| carnet_core::keys::VerifyingKey::from_jwk(jwk).ok())
        .find(|k| kid.as_deref().is_none_or(|kid| k.kid() == kid))
        .ok_or_else(|| invalid(what, "signed by a key the issuer does not publish"))?;
    StatusListToken::verify(&token, &key, uri, now, 60, MAX_STATUS_LIST)
        .map_err(|e| invalid(what, e))
}

/// The status of `reference` in its (verified) list.
pub fn status_in(list: &StatusListToken, reference: &StatusReference) -> ApiResult<Status> {
    list.status_of(reference)
        .map_err(|e| invalid("the credential's status list", e))
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Valid => "valid",
        Status::Invalid => "revoked",
        Status::Suspended => "suspended",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "193.51.24.1",
            "172.32.0.1",
            "2a01:e0a::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn the_operator_lists_hosts_ports_and_ranges() {
        let policy: OutboundPolicy =
            "idp.internal, Peer.Internal:8443, 10.1.0.0/16, 127.0.0.1:9000, [::1]:8080, fd00::5"
                .parse()
                .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(policy.may_dial("idp.internal", ip("10.9.9.9")));
        assert!(policy.may_dial("peer.internal", ip("192.168.1.1")));
        assert!(policy.may_dial("anything", ip("10.1.2.3")));
        assert!(!policy.may_dial("anything", ip("10.2.0.1")));
        assert!(policy.lists_at("127.0.0.1", 9000) && !policy.lists_at("127.0.0.1", 9001));
        assert!(policy.lists_at("::1", 8080) && policy.lists_at("fd00::5", 1));
        assert!(policy.lists_at("peer.internal", 8443) && !policy.lists_at("peer.internal", 443));
        for bad in ["http://x", "a b", "host:port", "10.0.0.0/33"] {
            assert!(bad.parse::<OutboundPolicy>().is_err(), "{bad}");
        }
        assert_eq!(
            "".parse::<OutboundPolicy>().unwrap(),
            OutboundPolicy::default()
        );
    }

    #[test]
    fn addresses_are_checked_before_any_connection() {
        let mut config = crate::ServiceConfig::new(
            crate::ServiceKind::Wallet,
            "http://127.0.0.1:8080/wallet",
            crate::crypto::SecretKey::generate(),
        );
        config.outbound = "peer.internal:8443".parse().unwrap();
        config.outbound.allow_url(&config.public_url.clone());
        let remote = Remote::new(&config);
        let refused = |url: &str| {
            remote
                .check(url, "offer")
                .is_err_and(|e| e.to_string().contains("may not be reached"))
        };
        assert!(
            remote
                .check("http://127.0.0.1:8080/issuer/x", "offer")
                .is_ok()
        );
        assert!(refused("http://127.0.0.1:8081/issuer/x"));
        assert!(refused("http://[::1]:8080/"));
        assert!(refused("http://169.254.169.254/"));
        assert!(
            refused("https://peer.internal/"),
            "another port of a host listed with one"
        );
        assert!(remote.check("https://peer.internal:8443/", "offer").is_ok());
        assert!(remote.check("https://centre.example/", "offer").is_ok());
    }

    /// A local party that fails `failures` times (503, or by closing the connection), then
    /// answers; the number of requests it got.
    async fn flaky(failures: usize, close: bool) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let seen = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let count = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
                let answer: &[u8] = if n >= failures {
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}"
                } else if close {
                    b""
                } else {
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                };
                let _ = tokio::io::AsyncWriteExt::write_all(&mut socket, answer).await;
            }
        });
        (url, seen)
    }

    fn local_remote(url: &str) -> Remote {
        let mut config = crate::ServiceConfig::new(
            crate::ServiceKind::Wallet,
            "http://127.0.0.1:8080/wallet",
            crate::crypto::SecretKey::generate(),
        );
        config.outbound.allow_url(url);
        Remote::new(&config)
    }

    #[tokio::test]
    async fn a_retrying_client_asks_again_after_a_restart_or_a_5xx() {
        use std::sync::atomic::Ordering;
        for close in [false, true] {
            let (url, seen) = flaky(2, close).await;
            let remote = local_remote(&url);
            let answer = remote
                .retrying()
                .post_form(&url, &[("a", "b")], "the token request")
                .await
                .unwrap();
            assert_eq!(answer["ok"], true);
            assert_eq!(seen.load(Ordering::SeqCst), 3);
            // A plain client asks once.
            let (url, seen) = flaky(1, close).await;
            assert!(local_remote(&url).post_form(&url, &[], "x").await.is_err());
            assert_eq!(seen.load(Ordering::SeqCst), 1);
        }
        // It gives up after three more tries.
        let (url, seen) = flaky(10, false).await;
        let remote = local_remote(&url).retrying();
        assert!(
            remote
                .post_json(&url, &serde_json::json!({}), None, "x")
                .await
                .is_err()
        );
        assert_eq!(seen.load(Ordering::SeqCst), 4);
    }
}

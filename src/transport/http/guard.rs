//! Request checks that protect a local server: Host and Origin validation
//! against DNS rebinding.

use http::HeaderMap;

/// Whether a host name (no port) is a loopback name.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host part of an authority (`host:port`, `[v6]:port`).
pub fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

/// Why a request is refused, if it is.
///
/// - A server bound to loopback only answers requests whose `Host` is a
///   loopback name: a DNS-rebound name (evil.example → 127.0.0.1) is refused.
/// - A browser's `Origin`, when present, must be a loopback origin or the
///   very authority the request was sent to.
pub fn check(headers: &HeaderMap, loopback_only: bool) -> Result<(), String> {
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if loopback_only && !host.is_empty() && !is_loopback_host(host_of(host)) {
        return Err("Host is not a loopback name; this server only serves local clients".into());
    }
    if let Some(origin) = headers.get(http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin
            .split_once("://")
            .map(|(_, a)| a)
            .unwrap_or("")
            .trim_end_matches('/');
        if origin == "null" || authority.is_empty() {
            return Err("Origin not allowed".into());
        }
        let same = !host.is_empty() && authority.eq_ignore_ascii_case(host);
        if !(same || is_loopback_host(host_of(authority))) {
            return Err("Origin not allowed".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn loopback_names() {
        for h in ["localhost", "127.0.0.1", "127.8.9.1", "[::1]", "::1"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["evil.example", "10.0.0.1", "0.0.0.0"] {
            assert!(!is_loopback_host(h), "{h}");
        }
        assert_eq!(host_of("[::1]:8080"), "::1");
        assert_eq!(host_of("localhost:80"), "localhost");
        assert_eq!(host_of("example.com"), "example.com");
    }

    #[test]
    fn rebinding_and_foreign_origins_are_refused() {
        assert!(check(&headers(&[("host", "127.0.0.1:8080")]), true).is_ok());
        assert!(check(&headers(&[("host", "evil.example:8080")]), true).is_err());
        assert!(check(&headers(&[("host", "evil.example:8080")]), false).is_ok());
        assert!(check(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://localhost:3000")
            ]),
            true
        )
        .is_ok());
        assert!(check(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "https://evil.example")
            ]),
            true
        )
        .is_err());
        assert!(check(
            &headers(&[
                ("host", "mcp.corp:8443"),
                ("origin", "https://mcp.corp:8443")
            ]),
            false
        )
        .is_ok());
        assert!(check(
            &headers(&[
                ("host", "mcp.corp:8443"),
                ("origin", "https://evil.example")
            ]),
            false
        )
        .is_err());
        assert!(check(
            &headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            true
        )
        .is_err());
    }
}

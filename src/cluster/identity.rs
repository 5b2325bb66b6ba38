//! The Kubernetes identity a request acts as.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// Credentials and API server chosen by a request (HTTP headers), on top of the
/// server's flags and kubeconfig. Empty for stdio.
#[derive(Clone, Default)]
pub struct Identity {
    /// From `Authorization: Bearer <token>`.
    pub token: Option<SecretString>,
    /// From `X-Kubernetes-Server: <url>`.
    pub server: Option<String>,
}

impl Identity {
    /// Takes the headers of an HTTP request. `Authorization` values that are
    /// not bearer tokens are ignored.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| rest.trim().to_owned())
            })
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        let server = headers
            .get("x-kubernetes-server")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        Identity { token, server }
    }

    /// This identity with the fields of `over` that are set replacing its own.
    pub fn overridden_by(&self, over: &Identity) -> Identity {
        Identity {
            token: over.token.clone().or_else(|| self.token.clone()),
            server: over.server.clone().or_else(|| self.server.clone()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.token.is_none() && self.server.is_none()
    }

    /// A key for caching clients: equal keys mean the same credentials and server.
    pub(crate) fn cache_key(&self) -> (Option<String>, Option<String>) {
        (
            self.server.clone(),
            self.token.as_ref().map(|t| t.expose_secret().to_owned()),
        )
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("server", &self.server)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_server_headers() {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Bearer abc123".parse().unwrap());
        h.insert("x-kubernetes-server", "https://k:6443".parse().unwrap());
        let id = Identity::from_headers(&h);
        assert_eq!(
            id.token.as_ref().map(|t| t.expose_secret().to_owned()),
            Some("abc123".into())
        );
        assert_eq!(id.server.as_deref(), Some("https://k:6443"));
        assert!(!format!("{id:?}").contains("abc123"));
        h.insert("authorization", "Basic Zm9vOmJhcg==".parse().unwrap());
        assert!(Identity::from_headers(&h).token.is_none());
    }

    #[test]
    fn request_headers_override_session_headers() {
        let session = Identity {
            token: Some("a".to_owned().into()),
            server: Some("s1".into()),
        };
        let post = Identity {
            token: Some("b".to_owned().into()),
            server: None,
        };
        let id = session.overridden_by(&post);
        assert_eq!(id.token.unwrap().expose_secret(), "b");
        assert_eq!(id.server.as_deref(), Some("s1"));
    }
}

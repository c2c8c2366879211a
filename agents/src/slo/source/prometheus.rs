//! A live Prometheus over its HTTP API, with a timeout per request and
//! optional bearer-token or basic authentication read from environment
//! variables (the secrets never reach facts, reasons or recordings).

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

use super::{FetchError, Fetched, Request, Source};

/// Credentials, kept out of `Debug` output.
#[derive(Clone)]
pub(crate) enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic` with a user and password.
    Basic { user: String, password: String },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "Auth::None",
            Self::Bearer(_) => "Auth::Bearer(<redacted>)",
            Self::Basic { .. } => "Auth::Basic(<redacted>)",
        })
    }
}

/// A Prometheus server at a base URL.
#[derive(Debug)]
pub(crate) struct PrometheusHttp {
    base: reqwest::Url,
    client: reqwest::Client,
    auth: Auth,
}

impl PrometheusHttp {
    /// A client for `base` (an http or https URL, optionally with a path
    /// prefix) whose requests each give up after `timeout`.
    pub(crate) fn new(base: &str, timeout: Duration, auth: Auth) -> Result<Self, String> {
        let mut url = reqwest::Url::parse(base.trim()).map_err(|e| format!("prometheus_url '{base}' is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!("prometheus_url '{base}' must be an http:// or https:// URL such as http://127.0.0.1:9090"));
        }
        // The API paths are appended to the base, so a prefix such as /prometheus keeps working.
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| format!("the HTTP client cannot start: {e}"))?;
        Ok(Self { base: url, client, auth })
    }

    fn url(&self, request: &Request) -> reqwest::Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{}", self.base.path().trim_end_matches('/'), request.endpoint()));
        url.query_pairs_mut().extend_pairs(request.params());
        url
    }
}

#[async_trait::async_trait]
impl Source for PrometheusHttp {
    async fn fetch(&self, request: &Request) -> Result<Fetched, FetchError> {
        let url = self.url(request);
        let mut builder = self.client.get(url.clone());
        builder = match &self.auth {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token),
            Auth::Basic { user, password } => builder.basic_auth(user, Some(password)),
        };
        let failed = |e: reqwest::Error| FetchError::Transport { url: url.to_string(), message: error_chain(&e) };
        let response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(failed)?.to_vec();
        Ok(Fetched { status, body })
    }

    fn describe(&self) -> Value {
        json!({ "kind": "prometheus", "url": self.base.as_str() })
    }
}

/// The error and its causes: reqwest's own message rarely says "timed out".
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    if e.is_timeout() {
        text.push_str(" (query_timeout_seconds ran out)");
    }
    text
}

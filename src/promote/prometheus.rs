//! The analysis's measurements from a live Prometheus: one instant query
//! per metric at the moment of measuring.

use std::time::Duration;

use anyhow::{Context, Result};

use super::analysis::{Provider, Sample};

/// How long one query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Queries Prometheus at `url`.
pub struct PrometheusProvider {
    url: String,
    runtime: tokio::runtime::Runtime,
}

impl PrometheusProvider {
    /// A provider for the Prometheus at `url`.
    pub fn new(url: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the runtime for Prometheus queries")?;
        Ok(Self { url: url.to_owned(), runtime })
    }
}

impl Provider for PrometheusProvider {
    fn sample(&mut self, query: &str) -> Sample {
        let now = match crate::workspace::now() {
            Ok(t) => t,
            Err(e) => return Sample::Error(format!("{e:#}")),
        };
        match self.runtime.block_on(agents::instant_value(&self.url, query, now, QUERY_TIMEOUT)) {
            Ok(Some(v)) => Sample::Value(v),
            Ok(None) => Sample::NoData,
            Err(e) => Sample::Error(e),
        }
    }

    fn series(&mut self, query: &str, lookback: Duration) -> Result<Vec<f64>, String> {
        let end = crate::workspace::now().map_err(|e| format!("{e:#}"))?;
        let secs = i64::try_from(lookback.as_secs()).unwrap_or(i64::MAX);
        let start = evidence::timestamp::Timestamp::from_unix(end.unix().saturating_sub(secs)).map_err(|e| e.to_string())?;
        // One sample a second, at most 300 of them.
        let step = (lookback.as_secs() / 300).max(1);
        self.runtime.block_on(agents::range_values(&self.url, query, start, end, step, QUERY_TIMEOUT))
    }
}

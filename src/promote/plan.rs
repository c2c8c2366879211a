//! `[promotion]` in conductor.toml: the canary steps, the GA phase whose
//! prerequisites must have passed, and the service the driver moves.
//!
//! ```toml
//! [promotion]
//! service = "orders"
//! steps = [10, 50, 100]   # percent of traffic on the new version, ending at 100
//! ga_phase = "P8"          # every gate of every phase it requires must have passed
//!
//! [promotion.driver]
//! kind = "command"
//! set_weight = "deploy/set-weight.sh {service} {weight}"
//! rollback = "deploy/rollback.sh {service}"
//!
//! [promotion.analysis]
//! prometheus_url = "http://127.0.0.1:9090"
//! interval_seconds = 30
//! count = 3
//!
//! [[promotion.analysis.metrics]]
//! name = "error-rate"
//! query = 'sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))'
//! success = "<= 0.01"
//! ```

use serde::Deserialize;

/// The steps when `[promotion]` names none.
pub const DEFAULT_STEPS: [u8; 3] = [5, 25, 100];

/// `[promotion]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionConfig {
    /// Percent of traffic at each step.
    pub steps: Option<Vec<i64>>,
    /// The service the deploy driver moves.
    pub service: Option<String>,
    /// The phase that flips the release to GA.
    pub ga_phase: Option<String>,
    /// What moves traffic.
    pub driver: Option<super::driver::DriverConfig>,
    /// The analysis between steps.
    pub analysis: Option<super::analysis::AnalysisConfig>,
}

/// A checked promotion plan.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Percent of traffic at each step, strictly increasing, the last 100
    /// (a single `--canary` step need not reach 100).
    pub steps: Vec<u8>,
    /// The service.
    pub service: String,
    /// The GA phase.
    pub ga_phase: String,
}

/// The driver and analysis a rollout needs, checked.
pub struct Moving<'c> {
    /// The driver's configuration.
    pub driver: &'c super::driver::DriverConfig,
    /// The analysis.
    pub analysis: &'c super::analysis::AnalysisConfig,
    /// Its metrics, parsed.
    pub metrics: Vec<super::analysis::Metric>,
}

impl PromotionConfig {
    /// The driver and the analysis, or what is missing: traffic moves only
    /// with analysis between steps.
    pub fn moving(&self) -> Result<Moving<'_>, String> {
        let driver = self.driver.as_ref().ok_or("[promotion.driver] is not configured; add kind = \"command\" with set_weight and rollback commands")?;
        let analysis = self.analysis.as_ref().ok_or("[promotion.analysis] is not configured; traffic moves only with analysis between steps (prometheus_url and [[promotion.analysis.metrics]])")?;
        if analysis.count == 0 {
            return Err("promotion.analysis.count is 0; take at least one measurement per step".into());
        }
        if analysis.metrics.is_empty() {
            return Err("promotion.analysis has no metrics; add [[promotion.analysis.metrics]] with name, query and success".into());
        }
        let metrics = analysis.metrics.iter().cloned().enumerate().map(|(i, m)| super::analysis::Metric::new(m, i)).collect::<Result<Vec<_>, _>>()?;
        Ok(Moving { driver, analysis, metrics })
    }
}

impl Plan {
    /// The plan from the configuration, with `canary` as its only step when given.
    pub fn new(config: &PromotionConfig, canary: Option<u8>, default_service: &str) -> Result<Self, String> {
        let steps = match canary {
            Some(weight) if (1..=100).contains(&weight) => vec![weight],
            Some(weight) => return Err(format!("--canary {weight}: the weight must be a percent from 1 to 100")),
            None => steps(config.steps.as_deref())?,
        };
        let service = config.service.clone().unwrap_or_else(|| default_service.to_owned());
        if service.is_empty() || !service.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            return Err(format!("promotion.service {service:?}: use letters, digits, '.', '_' and '-' only, since it is passed to the deploy driver's commands"));
        }
        Ok(Self { steps, service, ga_phase: config.ga_phase.clone().unwrap_or_else(|| "P8".into()) })
    }
}

fn steps(given: Option<&[i64]>) -> Result<Vec<u8>, String> {
    let Some(given) = given else { return Ok(DEFAULT_STEPS.to_vec()) };
    let fix = "write increasing percents ending at 100, such as [10, 50, 100]";
    if given.is_empty() {
        return Err(format!("promotion.steps is empty; {fix}"));
    }
    let mut out = Vec::with_capacity(given.len());
    for (i, &w) in given.iter().enumerate() {
        let Some(weight) = u8::try_from(w).ok().filter(|w| (1..=100).contains(w)) else {
            return Err(format!("promotion.steps[{i}] = {w} is not a percent from 1 to 100; {fix}"));
        };
        if out.last().is_some_and(|last| *last >= weight) {
            return Err(format!("promotion.steps[{i}] = {w} does not increase on the step before; {fix}"));
        }
        out.push(weight);
    }
    if out.last() != Some(&100) {
        return Err(format!("promotion.steps ends at {}, so the release would never reach all traffic; {fix}", out.last().copied().unwrap_or(0)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(steps: &[i64]) -> PromotionConfig {
        PromotionConfig { steps: Some(steps.to_vec()), ..PromotionConfig::default() }
    }

    #[test]
    fn steps_increase_to_100_or_the_plan_names_the_step() {
        assert_eq!(Plan::new(&PromotionConfig::default(), None, "orders").unwrap().steps, DEFAULT_STEPS);
        assert_eq!(Plan::new(&config(&[10, 50, 100]), None, "orders").unwrap().steps, [10, 50, 100]);
        assert_eq!(Plan::new(&config(&[10, 50, 100]), Some(10), "orders").unwrap().steps, [10]);
        assert!(Plan::new(&config(&[50, 10, 100]), None, "x").unwrap_err().starts_with("promotion.steps[1] = 10 does not increase"));
        assert!(Plan::new(&config(&[10, 50]), None, "x").unwrap_err().starts_with("promotion.steps ends at 50"));
        assert!(Plan::new(&config(&[0, 100]), None, "x").unwrap_err().starts_with("promotion.steps[0] = 0 is not a percent"));
        assert!(Plan::new(&config(&[]), None, "x").unwrap_err().starts_with("promotion.steps is empty"));
        assert!(Plan::new(&config(&[100]), Some(0), "x").unwrap_err().starts_with("--canary 0"));
    }

    #[test]
    fn the_service_must_be_safe_to_pass_to_a_command() {
        let bad = PromotionConfig { service: Some("orders; rm -rf /".into()), ..PromotionConfig::default() };
        assert!(Plan::new(&bad, None, "x").unwrap_err().contains("promotion.service"));
        assert_eq!(Plan::new(&PromotionConfig::default(), None, "orders-api").unwrap().service, "orders-api");
    }
}

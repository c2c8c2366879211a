//! The canary steps themselves: set the weight, analyse, go on, pause or
//! roll back. Every action, analysis and decision is handed to `record`
//! (the ledger) as it happens, so a rollout that dies half way leaves the
//! evidence of what it did.

use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use super::analysis::{self, AnalysisConfig, Metric, Phase, Provider};
use super::driver::{Action, Driver};

/// What a rollout needs besides its driver and metrics.
pub struct Rollout<'a> {
    /// Percent of traffic per step.
    pub steps: &'a [u8],
    /// The first step to take (0, or the step after a pause).
    pub from: usize,
    /// The analysis between steps.
    pub analysis: &'a AnalysisConfig,
    /// Its metrics, checked.
    pub metrics: &'a [Metric],
    /// Placeholders for the queries: service, version, commit, environment.
    pub vars: Vec<(&'static str, String)>,
}

/// How a rollout ended.
#[derive(Clone, Debug)]
pub enum Ending {
    /// Every step held; the release takes all traffic. The last step's
    /// measurements are the release's KPIs at GA.
    Promoted {
        /// Each metric of the last measurement.
        kpis: Vec<analysis::MetricResult>,
    },
    /// A step's analysis was inconclusive: traffic stays where it is until a
    /// signed human decision continues or aborts.
    Paused {
        /// The step, from 0.
        step: usize,
        /// Its weight.
        weight: u8,
        /// Why, naming the metric.
        reason: String,
    },
    /// A step failed or erred and traffic went back to the stable version.
    RolledBack(Abort),
}

/// A rollout that was rolled back.
#[derive(Clone, Debug)]
pub struct Abort {
    /// The step, from 0.
    pub step: usize,
    /// Its weight.
    pub weight: u8,
    /// Why, naming the metric, value and condition (or the driver's failure).
    pub reason: String,
    /// The rollback.
    pub rollback: Action,
    /// Whether the metrics held again once the stable version had all traffic.
    pub recovered: bool,
    /// What the recovery check said.
    pub recovery: String,
}

/// The everything a step hands the caller: a record type and its predicate.
pub type Recorder<'r> = dyn FnMut(&str, Value) -> Result<()> + 'r;

/// Takes the steps from `rollout.from` on.
pub fn roll(rollout: &Rollout<'_>, driver: &mut dyn Driver, provider: &mut dyn Provider, wait: &mut dyn FnMut(Duration), record: &mut Recorder<'_>) -> Result<Ending> {
    let mut kpis = Vec::new();
    for (step, &weight) in rollout.steps.iter().enumerate().skip(rollout.from) {
        let span = tracing::info_span!("promotion_step", step = step + 1, weight);
        let _entered = span.enter();
        let action = driver.set_weight(weight);
        // What the driver reports after the change, when it can tell.
        let status = if action.succeeded() { driver.status() } else { None };
        record("promotion-step", json!({"event": "set-weight", "step": step + 1, "weight": weight, "action": action, "status": status}))?;
        if !action.succeeded() {
            let reason = format!("step {} ({weight}%): the driver could not set the weight: {}", step + 1, action.failure());
            return roll_back(rollout, step, weight, reason, driver, provider, wait, record).map(Ending::RolledBack);
        }
        let run = analysis::run(rollout.analysis, rollout.metrics, &with_weight(&rollout.vars, weight), provider, wait);
        record("promotion-analysis", json!({"step": step + 1, "weight": weight, "phase": run.phase, "reason": run.reason, "measurements": run.measurements}))?;
        let reason = format!("step {} ({weight}%): {}", step + 1, run.reason);
        tracing::info!(phase = ?run.phase, "{reason}");
        match run.phase {
            Phase::Successful => kpis = run.measurements.last().map(|m| m.metrics.clone()).unwrap_or_default(),
            Phase::Inconclusive => {
                record("promotion-paused", json!({"step": step + 1, "weight": weight, "reason": reason}))?;
                return Ok(Ending::Paused { step, weight, reason });
            }
            Phase::Failed | Phase::Error => return roll_back(rollout, step, weight, reason, driver, provider, wait, record).map(Ending::RolledBack),
        }
    }
    Ok(Ending::Promoted { kpis })
}

fn with_weight(vars: &[(&'static str, String)], weight: u8) -> Vec<(&'static str, String)> {
    let mut out = vars.to_vec();
    out.push(("weight", weight.to_string()));
    out
}

/// Sends all traffic back and checks the metrics recover at weight 0.
#[allow(clippy::too_many_arguments)]
pub fn roll_back(
    rollout: &Rollout<'_>,
    step: usize,
    weight: u8,
    reason: String,
    driver: &mut dyn Driver,
    provider: &mut dyn Provider,
    wait: &mut dyn FnMut(Duration),
    record: &mut Recorder<'_>,
) -> Result<Abort> {
    let _entered = tracing::info_span!("promotion_rollback", step = step + 1, weight).entered();
    tracing::warn!("rolling back: {reason}");
    let rollback = driver.rollback();
    record("promotion-rollback", json!({"step": step + 1, "weight": weight, "reason": reason, "action": rollback}))?;
    let (recovered, recovery) = if rollback.succeeded() {
        wait(Duration::from_secs(rollout.analysis.interval_seconds));
        let recovery = rollout.analysis.recovery();
        let run = analysis::run(&recovery, rollout.metrics, &with_weight(&rollout.vars, 0), provider, wait);
        record("promotion-recovery", json!({"phase": run.phase, "reason": run.reason, "measurements": run.measurements}))?;
        let last = run.measurements.last().map(|m| m.metrics.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; ")).unwrap_or_default();
        let said = format!("measurement {} of at most {}: {last}", run.measurements.len(), recovery.count);
        (run.phase == Phase::Successful, said)
    } else {
        (false, format!("the rollback itself failed: {}", rollback.failure()))
    };
    Ok(Abort { step, weight, reason, rollback, recovered, recovery })
}

#[cfg(test)]
mod tests {
    use super::super::analysis::{MetricConfig, NoDataRule, Sample};
    use super::*;

    /// Records what it is asked to do; fails set-weight at `fail_at`.
    struct Fake {
        log: Vec<String>,
        fail_at: Option<u8>,
    }

    fn action(name: &'static str, ok: bool) -> Action {
        Action { action: name, command: name.into(), exit_code: Some(if ok { 0 } else { 1 }), duration_ms: 1, stdout: String::new(), stderr: "no such upstream".into() }
    }

    impl Driver for Fake {
        fn set_weight(&mut self, weight: u8) -> Action {
            self.log.push(format!("weight {weight}"));
            action("set-weight", self.fail_at != Some(weight))
        }
        fn rollback(&mut self) -> Action {
            self.log.push("rollback".into());
            action("rollback", true)
        }
        fn status(&mut self) -> Option<Action> {
            None
        }
    }

    /// The error rate: `bad` at the canary weights listed, 0 elsewhere;
    /// `None` for no data.
    struct ErrorRate(Vec<(String, Option<f64>)>);

    impl Provider for ErrorRate {
        fn sample(&mut self, query: &str) -> Sample {
            match self.0.iter().find(|(w, _)| query.ends_with(&format!("weight={w}"))) {
                Some((_, Some(v))) => Sample::Value(*v),
                Some((_, None)) => Sample::NoData,
                None => Sample::Value(0.0),
            }
        }
    }

    fn setup() -> (AnalysisConfig, Vec<Metric>) {
        let config = AnalysisConfig { interval_seconds: 0, initial_delay_seconds: 0, count: 2, failure_limit: 0, consecutive_error_limit: 4, inconclusive_limit: 0, consecutive_success_limit: 0, recovery_seconds: None, prometheus_url: String::new(), metrics: vec![] };
        let metric = MetricConfig { name: "error-rate".into(), query: "errors weight={weight}".into(), success: Some("<= 0.01".into()), failure: None, no_data: NoDataRule::Inconclusive, nan: NoDataRule::Inconclusive, baseline: None, lookback_seconds: None, alpha: None, direction: Default::default() };
        (config, vec![Metric::new(metric, 0).unwrap()])
    }

    fn go(steps: &[u8], fail_at: Option<u8>, rates: Vec<(&str, Option<f64>)>) -> (Ending, Vec<String>, Vec<String>) {
        let (config, metrics) = setup();
        let rollout = Rollout { steps, from: 0, analysis: &config, metrics: &metrics, vars: vec![] };
        let mut driver = Fake { log: vec![], fail_at };
        let mut provider = ErrorRate(rates.into_iter().map(|(w, v)| (w.to_owned(), v)).collect());
        let mut types = Vec::new();
        let ending = roll(&rollout, &mut driver, &mut provider, &mut |_| {}, &mut |t, _| {
            types.push(t.to_owned());
            Ok(())
        })
        .unwrap();
        (ending, driver.log, types)
    }

    #[test]
    fn a_healthy_release_takes_every_step() {
        let (ending, log, types) = go(&[10, 50, 100], None, vec![]);
        assert!(matches!(&ending, Ending::Promoted { kpis } if kpis.len() == 1 && kpis[0].name == "error-rate"), "{ending:?}");
        assert_eq!(log, ["weight 10", "weight 50", "weight 100"]);
        assert_eq!(types, ["promotion-step", "promotion-analysis"].repeat(3));
    }

    #[test]
    fn a_failing_step_rolls_back_and_checks_recovery() {
        let (ending, log, types) = go(&[10, 50, 100], None, vec![("10", Some(0.2))]);
        let Ending::RolledBack(abort) = ending else { panic!("{ending:?}") };
        assert_eq!((abort.step, abort.weight, abort.recovered), (0, 10, true));
        assert!(abort.reason.starts_with("step 1 (10%): measurement 1: error-rate = 0.2 does not meet the success condition <= 0.01"), "{}", abort.reason);
        assert_eq!(log, ["weight 10", "rollback"]);
        assert_eq!(types, ["promotion-step", "promotion-analysis", "promotion-rollback", "promotion-recovery"]);
    }

    #[test]
    fn no_data_pauses_and_a_driver_failure_rolls_back() {
        let (ending, log, _) = go(&[10, 50, 100], None, vec![("50", None)]);
        assert!(matches!(ending, Ending::Paused { step: 1, weight: 50, .. }), "{ending:?}");
        assert_eq!(log, ["weight 10", "weight 50"]);
        let (ending, _, _) = go(&[10, 100], Some(100), vec![]);
        let Ending::RolledBack(abort) = ending else { panic!() };
        assert!(abort.reason.contains("the driver could not set the weight: `set-weight` exited with status 1: no such upstream"), "{}", abort.reason);
    }
}

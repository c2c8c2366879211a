use super::*;
use crate::promote::mann_whitney::Direction;

/// Gives the scripted samples in order, the last one repeating.
struct Script(Vec<Sample>, usize);

impl Provider for Script {
    fn sample(&mut self, _query: &str) -> Sample {
        let s = self.0[self.1.min(self.0.len() - 1)].clone();
        self.1 += 1;
        s
    }
}

fn metric(success: Option<&str>, failure: Option<&str>) -> Metric {
    let config = MetricConfig {
        name: "error-rate".into(),
        query: "rate(errors{track=\"{weight}\"}[1m])".into(),
        success: success.map(str::to_owned),
        failure: failure.map(str::to_owned),
        no_data: NoDataRule::Inconclusive,
        nan: NoDataRule::Inconclusive,
        baseline: None,
        lookback_seconds: None,
        alpha: None,
        direction: Direction::Increase,
    };
    Metric::new(config, 0).unwrap()
}

fn config(count: u32) -> AnalysisConfig {
    AnalysisConfig {
        interval_seconds: 0,
        initial_delay_seconds: 0,
        count,
        failure_limit: 0,
        consecutive_error_limit: 4,
        inconclusive_limit: 0,
        consecutive_success_limit: 0,
        recovery_seconds: None,
        prometheus_url: "http://127.0.0.1:9090".into(),
        metrics: vec![],
    }
}

fn analyse(config: &AnalysisConfig, metric: &Metric, samples: Vec<Sample>) -> Run {
    let mut waits = 0;
    let run = run(config, std::slice::from_ref(metric), &[("weight", "10".into())], &mut Script(samples, 0), &mut |_| waits += 1);
    assert_eq!(waits, run.measurements.len().saturating_sub(1), "one wait between measurements");
    run
}

use Sample::{Error as Err, NoData, Value};

#[test]
fn conditions_parse_and_name_their_mistake() {
    assert_eq!(Condition::parse("<= 0.01").unwrap(), Condition { op: "<=", limit: 0.01 });
    assert!(Condition::parse(">=0.99").unwrap().holds(0.995));
    assert!(Condition::parse("=< 1").unwrap_err().contains("does not start with"));
    assert!(Condition::parse("< lots").unwrap_err().contains("the limit is not a number"));
    let none = MetricConfig { name: "x".into(), query: "up".into(), success: None, failure: None, no_data: NoDataRule::Fail, nan: NoDataRule::Fail, baseline: None, lookback_seconds: None, alpha: None, direction: Direction::Increase };
    assert!(Metric::new(none.clone(), 2).unwrap_err().starts_with("promotion.analysis.metrics[2] (x) has neither success, failure nor baseline"));
    let bad_alpha = MetricConfig { baseline: Some("up".into()), alpha: Some(5.0), ..none };
    assert!(Metric::new(bad_alpha, 0).unwrap_err().contains("alpha: the significance level must lie between 0 and 1"));
}

#[test]
fn each_value_is_judged_as_argo_rollouts_judges_it() {
    let both = metric(Some("<= 0.01"), Some("> 0.05"));
    assert_eq!(both.judge(&Value(0.002)).0, Phase::Successful);
    assert_eq!(both.judge(&Value(0.2)), (Phase::Failed, "error-rate = 0.2 meets the failure condition > 0.05".into()));
    assert_eq!(both.judge(&Value(0.03)).0, Phase::Inconclusive);
    let success_only = metric(Some("<= 0.01"), None);
    assert_eq!(success_only.judge(&Value(0.03)), (Phase::Failed, "error-rate = 0.03 does not meet the success condition <= 0.01".into()));
    let failure_only = metric(None, Some("> 0.05"));
    assert_eq!(failure_only.judge(&Value(0.03)).0, Phase::Successful);
    assert_eq!(both.judge(&NoData), (Phase::Inconclusive, "error-rate: no data (no_data = inconclusive)".into()));
    assert_eq!(both.judge(&Value(f64::NAN)).0, Phase::Inconclusive);
    assert_eq!(both.judge(&Err("connection refused".into())), (Phase::Error, "error-rate: connection refused".into()));
}

#[test]
fn the_run_stops_at_the_first_limit_it_breaks() {
    let m = metric(Some("<= 0.01"), None);
    let run = analyse(&config(5), &m, vec![Value(0.0), Value(0.2)]);
    assert_eq!(run.phase, Phase::Failed);
    assert_eq!(run.measurements.len(), 2);
    assert_eq!(run.reason, "measurement 2: error-rate = 0.2 does not meet the success condition <= 0.01 (1 failed, failure_limit 0)");

    let tolerant = AnalysisConfig { failure_limit: 1, ..config(3) };
    assert_eq!(analyse(&tolerant, &m, vec![Value(0.2), Value(0.0)]).phase, Phase::Successful);

    let run = analyse(&config(3), &m, vec![Value(0.0), NoData]);
    assert_eq!((run.phase, run.measurements.len()), (Phase::Inconclusive, 2));
    assert!(run.reason.contains("no data (no_data = inconclusive)"), "{}", run.reason);
}

#[test]
fn errors_in_a_row_over_the_limit_err_and_a_success_resets_them() {
    let m = metric(Some("<= 0.01"), None);
    let limited = AnalysisConfig { consecutive_error_limit: 1, ..config(6) };
    let run = analyse(&limited, &m, vec![Err("timeout".into()), Value(0.0), Err("timeout".into()), Err("timeout".into())]);
    assert_eq!((run.phase, run.measurements.len()), (Phase::Error, 4));
    assert!(run.reason.ends_with("(2 errors in a row, consecutive_error_limit 1)"), "{}", run.reason);
    // Errors within the limit, but nothing ever measured: never a pass.
    let run = analyse(&config(2), &m, vec![Err("timeout".into())]);
    assert_eq!(run.phase, Phase::Error);
}

#[test]
fn consecutive_successes_end_the_analysis_early() {
    let m = metric(Some("<= 0.01"), None);
    let early = AnalysisConfig { consecutive_success_limit: 2, ..config(10) };
    let run = analyse(&early, &m, vec![Value(0.0)]);
    assert_eq!((run.phase, run.measurements.len()), (Phase::Successful, 2));
    let run = analyse(&config(3), &m, vec![Value(0.0)]);
    assert_eq!((run.phase, run.measurements.len()), (Phase::Successful, 3));
    assert_eq!(run.reason, "3 measurements: 3 successful, 0 failed, 0 inconclusive");
}

#[test]
fn the_query_is_filled_in_before_it_is_sent() {
    struct Seen(Vec<String>);
    impl Provider for Seen {
        fn sample(&mut self, query: &str) -> Sample {
            self.0.push(query.to_owned());
            Value(0.0)
        }
    }
    let mut seen = Seen(Vec::new());
    run(&config(1), &[metric(Some("<= 1"), None)], &[("weight", "10".into())], &mut seen, &mut |_| {});
    assert_eq!(seen.0, ["rate(errors{track=\"10\"}[1m])"]);
}

#[test]
fn recovery_waits_for_one_good_measurement() {
    let m = metric(Some("<= 0.01"), None);
    let recovery = AnalysisConfig { interval_seconds: 2, recovery_seconds: Some(10), ..config(3) }.recovery();
    assert_eq!(recovery.count, 5);
    let run = analyse(&recovery, &m, vec![Value(0.2), Value(0.05), Value(0.0)]);
    assert_eq!((run.phase, run.measurements.len()), (Phase::Successful, 3));
    let run = analyse(&recovery, &m, vec![Value(0.2)]);
    assert_eq!((run.phase, run.measurements.len()), (Phase::Failed, 5));
}

/// Canary and baseline samples by query.
struct Series(Vec<f64>, Vec<f64>);

impl Provider for Series {
    fn sample(&mut self, _query: &str) -> Sample {
        Value(0.0)
    }
    fn series(&mut self, query: &str, lookback: Duration) -> Result<Vec<f64>, String> {
        assert_eq!(lookback, Duration::from_secs(30));
        Ok(if query.contains("canary") { self.0.clone() } else { self.1.clone() })
    }
}

fn compared(canary: Vec<f64>, baseline: Vec<f64>) -> Measurement {
    let config = MetricConfig {
        name: "latency".into(),
        query: "p99{track=\"canary\"}".into(),
        success: None,
        failure: None,
        no_data: NoDataRule::Inconclusive,
        nan: NoDataRule::Inconclusive,
        baseline: Some("p99{track=\"stable\"}".into()),
        lookback_seconds: Some(30),
        alpha: None,
        direction: Direction::Increase,
    };
    measure(&[Metric::new(config, 0).unwrap()], &[], &mut Series(canary, baseline))
}

#[test]
fn a_canary_significantly_worse_than_its_baseline_fails() {
    let m = compared(vec![0.31, 0.29, 0.35, 0.33, 0.30, 0.34], vec![0.20, 0.21, 0.19, 0.22, 0.20, 0.18]);
    assert_eq!(m.phase, Phase::Failed);
    let r = &m.metrics[0];
    assert!(r.message.starts_with("latency: canary median 0.32 vs baseline median 0.2 over 30 s: higher than the baseline, Mann-Whitney U p = "), "{}", r.message);
    assert!(r.comparison.unwrap().p < 0.05);
    let same = compared(vec![0.20, 0.22, 0.19, 0.21], vec![0.21, 0.20, 0.22, 0.19]);
    assert_eq!(same.phase, Phase::Successful, "{}", same.metrics[0].message);
    let better = compared(vec![0.10, 0.11, 0.09, 0.12], vec![0.21, 0.20, 0.22, 0.19]);
    assert_eq!(better.phase, Phase::Successful, "only a rise counts against the canary: {}", better.metrics[0].message);
    let few = compared(vec![0.3, 0.3], vec![0.2, 0.2, 0.2]);
    assert_eq!(few.phase, Phase::Inconclusive);
    assert!(few.metrics[0].message.contains("2 canary and 3 baseline samples over 30 s, fewer than 3"), "{}", few.metrics[0].message);
}

#[test]
fn figures_keep_four_significant_digits() {
    assert_eq!(figure(0.09331924766348054), "0.09332");
    assert_eq!(figure(0.2), "0.2");
    assert_eq!(figure(1234.5678), "1235");
    assert_eq!(figure(0.0), "0");
    assert_eq!(figure(f64::INFINITY), "inf");
}

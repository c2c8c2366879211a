//! A metric judged against the stable version, as Kayenta judges a canary:
//! the samples of the canary's query and of the baseline's query over the
//! last `lookback_seconds`, compared by a Mann-Whitney U test. A difference
//! in the metric's `direction` with a p-value under `alpha` fails; fewer
//! than three samples on either side follows `no_data`.

use std::time::Duration;

use super::{Metric, Phase};
use crate::promote::mann_whitney::{Comparison, Direction, compare};

/// Samples each side needs for the test to say anything.
const MIN_SAMPLES: usize = 3;

/// The compared lookback when the metric gives none.
const DEFAULT_LOOKBACK: u64 = 60;

/// The significance level when the metric gives none.
const DEFAULT_ALPHA: f64 = 0.05;

/// The phase, the message and the comparison of one metric's canary and baseline.
pub(super) fn judge(metric: &Metric, canary_query: &str, baseline_query: &str, provider: &mut dyn super::Provider) -> (Phase, String, Option<Comparison>) {
    let name = &metric.config.name;
    let lookback = metric.config.lookback_seconds.unwrap_or(DEFAULT_LOOKBACK);
    let alpha = metric.config.alpha.unwrap_or(DEFAULT_ALPHA);
    let window = Duration::from_secs(lookback);
    let (canary, baseline) = match (provider.series(canary_query, window), provider.series(baseline_query, window)) {
        (Ok(c), Ok(b)) => (c, b),
        (Err(e), _) => return (Phase::Error, format!("{name}: canary samples: {e}"), None),
        (_, Err(e)) => return (Phase::Error, format!("{name}: baseline samples: {e}"), None),
    };
    if canary.len() < MIN_SAMPLES || baseline.len() < MIN_SAMPLES {
        let rule = metric.config.no_data;
        let message = format!("{name}: {} canary and {} baseline samples over {lookback} s, fewer than {MIN_SAMPLES} (no_data = {})", canary.len(), baseline.len(), rule.as_str());
        return (rule.phase(), message, None);
    }
    let Some(c) = compare(&canary, &baseline, metric.config.direction) else {
        let rule = metric.config.nan;
        return (rule.phase(), format!("{name}: NaN among the samples over {lookback} s (nan = {})", rule.as_str()), None);
    };
    let worse = match metric.config.direction {
        Direction::Increase => "higher than",
        Direction::Decrease => "lower than",
        Direction::Either => "different from",
    };
    let medians = format!("canary median {} vs baseline median {} over {lookback} s", c.canary_median, c.baseline_median);
    if c.p < alpha {
        (Phase::Failed, format!("{name}: {medians}: {worse} the baseline, Mann-Whitney U p = {:.4} < alpha {alpha}", c.p), Some(c))
    } else {
        (Phase::Successful, format!("{name}: {medians}: not significantly {worse} the baseline (p = {:.4})", c.p), Some(c))
    }
}

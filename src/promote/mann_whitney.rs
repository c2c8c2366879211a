//! The Mann-Whitney U test, as Kayenta uses it to judge a canary against its
//! baseline: do the canary's samples of a metric tend to be larger (or
//! smaller) than the baseline's, beyond what chance explains? The normal
//! approximation with tie correction and continuity correction, as
//! `scipy.stats.mannwhitneyu(..., method="asymptotic")` computes it.

/// Which difference counts against the canary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The canary's values are larger (error rates, latencies).
    #[default]
    Increase,
    /// The canary's values are smaller (throughput, success ratios).
    Decrease,
    /// Any difference.
    Either,
}

/// The test's result.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// U of the canary's samples.
    pub u: f64,
    /// The p-value for `direction`.
    pub p: f64,
    /// The canary's median.
    pub canary_median: f64,
    /// The baseline's median.
    pub baseline_median: f64,
    /// Samples of each.
    pub canary_samples: usize,
    /// Samples of the baseline.
    pub baseline_samples: usize,
}

/// Compares `canary` with `baseline`; `None` when either is empty or holds
/// a value that is not finite.
pub fn compare(canary: &[f64], baseline: &[f64], direction: Direction) -> Option<Comparison> {
    if canary.is_empty() || baseline.is_empty() || canary.iter().chain(baseline).any(|v| !v.is_finite()) {
        return None;
    }
    let (n1, n2) = (canary.len() as f64, baseline.len() as f64);
    let ranks = ranks(canary, baseline);
    let r1: f64 = ranks.iter().take(canary.len()).sum();
    let u = r1 - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let n = n1 + n2;
    let ties = tie_term(canary, baseline);
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let p = if variance <= 0.0 {
        1.0
    } else {
        let sd = variance.sqrt();
        match direction {
            Direction::Increase => upper_tail((u - mean - 0.5) / sd),
            Direction::Decrease => upper_tail((mean - u - 0.5) / sd),
            Direction::Either => (2.0 * upper_tail(((u - mean).abs() - 0.5) / sd)).min(1.0),
        }
    };
    Some(Comparison { u, p, canary_median: median(canary), baseline_median: median(baseline), canary_samples: canary.len(), baseline_samples: baseline.len() })
}

/// Ranks of the pooled samples (canary first), ties sharing their mean rank.
fn ranks(canary: &[f64], baseline: &[f64]) -> Vec<f64> {
    let pooled: Vec<f64> = canary.iter().chain(baseline).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|a, b| pooled[*a].total_cmp(&pooled[*b]));
    let mut ranks = vec![0.0; pooled.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && pooled[order[j + 1]] == pooled[order[i]] {
            j += 1;
        }
        // Positions i..=j (from 0) share the mean of ranks i+1..=j+1.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for k in &order[i..=j] {
            ranks[*k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Σ (t³ − t) over the groups of tied values.
fn tie_term(canary: &[f64], baseline: &[f64]) -> f64 {
    let mut pooled: Vec<f64> = canary.iter().chain(baseline).copied().collect();
    pooled.sort_by(f64::total_cmp);
    pooled.chunk_by(|a, b| a == b).map(|g| (g.len() as f64).powi(3) - g.len() as f64).sum()
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] }
}

/// P(Z > z) for a standard normal Z.
fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function, by the Chebyshev fit of Numerical
/// Recipes (`erfcc`), whose fractional error is below 1.2e-7 everywhere.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96 + t * (0.096_784_18 + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() <= 1e-6 + 1e-5 * expected.abs(), "{actual} is not {expected}");
    }

    // Expected values from scipy.stats.mannwhitneyu(canary, baseline, alternative=..., method="asymptotic").
    #[test]
    fn p_values_agree_with_scipy() {
        let canary = [0.051, 0.062, 0.049, 0.071, 0.066, 0.058, 0.069, 0.073];
        let baseline = [0.011, 0.009, 0.014, 0.012, 0.010, 0.013, 0.008, 0.015];
        let c = compare(&canary, &baseline, Direction::Increase).unwrap();
        assert_eq!(c.u, 64.0);
        close(c.p, P_GREATER_SEPARATED);
        close(compare(&canary, &baseline, Direction::Decrease).unwrap().p, P_LESS_SEPARATED);
        let a = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0];
        let b = [2.0, 3.0, 3.0, 4.0, 4.0, 6.0, 7.0];
        let tied = compare(&a, &b, Direction::Either).unwrap();
        assert_eq!(tied.u, U_TIED);
        close(tied.p, P_TWO_SIDED_TIED);
        close(compare(&a, &b, Direction::Increase).unwrap().p, P_GREATER_TIED);
    }

    #[test]
    fn identical_samples_show_no_difference_and_empty_ones_cannot_be_compared() {
        let same = compare(&[1.0, 1.0, 1.0], &[1.0, 1.0], Direction::Increase).unwrap();
        assert_eq!(same.p, 1.0);
        assert!(compare(&[], &[1.0], Direction::Either).is_none());
        assert!(compare(&[f64::NAN], &[1.0], Direction::Either).is_none());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    const P_GREATER_SEPARATED: f64 = 0.000_469_552_849_558_594_95;
    const P_LESS_SEPARATED: f64 = 0.999_678_955_602_067_7;
    const U_TIED: f64 = 25.0;
    const P_TWO_SIDED_TIED: f64 = 0.769_723_516_310_127_3;
    const P_GREATER_TIED: f64 = 0.659_035_109_676_896_5;
}

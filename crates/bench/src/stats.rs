//! Statistics over samples: median, min and max of one measurement, and
//! the geometric mean that folds per-program ratios into one figure.

use serde::Serialize;

/// One measured quantity: every raw sample plus its median, min and max.
///
/// Samples keep the order they were taken in, so drift over a run can be
/// seen in `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// The unit of every figure here: `"s"` or `"KiB"`.
    pub unit: &'static str,
    /// The median of the samples (the mean of the middle two when their
    /// count is even).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// Every sample, in the order taken.
    pub samples: Vec<f64>,
}

impl Measure {
    /// Summarises `samples`; `None` when there are none (or one is not a
    /// number, which would make the order meaningless).
    pub fn new(unit: &'static str, samples: Vec<f64>) -> Option<Measure> {
        let (median, min, max) = summarize(&samples)?;
        Some(Measure {
            unit,
            median,
            min,
            max,
            samples,
        })
    }
}

/// Median, min and max of `samples`, or `None` when there are none or one
/// is NaN.
pub fn summarize(samples: &[f64]) -> Option<(f64, f64, f64)> {
    if samples.is_empty() || samples.iter().any(|s| s.is_nan()) {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some((median, sorted[0], sorted[n - 1]))
}

/// The geometric mean of `values`: the right average for ratios, since
/// a 2× win and a 2× loss cancel out. `None` when there are no values or
/// one is not a positive finite number (its logarithm would be
/// meaningless).
pub fn geomean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return None;
    }
    let mean_log = values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64;
    Some(mean_log.exp())
}

/// `numerator / denominator` when both are positive finite numbers.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    let ok = |x: f64| x.is_finite() && x > 0.0;
    (ok(numerator) && ok(denominator)).then(|| numerator / denominator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(summarize(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(summarize(&[4.0, 1.0, 3.0, 2.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(summarize(&[7.0]), Some((7.0, 7.0, 7.0)));
    }

    #[test]
    fn median_ignores_order_and_outliers() {
        let (median, min, max) = summarize(&[1.0, 1.1, 50.0, 0.9, 1.05]).unwrap();
        assert_eq!(median, 1.05);
        assert_eq!(min, 0.9);
        assert_eq!(max, 50.0);
    }

    #[test]
    fn empty_or_nan_samples_have_no_summary() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[1.0, f64::NAN]), None);
        assert!(Measure::new("s", vec![]).is_none());
    }

    #[test]
    fn measure_keeps_samples_in_order() {
        let m = Measure::new("s", vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!(m.samples, vec![3.0, 1.0, 2.0]);
        assert_eq!((m.median, m.min, m.max), (2.0, 1.0, 3.0));
    }

    #[test]
    fn geomean_of_reciprocal_ratios_is_one() {
        let g = geomean(&[2.0, 0.5]).unwrap();
        assert!((g - 1.0).abs() < 1e-12);
        let g = geomean(&[1.0, 10.0, 100.0]).unwrap();
        assert!((g - 10.0).abs() < 1e-9);
    }

    #[test]
    fn geomean_rejects_empty_and_non_positive() {
        assert_eq!(geomean(&[]), None);
        assert_eq!(geomean(&[1.0, 0.0]), None);
        assert_eq!(geomean(&[1.0, -2.0]), None);
        assert_eq!(geomean(&[f64::INFINITY]), None);
    }

    #[test]
    fn ratio_needs_positive_operands() {
        assert_eq!(ratio(3.0, 1.5), Some(2.0));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(0.0, 1.0), None);
    }
}

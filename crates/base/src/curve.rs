//! A run's headline curves, taken from its reports: what an experiment file's recorded run and
//! its re-run are drawn and compared by. Curves are keyed by position (step or simulated ms), not
//! by report, so they do not depend on how a run was cut into chunks.

use serde::{Deserialize, Serialize};

/// One named curve: (position, value) points in position order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            points: Vec::new(),
        }
    }
}

/// How two runs' curves compare: over the points at the same positions of curves of the same
/// name, the largest absolute difference and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Points compared (same curve, same position).
    pub points: usize,
    /// The largest |a − b| (0 when the runs agree to the bit).
    pub max_abs: f64,
    /// The curve and position of that difference.
    pub worst: Option<(String, f64)>,
}

impl Comparison {
    /// For the page and the CLI: "identical over 40 points" or "largest difference 2.1e-7
    /// (test_loss at 300) over 40 points".
    pub fn text(&self) -> String {
        match (&self.worst, self.points) {
            (_, 0) => "no points in common yet".into(),
            (Some((name, at)), n) if self.max_abs > 0.0 => format!(
                "largest difference {:.2e} ({name} at {at}) over {n} points",
                self.max_abs
            ),
            (_, n) => format!("identical over {n} points"),
        }
    }
}

/// Compare `a` with `b` where both have a point.
pub fn compare(a: &[Curve], b: &[Curve]) -> Comparison {
    let mut c = Comparison {
        points: 0,
        max_abs: 0.0,
        worst: None,
    };
    for ca in a {
        let Some(cb) = b.iter().find(|cb| cb.name == ca.name) else {
            continue;
        };
        let mut j = 0;
        for &(x, ya) in &ca.points {
            while j < cb.points.len() && cb.points[j].0 < x {
                j += 1;
            }
            let Some(&(xb, yb)) = cb.points.get(j) else {
                break;
            };
            if xb != x {
                continue;
            }
            c.points += 1;
            let d = (ya - yb).abs();
            if d > c.max_abs || c.worst.is_none() {
                c.max_abs = c.max_abs.max(d);
                if d >= c.max_abs {
                    c.worst = Some((ca.name.clone(), x));
                }
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(name: &str, points: &[(f64, f64)]) -> Curve {
        Curve {
            name: name.into(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn curves_compare_where_both_have_a_point() {
        let a = [curve("loss", &[(0.0, 1.0), (10.0, 0.5), (20.0, 0.25)])];
        let same = compare(&a, &a);
        assert_eq!((same.points, same.max_abs), (3, 0.0));
        assert_eq!(same.text(), "identical over 3 points");
        // A shorter re-run, another curve, a point moved: only common positions count.
        let b = [
            curve("loss", &[(0.0, 1.0), (10.0, 0.75)]),
            curve("acc", &[(0.0, 0.0)]),
        ];
        let c = compare(&a, &b);
        assert_eq!((c.points, c.max_abs), (2, 0.25));
        assert_eq!(c.worst, Some(("loss".into(), 10.0)));
        assert_eq!(
            c.text(),
            "largest difference 2.50e-1 (loss at 10) over 2 points"
        );
        assert_eq!(compare(&a, &[]).text(), "no points in common yet");
    }
}

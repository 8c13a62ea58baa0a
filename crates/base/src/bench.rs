//! The in-browser benchmark's plain types: each lab names a few workloads ([`BenchCase`]), the
//! worker times them on its backend and answers [`BenchProgress`] (rows of [`BenchRow`]). The same
//! cases run natively in `neurolab bench all`, so a user's browser figure sits beside this
//! machine's.

use serde::{Deserialize, Serialize};

/// A workload to time: a lab's config run for a while after a warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchCase<C> {
    /// Short, for the table ("MLP p=97 H=500").
    pub name: &'static str,
    pub config: C,
    /// What the rate counts ("steps", "samples", "× real time").
    pub unit: &'static str,
    /// How many of `unit` one position unit is (an SAE step trains `batch` samples; a simulated
    /// ms is 1/1000 of real time).
    pub per_position: f64,
}

/// One timed workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub lab: String,
    pub case: String,
    pub unit: String,
    /// `unit` per wall-clock second.
    pub rate: f64,
    /// Position units timed (after the warm-up) and the seconds they took.
    pub timed: f64,
    pub seconds: f64,
}

/// Where a benchmark run stands: the rows so far, what runs now, why it stopped early.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BenchProgress {
    /// Cases finished, of `of`.
    pub done: u32,
    pub of: u32,
    /// The case being timed now.
    pub current: Option<String>,
    pub rows: Vec<BenchRow>,
    /// Set when it ended before its last case (a lab was started, a case failed).
    pub stopped: Option<String>,
    /// The backend and adapter it ran on.
    pub backend: String,
    pub adapter: String,
}

impl BenchProgress {
    pub fn finished(&self) -> bool {
        self.stopped.is_some() || (self.of > 0 && self.done >= self.of)
    }

    /// The rows as tab-separated text, for pasting into an issue or a spreadsheet.
    pub fn to_text(&self) -> String {
        let mut out = format!("neurolab bench · {} · {}\n", self.backend, self.adapter);
        out.push_str("lab\tcase\trate\tunit per s\n");
        for r in &self.rows {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                r.lab,
                r.case,
                format_rate(r.rate),
                r.unit
            ));
        }
        out
    }
}

/// Three significant figures (1 230, 45.6, 0.789).
pub fn format_rate(rate: f64) -> String {
    if !rate.is_finite() {
        return "–".into();
    }
    let digits = if rate >= 100.0 {
        0
    } else if rate >= 10.0 {
        1
    } else {
        2
    };
    format!("{rate:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_a_row_per_case_and_three_figures() {
        let p = BenchProgress {
            done: 1,
            of: 1,
            rows: vec![BenchRow {
                lab: "grok".into(),
                case: "MLP".into(),
                unit: "steps".into(),
                rate: 12.345,
                timed: 100.0,
                seconds: 8.1,
            }],
            backend: "cpu".into(),
            adapter: "burn-flex".into(),
            ..Default::default()
        };
        assert!(p.finished());
        assert_eq!(
            p.to_text(),
            "neurolab bench · cpu · burn-flex\nlab\tcase\trate\tunit per s\ngrok\tMLP\t12.3\tsteps\n"
        );
        assert_eq!(format_rate(1234.5), "1234");
        assert_eq!(format_rate(0.789), "0.79");
        assert_eq!(format_rate(f64::NAN), "–");
    }
}

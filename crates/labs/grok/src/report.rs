//! Plain reports: what the UI, the CLI and the tests see of a grokking run. Never tensors.

use serde::{Deserialize, Serialize};

/// The size of a built session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GrokSummary {
    pub n_train: u32,
    pub n_test: u32,
    pub n_params: u32,
}

/// Metrics of a grokking run at one step, read back from the device in one transfer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct StepReport {
    pub step: u32,
    pub train_loss: f32,
    pub test_loss: f32,
    pub train_acc: f32,
    pub test_acc: f32,
    /// sqrt of the sum of squares of every parameter.
    pub weight_norm: f32,
}

neurolab_base::finite_fields!(StepReport: train_loss, test_loss, train_acc, test_acc, weight_norm);

impl StepReport {
    pub const CSV_HEADER: &'static str = "step,train_loss,test_loss,train_acc,test_acc,weight_norm";

    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{}",
            self.step,
            self.train_loss,
            self.test_loss,
            self.train_acc,
            self.test_acc,
            self.weight_norm
        )
    }
}

/// The curves of a run as CSV (header plus one row per report).
pub fn curves_csv(reports: &[StepReport]) -> String {
    let mut out = String::from(StepReport::CSV_HEADER);
    out.push('\n');
    for r in reports {
        out.push_str(&r.csv_row());
        out.push('\n');
    }
    out
}

/// The first step at which test accuracy reached `threshold`, if it did.
pub fn first_step_reaching(reports: &[StepReport], threshold: f32) -> Option<u32> {
    reports
        .iter()
        .find(|r| r.test_acc >= threshold)
        .map(|r| r.step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_header_and_rows() {
        let r = StepReport {
            step: 10,
            train_loss: 1.5,
            test_loss: 2.0,
            train_acc: 0.5,
            test_acc: 0.25,
            weight_norm: 3.0,
        };
        let csv = curves_csv(&[r]);
        assert_eq!(
            csv,
            "step,train_loss,test_loss,train_acc,test_acc,weight_norm\n10,1.5,2,0.5,0.25,3\n"
        );
        assert_eq!(first_step_reaching(&[r], 0.2), Some(10));
        assert_eq!(first_step_reaching(&[r], 0.9), None);
    }
}

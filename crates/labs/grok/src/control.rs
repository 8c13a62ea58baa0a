//! Changes to a running grokking session and the worker's answers: ablation, a neuron's
//! frequency race, the mechanism at a kept checkpoint, forks from a checkpoint.

use crate::report::Analysis;
use serde::{Deserialize, Serialize};

/// What a fork changes (unset: as in the run it forks from).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ForkChanges {
    pub lr: Option<f64>,
    pub weight_decay: Option<f64>,
    pub grokfast: Option<bool>,
    pub grokfast_alpha: Option<f64>,
    pub grokfast_lambda: Option<f64>,
}

/// The fork keys of the link's text: `lr`, `wd`, `gf`, `gfa` (α), `gfl` (λ).
const FORK_KEYS: [&str; 5] = ["lr", "wd", "gf", "gfa", "gfl"];

impl ForkChanges {
    /// Each change within the limits of its field, or a message naming it.
    pub fn check(&self) -> Result<(), String> {
        use crate::config::{GROKFAST_LAMBDA_MAX, LR_MAX, WD_MAX};
        let range = |what: &str, v: Option<f64>, lo: f64, hi: f64, open: bool| match v {
            Some(x) if !(x.is_finite() && (if open { x > lo } else { x >= lo }) && x <= hi) => {
                Err(format!(
                    "a fork's {what} must be {} {lo} and at most {hi}, got {x}",
                    if open { "above" } else { "at least" }
                ))
            }
            _ => Ok(()),
        };
        range("learning rate", self.lr, 0.0, LR_MAX, true)?;
        range("weight decay", self.weight_decay, 0.0, WD_MAX, false)?;
        range("Grokfast α", self.grokfast_alpha, 0.0, 0.9999, false)?;
        range(
            "Grokfast λ",
            self.grokfast_lambda,
            0.0,
            GROKFAST_LAMBDA_MAX,
            false,
        )
    }

    /// `wd0lr0.001gf1`: each change as its key and value, in a fixed order.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push_str(k);
                out.push_str(&v);
            }
        };
        put("lr", self.lr.map(|v| v.to_string()));
        put("wd", self.weight_decay.map(|v| v.to_string()));
        put("gf", self.grokfast.map(|v| u8::from(v).to_string()));
        put("gfa", self.grokfast_alpha.map(|v| v.to_string()));
        put("gfl", self.grokfast_lambda.map(|v| v.to_string()));
        out
    }

    /// What the changes do, for a run's label ("wd 0, Grokfast on").
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.lr {
            parts.push(format!("lr {v}"));
        }
        if let Some(v) = self.weight_decay {
            parts.push(format!("wd {v}"));
        }
        if let Some(v) = self.grokfast {
            parts.push(if v { "Grokfast on" } else { "Grokfast off" }.to_string());
        }
        if let Some(v) = self.grokfast_alpha {
            parts.push(format!("α {v}"));
        }
        if let Some(v) = self.grokfast_lambda {
            parts.push(format!("λ {v}"));
        }
        parts.join(", ")
    }
}

/// A fork of the first run: at `step` (its state there), a new run with these changes trains
/// beside it to the same budget. Forks travel in links as `fork=500wd0_2000gf1lr0.003`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ForkSpec {
    pub step: u32,
    pub changes: ForkChanges,
}

impl ForkSpec {
    pub fn text(&self) -> String {
        format!("{}{}", self.step, self.changes.text())
    }

    /// `500wd0lr1e-3`: the step, then changes as key and value (keys `lr`, `wd`, `gf`, `gfa`,
    /// `gfl`).
    pub fn parse(s: &str) -> Result<ForkSpec, String> {
        let bad = |why: String| format!("fork '{s}': {why}");
        let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let step = s[..digits]
            .parse::<u32>()
            .map_err(|_| bad("it must start with the step to fork at".into()))?;
        let mut changes = ForkChanges::default();
        let mut rest = &s[digits..];
        while !rest.is_empty() {
            let key_len = rest
                .find(|c: char| !c.is_ascii_lowercase() || c == 'e')
                .unwrap_or(rest.len());
            let key = &rest[..key_len];
            rest = &rest[key_len..];
            let value_len = rest
                .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
                .unwrap_or(rest.len());
            let raw = &rest[..value_len];
            rest = &rest[value_len..];
            let value = raw
                .parse::<f64>()
                .map_err(|_| bad(format!("'{key}' needs a number after it, got '{raw}'")))?;
            match key {
                "lr" => changes.lr = Some(value),
                "wd" => changes.weight_decay = Some(value),
                "gf" if value == 0.0 || value == 1.0 => changes.grokfast = Some(value == 1.0),
                "gf" => return Err(bad(format!("gf is 1 (on) or 0 (off), got {raw}"))),
                "gfa" => changes.grokfast_alpha = Some(value),
                "gfl" => changes.grokfast_lambda = Some(value),
                _ => {
                    return Err(bad(format!(
                        "'{key}' is not a fork setting (they are {})",
                        FORK_KEYS.join(", ")
                    )))
                }
            }
        }
        changes.check().map_err(bad)?;
        Ok(ForkSpec { step, changes })
    }
}

/// Forks joined by `_`, in step order.
pub fn forks_text(forks: &[ForkSpec]) -> String {
    forks
        .iter()
        .map(ForkSpec::text)
        .collect::<Vec<_>>()
        .join("_")
}

/// Forks from their link text (empty: none), sorted by step.
pub fn parse_forks(s: &str) -> Result<Vec<ForkSpec>, String> {
    let mut forks = s
        .split('_')
        .filter(|f| !f.trim().is_empty())
        .map(|f| ForkSpec::parse(f.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    forks.sort_by_key(|f| f.step);
    Ok(forks)
}

impl neurolab_base::Finite for ForkChanges {
    fn all_finite(&self) -> bool {
        [
            self.lr,
            self.weight_decay,
            self.grokfast_alpha,
            self.grokfast_lambda,
        ]
        .iter()
        .all(|v| v.is_none_or(f64::is_finite))
    }
}

/// A change while the model trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum GrokControl {
    /// Ablate these hidden neurons from now on (training and reports); empty restores them.
    Ablate { neurons: Vec<u32> },
    /// Ablate the hidden neurons whose dominant Fourier frequency is `k`.
    AblateFrequency { k: u32 },
    /// A neuron's power per frequency over the analysed steps of a run.
    Race { run: u32, neuron: u32 },
    /// The mechanism at the kept checkpoint of `run` nearest to `step`.
    Checkpoint { run: u32, step: u32 },
    /// A new run from the checkpoint of `run` nearest to `step`, with these changes; it trains
    /// beside the others to the same budget.
    Fork {
        run: u32,
        step: u32,
        changes: ForkChanges,
    },
}

/// The worker's answer to a control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum GrokAnswer {
    /// The ablated hidden neurons now, sorted, and what the control did.
    Ablated {
        ablated: Vec<u32>,
        what: String,
    },
    /// `powers[f][t]`: the power of frequency `freqs[f]` in the neuron at `steps[t]`, for the
    /// neuron's strongest frequencies.
    Race {
        run: u32,
        neuron: u32,
        steps: Vec<u32>,
        freqs: Vec<u32>,
        powers: Vec<Vec<f32>>,
    },
    Snapshot {
        analysis: Box<Analysis>,
    },
    /// A run was forked: its index, where it starts and what it changes.
    Forked {
        run: u32,
        from_step: u32,
        label: String,
    },
    /// A fork of the first run at a step it has not reached: it starts there.
    ForkQueued {
        step: u32,
    },
}

impl neurolab_base::Finite for GrokAnswer {
    fn all_finite(&self) -> bool {
        match self {
            GrokAnswer::Race { powers, .. } => powers.all_finite(),
            GrokAnswer::Snapshot { analysis } => analysis.all_finite(),
            GrokAnswer::Ablated { .. }
            | GrokAnswer::Forked { .. }
            | GrokAnswer::ForkQueued { .. } => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forks_round_trip_through_their_text_and_bad_ones_say_why() {
        let forks = parse_forks("2000gf1lr1e-3_500wd0").unwrap();
        assert_eq!(forks[0].step, 500);
        assert_eq!(forks[0].changes.weight_decay, Some(0.0));
        assert_eq!(forks[1].changes.grokfast, Some(true));
        assert_eq!(forks[1].changes.lr, Some(1e-3));
        assert_eq!(parse_forks(&forks_text(&forks)).unwrap(), forks);
        assert_eq!(forks_text(&forks), "500wd0_2000lr0.001gf1");
        assert!(parse_forks("").unwrap().is_empty());
        for (bad, says) in [
            ("wd0", "start with the step"),
            ("500xx1", "not a fork setting"),
            ("500wd", "needs a number"),
            ("500gf2", "gf is 1"),
            ("500wd99", "at most 10"),
            ("500lr0", "above 0"),
        ] {
            let e = parse_forks(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}

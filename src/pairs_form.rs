//! A config form built from a lab config's link pairs: one field per `(key, value)`, the raw
//! text kept as typed, and the whole set parsed back with the config's own `from_link_pairs`
//! (so the form, the link and the CLI share one validation and one set of messages). Plain data,
//! tested natively.

/// Keys that change which other keys exist (preset, neuron model, task, readout, signal,
/// source): editing one starts from that choice's defaults for the rest.
pub const STRUCTURAL: [&str; 7] = ["preset", "model", "task", "ro", "sig", "source", "kind"];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairsForm {
    /// `(key, raw text)` in the config's order.
    pub fields: Vec<(String, String)>,
}

impl PairsForm {
    pub fn from_pairs(pairs: Vec<(&'static str, String)>) -> Self {
        Self {
            fields: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        if let Some(f) = self.fields.iter_mut().find(|(k, _)| k == key) {
            f.1 = value.into();
        }
    }

    /// Parse the fields after `edited` changed. A structural key keeps only the structural
    /// choices (the rest come from that choice's defaults); any other edit keeps every field.
    pub fn parse<C, E: std::fmt::Display>(
        &self,
        edited: &str,
        from_pairs: impl Fn(&[(String, String)]) -> Result<C, E>,
    ) -> Result<C, String> {
        let pairs: Vec<(String, String)> = if STRUCTURAL.contains(&edited) {
            let mut keep: Vec<&str> = vec!["preset", "source", edited];
            if edited != "preset" && edited != "source" {
                keep.extend(STRUCTURAL);
            }
            self.fields
                .iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .cloned()
                .collect()
        } else {
            self.fields.clone()
        };
        from_pairs(&pairs).map_err(|e| e.to_string())
    }
}

/// A readable label for a key (the key itself when it has none).
pub fn label(key: &str) -> &str {
    match key {
        "preset" => "preset",
        "eng" => "engine",
        "model" => "neuron model",
        "n" => "neurons",
        "ef" => "excitatory fraction",
        "dense" => "all-to-all",
        "pc" => "connection prob.",
        "we" => "exc. weight scale",
        "wi" => "inh. weight scale",
        "mix" => "neuron type mix",
        "het" => "heterogeneity",
        "dt" => "dt (ms)",
        "nse" => "noise, exc.",
        "nsi" => "noise, inh.",
        "drv" => "drive current",
        "ltm" => "LIF τ_m (ms)",
        "lts" => "LIF τ_syn (ms)",
        "lvr" => "LIF v_rest (mV)",
        "lvs" => "LIF v_reset (mV)",
        "lvt" => "LIF v_th (mV)",
        "ltr" => "LIF refractory (ms)",
        "lrm" => "LIF R_m",
        "seed" => "seed",
        "stdp" => "STDP",
        "ap" => "STDP A+",
        "am" => "STDP A−",
        "tp" => "STDP τ+ (ms)",
        "tmn" => "STDP τ− (ms)",
        "wmax" => "w max",
        "hom" => "homeostasis",
        "hr" => "target rate (Hz)",
        "htau" => "rate τ (ms)",
        "hsc" => "scaling rate",
        "hper" => "scaling period (ms)",
        "hip" => "threshold rate",
        "hmax" => "max bias",
        "rtau" => "readout trace τ (ms)",
        "tr" => "traced neurons",
        "dur" => "duration (ms)",
        "task" => "task",
        "tt" => "trial (ms)",
        "cue" => "cue (ms)",
        "stim" => "stimulus (ms)",
        "da" => "delay A (ms)",
        "db" => "delay B (ms)",
        "pa" => "p(A)",
        "pb" => "p(B)",
        "tw" => "target width (ms)",
        "go" => "gate outside",
        "side" => "image side",
        "bp" => "present (ms)",
        "bg" => "gap (ms)",
        "bs" => "settle (ms)",
        "bt" => "target",
        "sig" => "signal",
        "mgt" => "Mackey–Glass τ",
        "mgu" => "ms per unit",
        "per" => "periods (ms)",
        "hzn" => "horizon (ms)",
        "rep" => "report every (ms)",
        "if0" => "first input neuron",
        "igs" => "input group size",
        "iamp" => "input current",
        "ro" => "readout",
        "eta" => "learning rate η",
        "norm" => "normalise η",
        "wd" => "weight decay",
        "tel" => "eligibility τ (ms)",
        "cons" => "consolidation",
        "lam" => "ridge λ",
        "se" => "sample every",
        "alpha" => "FORCE α",
        "ue" => "update every",
        other => other,
    }
}

/// The values a choice key takes (rendered as a select).
pub fn choices(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "preset" => &["izhikevich2003", "reservoir", "lif"],
        "eng" => &["cpu", "gpu"],
        "model" => &["izh", "lif"],
        "task" => &["none", "what_when", "bars", "series"],
        "ro" => &["three_factor", "ridge", "force"],
        "sig" => &["mg", "sines"],
        "bt" => &["class", "pattern"],
        "cons" => &["online", "deferred"],
        "dense" | "stdp" | "norm" => &["0", "1"],
        "hom" => &["off", "scaling", "intrinsic", "both"],
        "source" => &["toy", "grok-mlp", "grok-transformer"],
        "kind" => &["topk", "relu-l1", "snmf"],
        _ => return None,
    })
}

/// The form's section for a key.
pub fn group(key: &str) -> &'static str {
    match key {
        "preset" | "eng" | "seed" | "dur" | "tr" => "run",
        "model" | "n" | "ef" | "dense" | "pc" | "we" | "wi" | "mix" | "het" | "dt" | "nse"
        | "nsi" | "drv" => "network",
        k if k.starts_with('l') && k.len() == 3 => "neurons",
        "stdp" | "ap" | "am" | "tp" | "tmn" | "wmax" | "hom" | "hr" | "htau" | "hsc" | "hper"
        | "hip" | "hmax" => "plasticity",
        "ro" | "eta" | "norm" | "wd" | "tel" | "cons" | "lam" | "se" | "alpha" | "ue" | "rtau" => {
            "readout"
        }
        _ => "task",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::spike::config::SpikeConfig;

    #[test]
    fn edits_parse_with_the_configs_own_rules() {
        let config = SpikeConfig::reservoir();
        let mut form = PairsForm::from_pairs(config.to_link_pairs());
        form.set("n", "300");
        let c: SpikeConfig = form.parse("n", SpikeConfig::from_link_pairs).unwrap();
        assert_eq!(c.n, 300);
        form.set("n", "50000000");
        let err = form
            .parse("n", SpikeConfig::from_link_pairs)
            .unwrap_err();
        assert!(err.contains("50000000"), "{err}");
        assert_eq!(form.get("n"), Some("50000000"), "the typed text is kept");
    }

    #[test]
    fn a_structural_edit_starts_from_that_choices_defaults() {
        let mut form = PairsForm::from_pairs(SpikeConfig::izhikevich2003().to_link_pairs());
        form.set("preset", "lif");
        let c: SpikeConfig = form.parse("preset", SpikeConfig::from_link_pairs).unwrap();
        assert_eq!(c, SpikeConfig::lif());
        let mut form = PairsForm::from_pairs(SpikeConfig::reservoir().to_link_pairs());
        for task in ["none", "what_when", "bars", "series"] {
            form.set("task", task);
            let c: SpikeConfig = form.parse("task", SpikeConfig::from_link_pairs).unwrap();
            form = PairsForm::from_pairs(c.to_link_pairs());
            assert_eq!(form.get("task"), Some(task));
        }
    }
}

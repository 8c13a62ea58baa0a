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
            fields: pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
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
        } else if edited == "n" {
            // A new size keeps the traced neurons that still exist (the config decides).
            self.fields
                .iter()
                .filter(|(k, _)| k != "tr")
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
        // The SAE lab.
        "source" => "activations",
        "kind" => "decomposition",
        "site" => "transformer site",
        "latents" => "latents L",
        "k" => "TopK k",
        "k_aux" => "AuxK k_aux",
        "aux_coef" => "AuxK coefficient",
        "dead_after" => "dead after (samples)",
        "l1" => "L1 λ",
        "lr" => "learning rate",
        "steps" => "steps",
        "batch" => "batch",
        "report_every" => "report every",
        "toy_n" => "true features n",
        "toy_m" => "hidden dims m",
        "toy_p_active" => "p(active)",
        "toy_decay" => "importance decay",
        "toy_steps" => "toy model steps",
        "toy_samples" => "samples",
        "grok_p" => "modulus p",
        "grok_steps" => "grokking steps",
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
        "site" => &["resid", "mlp"],
        _ => return None,
    })
}

/// The SAE form's section for a key, or `None` when the key does not apply to this config
/// (TopK keys under ReLU+L1, toy keys under a grok source, …).
pub fn sae_group(key: &str, source: &str, kind: &str) -> Option<&'static str> {
    let toy = source == "toy";
    match key {
        "source" => Some("source"),
        "site" => (source == "grok-transformer").then_some("source"),
        k if k.starts_with("toy_") => toy.then_some("source"),
        k if k.starts_with("grok_") => (!toy).then_some("source"),
        "kind" | "latents" => Some("decomposition"),
        "k" | "k_aux" | "aux_coef" => (kind == "topk").then_some("decomposition"),
        "l1" => (kind == "relu-l1").then_some("decomposition"),
        "dead_after" => (kind != "snmf").then_some("decomposition"),
        "lr" | "batch" => (kind != "snmf").then_some("training"),
        _ => Some("training"),
    }
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
        assert!(
            c.trace_neurons.iter().all(|&i| i < 300),
            "{:?}",
            c.trace_neurons
        );
        form.set("n", "50000000");
        let err = form.parse("n", SpikeConfig::from_link_pairs).unwrap_err();
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

    #[test]
    fn the_sae_form_shows_only_the_keys_that_apply() {
        use neurolab_core::sae::{SaeConfig, SaeSource};
        let keys = |c: &SaeConfig| -> Vec<&'static str> {
            c.to_link_pairs()
                .into_iter()
                .filter(|(k, _)| sae_group(k, c.source.name(), c.kind.name()).is_some())
                .map(|(k, _)| k)
                .collect()
        };
        let toy = SaeConfig::preset(SaeSource::Toy);
        let shown = keys(&toy);
        assert!(shown.contains(&"toy_n") && shown.contains(&"k"));
        assert!(!shown.contains(&"grok_p") && !shown.contains(&"l1") && !shown.contains(&"site"));
        let grok = SaeConfig::preset(SaeSource::GrokTransformer);
        let shown = keys(&grok);
        assert!(shown.contains(&"grok_p") && shown.contains(&"site") && !shown.contains(&"toy_n"));
        // Switching the decomposition starts from the source's defaults, with the new kind.
        let mut form = PairsForm::from_pairs(toy.to_link_pairs());
        form.set("latents", "48");
        form.set("kind", "relu-l1");
        let c: SaeConfig = form.parse("kind", SaeConfig::from_link_pairs).unwrap();
        assert_eq!(c.kind.name(), "relu-l1");
        assert_eq!(c.latents, toy.latents);
        assert!(keys(&c).contains(&"l1") && !keys(&c).contains(&"k"));
        form.set("kind", "topk");
        form.set("k", "999");
        let err = form.parse("k", SaeConfig::from_link_pairs).unwrap_err();
        assert!(err.starts_with("k must be between 1 and"), "{err}");
    }
}

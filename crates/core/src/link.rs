//! The share link: the whole experiment as a URL fragment, versioned and validated on decode.
//!
//! Format: `v=1&nl=<lab version>&lab=<grok|spike|sae>&<the lab's keys>&backend=auto[&logx=1][&embed=1][&hide=a,b]`.
//! The keys `v`, `nl`, `lab`, `backend`, `logx`, `embed`, `hide` are common; every other key
//! belongs to the lab: the grokking lab's (`model=mlp&p=97&op=add&…`) are decoded here, the
//! spiking lab's by `SpikeConfig::from_link_pairs` and the SAE lab's by
//! `SaeConfig::from_link_pairs`. Decoding starts from the lab's preset and applies every key; an
//! unknown, repeated or malformed key, a future version, or a value out of range is an error whose
//! message says what is wrong. Decoding never panics on any input (a property test checks it).

use crate::config::{Activation, BackendChoice, ConfigError, GrokConfig, LossKind, ModelKind, Op};
use crate::sae::{SaeConfig, SaeConfigError};
use crate::spike::config::{SpikeConfig, SpikeConfigError};
use crate::{LAB_VERSION, LINK_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use thiserror::Error;

/// Controls an embedding page may hide with `hide=`.
pub const HIDEABLE: [&str; 7] = [
    "config", "backend", "share", "export", "progress", "metrics", "step",
];

/// Longest link accepted (a real link is a few hundred characters).
pub const MAX_LINK_LEN: usize = 4096;

/// How the page shows the experiment; part of the link, not of the experiment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ViewOptions {
    /// `embed=1`: only the chart, the run controls and an "open in neurolab" link.
    pub embed: bool,
    /// Controls to hide (names from [`HIDEABLE`]).
    pub hide: Vec<String>,
    /// Log-scaled step axis.
    pub log_x: bool,
}

/// The labs a link can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabKind {
    #[default]
    Grok,
    Spike,
    Sae,
}

impl LabKind {
    pub const ALL: [LabKind; 3] = [LabKind::Grok, LabKind::Spike, LabKind::Sae];

    pub fn name(self) -> &'static str {
        match self {
            LabKind::Grok => "grok",
            LabKind::Spike => "spike",
            LabKind::Sae => "sae",
        }
    }

    pub fn parse(s: &str) -> Option<LabKind> {
        LabKind::ALL.into_iter().find(|l| l.name() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            LabKind::Grok => "Grokking",
            LabKind::Spike => "Spiking reservoir",
            LabKind::Sae => "Sparse autoencoders",
        }
    }
}

/// Keys every lab's link shares; all other keys belong to the lab.
const COMMON_KEYS: [&str; 7] = ["v", "nl", "lab", "backend", "logx", "embed", "hide"];

/// Everything a link carries. Each lab keeps its own config, so switching labs in the page
/// loses nothing; a link encodes only the open lab's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LabLink {
    pub lab: LabKind,
    /// The grokking lab's experiment.
    pub config: GrokConfig,
    /// The spiking reservoir lab's network, task and readout.
    pub spike: SpikeConfig,
    /// The SAE lab's source, decomposition and training.
    pub sae: SaeConfig,
    pub backend: BackendChoice,
    pub view: ViewOptions,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum LinkError {
    #[error("the link is empty")]
    Empty,
    #[error("the link is too long ({len} characters; at most {MAX_LINK_LEN})")]
    TooLong { len: usize },
    #[error("the link has no version (v=); it may be truncated")]
    NoVersion,
    #[error("the link's version '{0}' is not a number")]
    BadVersion(String),
    #[error("this link was made by a newer neurolab (link version {found}); this page reads version {LINK_VERSION} and older")]
    FutureVersion { found: u32 },
    #[error("unknown lab '{0}' (this page has: grok, spike, sae)")]
    UnknownLab(String),
    #[error("unknown link parameter '{0}'")]
    UnknownKey(String),
    #[error("link parameter '{0}' appears twice")]
    Repeated(String),
    #[error("link parameter '{key}' has a bad value '{value}': {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("{0}")]
    Invalid(#[from] ConfigError),
    #[error("{0}")]
    Spike(#[from] SpikeConfigError),
    #[error("{0}")]
    Sae(#[from] SaeConfigError),
}

impl LabLink {
    /// The fragment (without `#`).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("v", &LINK_VERSION.to_string())
            .append_pair("nl", LAB_VERSION)
            .append_pair("lab", self.lab.name());
        match self.lab {
            LabKind::Grok => {
                for (k, v) in grok_pairs(&self.config) {
                    s.append_pair(k, &v);
                }
            }
            LabKind::Spike => {
                for (k, v) in self.spike.to_link_pairs() {
                    s.append_pair(k, &v);
                }
            }
            LabKind::Sae => {
                for (k, v) in self.sae.to_link_pairs() {
                    s.append_pair(k, &v);
                }
            }
        }
        s.append_pair("backend", self.backend.name());
        if self.view.log_x {
            s.append_pair("logx", "1");
        }
        if self.view.embed {
            s.append_pair("embed", "1");
        }
        if !self.view.hide.is_empty() {
            s.append_pair("hide", &self.view.hide.join(","));
        }
        s.finish()
    }

    /// Decode a fragment (a leading `#` or `?` is allowed).
    pub fn decode(fragment: &str) -> Result<LabLink, LinkError> {
        let fragment = fragment.trim();
        let fragment = fragment
            .strip_prefix('#')
            .or_else(|| fragment.strip_prefix('?'))
            .unwrap_or(fragment);
        if fragment.is_empty() {
            return Err(LinkError::Empty);
        }
        if fragment.len() > MAX_LINK_LEN {
            return Err(LinkError::TooLong {
                len: fragment.len(),
            });
        }
        let pairs: Vec<(String, String)> = form_urlencoded::parse(fragment.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut seen = BTreeSet::new();
        for (k, _) in &pairs {
            if !seen.insert(k.as_str()) {
                return Err(LinkError::Repeated(k.clone()));
            }
        }
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let version = get("v").ok_or(LinkError::NoVersion)?;
        let version: u32 = version
            .parse()
            .map_err(|_| LinkError::BadVersion(version.to_string()))?;
        if version > LINK_VERSION {
            return Err(LinkError::FutureVersion { found: version });
        }
        if version == 0 {
            return Err(LinkError::BadVersion("0".into()));
        }
        let lab = match get("lab") {
            None => LabKind::Grok,
            Some(name) => {
                LabKind::parse(name).ok_or_else(|| LinkError::UnknownLab(name.to_string()))?
            }
        };
        let mut link = LabLink {
            lab,
            ..LabLink::default()
        };
        for (key, v) in &pairs {
            let v = v.as_str();
            match key.as_str() {
                "backend" => {
                    link.backend = BackendChoice::parse(v)
                        .ok_or_else(|| bad(key, v, "one of auto, webgpu, cpu"))?
                }
                "logx" => link.view.log_x = parse_flag(key, v)?,
                "embed" => link.view.embed = parse_flag(key, v)?,
                "hide" => {
                    link.view.hide = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| {
                            if HIDEABLE.contains(&s) {
                                Ok(s.to_string())
                            } else {
                                Err(bad(key, s, "a comma-separated list of config, backend, share, export, progress, metrics, step"))
                            }
                        })
                        .collect::<Result<_, _>>()?
                }
                _ => {}
            }
        }
        let lab_pairs: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, _)| !COMMON_KEYS.contains(&k.as_str()))
            .collect();
        match lab {
            LabKind::Grok => link.config = decode_grok(&lab_pairs)?,
            LabKind::Spike => link.spike = SpikeConfig::from_link_pairs(&lab_pairs)?,
            LabKind::Sae => link.sae = SaeConfig::from_link_pairs(&lab_pairs)?,
        }
        Ok(link)
    }
}

/// The grokking lab's keys.
fn grok_pairs(c: &GrokConfig) -> Vec<(&'static str, String)> {
    vec![
        ("model", c.model.name().to_string()),
        ("p", c.p.to_string()),
        ("op", c.op.name().to_string()),
        ("frac", c.train_frac.to_string()),
        ("seed", c.seed.to_string()),
        ("hidden", c.hidden.to_string()),
        ("act", c.activation.name().to_string()),
        ("loss", c.loss.name().to_string()),
        ("dmodel", c.d_model.to_string()),
        ("heads", c.n_heads.to_string()),
        ("dmlp", c.d_mlp.to_string()),
        ("init", c.init_scale.to_string()),
        ("lr", c.lr.to_string()),
        ("wd", c.weight_decay.to_string()),
        ("b1", c.beta1.to_string()),
        ("b2", c.beta2.to_string()),
        ("gf", if c.grokfast { "1" } else { "0" }.to_string()),
        ("gfa", c.grokfast_alpha.to_string()),
        ("gfl", c.grokfast_lambda.to_string()),
        ("steps", c.steps.to_string()),
        ("every", c.report_every.to_string()),
    ]
}

/// The grokking lab's keys → a validated config, starting from the model's preset.
fn decode_grok(pairs: &[(String, String)]) -> Result<GrokConfig, LinkError> {
    let model = pairs
        .iter()
        .find(|(k, _)| k == "model")
        .map(|(_, v)| v.as_str());
    let mut config = match model {
        None => GrokConfig::preset_mlp(),
        Some(m) => match ModelKind::parse(m) {
            Some(ModelKind::Mlp) => GrokConfig::preset_mlp(),
            Some(ModelKind::Transformer) => GrokConfig::preset_transformer(),
            None => return Err(bad("model", m, "one of mlp, transformer")),
        },
    };
    for (key, value) in pairs {
        let v = value.as_str();
        match key.as_str() {
            "model" => {}
            "p" => config.p = parse_u32(key, v)?,
            "op" => config.op = Op::parse(v).ok_or_else(|| bad(key, v, "one of add, sub, mul"))?,
            "frac" => config.train_frac = parse_f64(key, v)?,
            "seed" => {
                config.seed = v
                    .parse()
                    .map_err(|_| bad(key, v, "a whole number from 0 to 2^64-1"))?
            }
            "hidden" => config.hidden = parse_u32(key, v)?,
            "act" => {
                config.activation =
                    Activation::parse(v).ok_or_else(|| bad(key, v, "one of quadratic, relu"))?
            }
            "loss" => {
                config.loss = LossKind::parse(v).ok_or_else(|| bad(key, v, "one of ce, mse"))?
            }
            "dmodel" => config.d_model = parse_u32(key, v)?,
            "heads" => config.n_heads = parse_u32(key, v)?,
            "dmlp" => config.d_mlp = parse_u32(key, v)?,
            "init" => config.init_scale = parse_f64(key, v)?,
            "lr" => config.lr = parse_f64(key, v)?,
            "wd" => config.weight_decay = parse_f64(key, v)?,
            "b1" => config.beta1 = parse_f64(key, v)?,
            "b2" => config.beta2 = parse_f64(key, v)?,
            "gf" => config.grokfast = parse_flag(key, v)?,
            "gfa" => config.grokfast_alpha = parse_f64(key, v)?,
            "gfl" => config.grokfast_lambda = parse_f64(key, v)?,
            "steps" => config.steps = parse_u32(key, v)?,
            "every" => config.report_every = parse_u32(key, v)?,
            other => return Err(LinkError::UnknownKey(other.to_string())),
        }
    }
    config.validate()?;
    Ok(config)
}

fn bad(key: &str, value: &str, expected: &'static str) -> LinkError {
    let mut value = value.to_string();
    if value.chars().count() > 40 {
        value = value.chars().take(40).collect::<String>() + "…";
    }
    LinkError::BadValue {
        key: key.to_string(),
        value,
        expected,
    }
}

fn parse_u32(key: &str, v: &str) -> Result<u32, LinkError> {
    v.parse().map_err(|_| bad(key, v, "a whole number"))
}

fn parse_f64(key: &str, v: &str) -> Result<f64, LinkError> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(bad(key, v, "a finite number")),
    }
}

fn parse_flag(key: &str, v: &str) -> Result<bool, LinkError> {
    match v {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(key, v, "0 or 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_defaults_and_edits() {
        let mut link = LabLink::default();
        assert_eq!(LabLink::decode(&link.encode()).unwrap(), link);
        link.config = GrokConfig::preset_transformer();
        link.config.seed = u64::MAX;
        link.config.lr = 0.000123;
        link.config.grokfast = true;
        link.config.op = Op::Mul;
        link.backend = BackendChoice::Cpu;
        link.view = ViewOptions {
            embed: true,
            hide: vec!["config".into(), "share".into()],
            log_x: true,
        };
        let encoded = link.encode();
        assert_eq!(LabLink::decode(&format!("#{encoded}")).unwrap(), link);
    }

    #[test]
    fn rejects_future_version() {
        let enc = LabLink::default().encode().replacen("v=1", "v=7", 1);
        let err = LabLink::decode(&enc).unwrap_err();
        assert_eq!(err, LinkError::FutureVersion { found: 7 });
        assert!(err.to_string().contains("newer neurolab"));
    }

    #[test]
    fn rejects_out_of_range_with_limit() {
        let enc = LabLink::default().encode().replace("p=97", "p=300");
        assert_eq!(
            LabLink::decode(&enc).unwrap_err().to_string(),
            "p must be a prime between 5 and 257, got 300"
        );
    }

    #[test]
    fn rejects_tampering_and_truncation() {
        let enc = LabLink::default().encode();
        assert!(matches!(
            LabLink::decode(&format!("{enc}&evil=1")),
            Err(LinkError::UnknownKey(k)) if k == "evil"
        ));
        assert!(matches!(
            LabLink::decode(&format!("{enc}&p=5")),
            Err(LinkError::Repeated(_))
        ));
        assert!(matches!(
            LabLink::decode(&enc.replace("lr=0.003", "lr=abc")),
            Err(LinkError::BadValue { .. })
        ));
        // Cut off in the middle of a number: still decodes only if the prefix is valid.
        let cut = &enc[..enc.find("&nl").unwrap()];
        assert!(LabLink::decode(cut).is_ok());
        assert_eq!(LabLink::decode("lab=grok"), Err(LinkError::NoVersion));
        assert_eq!(LabLink::decode("   "), Err(LinkError::Empty));
    }

    #[test]
    fn every_lab_round_trips_and_keeps_its_own_keys() {
        let mut link = LabLink {
            lab: LabKind::Spike,
            ..LabLink::default()
        };
        link.spike = SpikeConfig::reservoir();
        link.spike.seed = 42;
        link.view.embed = true;
        let enc = link.encode();
        assert!(enc.contains("lab=spike"), "{enc}");
        assert!(
            !enc.contains("&p=97"),
            "grok keys leak into a spike link: {enc}"
        );
        let back = LabLink::decode(&enc).unwrap();
        assert_eq!(back.lab, LabKind::Spike);
        assert_eq!(back.spike, link.spike);
        assert!(back.view.embed);

        let mut link = LabLink {
            lab: LabKind::Sae,
            ..LabLink::default()
        };
        link.sae.seed = 9;
        link.backend = BackendChoice::Cpu;
        let back = LabLink::decode(&link.encode()).unwrap();
        assert_eq!(
            (back.lab, back.sae, back.backend),
            (LabKind::Sae, link.sae.clone(), BackendChoice::Cpu)
        );

        // Another lab's key is unknown here, with the lab's own message.
        assert!(LabLink::decode(&format!("{}&p=97", link.encode())).is_err());
        assert_eq!(
            LabLink::decode("v=1&lab=nope").unwrap_err().to_string(),
            "unknown lab 'nope' (this page has: grok, spike, sae)"
        );
    }

    #[test]
    fn hide_accepts_only_known_controls() {
        let enc = format!("{}&hide=config,nope", LabLink::default().encode());
        assert!(LabLink::decode(&enc)
            .unwrap_err()
            .to_string()
            .contains("'nope'"));
    }
}

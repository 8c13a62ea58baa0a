//! The share link: the whole experiment as a URL fragment, versioned and validated on decode.
//!
//! Format: `v=1&nl=<lab version>&lab=<name>&<the lab's keys>[&ev=<event script>]&backend=auto[&logx=1][&embed=1][&hide=a,b][&lock=1][&autorun=1][&lesson=name.step]`
//! (`ev`: the run's interventions with their positions, deflated, see [`neurolab_base::script`]).
//! The keys `v`, `nl`, `lab`, `backend`, `logx`, `embed`, `hide`, `lock`, `autorun`, `lesson` are common; every other key
//! belongs to the lab and is read by the lab's field table (starting from its default or the
//! preset its preset key names). An unknown, repeated or malformed key, a future version, a value
//! out of range or a config over budget is an error whose message says what is wrong.
//! [`LabLink::decode`] is strict (tests, the CLI); [`LabLink::open`] is what the page does: it
//! keeps every value it can, names what it dropped, and never panics on any input.

use crate::protocol::BackendChoice;
use crate::registry::{Configs, LabKind};
use crate::{CoreError, LAB_VERSION, LINK_VERSION};
use neurolab_base::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Controls of every lab's page an embedding page may hide with `hide=` (each lab adds its
/// panels, `Lab::PANELS`).
pub const HIDEABLE: [&str; 9] = [
    "config", "backend", "share", "export", "progress", "metrics", "step", "imported", "explain",
];

/// Longest link accepted (a real link is a few hundred characters).
pub const MAX_LINK_LEN: usize = 4096;

/// Keys every lab's link shares; all other keys belong to the lab.
const COMMON_KEYS: [&str; 11] = [
    "v", "nl", "lab", "backend", "logx", "embed", "hide", "ev", "lock", "autorun", "lesson",
];

/// How the page shows the experiment; part of the link, not of the experiment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ViewOptions {
    /// `embed=1`: only the charts, the run controls and an "open in neurolab" link; nothing
    /// heavy starts before Run.
    pub embed: bool,
    /// Controls to hide (names from [`HIDEABLE`]).
    pub hide: Vec<String>,
    /// Log-scaled step axis.
    pub log_x: bool,
    /// `lock=1`: the config and the interventions are shown read-only (the run controls work).
    #[serde(default)]
    pub lock: bool,
    /// `lesson=<name>.<step>`: the lesson this experiment is a step of (the page shows the
    /// lesson beside the lab).
    #[serde(default)]
    pub lesson: Option<String>,
    /// `autorun=1`: the run starts as soon as the page has built it (an embed otherwise waits
    /// for the reader's click on Run).
    #[serde(default)]
    pub autorun: bool,
}

/// Everything a link carries. Each lab keeps its own config, so switching labs in the page
/// loses nothing; a link encodes only the open lab's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LabLink {
    pub lab: LabKind,
    pub configs: Configs,
    pub backend: BackendChoice,
    pub view: ViewOptions,
    /// Each lab's event script as link text (`ev=`, see [`neurolab_base::script`]), by lab
    /// name; the link carries the script of its lab.
    #[serde(default)]
    pub scripts: std::collections::BTreeMap<String, String>,
}

/// What opening a link gave: the experiment (as much of the link as is valid) and, when
/// something was dropped, why, with the link as it was typed so that nothing is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub link: LabLink,
    pub problem: Option<CoreError>,
    /// Keys left out (bad values, over budget), in link order.
    pub dropped: Vec<String>,
    pub original: String,
    /// The lab version that made the link (`nl`), when it is not this one.
    pub made_by: Option<String>,
}

impl Opened {
    /// What to tell the user when another version of neurolab made the link.
    pub fn version_notice(&self) -> Option<String> {
        self.made_by.as_ref().map(|v| {
            format!(
                "This link was made by neurolab {v}; this is neurolab {LAB_VERSION}. Its config and interventions open as written, but the numbers may differ where the training code, the defaults or a model changed between the two versions."
            )
        })
    }
}

struct Parsed {
    common: Vec<(String, String)>,
    lab_pairs: Vec<(String, String)>,
    lab: LabKind,
    /// The first key given twice (its later values were left out).
    repeated: Option<String>,
}

/// How [`parse`] treats a key given twice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeats {
    /// An error (strict decoding).
    Refuse,
    /// The first one counts; the others are left out (opening a link in the page).
    KeepFirst,
}

fn parse(fragment: &str, repeats: Repeats) -> Result<Parsed, CoreError> {
    let fragment = fragment.trim();
    let fragment = fragment
        .strip_prefix('#')
        .or_else(|| fragment.strip_prefix('?'))
        .unwrap_or(fragment);
    if fragment.is_empty() {
        return Err(CoreError::Empty);
    }
    if fragment.len() > MAX_LINK_LEN {
        return Err(CoreError::TooLong {
            len: fragment.len(),
        });
    }
    let all: Vec<(String, String)> = form_urlencoded::parse(fragment.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut pairs = Vec::with_capacity(all.len());
    let mut repeated = None;
    for (k, v) in all {
        if seen.insert(k.clone()) {
            pairs.push((k, v));
        } else if repeats == Repeats::Refuse {
            return Err(ConfigError::Repeated(k).into());
        } else {
            repeated.get_or_insert(k);
        }
    }
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let version = get("v").ok_or(CoreError::NoVersion)?;
    let version: u32 = version
        .parse()
        .map_err(|_| CoreError::BadVersion(version.to_string()))?;
    if version > LINK_VERSION {
        return Err(CoreError::FutureVersion { found: version });
    }
    if version == 0 {
        return Err(CoreError::BadVersion("0".into()));
    }
    let lab = match get("lab") {
        None => LabKind::default(),
        Some(name) => {
            LabKind::parse(name).ok_or_else(|| CoreError::UnknownLab(name.to_string()))?
        }
    };
    let (common, lab_pairs) = pairs
        .into_iter()
        .partition(|(k, _)| COMMON_KEYS.contains(&k.as_str()));
    Ok(Parsed {
        common,
        lab_pairs,
        lab,
        repeated,
    })
}

/// Apply one common key.
fn apply_common(link: &mut LabLink, key: &str, v: &str) -> Result<(), ConfigError> {
    match key {
        "backend" => {
            link.backend = BackendChoice::parse(v)
                .ok_or_else(|| ConfigError::bad_value(key, v, "one of auto, webgpu, cpu"))?
        }
        "logx" => link.view.log_x = parse_flag(key, v)?,
        "ev" => {
            Configs::check_script(link.lab, v)?;
            if !v.is_empty() {
                link.scripts
                    .insert(link.lab.name().to_string(), v.to_string());
            }
        }
        "embed" => link.view.embed = parse_flag(key, v)?,
        "lock" => link.view.lock = parse_flag(key, v)?,
        "autorun" => link.view.autorun = parse_flag(key, v)?,
        "lesson" => {
            if crate::lesson::parse_ref(v).is_none() {
                return Err(ConfigError::bad_value(
                    key,
                    v,
                    "a lesson and its step, like grokking.2 (lowercase name, steps from 1)",
                ));
            }
            link.view.lesson = Some(v.to_string());
        }
        "hide" => {
            link.view.hide = v
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let panels = link.lab.panels();
                    if HIDEABLE.contains(&s) || panels.contains(&s) {
                        Ok(s.to_string())
                    } else {
                        let all: Vec<&str> = HIDEABLE.iter().chain(panels).copied().collect();
                        Err(ConfigError::bad_value(
                            key,
                            s,
                            format!("a comma-separated list of {}", all.join(", ")),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?
        }
        _ => {}
    }
    Ok(())
}

impl LabLink {
    /// The fragment (without `#`).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("v", &LINK_VERSION.to_string())
            .append_pair("nl", LAB_VERSION)
            .append_pair("lab", self.lab.name());
        for (k, v) in self.configs.pairs(self.lab) {
            s.append_pair(k, &v);
        }
        if let Some(ev) = self.script_text() {
            s.append_pair("ev", ev);
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
        if self.view.lock {
            s.append_pair("lock", "1");
        }
        if self.view.autorun {
            s.append_pair("autorun", "1");
        }
        if let Some(lesson) = &self.view.lesson {
            s.append_pair("lesson", lesson);
        }
        s.finish()
    }

    /// Decode a fragment (a leading `#` or `?` is allowed), strictly: any problem is an error.
    /// The link's lab's script text, if it has events.
    pub fn script_text(&self) -> Option<&str> {
        self.scripts
            .get(self.lab.name())
            .map(String::as_str)
            .filter(|t| !t.is_empty())
    }

    /// Set (or, with an empty text, clear) the script of the lab named `lab`.
    pub fn set_script_text(&mut self, lab: &str, text: String) {
        if text.is_empty() {
            self.scripts.remove(lab);
        } else {
            self.scripts.insert(lab.to_string(), text);
        }
    }

    pub fn decode(fragment: &str) -> Result<LabLink, CoreError> {
        let parsed = parse(fragment, Repeats::Refuse)?;
        let mut link = LabLink {
            lab: parsed.lab,
            ..LabLink::default()
        };
        for (key, v) in &parsed.common {
            apply_common(&mut link, key, v)?;
        }
        link.configs.set_from_pairs(parsed.lab, &parsed.lab_pairs)?;
        Ok(link)
    }

    /// Open a link as the page does: the lab it names, with every value that is valid on its
    /// own and together with those before it; the first problem and the keys left out are
    /// reported. An empty fragment opens the defaults without a problem.
    pub fn open(fragment: &str) -> Opened {
        let original = fragment.to_string();
        let parsed = match parse(fragment, Repeats::KeepFirst) {
            Ok(p) => p,
            Err(CoreError::Empty) => {
                return Opened {
                    link: LabLink::default(),
                    problem: None,
                    dropped: Vec::new(),
                    original,
                    made_by: None,
                }
            }
            Err(e) => {
                return Opened {
                    link: LabLink::default(),
                    problem: Some(e),
                    dropped: Vec::new(),
                    original,
                    made_by: None,
                }
            }
        };
        let mut link = LabLink {
            lab: parsed.lab,
            ..LabLink::default()
        };
        let mut problem: Option<CoreError> = parsed
            .repeated
            .clone()
            .map(|k| ConfigError::Repeated(k).into());
        let mut dropped: Vec<String> = parsed.repeated.iter().cloned().collect();
        for (key, v) in &parsed.common {
            if let Err(e) = apply_common(&mut link, key, v) {
                problem.get_or_insert(e.into());
                dropped.push(key.clone());
            }
        }
        let lab = parsed.lab;
        if let Err(e) = Configs::try_pairs(lab, &parsed.lab_pairs) {
            problem.get_or_insert(e.into());
            // Keep the keys that pick the rest (presets, kinds) first, then each other key
            // that still leaves a valid config.
            let mut ordered = parsed.lab_pairs.clone();
            ordered.sort_by_key(|(k, _)| Configs::key_rank(lab, k));
            let mut kept: Vec<(String, String)> = Vec::new();
            for pair in ordered {
                kept.push(pair);
                if Configs::try_pairs(lab, &kept).is_err() {
                    if let Some((k, _)) = kept.pop() {
                        dropped.push(k);
                    }
                }
            }
            // In link order, for the message.
            dropped.sort_by_key(|k| parsed.lab_pairs.iter().position(|(key, _)| key == k));
            if link.configs.set_from_pairs(lab, &kept).is_err() {
                link.configs = Configs::default();
            }
        } else if let Err(e) = link.configs.set_from_pairs(lab, &parsed.lab_pairs) {
            problem.get_or_insert(e.into());
        }
        let made_by = parsed
            .common
            .iter()
            .find(|(k, _)| k == "nl")
            .map(|(_, v)| v.chars().take(32).collect::<String>())
            .filter(|v| v != LAB_VERSION);
        Opened {
            link,
            problem,
            dropped,
            original,
            made_by,
        }
    }

    /// The same experiment as a full page (for the embed's "open in neurolab").
    pub fn full_page(&self) -> LabLink {
        let mut full = self.clone();
        full.view.embed = false;
        full.view.hide.clear();
        full.view.lock = false;
        full.view.autorun = false;
        full
    }
}

/// The invariants every link keeps, whatever its text (the fuzzers' oracle): opening never fails
/// and gives a valid config of some lab; a link that decodes validates (the budget included),
/// re-encodes to itself, round-trips as a protocol command and opens without a problem.
pub fn check_invariants(fragment: &str) -> Result<(), String> {
    let opened = LabLink::open(fragment);
    if let Some(p) = &opened.problem {
        if p.to_string().is_empty() {
            return Err("a problem without a message".into());
        }
    }
    opened
        .link
        .configs
        .validate(opened.link.lab)
        .map_err(|e| format!("an opened link does not validate: {e}"))?;
    let Ok(link) = LabLink::decode(fragment) else {
        return Ok(());
    };
    link.configs
        .validate(link.lab)
        .map_err(|e| format!("a decoded link does not validate: {e}"))?;
    let again = LabLink::decode(&link.encode())
        .map_err(|e| format!("a decoded link does not re-encode: {e}"))?;
    if again != link {
        return Err(format!("{fragment:?} does not re-encode to itself"));
    }
    let command = crate::protocol::Command::Lab {
        session: 1,
        command: link.configs.configure(link.lab, true),
    };
    let back =
        crate::protocol::Command::from_json(&command.to_json()).map_err(|e| e.to_string())?;
    if back != command {
        return Err(format!("{fragment:?} does not round-trip as a command"));
    }
    if opened.problem.is_some() || opened.link != link {
        return Err(format!("{fragment:?} decodes but opens differently"));
    }
    Ok(())
}

fn parse_flag(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(ConfigError::bad_value(key, v, "0 or 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grok::config::Op;
    use crate::grok::GrokConfig;
    use crate::spike::SpikeConfig;

    #[test]
    fn round_trips_defaults_and_edits() {
        let mut link = LabLink::default();
        assert_eq!(LabLink::decode(&link.encode()).unwrap(), link);
        link.configs.grok = GrokConfig::preset_transformer();
        link.configs.grok.seed = u64::MAX;
        link.configs.grok.lr = 0.000123;
        link.configs.grok.grokfast = true;
        link.configs.grok.op = Op::Mul;
        link.backend = BackendChoice::Cpu;
        link.view = ViewOptions {
            embed: true,
            hide: vec!["config".into(), "share".into()],
            log_x: true,
            lock: true,
            autorun: true,
            lesson: Some("grokking.3".into()),
        };
        let encoded = link.encode();
        assert_eq!(LabLink::decode(&format!("#{encoded}")).unwrap(), link);
    }

    #[test]
    fn a_links_script_round_trips_and_a_bad_one_is_named_and_dropped() {
        use crate::grok::GrokControl;
        let mut script = neurolab_base::Script::default();
        for i in 0..100u32 {
            script
                .push(
                    f64::from(25 * i),
                    GrokControl::Ablate {
                        neurons: vec![i % 7, 2 * i],
                    },
                )
                .unwrap();
        }
        let mut link = LabLink::default();
        link.set_script_text("grok", script.encode());
        let encoded = link.encode();
        assert!(encoded.contains("&ev=1."), "{encoded}");
        assert!(encoded.len() < 2000, "{} characters", encoded.len());
        let back = LabLink::decode(&encoded).unwrap();
        assert_eq!(back, link);
        let text = back.script_text().unwrap();
        assert_eq!(
            neurolab_base::Script::<GrokControl>::decode(text).unwrap(),
            script
        );
        check_invariants(&encoded).unwrap();
        // A spike link cannot carry grokking controls; a broken script is named, and opening
        // keeps the config and drops the script.
        let spike = LabLink::decode(&format!("v=1&lab=spike&ev={text}")).unwrap_err();
        assert!(spike.to_string().contains("do not parse"), "{spike}");
        let broken = format!("v=1&lab=grok&p=23&ev=1.{}", "A".repeat(40));
        let err = LabLink::decode(&broken).unwrap_err().to_string();
        assert!(err.contains("interventions (ev=…)"), "{err}");
        let opened = LabLink::open(&broken);
        assert_eq!(opened.link.configs.grok.p, 23);
        assert!(opened.link.script_text().is_none());
        assert_eq!(opened.dropped, vec!["ev".to_string()]);
    }

    #[test]
    fn a_link_of_another_version_opens_with_a_notice_naming_it() {
        let opened = LabLink::open("v=1&nl=0.0.9&lab=grok&p=23");
        assert!(opened.problem.is_none());
        assert_eq!(opened.link.configs.grok.p, 23);
        let notice = opened.version_notice().unwrap();
        assert!(
            notice.contains("neurolab 0.0.9") && notice.contains(LAB_VERSION),
            "{notice}"
        );
        let same = LabLink::open(&LabLink::default().encode());
        assert_eq!(same.version_notice(), None);
        assert_eq!(LabLink::open("v=1&lab=grok").version_notice(), None);
    }

    #[test]
    fn links_of_the_first_format_still_open() {
        // Written by the lab before the field tables (every grok key, in this order).
        let old = "v=1&nl=0.1.0&lab=grok&model=mlp&p=97&op=add&frac=0.5&seed=0&hidden=500&act=quadratic&loss=ce&dmodel=128&heads=4&dmlp=512&init=1&lr=0.003&wd=1&b1=0.9&b2=0.98&gf=0&gfa=0.98&gfl=2&steps=1000&every=10&backend=auto";
        let link = LabLink::decode(old).unwrap();
        assert_eq!(link.configs.grok, GrokConfig::preset_mlp());
        let sae = "v=1&nl=0.1.0&lab=sae&source=toy&kind=topk&site=resid&latents=64&k=4&k_aux=8&aux_coef=0.03125&dead_after=20000&l1=1&lr=0.003&steps=1500&batch=256&seed=0&report_every=100&toy_n=32&toy_m=12&toy_p_active=0.05&toy_decay=0.98&toy_steps=1500&toy_samples=16384&grok_p=97&grok_steps=1000&backend=auto";
        let link = LabLink::decode(sae).unwrap();
        assert_eq!(link.lab, LabKind::Sae);
        assert_eq!(link.configs.sae, crate::sae::SaeConfig::default());
        let spike = "v=1&nl=0.1.0&lab=spike&preset=izhikevich2003&n=300&seed=4&eng=cpu&backend=cpu";
        let link = LabLink::decode(spike).unwrap();
        assert_eq!((link.configs.spike.n, link.configs.spike.seed), (300, 4));
    }

    #[test]
    fn rejects_future_version() {
        let enc = LabLink::default().encode().replacen("v=1", "v=7", 1);
        let err = LabLink::decode(&enc).unwrap_err();
        assert_eq!(err, CoreError::FutureVersion { found: 7 });
        assert!(err.to_string().contains("newer neurolab"));
    }

    #[test]
    fn rejects_out_of_range_with_limit() {
        let enc = LabLink::default().encode().replace("p=97", "p=91");
        assert_eq!(
            LabLink::decode(&enc).unwrap_err().to_string(),
            "p must be a prime between 5 and 257, got 91"
        );
        let enc = LabLink::default().encode().replace("p=97", "p=300");
        assert_eq!(
            LabLink::decode(&enc).unwrap_err().to_string(),
            "p must be between 5 and 257, got 300"
        );
    }

    #[test]
    fn rejects_tampering_and_truncation() {
        let enc = LabLink::default().encode();
        assert!(matches!(
            LabLink::decode(&format!("{enc}&evil=1")),
            Err(CoreError::Config(ConfigError::UnknownKey { key, .. })) if key == "evil"
        ));
        assert!(matches!(
            LabLink::decode(&format!("{enc}&p=5")),
            Err(CoreError::Config(ConfigError::Repeated(_)))
        ));
        assert!(matches!(
            LabLink::decode(&enc.replace("lr=0.003", "lr=abc")),
            Err(CoreError::Config(ConfigError::BadValue { .. }))
        ));
        let cut = &enc[..enc.find("&nl").unwrap()];
        assert!(LabLink::decode(cut).is_ok());
        assert_eq!(LabLink::decode("lab=grok"), Err(CoreError::NoVersion));
        assert_eq!(LabLink::decode("   "), Err(CoreError::Empty));
    }

    #[test]
    fn every_lab_round_trips_and_keeps_its_own_keys() {
        let mut link = LabLink {
            lab: LabKind::Spike,
            ..LabLink::default()
        };
        link.configs.spike = SpikeConfig::reservoir();
        link.configs.spike.seed = 42;
        link.view.embed = true;
        let enc = link.encode();
        assert!(enc.contains("lab=spike"), "{enc}");
        assert!(
            !enc.contains("&p=97"),
            "grok keys leak into a spike link: {enc}"
        );
        let back = LabLink::decode(&enc).unwrap();
        assert_eq!(back.lab, LabKind::Spike);
        assert_eq!(back.configs.spike, link.configs.spike);
        assert!(back.view.embed);

        let mut link = LabLink {
            lab: LabKind::Sae,
            ..LabLink::default()
        };
        link.configs.sae.seed = 9;
        link.backend = BackendChoice::Cpu;
        let back = LabLink::decode(&link.encode()).unwrap();
        assert_eq!(
            (back.lab, back.configs.sae, back.backend),
            (LabKind::Sae, link.configs.sae.clone(), BackendChoice::Cpu)
        );
        // Another lab's key is unknown here, with the lab's own message.
        let e = LabLink::decode(&format!("{}&p=97", link.encode())).unwrap_err();
        assert_eq!(e.to_string(), "unknown SAE link parameter 'p'");
        assert_eq!(
            LabLink::decode("v=1&lab=nope").unwrap_err().to_string(),
            "unknown lab 'nope' (this page has: grok, spike, sae, lm)"
        );
    }

    #[test]
    fn autorun_and_lesson_travel_in_the_link() {
        let mut link = LabLink::default();
        link.view.autorun = true;
        link.view.lesson = Some("grokking.2".into());
        let enc = link.encode();
        assert!(
            enc.contains("autorun=1") && enc.contains("lesson=grokking.2"),
            "{enc}"
        );
        assert_eq!(LabLink::decode(&enc).unwrap(), link);
        let e = LabLink::decode("v=1&lab=grok&lesson=Grokking")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lesson") && e.contains("grokking.2"), "{e}");
        assert!(!link.full_page().view.autorun);
        LabLink::decode("v=1&lab=grok&hide=explain").unwrap();
    }

    #[test]
    fn hide_accepts_only_known_controls() {
        let enc = format!("{}&hide=config,nope", LabLink::default().encode());
        assert!(LabLink::decode(&enc)
            .unwrap_err()
            .to_string()
            .contains("'nope'"));
        // Every lab's panels, by their names; another lab's panel is refused, naming this one's.
        let spike = LabLink::decode("v=1&lab=spike&hide=raster,charts,imported").unwrap();
        assert_eq!(spike.view.hide, ["raster", "charts", "imported"]);
        LabLink::decode("v=1&lab=grok&hide=mechanism,timeline").unwrap();
        LabLink::decode("v=1&lab=sae&hide=features,clamp").unwrap();
        let e = LabLink::decode("v=1&lab=grok&hide=raster")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'raster'") && e.contains("mechanism"), "{e}");
    }

    #[test]
    fn opening_a_bad_link_keeps_its_lab_and_its_valid_values() {
        // A bad p, a good seed and steps: the grokking lab with the seed and the steps.
        let bad = "v=1&lab=grok&seed=7&p=91&steps=321";
        let opened = LabLink::open(bad);
        assert_eq!(opened.link.lab, LabKind::Grok);
        assert_eq!(opened.link.configs.grok.seed, 7);
        assert_eq!(opened.link.configs.grok.steps, 321);
        assert_eq!(opened.link.configs.grok.p, 97);
        assert_eq!(opened.dropped, ["p"]);
        assert_eq!(opened.original, bad);
        assert!(opened.problem.unwrap().to_string().contains("prime"));
        // Over budget: the SAE lab, the samples kept, the latents that break the budget dropped.
        let huge = "v=1&lab=sae&source=toy&toy_samples=200000&latents=65536&seed=3";
        let opened = LabLink::open(huge);
        assert_eq!(opened.link.lab, LabKind::Sae);
        assert_eq!(opened.link.configs.sae.seed, 3);
        assert_eq!(opened.link.configs.sae.toy_samples, 200_000);
        assert_eq!(opened.dropped, ["latents"]);
        let message = opened.problem.unwrap().to_string();
        assert!(
            message.contains("needs ~") && message.contains("GB"),
            "{message}"
        );
        // A repeated key: the first value counts.
        let opened = LabLink::open("v=1&lab=grok&p=23&p=29&seed=5");
        assert_eq!(
            (opened.link.configs.grok.p, opened.link.configs.grok.seed),
            (23, 5)
        );
        assert_eq!(opened.dropped, ["p"]);
        assert!(opened
            .problem
            .unwrap()
            .to_string()
            .contains("appears twice"));
        // Common keys: a bad backend is dropped, the rest kept.
        let opened = LabLink::open("v=1&lab=spike&backend=quantum&n=300");
        assert_eq!(
            (opened.link.lab, opened.link.configs.spike.n),
            (LabKind::Spike, 300)
        );
        assert_eq!(opened.dropped, ["backend"]);
        // A good link opens without a problem; an empty one is the defaults.
        let good = LabLink::open(&LabLink::default().encode());
        assert_eq!((good.problem, good.dropped.len()), (None, 0));
        assert_eq!(LabLink::open("").problem, None);
    }
}

//! The event script: every intervention of a run with the position it was made at, so that a
//! link replays the run its author saw. A lab's controls are recorded as they are applied (the
//! worker applies a control between chunks, at a position it knows exactly) and replayed at the
//! same positions: before advancing from `at`, every event at `at` is applied, in order.
//!
//! In a link the script is one field, `ev=1.<base64url(deflate(JSON))>`: `1` is the script
//! format's version, the JSON a list of `{"at": position, "control": …}` in the lab's control
//! format (the protocol's). Compression through `flate2`, base64url through `base64`.

use crate::error::ConfigError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The link key of the script.
pub const KEY: &str = "ev";
/// The script format's version (the text before the first `.`).
pub const VERSION: u32 = 1;
/// Most events one script holds.
pub const MAX_EVENTS: usize = 1000;
/// Most bytes a script's JSON may inflate to (a link cannot be a zip bomb).
pub const MAX_JSON_BYTES: u64 = 1 << 20;

/// One intervention: `control` applied before advancing from position `at` (steps, or
/// simulated ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "C: Serialize + DeserializeOwned")]
pub struct Scripted<C> {
    pub at: f64,
    pub control: C,
}

/// A run's interventions in the order they were applied (positions never decrease).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "C: Serialize + DeserializeOwned", transparent)]
pub struct Script<C> {
    pub events: Vec<Scripted<C>>,
}

impl<C> Default for Script<C> {
    fn default() -> Self {
        Self { events: Vec::new() }
    }
}

impl<C: Serialize + DeserializeOwned + Clone> Script<C> {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Record `control` at `at`, after the others; an event earlier than the last one is
    /// refused (a script only moves forward), as is one past [`MAX_EVENTS`].
    pub fn push(&mut self, at: f64, control: C) -> Result<(), ConfigError> {
        self.insert(self.events.len(), at, control)
    }

    /// Insert `control` at `index` (the first event not yet applied) at position `at`: a control
    /// made by hand between scripted ones. Refused past [`MAX_EVENTS`] or out of order.
    pub fn insert(&mut self, index: usize, at: f64, control: C) -> Result<(), ConfigError> {
        let index = index.min(self.events.len());
        let before = index.checked_sub(1).map(|i| self.events[i].at);
        let after = self.events.get(index).map(|e| e.at);
        if self.events.len() >= MAX_EVENTS {
            return Err(ConfigError::rule(
                KEY,
                format!("a run's link keeps at most {MAX_EVENTS} interventions; this one is not recorded"),
            ));
        }
        let wrong = if !at.is_finite() || at < 0.0 {
            Some("is not a position")
        } else if before.is_some_and(|b| at < b) {
            Some("comes before the previous one")
        } else if after.is_some_and(|a| at > a) {
            Some("comes after the next one")
        } else {
            None
        };
        if let Some(wrong) = wrong {
            return Err(ConfigError::rule(
                KEY,
                format!("an intervention at {at} {wrong}"),
            ));
        }
        self.events.insert(index, Scripted { at, control });
        Ok(())
    }

    /// How many events from index `next` on are due before advancing from position `done`.
    pub fn due(&self, next: usize, done: f64) -> usize {
        self.events[next.min(self.events.len())..]
            .iter()
            .take_while(|e| e.at <= done)
            .count()
    }

    /// The link text: `1.` and the deflated JSON in base64url (empty for no events).
    pub fn encode(&self) -> String {
        if self.events.is_empty() {
            return String::new();
        }
        let json = serde_json::to_vec(&self.events).expect("a script serialises");
        let mut z = DeflateEncoder::new(Vec::new(), Compression::best());
        z.write_all(&json).expect("deflate into memory");
        let bytes = z.finish().expect("deflate into memory");
        format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The script of a link's `ev` text; a message naming the key and what is wrong otherwise.
    pub fn decode(text: &str) -> Result<Self, ConfigError> {
        let bad = |why: String| {
            ConfigError::rule(KEY, format!("the link's interventions ({KEY}=…) {why}"))
        };
        if text.is_empty() {
            return Ok(Self::default());
        }
        let (version, body) = text
            .split_once('.')
            .ok_or_else(|| bad("have no version (expected 1.…)".into()))?;
        match version.parse::<u32>() {
            Ok(VERSION) => {}
            Ok(v) if v > VERSION => {
                return Err(bad(format!(
                    "use script format {v}, newer than this neurolab's {VERSION}"
                )))
            }
            _ => return Err(bad(format!("have an unknown format '{version}'"))),
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body.trim_end_matches('='))
            .map_err(|e| bad(format!("are not base64url: {e}")))?;
        let mut json = Vec::new();
        DeflateDecoder::new(&bytes[..])
            .take(MAX_JSON_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|e| bad(format!("do not inflate: {e}")))?;
        if json.len() as u64 > MAX_JSON_BYTES {
            return Err(bad(format!("inflate to more than {MAX_JSON_BYTES} bytes")));
        }
        let events: Vec<Scripted<C>> =
            serde_json::from_slice(&json).map_err(|e| bad(format!("do not parse: {e}")))?;
        let mut script = Self::default();
        for e in events {
            script
                .push(e.at, e.control)
                .map_err(|e| bad(e.to_string()))?;
        }
        Ok(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "do", rename_all = "snake_case")]
    enum Ctl {
        Ablate { neurons: Vec<u32> },
        Restore,
    }

    #[test]
    fn a_script_round_trips_and_a_hundred_events_stay_short() {
        let mut s = Script::default();
        for i in 0..100u32 {
            let c = if i % 2 == 0 {
                Ctl::Ablate {
                    neurons: vec![i, i + 1, 2 * i],
                }
            } else {
                Ctl::Restore
            };
            s.push(f64::from(10 * i), c).unwrap();
        }
        let text = s.encode();
        assert!(text.starts_with("1."), "{text}");
        assert!(text.len() < 2000, "{} characters", text.len());
        assert_eq!(Script::<Ctl>::decode(&text).unwrap(), s);
        assert_eq!(Script::<Ctl>::decode("").unwrap(), Script::default());
        assert_eq!(s.due(0, 0.0), 1);
        assert_eq!(s.due(1, 25.0), 2);
        assert_eq!(s.due(100, 1e9), 0);
    }

    #[test]
    fn bad_scripts_say_why() {
        let msg = |t: &str| Script::<Ctl>::decode(t).unwrap_err().to_string();
        assert!(msg("abc").contains("no version"), "{}", msg("abc"));
        assert!(msg("9.abc").contains("newer"), "{}", msg("9.abc"));
        assert!(msg("1.***").contains("base64url"), "{}", msg("1.***"));
        assert!(msg("1.AAAA").contains("inflate") || msg("1.AAAA").contains("parse"));
        // Events out of order.
        let json = br#"[{"at":5,"control":{"do":"restore"}},{"at":1,"control":{"do":"restore"}}]"#;
        let mut z = DeflateEncoder::new(Vec::new(), Compression::fast());
        z.write_all(json).unwrap();
        let text = format!("1.{}", URL_SAFE_NO_PAD.encode(z.finish().unwrap()));
        assert!(msg(&text).contains("before the previous"), "{}", msg(&text));
        // A zip bomb is cut off.
        let zeros = vec![b' '; (MAX_JSON_BYTES + 10) as usize];
        let mut z = DeflateEncoder::new(Vec::new(), Compression::best());
        z.write_all(&zeros).unwrap();
        let text = format!("1.{}", URL_SAFE_NO_PAD.encode(z.finish().unwrap()));
        assert!(text.len() < 10_000);
        assert!(msg(&text).contains("more than"), "{}", msg(&text));
    }
}

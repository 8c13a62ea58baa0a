//! An experiment file: one JSON object holding a run's link (its config and its event script),
//! the reports it gave and where it ran, so that it can be shared, shown again and re-run.
//!
//! ```json
//! {"format": "neurolab-experiment", "version": 1, "link": "v=1&lab=grok&…",
//!  "ran": {"lab_version": "0.1.0", "backend": "cpu", "adapter": "burn-flex (CPU)"},
//!  "reports": [ …the lab's reports, as in the protocol… ]}
//! ```
//! Reading one checks every field and names the one that is wrong.
//!
//! A sweep's summary (`neurolab sweep` writes `sweep.json`) is the same idea for a grid: its
//! base link and, per point, its values, its final numbers and its curves, for the page to draw
//! the runs overlaid.

use crate::link::LabLink;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const FORMAT: &str = "neurolab-experiment";
pub const VERSION: u32 = 1;
/// Largest experiment file read.
pub const MAX_BYTES: usize = 64 << 20;

/// Where an experiment ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ran {
    pub lab_version: String,
    pub backend: String,
    pub adapter: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub format: String,
    pub version: u32,
    /// The link's fragment (without `#`).
    pub link: String,
    pub ran: Ran,
    /// The lab's reports in order, in the protocol's JSON.
    pub reports: Vec<Value>,
}

impl Experiment {
    pub fn new(link: &LabLink, ran: Ran, reports: Vec<Value>) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            link: link.encode(),
            ran,
            reports,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an experiment serialises")
    }

    /// Read and check an experiment file; the message names the field that is wrong.
    pub fn read(text: &str) -> Result<(Experiment, LabLink), String> {
        if text.len() > MAX_BYTES {
            return Err(format!(
                "the experiment file is {} bytes, more than the {MAX_BYTES} read",
                text.len()
            ));
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("the experiment file is not JSON: {e}"))?;
        let field = |name: &str| {
            value
                .get(name)
                .ok_or_else(|| format!("the experiment file has no field '{name}'"))
        };
        if field("format")?.as_str() != Some(FORMAT) {
            return Err(format!("field 'format' must be \"{FORMAT}\""));
        }
        match field("version")?.as_u64() {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) if v > u64::from(VERSION) => {
                return Err(format!(
                    "field 'version' is {v}: made by a newer neurolab (this one reads {VERSION})"
                ))
            }
            _ => return Err(format!("field 'version' must be {VERSION}")),
        }
        let link_text = field("link")?
            .as_str()
            .ok_or("field 'link' must be a string")?;
        let link = LabLink::decode(link_text).map_err(|e| format!("field 'link': {e}"))?;
        let ran: Ran = serde_json::from_value(field("ran")?.clone())
            .map_err(|e| format!("field 'ran': {e}"))?;
        let reports = field("reports")?
            .as_array()
            .ok_or("field 'reports' must be a list")?;
        for (i, r) in reports.iter().enumerate() {
            if !r.is_object() {
                return Err(format!("field 'reports', entry {i}: not an object"));
            }
        }
        let experiment = Experiment {
            format: FORMAT.into(),
            version: VERSION,
            link: link_text.to_string(),
            ran,
            reports: reports.clone(),
        };
        Ok((experiment, link))
    }
}

/// Lab `L`'s headline curves from its reports as an experiment file holds them (protocol
/// JSON); the message names the report that is not one of `L`'s.
pub fn curves_of<L: neurolab_base::Lab>(
    reports: &[Value],
) -> Result<Vec<neurolab_base::Curve>, String> {
    let reports = reports
        .iter()
        .enumerate()
        .map(|(i, v)| {
            L::Report::deserialize(v).map_err(|e| format!("field 'reports', entry {i}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(L::curves(&reports))
}

pub const SWEEP_FORMAT: &str = "neurolab-sweep";

/// One point of a sweep: its link values, its final numbers, its headline curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub name: String,
    pub values: Vec<(String, String)>,
    #[serde(rename = "final")]
    pub fin: serde_json::Map<String, Value>,
    pub curves: Vec<neurolab_base::Curve>,
}

/// A sweep's summary: the link every point started from, and its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub format: String,
    pub version: u32,
    pub link: String,
    pub points: Vec<SweepPoint>,
}

impl Sweep {
    pub fn new(link: &LabLink, points: Vec<SweepPoint>) -> Self {
        Self {
            format: SWEEP_FORMAT.into(),
            version: VERSION,
            link: link.encode(),
            points,
        }
    }

    /// Read and check a sweep summary; the message names the field that is wrong.
    pub fn read(text: &str) -> Result<(Sweep, LabLink), String> {
        if text.len() > MAX_BYTES {
            return Err(format!(
                "the sweep file is {} bytes, more than the {MAX_BYTES} read",
                text.len()
            ));
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("the sweep file is not JSON: {e}"))?;
        if value.get("format").and_then(Value::as_str) != Some(SWEEP_FORMAT) {
            return Err(format!("field 'format' must be \"{SWEEP_FORMAT}\""));
        }
        if value.get("version").and_then(Value::as_u64) != Some(u64::from(VERSION)) {
            return Err(format!("field 'version' must be {VERSION}"));
        }
        let link_text = value
            .get("link")
            .and_then(Value::as_str)
            .ok_or("field 'link' must be a string")?;
        let link = LabLink::decode(link_text).map_err(|e| format!("field 'link': {e}"))?;
        let points = value
            .get("points")
            .and_then(Value::as_array)
            .ok_or("field 'points' must be a list")?;
        let points = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let point: SweepPoint = serde_json::from_value(p.clone())
                    .map_err(|e| format!("field 'points', entry {i}: {e}"))?;
                let finite = point
                    .curves
                    .iter()
                    .flat_map(|c| &c.points)
                    .all(|(x, y)| x.is_finite() && y.is_finite());
                if !finite {
                    return Err(format!("field 'points', entry {i}: a curve is not finite"));
                }
                Ok(point)
            })
            .collect::<Result<Vec<_>, String>>()?;
        let sweep = Sweep {
            format: SWEEP_FORMAT.into(),
            version: VERSION,
            link: link_text.to_string(),
            points,
        };
        Ok((sweep, link))
    }
}

/// Which kind of file this is (by its `format` field): an experiment, a sweep, or neither.
pub fn format_of(text: &str) -> Option<&'static str> {
    // Only the head is looked at: `format` is the first field both writers write.
    let head: String = text.chars().take(200).collect();
    [FORMAT, SWEEP_FORMAT]
        .into_iter()
        .find(|f| head.contains(&format!("\"format\":\"{f}\"")))
}

/// The largest difference between two lists of reports, number by number (matching fields in
/// the same order); `None` when their shapes differ (another count, other fields).
pub fn max_difference(a: &[Value], b: &[Value]) -> Option<f64> {
    fn walk(a: &Value, b: &Value, worst: &mut f64) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                let d = (x - y).abs();
                if d.is_nan() {
                    return false;
                }
                *worst = worst.max(d);
                true
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| walk(x, y, worst))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| walk(v, w, worst)))
            }
            (x, y) => x == y,
        }
    }
    if a.len() != b.len() {
        return None;
    }
    let mut worst = 0.0;
    a.iter()
        .zip(b)
        .all(|(x, y)| walk(x, y, &mut worst))
        .then_some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ran() -> Ran {
        Ran {
            lab_version: crate::LAB_VERSION.into(),
            backend: "cpu".into(),
            adapter: "burn-flex (CPU)".into(),
        }
    }

    #[test]
    fn an_experiment_round_trips_and_a_tampered_one_names_its_field() {
        let link = LabLink::default();
        let e = Experiment::new(&link, ran(), vec![json!({"step": 1, "loss": 0.5})]);
        let (back, opened) = Experiment::read(&e.to_json()).unwrap();
        assert_eq!(back, e);
        assert_eq!(opened, link);
        let tamper = |f: &dyn Fn(&mut Value)| {
            let mut v: Value = serde_json::from_str(&e.to_json()).unwrap();
            f(&mut v);
            Experiment::read(&v.to_string()).unwrap_err()
        };
        assert!(tamper(&|v| v["format"] = json!("x")).contains("'format'"));
        assert!(tamper(&|v| v["version"] = json!(9)).contains("newer"));
        assert!(tamper(&|v| v["link"] = json!("v=1&lab=grok&p=91"))
            .contains("field 'link': p must be a prime"));
        assert!(tamper(&|v| v["reports"] = json!(3)).contains("'reports'"));
        assert!(tamper(&|v| v["reports"] = json!([1])).contains("entry 0"));
        assert!(tamper(&|v| {
            v.as_object_mut().unwrap().remove("ran");
        })
        .contains("no field 'ran'"));
        assert!(Experiment::read("{").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn a_sweep_round_trips_and_a_tampered_one_names_its_field() {
        let link = LabLink::default();
        let point = SweepPoint {
            name: "wd=1".into(),
            values: vec![("wd".into(), "1".into())],
            fin: serde_json::Map::new(),
            curves: vec![neurolab_base::Curve {
                name: "test_acc".into(),
                points: vec![(0.0, 0.1), (10.0, 0.9)],
            }],
        };
        let sweep = Sweep::new(&link, vec![point]);
        let text = serde_json::to_string(&sweep).unwrap();
        assert_eq!(format_of(&text), Some(SWEEP_FORMAT));
        let (back, opened) = Sweep::read(&text).unwrap();
        assert_eq!((back, opened), (sweep, link));
        let bad = text.replace("\"values\"", "\"valuez\"");
        assert!(Sweep::read(&bad).unwrap_err().contains("'points', entry 0"));
        let e = Experiment::new(&LabLink::default(), ran(), vec![]);
        assert_eq!(format_of(&e.to_json()), Some(FORMAT));
        assert_eq!(format_of("{}"), None);
    }

    #[test]
    fn differences_are_measured_number_by_number() {
        let a = vec![json!({"step": 1, "loss": [0.5, 0.25]})];
        let b = vec![json!({"step": 1, "loss": [0.5, 0.75]})];
        assert_eq!(max_difference(&a, &a), Some(0.0));
        assert_eq!(max_difference(&a, &b), Some(0.5));
        assert_eq!(max_difference(&a, &[]), None);
        assert_eq!(max_difference(&a, &[json!({"step": 1})]), None);
    }
}

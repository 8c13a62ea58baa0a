//! The field table: one row per config field — key, label, group, kind, limits, when it
//! applies, and its accessors. The link codec ([`to_pairs`] / [`from_pairs`]), the page's form
//! ([`from_form`]), the CLI's flags (one `--key` per row) and validation ([`validate`]) all read
//! the same rows, so a key is spelled once and every surface gives the same message.
//!
//! Values travel as text: numbers print in Rust's shortest round-trip form, so a decoded link
//! restores every float bit for bit.

use crate::budget;
use crate::error::ConfigError;
use crate::lab::LabConfig;
use std::collections::BTreeSet;

/// What a field holds, with its limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Int { min: u64, max: u64 },
    /// A finite number in `min..=max` (`min < v` when `open_min`).
    Num { min: f64, max: f64, open_min: bool },
    /// One of these values.
    Choice(&'static [&'static str]),
    /// `1`/`0` (also `true`/`false`).
    Flag,
    /// Free text the setter parses (lists of neurons, periods …); `expected` says what it takes.
    Text { expected: &'static str },
}

/// How a field shapes the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Picks the config every other key starts from (a preset): applied first, and a form edit of
    /// it starts over from that preset.
    Preset,
    /// Changes which other fields apply (a model, task or readout kind): applied before them.
    Structural,
    Plain,
}

/// When a field applies, and how a message says so (`"task=what_when"`).
pub struct When<C: 'static> {
    pub test: fn(&C) -> bool,
    pub needs: &'static str,
    /// `false`: the value always exists and travels in links; `test` only says whether the
    /// form shows it.
    pub strict: bool,
}

/// Typed accessors. Setters get values already parsed and range-checked by the table.
pub enum Access<C: 'static> {
    U32(fn(&C) -> u32, fn(&mut C, u32)),
    U64(fn(&C) -> u64, fn(&mut C, u64)),
    Usize(fn(&C) -> usize, fn(&mut C, usize)),
    F32(fn(&C) -> f32, fn(&mut C, f32)),
    F64(fn(&C) -> f64, fn(&mut C, f64)),
    Bool(fn(&C) -> bool, fn(&mut C, bool)),
    /// The setter gets one of the `Kind::Choice` values.
    Choice(fn(&C) -> &'static str, fn(&mut C, &str)),
    /// The setter parses; its error says what is expected.
    Text(fn(&C) -> String, fn(&mut C, &str) -> Result<(), String>),
}

/// One row of a config's field table.
pub struct Field<C: 'static> {
    pub key: &'static str,
    pub label: &'static str,
    /// The form's section.
    pub group: &'static str,
    pub kind: Kind,
    pub role: Role,
    pub when: Option<When<C>>,
    pub access: Access<C>,
    /// Shown in the form (a preset key the preset picker covers is not).
    pub in_form: bool,
    /// Keys whose edit recomputes this field in the form (the traced neurons follow `n`).
    pub follows: &'static [&'static str],
    /// One sentence for `--help` and the form's tooltip.
    pub help: &'static str,
}

impl<C: 'static> Field<C> {
    const fn new(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        kind: Kind,
        access: Access<C>,
    ) -> Self {
        Self {
            key,
            label,
            group,
            kind,
            role: Role::Plain,
            when: None,
            access,
            in_form: true,
            follows: &[],
            help: "",
        }
    }

    pub const fn u32(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        min: u32,
        max: u32,
        get: fn(&C) -> u32,
        set: fn(&mut C, u32),
    ) -> Self {
        let kind = Kind::Int {
            min: min as u64,
            max: max as u64,
        };
        Self::new(key, label, group, kind, Access::U32(get, set))
    }

    pub const fn u64(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        min: u64,
        max: u64,
        get: fn(&C) -> u64,
        set: fn(&mut C, u64),
    ) -> Self {
        Self::new(
            key,
            label,
            group,
            Kind::Int { min, max },
            Access::U64(get, set),
        )
    }

    /// A count held in a `usize`; `max` fits every platform's `usize` (wasm32 included).
    pub const fn usize(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        min: u32,
        max: u32,
        get: fn(&C) -> usize,
        set: fn(&mut C, usize),
    ) -> Self {
        let kind = Kind::Int {
            min: min as u64,
            max: max as u64,
        };
        Self::new(key, label, group, kind, Access::Usize(get, set))
    }

    #[allow(clippy::too_many_arguments)]
    pub const fn f32(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        min: f64,
        max: f64,
        get: fn(&C) -> f32,
        set: fn(&mut C, f32),
    ) -> Self {
        let kind = Kind::Num {
            min,
            max,
            open_min: false,
        };
        Self::new(key, label, group, kind, Access::F32(get, set))
    }

    pub const fn f64(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        min: f64,
        max: f64,
        get: fn(&C) -> f64,
        set: fn(&mut C, f64),
    ) -> Self {
        let kind = Kind::Num {
            min,
            max,
            open_min: false,
        };
        Self::new(key, label, group, kind, Access::F64(get, set))
    }

    pub const fn flag(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        get: fn(&C) -> bool,
        set: fn(&mut C, bool),
    ) -> Self {
        Self::new(key, label, group, Kind::Flag, Access::Bool(get, set))
    }

    pub const fn choice(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        values: &'static [&'static str],
        get: fn(&C) -> &'static str,
        set: fn(&mut C, &str),
    ) -> Self {
        Self::new(
            key,
            label,
            group,
            Kind::Choice(values),
            Access::Choice(get, set),
        )
    }

    pub const fn text(
        key: &'static str,
        label: &'static str,
        group: &'static str,
        expected: &'static str,
        get: fn(&C) -> String,
        set: fn(&mut C, &str) -> Result<(), String>,
    ) -> Self {
        Self::new(
            key,
            label,
            group,
            Kind::Text { expected },
            Access::Text(get, set),
        )
    }

    /// Applies only when `test` holds; `needs` names the condition (`"task=bars"`).
    pub const fn when(mut self, test: fn(&C) -> bool, needs: &'static str) -> Self {
        self.when = Some(When {
            test,
            needs,
            strict: true,
        });
        self
    }

    /// Always part of the config and its links, but shown in the form only when `test` holds.
    pub const fn shown_when(mut self, test: fn(&C) -> bool) -> Self {
        self.when = Some(When {
            test,
            needs: "",
            strict: false,
        });
        self
    }

    pub const fn preset(mut self) -> Self {
        self.role = Role::Preset;
        self
    }

    pub const fn structural(mut self) -> Self {
        self.role = Role::Structural;
        self
    }

    /// Numbers: the lower limit is excluded (`min < v`).
    pub const fn open_min(mut self) -> Self {
        if let Kind::Num { min, max, .. } = self.kind {
            self.kind = Kind::Num {
                min,
                max,
                open_min: true,
            };
        }
        self
    }

    /// Link and CLI only: not drawn in the form.
    pub const fn not_in_form(mut self) -> Self {
        self.in_form = false;
        self
    }

    pub const fn follows(mut self, keys: &'static [&'static str]) -> Self {
        self.follows = keys;
        self
    }

    pub const fn help(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }

    /// Whether the field exists for `config` (links carry it, validation checks it).
    pub fn applies(&self, config: &C) -> bool {
        self.when
            .as_ref()
            .is_none_or(|w| !w.strict || (w.test)(config))
    }

    /// Whether the form shows the field for `config`.
    pub fn shown(&self, config: &C) -> bool {
        self.in_form && self.when.as_ref().is_none_or(|w| (w.test)(config))
    }

    /// The value as link text.
    pub fn get(&self, config: &C) -> String {
        match &self.access {
            Access::U32(get, _) => get(config).to_string(),
            Access::U64(get, _) => get(config).to_string(),
            Access::Usize(get, _) => get(config).to_string(),
            Access::F32(get, _) => get(config).to_string(),
            Access::F64(get, _) => get(config).to_string(),
            Access::Bool(get, _) => if get(config) { "1" } else { "0" }.to_string(),
            Access::Choice(get, _) => get(config).to_string(),
            Access::Text(get, _) => get(config),
        }
    }

    /// What a value must look like, for messages and `--help`.
    pub fn expected(&self) -> String {
        match self.kind {
            Kind::Int { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Num { min, max, open_min } => {
                if open_min {
                    format!("a finite number above {min} and at most {max}")
                } else {
                    format!("a finite number from {min} to {max}")
                }
            }
            Kind::Choice(values) => format!("one of {}", values.join(", ")),
            Kind::Flag => "0 or 1".to_string(),
            Kind::Text { expected } => expected.to_string(),
        }
    }

    fn range_error(&self, got: f64) -> ConfigError {
        let (lo, hi, open_lo) = match self.kind {
            Kind::Int { min, max } => (min as f64, max as f64, false),
            Kind::Num { min, max, open_min } => (min, max, open_min),
            _ => (0.0, 0.0, false),
        };
        ConfigError::Range {
            key: self.key,
            label: self.label,
            lo,
            hi,
            got,
            open_lo,
        }
    }

    fn check_int(&self, v: u64) -> Result<(), ConfigError> {
        match self.kind {
            Kind::Int { min, max } if v < min || v > max => Err(self.range_error(v as f64)),
            _ => Ok(()),
        }
    }

    fn check_num(&self, v: f64) -> Result<(), ConfigError> {
        match self.kind {
            Kind::Num { min, max, open_min } => {
                let above = if open_min { v > min } else { v >= min };
                if v.is_finite() && above && v <= max {
                    Ok(())
                } else {
                    Err(self.range_error(v))
                }
            }
            _ if v.is_finite() => Ok(()),
            _ => Err(self.range_error(v)),
        }
    }

    /// Parse `raw`, check it against the row's limits and store it.
    pub fn set(&self, config: &mut C, raw: &str) -> Result<(), ConfigError> {
        let raw = raw.trim();
        let bad = || ConfigError::bad_value(self.key, raw, self.expected());
        let int = || -> Result<u64, ConfigError> {
            let v: u64 = raw.parse().map_err(|_| bad())?;
            self.check_int(v)?;
            Ok(v)
        };
        let num = || -> Result<f64, ConfigError> {
            let v: f64 = raw.parse().map_err(|_| bad())?;
            if !v.is_finite() {
                return Err(bad());
            }
            self.check_num(v)?;
            Ok(v)
        };
        match &self.access {
            // The table's limits fit the types (checked by `table_is_consistent`).
            Access::U32(_, set) => set(config, int()? as u32),
            Access::U64(_, set) => set(config, int()?),
            Access::Usize(_, set) => set(config, int()? as usize),
            Access::F32(_, set) => {
                let v = num()? as f32;
                if !v.is_finite() {
                    return Err(bad());
                }
                set(config, v)
            }
            Access::F64(_, set) => set(config, num()?),
            Access::Bool(_, set) => set(
                config,
                match raw {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(bad()),
                },
            ),
            Access::Choice(_, set) => match self.kind {
                Kind::Choice(values) if values.contains(&raw) => set(config, raw),
                _ => return Err(bad()),
            },
            Access::Text(_, set) => {
                set(config, raw).map_err(|why| ConfigError::bad_value(self.key, raw, why))?
            }
        }
        Ok(())
    }

    /// The stored value against the row's limits (every float must be finite, even where the
    /// field does not apply).
    pub fn check(&self, config: &C) -> Result<(), ConfigError> {
        let applies = self.applies(config);
        match &self.access {
            Access::U32(get, _) if applies => self.check_int(u64::from(get(config))),
            Access::U64(get, _) if applies => self.check_int(get(config)),
            Access::Usize(get, _) if applies => self.check_int(get(config) as u64),
            Access::F32(get, _) => {
                let v = f64::from(get(config));
                if applies {
                    self.check_num(v)
                } else if v.is_finite() {
                    Ok(())
                } else {
                    Err(self.range_error(v))
                }
            }
            Access::F64(get, _) => {
                let v = get(config);
                if applies {
                    self.check_num(v)
                } else if v.is_finite() {
                    Ok(())
                } else {
                    Err(self.range_error(v))
                }
            }
            _ => Ok(()),
        }
    }
}

/// The row for `key`.
pub fn find<C: LabConfig>(key: &str) -> Option<&'static Field<C>> {
    C::fields().iter().find(|f| f.key == key)
}

/// Every field that applies to `config`, as (key, text), in table order: the link's lab part.
pub fn to_pairs<C: LabConfig>(config: &C) -> Vec<(&'static str, String)> {
    C::fields()
        .iter()
        .filter(|f| f.applies(config))
        .map(|f| (f.key, f.get(config)))
        .collect()
}

/// Another lab's config pinned inside this one's link (an SAE's language model): every field that
/// applies and is shown, except `skip`, as `key:value` joined by `,`, in table order.
pub fn pinned_text<C: LabConfig>(config: &C, skip: &[&str]) -> String {
    C::fields()
        .iter()
        .filter(|f| !skip.contains(&f.key) && f.applies(config) && f.shown(config))
        .map(|f| format!("{}:{}", f.key, f.get(config)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Sets `config`'s keys from [`pinned_text`]'s form (a preset key first, then the rest as given);
/// the message names the item or key that is not one of `C`'s (or is in `skip`).
pub fn set_pinned<C: LabConfig>(config: &mut C, text: &str, skip: &[&str]) -> Result<(), String> {
    let mut items = Vec::new();
    for item in text.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = item
            .split_once(':')
            .ok_or_else(|| format!("{}'s keys as key:value, not '{item}'", C::LAB))?;
        let field = find::<C>(key)
            .filter(|f| !skip.contains(&f.key))
            .ok_or_else(|| format!("{}'s keys ('{key}' is not one this takes)", C::LAB))?;
        items.push((field, value));
    }
    items.sort_by_key(|(f, _)| f.role != Role::Preset);
    for (field, value) in items {
        field
            .set(config, value)
            .map_err(|e| format!("{}'s keys within their limits: {e}", C::LAB))?;
    }
    Ok(())
}

/// How strictly [`decode`] treats a key that does not apply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Links and flags: an error naming the condition.
    Strict,
    /// The form keeps every field's text; those that stopped applying are left out.
    Lenient,
}

fn decode<C: LabConfig>(
    pairs: &[(String, String)],
    strictness: Strictness,
) -> Result<C, ConfigError> {
    let mut seen = BTreeSet::new();
    for (k, _) in pairs {
        if !seen.insert(k.as_str()) {
            return Err(ConfigError::Repeated(k.clone()));
        }
    }
    let mut rows = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let row = find::<C>(key).ok_or_else(|| ConfigError::UnknownKey {
            lab: C::LAB,
            key: key.clone(),
        })?;
        rows.push((row, value.as_str()));
    }
    let mut config = C::default();
    // Presets first, then structural keys in table order, then the rest as given.
    for role in [Role::Preset, Role::Structural] {
        for field in C::fields().iter().filter(|f| f.role == role) {
            if let Some((row, value)) = rows.iter().find(|(r, _)| r.key == field.key) {
                apply(row, &mut config, value, strictness)?;
            }
        }
    }
    for (row, value) in rows.iter().filter(|(r, _)| r.role == Role::Plain) {
        apply(row, &mut config, value, strictness)?;
    }
    let given: Vec<&str> = rows.iter().map(|(r, _)| r.key).collect();
    config.after_pairs(&given);
    validate(&config)?;
    Ok(config)
}

fn apply<C: LabConfig>(
    row: &Field<C>,
    config: &mut C,
    value: &str,
    strictness: Strictness,
) -> Result<(), ConfigError> {
    if !row.applies(config) {
        return match (strictness, &row.when) {
            (Strictness::Lenient, _) => Ok(()),
            (Strictness::Strict, Some(w)) => Err(ConfigError::NotApplicable {
                key: row.key.to_string(),
                needs: w.needs,
            }),
            (Strictness::Strict, None) => Ok(()),
        };
    }
    row.set(config, value)
}

/// A link's (or the CLI's) keys → a validated config. Starts from the default (or the preset a
/// preset key names); an unknown, repeated, malformed or inapplicable key, a value out of range
/// or a config over budget is an error whose message names it.
pub fn from_pairs<C: LabConfig>(pairs: &[(String, String)]) -> Result<C, ConfigError> {
    decode(pairs, Strictness::Strict)
}

/// The form's text after the user edited `edited` → a validated config. A preset edit starts
/// over from that preset; a field that follows the edited key is recomputed; fields that no
/// longer apply are left out (their values come from the defaults).
pub fn from_form<C: LabConfig>(
    fields: &[(String, String)],
    edited: &str,
) -> Result<C, ConfigError> {
    let preset_edit = find::<C>(edited).is_some_and(|f| f.role == Role::Preset);
    let pairs: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| {
            if preset_edit {
                return k == edited;
            }
            let follows = find::<C>(k).is_some_and(|f| f.follows.contains(&edited));
            !follows
        })
        .cloned()
        .collect();
    decode(&pairs, Strictness::Lenient)
}

/// Every row's limits, then the config's own rules, then the budget.
pub fn validate<C: LabConfig>(config: &C) -> Result<(), ConfigError> {
    for field in C::fields() {
        field.check(config)?;
    }
    config.check()?;
    budget::check(&config.estimate())
}

/// Table sanity, for each lab's tests: unique keys, limits that fit the accessors' types, a
/// default and presets that validate and round-trip through their link pairs.
pub fn table_is_consistent<C: LabConfig>() -> Result<(), String> {
    let mut keys = BTreeSet::new();
    for f in C::fields() {
        if !keys.insert(f.key) {
            return Err(format!("key '{}' appears twice in the table", f.key));
        }
        if f.label.is_empty() || f.group.is_empty() {
            return Err(format!("key '{}' needs a label and a group", f.key));
        }
        let fits = match (&f.access, f.kind) {
            (Access::U32(..), Kind::Int { min, max }) => min <= max && max <= u64::from(u32::MAX),
            (Access::Usize(..), Kind::Int { min, max }) => min <= max && max <= u64::from(u32::MAX),
            (Access::U64(..), Kind::Int { min, max }) => min <= max,
            (Access::F32(..) | Access::F64(..), Kind::Num { min, max, .. }) => {
                min.is_finite() && max.is_finite() && min <= max && max <= f64::from(f32::MAX)
            }
            (Access::Bool(..), Kind::Flag) => true,
            (Access::Choice(..), Kind::Choice(values)) => !values.is_empty(),
            (Access::Text(..), Kind::Text { .. }) => true,
            _ => false,
        };
        if !fits {
            return Err(format!(
                "key '{}': its kind does not fit its accessor",
                f.key
            ));
        }
    }
    let mut configs = vec![("default".to_string(), C::default())];
    configs.extend(
        C::presets()
            .into_iter()
            .map(|p| (p.name.to_string(), p.config)),
    );
    for (name, c) in configs {
        validate(&c).map_err(|e| format!("{name}: {e}"))?;
        let pairs: Vec<(String, String)> = to_pairs(&c)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let back: C = from_pairs(&pairs).map_err(|e| format!("{name} does not decode: {e}"))?;
        if back != c {
            return Err(format!("{name} does not round-trip through its link pairs"));
        }
    }
    Ok(())
}

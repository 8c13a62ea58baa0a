//! [`ConfigError`]: the one error type for configs. A link key, a form value, a CLI flag and a
//! protocol message all go through the same field table and `validate`, so they all fail with the
//! same messages; each names the key, the limit and what was given.

use thiserror::Error;

/// A bad config or config value. Every message says what to change.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A number outside its range (`lo ≤ v ≤ hi`, or `lo < v ≤ hi` when `open_lo`).
    #[error("{} must be {} {lo} and {}{hi}, got {got}", name(label, key), if *open_lo { "above" } else { "between" }, if *open_lo { "at most " } else { "" })]
    Range {
        key: &'static str,
        label: &'static str,
        lo: f64,
        hi: f64,
        got: f64,
        open_lo: bool,
    },
    /// A rule across fields or a rule of one field beyond its range (p prime, heads | d_model,
    /// k ≤ latents …): the message is the rule.
    #[error("{message}")]
    Rule { key: &'static str, message: String },
    /// Over the memory or time budget (see [`crate::budget`]).
    #[error("{what} needs ~{needs}; {limit}: {hint}")]
    Budget {
        what: String,
        needs: String,
        limit: String,
        hint: &'static str,
    },
    #[error("unknown {lab} link parameter '{key}'")]
    UnknownKey { lab: &'static str, key: String },
    #[error("link parameter '{0}' appears twice")]
    Repeated(String),
    #[error("link parameter '{key}' has a bad value '{value}': expected {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: String,
    },
    #[error("link parameter '{key}' applies only with {needs}")]
    NotApplicable { key: String, needs: &'static str },
}

fn name(label: &str, key: &str) -> String {
    if label == key || label.is_empty() {
        key.to_string()
    } else {
        format!("{label} ({key})")
    }
}

impl ConfigError {
    /// The key the error is about, when it is about one (the form marks that field).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Range { key, .. } | ConfigError::Rule { key, .. } => Some(key),
            ConfigError::UnknownKey { key, .. }
            | ConfigError::BadValue { key, .. }
            | ConfigError::NotApplicable { key, .. } => Some(key),
            ConfigError::Repeated(key) => Some(key),
            ConfigError::Budget { .. } => None,
        }
    }

    /// A rule's error.
    pub fn rule(key: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError::Rule {
            key,
            message: message.into(),
        }
    }

    /// A bad value, cut to 40 characters (links can carry anything).
    pub fn bad_value(key: &str, value: &str, expected: impl Into<String>) -> ConfigError {
        let mut value = value.to_string();
        if value.chars().count() > 40 {
            value = value.chars().take(40).collect::<String>() + "…";
        }
        ConfigError::BadValue {
            key: key.to_string(),
            value,
            expected: expected.into(),
        }
    }
}

/// `lo ≤ v ≤ hi` (and finite), as a [`ConfigError::Range`] naming `key`.
pub fn check_range(
    key: &'static str,
    label: &'static str,
    v: f64,
    lo: f64,
    hi: f64,
) -> Result<(), ConfigError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(ConfigError::Range {
            key,
            label,
            lo,
            hi,
            got: v,
            open_lo: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_key_and_the_limit() {
        let e = check_range("frac", "train fraction", 0.99, 0.05, 0.95).unwrap_err();
        assert_eq!(
            e.to_string(),
            "train fraction (frac) must be between 0.05 and 0.95, got 0.99"
        );
        assert_eq!(e.key(), Some("frac"));
        let e = ConfigError::Range {
            key: "lr",
            label: "lr",
            lo: 0.0,
            hi: 1.0,
            got: -1.0,
            open_lo: true,
        };
        assert_eq!(e.to_string(), "lr must be above 0 and at most 1, got -1");
        assert!(check_range("x", "x", f64::NAN, 0.0, 1.0).is_err());
        let long = "y".repeat(100);
        let e = ConfigError::bad_value("k", &long, "a number");
        assert!(e.to_string().len() < 120, "{e}");
    }
}

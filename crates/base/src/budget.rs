//! Memory and time budgets: every config estimates what it needs ([`Estimate`]) and
//! [`check`] refuses one over budget with a message naming the limit, the estimate and what to
//! lower. The page, the worker and the CLI run the same check (it is part of `validate`), so a
//! link that passes on the page never asks the worker for more than a browser tab can give.

use crate::error::ConfigError;

/// Memory a lab may use in the worker (wasm32 addresses 4 GB; a tab gets less).
pub const MEMORY_BYTES: u64 = 1_000_000_000;
/// Largest single buffer: WebGPU's default `maxStorageBufferBindingSize` (128 MiB).
pub const BUFFER_BYTES: u64 = 128 << 20;
/// Work of one indivisible unit (a training step, one simulated ms), in floating-point
/// operations: 5·10¹⁰ is about ten seconds on the browser's CPU backend (a fraction of that on
/// WebGPU), the longest the worker may go without answering a click.
pub const UNIT_WORK: f64 = 5e10;

/// What a config needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Peak memory, bytes (tensors, optimiser state, gradients, caches).
    pub bytes: u64,
    /// The largest single tensor or buffer, bytes.
    pub largest_buffer: u64,
    /// Floating-point operations of one indivisible unit of work.
    pub unit_work: f64,
    /// The subject of the message ("this SAE", "this network").
    pub what: &'static str,
    /// What to lower ("lower batch or latents").
    pub hint: &'static str,
}

/// Bytes of `n` f32 values, saturating.
pub fn f32s(n: u64) -> u64 {
    n.saturating_mul(4)
}

/// Products of sizes without overflow.
pub fn prod(dims: &[u64]) -> u64 {
    dims.iter().fold(1u64, |acc, &d| acc.saturating_mul(d))
}

/// "3.2 GB", "640 MB", "12 kB".
pub fn fmt_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        let gb = format!("{:.1}", b / 1e9);
        format!("{} GB", gb.trim_end_matches(".0"))
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// "4.0e10 operations per step".
fn fmt_work(flops: f64) -> String {
    format!("{flops:.1e} operations")
}

/// Refuse an estimate over any budget; the message names the limit and what to lower.
pub fn check(e: &Estimate) -> Result<(), ConfigError> {
    if e.bytes > MEMORY_BYTES {
        return Err(ConfigError::Budget {
            what: e.what.to_string(),
            needs: fmt_bytes(e.bytes),
            limit: format!("the browser allows {}", fmt_bytes(MEMORY_BYTES)),
            hint: e.hint,
        });
    }
    if e.largest_buffer > BUFFER_BYTES {
        return Err(ConfigError::Budget {
            what: format!("{} (its largest tensor)", e.what),
            needs: fmt_bytes(e.largest_buffer),
            limit: format!("WebGPU allows {} in one buffer", fmt_bytes(BUFFER_BYTES)),
            hint: e.hint,
        });
    }
    if !(e.unit_work.is_finite() && e.unit_work <= UNIT_WORK) {
        return Err(ConfigError::Budget {
            what: format!("one step of {}", e.what.trim_start_matches("this ")),
            needs: fmt_work(e.unit_work),
            limit: format!("at most {} keep the page responsive", fmt_work(UNIT_WORK)),
            hint: e.hint,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_budget_names_the_estimate_the_limit_and_the_hint() {
        let e = Estimate {
            bytes: 3_200_000_000,
            largest_buffer: 1,
            unit_work: 1.0,
            what: "this SAE",
            hint: "lower batch or latents",
        };
        assert_eq!(
            check(&e).unwrap_err().to_string(),
            "this SAE needs ~3.2 GB; the browser allows 1 GB: lower batch or latents"
        );
        let e = Estimate {
            bytes: 1000,
            largest_buffer: 200 << 20,
            ..e
        };
        assert!(check(&e).unwrap_err().to_string().contains("one buffer"));
        let e = Estimate {
            largest_buffer: 0,
            unit_work: 4e11,
            ..e
        };
        let msg = check(&e).unwrap_err().to_string();
        assert!(msg.starts_with("one step of SAE needs ~4.0e11"), "{msg}");
        assert!(check(&Estimate {
            unit_work: 1e3,
            ..e
        })
        .is_ok());
        assert_eq!(prod(&[u64::MAX, 3]), u64::MAX);
    }
}

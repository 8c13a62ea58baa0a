//! Numbers as the page shows them: four significant digits, percentages, lists of neurons as
//! typed. Plain functions, tested natively.

/// Four significant digits, switching to exponent form for very small or large values; a
/// non-finite value reads "—" (never "NaN" on screen).
pub fn fmt_sig(x: f32) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{x:.3e}")
    } else {
        let digits = if a >= 1000.0 {
            0
        } else if a >= 100.0 {
            1
        } else if a >= 10.0 {
            2
        } else if a >= 1.0 || a == 0.0 {
            3
        } else {
            // 0.001 ≤ a < 1: four significant digits after the leading zeros.
            (3 - a.log10().floor() as i32) as usize
        };
        format!("{x:.digits$}")
    }
}

pub fn fmt_pct(x: f32) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    format!("{:.1}%", 100.0 * x)
}

/// A list of neurons as typed: `3, 7-9, 12` (ranges inclusive); the message names the problem.
pub fn parse_neurons(text: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("'{s}' is not a neuron number (write e.g. 3, 7-9, 12)"))
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi || hi - lo >= 100_000 {
                    return Err(format!(
                        "the range {lo}-{hi} must run upwards and span under 100000"
                    ));
                }
                out.extend(lo..=hi);
            }
            None => out.push(number(part)?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_readable() {
        assert_eq!(fmt_sig(4.5678), "4.568");
        assert_eq!(fmt_sig(0.012345), "0.01235");
        assert_eq!(fmt_sig(123.456), "123.5");
        assert_eq!(fmt_sig(0.0), "0.000");
        assert_eq!(fmt_sig(1.5e-6), "1.500e-6");
        assert_eq!(fmt_sig(f32::NAN), "—");
        assert_eq!(fmt_pct(0.4567), "45.7%");
        assert_eq!(fmt_pct(f32::INFINITY), "—");
    }

    #[test]
    fn neuron_lists_parse_or_say_why() {
        assert_eq!(parse_neurons("3, 7-9,12").unwrap(), vec![3, 7, 8, 9, 12]);
        assert_eq!(parse_neurons("  ").unwrap(), Vec::<u32>::new());
        assert!(parse_neurons("3, x").unwrap_err().contains("'x'"));
        assert!(parse_neurons("9-7").unwrap_err().contains("upwards"));
    }
}

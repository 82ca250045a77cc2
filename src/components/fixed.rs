//! Fixed-point display of an `f64` with integer formatting only: `Fixed(1.23456, 2)` shows
//! `1.23`. The pages format their floats through it rather than core's `{:.N}`, whose exact
//! float formatting is large in a WASM bundle.

use core::fmt;

/// `value` rounded to `decimals` places (at most 9), as `[-]int.frac`; NaN and infinities show
/// as `0`.
#[derive(Clone, Copy, Debug)]
pub struct Fixed(pub f64, pub usize);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(value, decimals) = *self;
        let decimals = decimals.min(9);
        if !value.is_finite() {
            return f.write_str("0");
        }
        let scale = 10u64.pow(decimals as u32);
        // Saturates far beyond anything a page shows (about 1.8e19 / scale).
        let scaled = (value.abs() * scale as f64).round() as u64;
        let sign = if value < 0.0 && scaled != 0 { "-" } else { "" };
        let (int, frac) = (scaled / scale, scaled % scale);
        if decimals == 0 {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{frac:0decimals$}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fixed;

    #[test]
    fn matches_the_standard_formatting() {
        for (v, d) in [
            (1.23456, 2),
            (0.0, 4),
            (0.5, 0),
            (1.5, 0),
            (-2.25, 1),
            (1234.5678, 3),
            (0.015625, 6),
            (99.96, 1),
        ] {
            let ours = Fixed(v, d).to_string();
            // Within half a unit of the last place, with exactly d decimals…
            let shown: f64 = ours.parse().unwrap();
            assert!(
                (shown - v).abs() <= 0.5 * 10f64.powi(-(d as i32)) + 1e-12,
                "{v}: {ours}"
            );
            assert_eq!(ours.split('.').nth(1).map_or(0, str::len), d, "{ours}");
            // …and the standard's digits except on exact halves (std rounds those to even).
            let half = (v * 10f64.powi(d as i32)).fract().abs() == 0.5;
            if !half {
                assert_eq!(ours, format!("{v:.d$}"), "{v} to {d}");
            }
        }
        assert_eq!(Fixed(f64::NAN, 2).to_string(), "0");
        assert_eq!(Fixed(-0.0001, 2).to_string(), "0.00");
        assert_eq!(Fixed(2.5, 1).to_string(), "2.5");
    }
}

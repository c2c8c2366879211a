//! Prometheus durations (`5m`, `1h30m`, `250ms`): units y, w, d, h, m, s and
//! ms, each at most once and from largest to smallest, as Prometheus reads them.

/// Milliseconds per unit, largest first.
const UNITS: [(&str, u64); 7] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("ms", 1), ("m", 60_000), ("s", 1_000)];

/// The order units must come in.
const ORDER: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];

/// The duration in milliseconds, or `None` when `text` is not one. `0` is zero.
pub(crate) fn millis(text: &str) -> Option<u64> {
    if text == "0" {
        return Some(0);
    }
    let mut rest = text;
    let mut total: u64 = 0;
    let mut last = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest.get(..digits).filter(|d| !d.is_empty())?.parse().ok()?;
        rest = &rest[digits..];
        // "ms" before "m", so that 5ms is not read as 5m followed by "s".
        let (unit, per) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        let position = ORDER.iter().position(|u| u == unit)?;
        if last.is_some_and(|l| position <= l) {
            return None;
        }
        last = Some(position);
        rest = &rest[unit.len()..];
        total = total.checked_add(number.checked_mul(*per)?)?;
    }
    (!text.is_empty()).then_some(total)
}

/// Milliseconds written back as the largest units that divide them.
pub(crate) fn show(mut ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for unit in ORDER {
        let per = UNITS.iter().find(|(u, _)| *u == unit).map_or(1, |(_, p)| *p);
        if ms >= per {
            out.push_str(&format!("{}{unit}", ms / per));
            ms %= per;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations_parse_and_print_back() {
        for (text, ms) in [("5m", 300_000), ("1h30m", 5_400_000), ("250ms", 250), ("1d", 86_400_000), ("0", 0), ("2w", 1_209_600_000), ("1m30s", 90_000)] {
            assert_eq!(millis(text), Some(ms), "{text}");
        }
        for bad in ["", "5", "m", "5x", "30m1h", "1m1m", "-5m", "5 m", "99999999999999999999y"] {
            assert_eq!(millis(bad), None, "{bad:?}");
        }
        assert_eq!((show(300_000), show(5_400_000), show(86_400_000), show(250)), ("5m".into(), "1h30m".into(), "1d".into(), "250ms".into()));
    }
}

//! Money is an integer of minor units (cents). Amounts arriving as decimal text (openIMIS
//! exports, `decimal(18,2)`) convert here exactly, never through a float.

/// An openIMIS decimal amount ("12.50", "10", "-3.5") in minor units (1250, 1000, -350),
/// exactly: more than two decimals, or an overflow, is refused rather than rounded.
pub fn parse_money(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let numeric = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !numeric(whole) || !numeric(fraction) {
        return Err(format!("\"{text}\" is not an amount"));
    }
    // Trailing zeros beyond the cents are harmless ("12.5000" from SQL Server's decimal(18,4)).
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err(format!("\"{text}\" has more than two decimals"));
    }
    let cents: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("\"{text}\" is too large"))?
    };
    let value = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(|| format!("\"{text}\" is too large"))?;
    Ok(if negative { -value } else { value })
}

/// Minor units as a decimal amount with two decimals (1250 → "12.50", -5 → "-0.05").
pub fn format_money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A decimal count that must be whole ("2.00" → 2).
pub fn parse_whole(text: &str) -> Result<i64, String> {
    let minor = parse_money(text)?;
    if minor % 100 != 0 {
        return Err(format!("\"{text}\" is not a whole number"));
    }
    Ok(minor / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_convert_exactly() {
        assert_eq!(parse_money("12.50"), Ok(1250));
        assert_eq!(parse_money("10"), Ok(1000));
        assert_eq!(parse_money("-3.5"), Ok(-350));
        assert_eq!(parse_money("0.07"), Ok(7));
        assert_eq!(parse_money("12.5000"), Ok(1250));
        assert!(parse_money("12.505").is_err());
        assert!(parse_money("1e3").is_err());
        assert!(parse_money("").is_err());
        assert!(parse_money("99999999999999999999").is_err());
        assert_eq!(parse_whole("2.00"), Ok(2));
        for minor in [0, 5, 1250, -5, -1250, 100, i64::MIN, i64::MAX] {
            let text = format_money(minor);
            if minor != i64::MIN {
                assert_eq!(parse_money(&text), Ok(minor), "{text}");
            }
        }
        assert_eq!(format_money(-5), "-0.05");
        assert_eq!(format_money(30000000), "300000.00");
        assert!(parse_whole("2.50").is_err());
    }

    #[test]
    fn openimis_amounts_table() {
        for (text, want) in [
            ("12.50", Some(1250)),
            ("12.5", Some(1250)),
            ("12", Some(1200)),
            ("0.07", Some(7)),
            ("300000.00", Some(30000000)),
            ("-3.10", Some(-310)),
            ("1.2500", Some(125)),
            (".5", Some(50)),
            ("1.005", None),
            ("12,50", None),
            ("", None),
            ("abc", None),
            ("92233720368547758.07", Some(i64::MAX)),
            ("92233720368547758.08", None),
        ] {
            assert_eq!(parse_money(text).ok(), want, "{text}");
        }
    }
}

//! Amounts as Stripe sends them (integers in the currency's smallest unit) written in the
//! currency's own unit, for people.

/// Currencies Stripe counts in whole units (<https://docs.stripe.com/currencies#zero-decimal>).
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];
/// Currencies Stripe counts in thousandths.
const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];

/// "$49.00", "€12.50", "£3.00", otherwise "1,000 JPY" / "12.345 KWD" / "49.00 CHF".
pub fn amount_words(amount_minor: i64, currency: &str) -> String {
    let code = currency.to_ascii_lowercase();
    let decimals: u32 = if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    };
    let sign = if amount_minor < 0 { "-" } else { "" };
    let magnitude = amount_minor.unsigned_abs();
    let scale = 10u64.pow(decimals);
    let whole = group_thousands(magnitude / scale);
    let number = if decimals == 0 {
        whole
    } else {
        format!(
            "{whole}.{:0width$}",
            magnitude % scale,
            width = decimals as usize
        )
    };
    match code.as_str() {
        "usd" => format!("{sign}${number}"),
        "eur" => format!("{sign}€{number}"),
        "gbp" => format!("{sign}£{number}"),
        _ => format!("{sign}{number} {}", code.to_ascii_uppercase()),
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::amount_words;

    #[test]
    fn amounts_are_written_in_the_currency_unit() {
        assert_eq!(amount_words(4900, "usd"), "$49.00");
        assert_eq!(amount_words(1250, "EUR"), "€12.50");
        assert_eq!(amount_words(123456789, "gbp"), "£1,234,567.89");
        assert_eq!(amount_words(1000, "jpy"), "1,000 JPY");
        assert_eq!(amount_words(12345, "kwd"), "12.345 KWD");
        assert_eq!(amount_words(5, "chf"), "0.05 CHF");
        assert_eq!(amount_words(-4900, "usd"), "-$49.00");
    }
}

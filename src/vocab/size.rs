//! Sizes as systemd reads and writes them: parse_size() with base 1024 (`256K`, `1.5G`) and
//! FORMAT_BYTES() (`1.4K`). Pure; part of the leaf vocabulary.

/// A size as systemd reads one (parse_size() with base 1024): `262144`, `256K`, `16M`,
/// `1.5G`; suffixes B, K, M, G, T, P, E.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let power = match suffix.trim_start() {
        "" | "B" => 0,
        "K" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        "P" => 5,
        "E" => 6,
        _ => return Err(format!("{text:?}: not a size (a number with K, M, G...)")),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let not_a_size = || format!("{text:?}: not a size (a number with K, M, G...)");
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(not_a_size());
    }
    let factor = 1024u128.pow(power);
    let whole: u128 = whole.parse().map_err(|_| not_a_size())?;
    let mut bytes = whole * factor;
    if !fraction.is_empty() {
        let digits = fraction.len().min(18);
        let fraction: u128 = fraction[..digits].parse().map_err(|_| not_a_size())?;
        bytes += fraction * factor / 10u128.pow(u32::try_from(digits).unwrap_or(18));
    }
    usize::try_from(bytes).map_err(|_| format!("{text:?}: too large"))
}

/// systemd's FORMAT_BYTES(): IEC units with one decimal, rounded down (`512B`, `1.4K`,
/// `48.0K`, `2.0M`).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [(&str, u32); 6] = [("E", 6), ("P", 5), ("T", 4), ("G", 3), ("M", 2), ("K", 1)];
    for (suffix, power) in UNITS {
        let factor = 1024u64.pow(power);
        if n >= factor {
            let tenth = n / (factor / 1024) * 10 / 1024 % 10;
            return format!("{}.{tenth}{suffix}", n / factor);
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_systemd_reads_them() {
        assert_eq!(parse_size("262144"), Ok(262_144));
        assert_eq!(parse_size("256K"), Ok(256 * 1024));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size(" 1.5 G "), Ok(3 << 29));
        assert_eq!(parse_size("100B"), Ok(100));
        for bad in [
            "",
            "K",
            "16 MB",
            "16m",
            "-1",
            "1..5K",
            "1.K",
            "99999999999E",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}

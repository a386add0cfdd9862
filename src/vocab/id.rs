//! 128-bit identifiers as systemd writes them (sd_id128_t as 32 lowercase hex digits): a run's
//! INVOCATION_ID, and the boot ID of one bosun PID 1 (journald's `_BOOT_ID` for its lines).
//! Reads the kernel's random source; part of the leaf vocabulary.

use std::time::SystemTime;

/// A new random 128-bit id in hex (sd_id128_randomize()); the clock's nanoseconds when the
/// kernel gives no randomness.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_differ() {
        let (a, b) = (random_id(), random_id());
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}

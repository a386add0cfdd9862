//! Signal names and numbers as systemd, kill(1) and the unit files spell them: `SIGTERM`,
//! `TERM`, `15`, and the real-time ones in systemd's numbering (`SIGRTMIN+3` is 37 whatever
//! the C library says). Part of the leaf vocabulary: pure, no signal is sent or received here
//! ([`crate::init::signals`] reads them, [`crate::sys`] sends them).

use nix::sys::signal::Signal;

/// The first real-time signal as systemd, glibc and Go number them: the kernel's 32 plus the
/// two that glibc and Go keep for themselves. `SIGRTMIN+3` (systemd's halt, podman's stop
/// signal for a `--systemd` container) is 37. musl's `SIGRTMIN()` is 35, so the number is
/// fixed here rather than asked of the C library (bosun's release build is static musl).
pub const SIGRTMIN: i32 = 34;

/// The last real-time signal (the kernel's _NSIG - 1).
pub const SIGRTMAX: i32 = 64;

/// A signal's conventional name (`SIGTERM`, `SIGRTMIN+3`), for messages.
pub fn name(signo: i32) -> String {
    match Signal::try_from(signo) {
        Ok(signal) => signal.as_str().to_owned(),
        Err(_) => {
            if (SIGRTMIN..=SIGRTMAX).contains(&signo) {
                format!("SIGRTMIN+{}", signo - SIGRTMIN)
            } else {
                format!("signal {signo}")
            }
        }
    }
}

/// Parse a signal given as a number (`15`), a name (`TERM`, `SIGTERM`, `sigterm`) or a
/// real-time name (`RTMIN+3`, `SIGRTMAX-1`).
pub fn parse(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i32>() {
        return (1..=SIGRTMAX).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let offset = if rest.is_empty() {
            0
        } else {
            rest.parse::<i32>().ok()?
        };
        let n = base + sign * offset;
        (SIGRTMIN..=SIGRTMAX).contains(&n).then_some(n)
    };
    if let Some(rest) = bare.strip_prefix("RTMIN") {
        return rt(SIGRTMIN, rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = bare.strip_prefix("RTMAX") {
        return rt(SIGRTMAX, rest.strip_prefix('-').unwrap_or(rest), -1);
    }
    format!("SIG{bare}")
        .parse::<Signal>()
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_numbers_and_realtime() {
        assert_eq!(parse("15"), Some(15));
        assert_eq!(parse("TERM"), Some(libc::SIGTERM));
        assert_eq!(parse("sigusr1"), Some(libc::SIGUSR1));
        assert_eq!(parse("SIGWINCH"), Some(libc::SIGWINCH));
        // systemd's numbering, whatever the C library says (musl's SIGRTMIN() is 35).
        assert_eq!(parse("RTMIN+3"), Some(37));
        assert_eq!(parse("SIGRTMIN+13"), Some(47));
        assert_eq!(parse("SIGRTMAX-1"), Some(63));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("65"), None);
        assert_eq!(parse("NOPE"), None);
        assert_eq!(parse("RTMIN+99"), None);
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(name(37), "SIGRTMIN+3");
        assert_eq!(name(64), "SIGRTMIN+30");
        for n in 1..=SIGRTMAX {
            let nm = name(n);
            if !nm.starts_with("signal ") {
                assert_eq!(parse(&nm), Some(n), "{nm}");
            }
        }
    }
}

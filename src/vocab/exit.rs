//! The exit code bosun ends with, as one enum: every way bosun can finish maps to exactly one
//! code here, so no code is made up at a call site. Part of the leaf vocabulary: PID 1, the
//! CLI and `bosun webdav` all end through it.

use super::termination::Termination;

/// How bosun finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything went as asked.
    Success,
    /// The main command exited with this code (passed through).
    Code(u8),
    /// The main command was killed by this signal: 128 + N, as shells report it.
    KilledBy(i32),
    /// The main command exists but could not be executed (EACCES, ENOEXEC, ...): 126.
    CannotExecute,
    /// The main command was not found: 127.
    NotFound,
    /// bosun itself failed at run time (cannot set up PID 1, ...): 1.
    Failure,
    /// The command line or the configuration is wrong: 2.
    Usage,
    /// bosun hit an internal error (a panic) and shut everything down in order: 70
    /// (EX_SOFTWARE, sysexits.h), whatever the main command's code was.
    Software,
    /// The data volume was refused at boot, before anything started (80 to 84).
    Refused(Refusal),
}

/// Why bosun would not boot on the data volume; each has its own exit code so that scripts and
/// orchestrators can tell them apart. The message printed says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 80: not empty and never seeded by bosun (`BOSUN_ADOPT_DATA=1` adopts it).
    Foreign,
    /// 81: the image is older than the data (`BOSUN_ALLOW_DOWNGRADE=1` merges anyway).
    Downgrade,
    /// 82: the first-boot or upgrade hooks failed or were interrupted: half-installed
    /// (`BOSUN_RETRY_FIRST_BOOT=1` runs them again).
    HalfInstalled,
    /// 83: another bosun holds the volume's lock (two containers on one volume).
    InUse,
    /// 84: bosun's user may not write the volume's record (an arbitrary UID on a volume
    /// another user owns).
    NotWritable,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Code(code) => code,
            Exit::KilledBy(signo) => u8::try_from(128 + signo).unwrap_or(255),
            Exit::CannotExecute => 126,
            Exit::NotFound => 127,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Software => 70,
            Exit::Refused(Refusal::Foreign) => 80,
            Exit::Refused(Refusal::Downgrade) => 81,
            Exit::Refused(Refusal::HalfInstalled) => 82,
            Exit::Refused(Refusal::InUse) => 83,
            Exit::Refused(Refusal::NotWritable) => 84,
        }
    }

    /// The exit for a main command that ended with `termination`, after applying the `-e`
    /// remapping: a final code listed in `success_codes` becomes 0 (tini's `-e`, which also
    /// applies to 128+N).
    pub fn of_main(termination: Termination, success_codes: &[u8]) -> Exit {
        let exit = match termination {
            Termination::Exited(code) => Exit::Code(u8::try_from(code & 0xff).unwrap_or(255)),
            Termination::Signaled(signo) => Exit::KilledBy(signo),
        };
        if success_codes.contains(&exit.code()) {
            Exit::Success
        } else {
            exit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Exit::of_main(Termination::Exited(0), &[]).code(), 0);
        assert_eq!(Exit::of_main(Termination::Exited(255), &[]).code(), 255);
        assert_eq!(Exit::of_main(Termination::Signaled(15), &[]).code(), 143);
        assert_eq!(Exit::of_main(Termination::Signaled(64), &[]).code(), 192);
        assert_eq!(Exit::CannotExecute.code(), 126);
        assert_eq!(Exit::NotFound.code(), 127);
        assert_eq!(Exit::Software.code(), 70);
        assert_eq!(Exit::Refused(Refusal::Foreign).code(), 80);
        assert_eq!(Exit::Refused(Refusal::InUse).code(), 83);
        assert_eq!(Exit::Refused(Refusal::NotWritable).code(), 84);
    }

    #[test]
    fn remap_applies_to_codes_and_signals() {
        assert_eq!(Exit::of_main(Termination::Exited(3), &[3]), Exit::Success);
        assert_eq!(Exit::of_main(Termination::Exited(4), &[3]), Exit::Code(4));
        assert_eq!(
            Exit::of_main(Termination::Signaled(15), &[143]),
            Exit::Success
        );
    }
}

//! journald's native protocol (`/run/systemd/journal/socket`, what sd_journal_send(3) writes):
//! reading the entries of one datagram, or of the memfd a sender passes instead when its entry
//! does not fit in one. Each entry is `NAME=value\n` lines, or `NAME\n`, a 64-bit
//! little-endian length, the value's bytes and `\n` for a value with newlines; an empty line
//! ends an entry and another may follow. As journald (journald-native.c): names are
//! `[A-Z0-9_]`, at most 64 bytes, not starting with a digit, and a name starting with `_` (a
//! trusted field, the receiver's to set) is dropped; lines starting with `.` or `#` are
//! skipped; an entry cut short is kept as far as it was read and ends the datagram. Pure but
//! for [`read_memfd`]; which unit sent it is the caller's business.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::line::MAX_LINE;
use super::syslog::{FACILITY_USER, PRIORITY_INFO};

/// The largest native entry read, whether a datagram or a memfd: 1 MiB, a sixteenth of the
/// default total of all rings (`log.ring_total`), read into memory for the time of its
/// parsing. journald takes up to 768 MiB; what the rings keep of an entry is its MESSAGE cut at
/// [`MAX_LINE`] and at most [`MAX_FIELD_BYTES`] of other fields, so a larger entry could only
/// cost PID 1 memory, never add to what is kept.
pub const MAX_ENTRY: usize = 1024 * 1024;

/// Fields of one entry at most (journald's ENTRY_FIELD_COUNT_MAX).
const MAX_FIELDS: usize = 1024;

/// Bytes of other fields (names and values) kept per entry; fields past it are dropped and
/// counted.
pub const MAX_FIELD_BYTES: usize = MAX_LINE;

/// One entry as its sender wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// MESSAGE=, cut at [`MAX_LINE`]; empty when there is none.
    pub message: Vec<u8>,
    /// MESSAGE= was longer than [`MAX_LINE`].
    pub truncated: bool,
    /// PRIORITY= (0 to 7); info when absent or invalid.
    pub priority: u8,
    /// SYSLOG_FACILITY= (0 to 23); user when absent or invalid.
    pub facility: u8,
    /// SYSLOG_IDENTIFIER=.
    pub identifier: Option<String>,
    /// SYSLOG_PID= as the sender claims it (kept among [`Self::fields`] too).
    pub pid: Option<i32>,
    /// Every other field, in order, within [`MAX_FIELD_BYTES`].
    pub fields: Vec<(Box<str>, Box<[u8]>)>,
    /// Fields dropped for [`MAX_FIELD_BYTES`].
    pub dropped_fields: usize,
}

/// The entries of one datagram (or memfd), at most as many as it holds.
pub fn parse(mut data: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (entry, rest, go_on) = parse_entry(data);
        out.extend(entry);
        if !go_on {
            break;
        }
        data = rest;
    }
    out
}

/// One entry from the start of `data`: the entry (None when it has no field), what follows,
/// and whether to go on reading entries.
fn parse_entry(mut data: &[u8]) -> (Option<Entry>, &[u8], bool) {
    let mut entry = Entry {
        priority: PRIORITY_INFO,
        facility: FACILITY_USER,
        ..Entry::default()
    };
    let mut fields = 0usize;
    let mut kept_bytes = 0usize;
    let mut go_on = true;
    loop {
        let Some(nl) = data.iter().position(|&b| b == b'\n') else {
            // Trailing noise: keep what was read.
            go_on = false;
            break;
        };
        if nl == 0 {
            data = &data[1..];
            break;
        }
        let line = &data[..nl];
        if matches!(line[0], b'.' | b'#') {
            data = &data[nl + 1..];
            continue;
        }
        if fields > MAX_FIELDS {
            return (None, data, false);
        }
        let (name, value, rest) = match line.iter().position(|&b| b == b'=') {
            Some(eq) => (&line[..eq], &line[eq + 1..], &data[nl + 1..]),
            None => {
                let after = &data[nl + 1..];
                let Some((len, tail)) = after.split_first_chunk::<8>() else {
                    go_on = false;
                    break;
                };
                let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
                if tail.len() <= len || tail[len] != b'\n' {
                    go_on = false;
                    break;
                }
                (line, &tail[..len], &tail[len + 1..])
            }
        };
        data = rest;
        if valid_name(name) {
            fields += 1;
            entry.take(name, value, &mut kept_bytes);
        }
    }
    ((fields > 0).then_some(entry), data, go_on)
}

impl Entry {
    /// Take field `name` (valid) with `value`.
    fn take(&mut self, name: &[u8], value: &[u8], kept_bytes: &mut usize) {
        match name {
            b"MESSAGE" => {
                let kept = value.len().min(MAX_LINE);
                self.message = value[..kept].to_vec();
                self.truncated = value.len() > kept;
                return;
            }
            b"PRIORITY" => {
                if let [d @ b'0'..=b'7'] = value {
                    self.priority = d - b'0';
                }
                return;
            }
            b"SYSLOG_FACILITY" => {
                if let Some(f) = small_number(value).filter(|&f| f <= 23) {
                    self.facility = f;
                }
                return;
            }
            b"SYSLOG_IDENTIFIER" => {
                self.identifier = Some(String::from_utf8_lossy(value).into_owned());
                return;
            }
            b"SYSLOG_PID" => {
                self.pid = std::str::from_utf8(value)
                    .ok()
                    .and_then(|p| p.parse().ok())
                    .filter(|&p: &i32| p > 0);
            }
            _ => {}
        }
        let cost = name.len() + value.len();
        if *kept_bytes + cost > MAX_FIELD_BYTES {
            self.dropped_fields += 1;
            return;
        }
        *kept_bytes += cost;
        // The name is ASCII (checked by `valid_name`).
        let name = String::from_utf8_lossy(name).into_owned().into_boxed_str();
        self.fields.push((name, value.into()));
    }
}

/// One or two decimal digits.
fn small_number(value: &[u8]) -> Option<u8> {
    match value {
        [a @ b'0'..=b'9'] => Some(a - b'0'),
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// A field a client may set (journald's journal_field_valid without protected fields).
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name[0].is_ascii_digit()
        && name[0] != b'_'
        && name
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Why a passed descriptor was not read.
#[derive(Debug, thiserror::Error)]
pub enum MemfdError {
    #[error("the descriptor passed is not a regular file")]
    NotRegular,
    #[error("the file passed is not in memory (memfd or tmpfs); refused, its reading could block")]
    NotInMemory,
    #[error("the file passed is neither a sealed memfd nor in /dev/shm, /tmp or /var/tmp")]
    NotAllowed,
    #[error("the file passed holds {size} bytes, more than the {MAX_ENTRY} of an entry")]
    TooLarge { size: u64 },
    #[error("cannot read the file passed: {0}")]
    Io(#[from] nix::errno::Errno),
}

/// The bytes of the file a sender passed, checked as journald does
/// (manager_process_native_file): a regular file; a memfd sealed against writing, shrinking
/// and growing, or, for a sender other than root, a file directly in /dev/shm, /tmp or
/// /var/tmp; at most [`MAX_ENTRY`] bytes. Only files in memory are read (tmpfs, memfd): a file
/// on a network or FUSE file system could block PID 1.
pub fn read_memfd(fd: &OwnedFd, uid: Option<u32>) -> Result<Vec<u8>, MemfdError> {
    use nix::sys::stat::SFlag;
    let st = nix::sys::stat::fstat(fd)?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
        return Err(MemfdError::NotRegular);
    }
    let fs = nix::sys::statfs::fstatfs(fd)?;
    if fs.filesystem_type() != nix::sys::statfs::TMPFS_MAGIC
        && fs.filesystem_type() != nix::sys::statfs::HUGETLBFS_MAGIC
    {
        return Err(MemfdError::NotInMemory);
    }
    let size = u64::try_from(st.st_size).unwrap_or(0);
    if size == 0 {
        return Ok(Vec::new());
    }
    if !sealed(fd) && uid != Some(0) && !in_allowed_directory(fd) {
        return Err(MemfdError::NotAllowed);
    }
    let len = usize::try_from(size).unwrap_or(usize::MAX);
    if len > MAX_ENTRY {
        return Err(MemfdError::TooLarge { size });
    }
    let mut buf = vec![0; len];
    let mut read = 0;
    while read < len {
        let offset = i64::try_from(read).unwrap_or(i64::MAX);
        match nix::sys::uio::pread(fd.as_fd(), &mut buf[read..], offset) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    buf.truncate(read);
    Ok(buf)
}

/// Sealed against shrinking, growing and writing, and the seals sealed (memfd_get_sealed).
fn sealed(fd: &OwnedFd) -> bool {
    use nix::fcntl::{FcntlArg, SealFlag, fcntl};
    let all = SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE
        | SealFlag::F_SEAL_SEAL;
    fcntl(fd, FcntlArg::F_GET_SEALS)
        .is_ok_and(|seals| SealFlag::from_bits_truncate(seals).contains(all))
}

/// A file directly in /dev/shm, /tmp or /var/tmp (by the descriptor's path).
fn in_allowed_directory(fd: &OwnedFd) -> bool {
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let Ok(path) = std::fs::read_link(link) else {
        return false;
    };
    ["/dev/shm/", "/tmp/", "/var/tmp/"].iter().any(|dir| {
        path.to_str()
            .and_then(|p| p.strip_prefix(dir))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(name: &str, value: &[u8]) -> Vec<u8> {
        let mut out = name.as_bytes().to_vec();
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value);
        out.push(b'\n');
        out
    }

    #[test]
    fn text_and_binary_fields_and_two_entries() {
        let mut data = b"MESSAGE=hello\nPRIORITY=4\nSYSLOG_FACILITY=10\nSYSLOG_IDENTIFIER=app\n\
                         SYSLOG_PID=42\nCODE_FILE=a.c\n_PID=1\n#comment\nlower=x\n"
            .to_vec();
        data.extend(binary("DATA", b"two\nlines"));
        data.extend(b"\nMESSAGE=second\n");
        let entries = parse(&data);
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.message, b"hello");
        assert_eq!((e.priority, e.facility), (4, 10));
        assert_eq!(e.identifier.as_deref(), Some("app"));
        assert_eq!(e.pid, Some(42));
        let names: Vec<&str> = e.fields.iter().map(|(k, _)| &**k).collect();
        // Trusted (_PID) and invalid (lower) names are dropped; SYSLOG_PID stays a field.
        assert_eq!(names, ["SYSLOG_PID", "CODE_FILE", "DATA"]);
        assert_eq!(&*e.fields[2].1, b"two\nlines");
        assert_eq!(entries[1].message, b"second");
        assert_eq!(entries[1].priority, PRIORITY_INFO);
    }

    #[test]
    fn binary_message_with_newlines_and_a_long_message_is_cut() {
        let data = binary("MESSAGE", b"a\nb");
        assert_eq!(parse(&data)[0].message, b"a\nb");
        let long = vec![b'x'; MAX_LINE + 5];
        let e = &parse(&binary("MESSAGE", &long))[0];
        assert!(e.truncated && e.message.len() == MAX_LINE);
    }

    #[test]
    fn malformed_input_keeps_what_was_read() {
        // A binary length past the end: the entry so far is kept, nothing after it.
        let mut data = b"MESSAGE=kept\n".to_vec();
        data.extend(b"BIG\n");
        data.extend(&1000u64.to_le_bytes());
        data.extend(b"short\n\nMESSAGE=never\n");
        let entries = parse(&data);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].message, b"kept");
        // Trailing noise without a newline.
        assert_eq!(parse(b"MESSAGE=a\nnoise")[0].message, b"a");
        // Negative controls: bad priority/facility values are ignored; nothing is no entry.
        let e = &parse(b"MESSAGE=m\nPRIORITY=9\nSYSLOG_FACILITY=24\n")[0];
        assert_eq!((e.priority, e.facility), (PRIORITY_INFO, FACILITY_USER));
        assert!(parse(b"").is_empty());
        assert!(parse(b"\n\n").is_empty());
        assert!(parse(b"_TRUSTED=x\n").is_empty());
    }

    #[test]
    fn fields_are_bounded() {
        let mut data = Vec::new();
        for i in 0..100 {
            data.extend(format!("F{i}=").as_bytes());
            data.extend(vec![b'v'; 1000]);
            data.push(b'\n');
        }
        let e = &parse(&data)[0];
        let kept: usize = e.fields.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(kept <= MAX_FIELD_BYTES, "{kept}");
        assert_eq!(e.fields.len() + e.dropped_fields, 100);
        assert!(e.dropped_fields > 0);
        // Too many fields: the entry is refused whole.
        let many: Vec<u8> = (0..MAX_FIELDS + 2)
            .flat_map(|i| format!("F{i}=x\n").into_bytes())
            .collect();
        assert!(parse(&many).is_empty());
    }

    #[test]
    fn names() {
        for good in ["MESSAGE", "A1_B", "X"] {
            assert!(valid_name(good.as_bytes()), "{good}");
        }
        for bad in ["", "_PID", "1A", "a", "A-B", &"A".repeat(65)] {
            assert!(!valid_name(bad.as_bytes()), "{bad}");
        }
    }
}

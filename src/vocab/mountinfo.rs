//! `/proc/self/mountinfo` (proc(5)): one line per mount, the fields bosun uses, the kernel's
//! octal escapes undone. Pure text; reading the file is the caller's (boot's cleanup of /run,
//! the manager's mount units).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One line of `/proc/self/mountinfo` (proc(5)), the fields bosun uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub point: PathBuf,
    /// The directory of the filesystem that is mounted there (`/` for a whole filesystem).
    pub root: PathBuf,
    pub fstype: String,
    pub source: String,
    /// The mount's options, then the super block's (as systemd's `Options=` shows them).
    pub options: String,
}

/// Parse mountinfo text; malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            let options = fields.get(5)?;
            Some(Mount {
                root: unescape(fields.get(3)?),
                point: unescape(fields.get(4)?),
                fstype: right.next()?.to_owned(),
                source: right.next().unwrap_or_default().to_owned(),
                options: match right.next() {
                    Some(more) if !more.is_empty() => format!("{options},{more}"),
                    _ => (*options).to_owned(),
                },
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(((d[0] - b'0') << 6) | ((d[1] - b'0') << 3) | (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    PathBuf::from(OsStr::from_bytes(&out))
}

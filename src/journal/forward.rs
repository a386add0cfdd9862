//! ForwardToSyslog= as journald does it (journald-syslog.c): every line the journal keeps is
//! also sent, as one RFC 3164 datagram `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`, to
//! `/run/systemd/journal/syslog`, where a syslog daemon of the image listens when its
//! `syslog.socket` is enabled (rsyslog's imuxsock, syslog-ng). Never blocks: a full socket
//! drops the line and counts it, and the count is said once lines go through again (at most
//! every 30 s, as journald's "Forwarding to syslog missed N messages"); with no one listening
//! nothing is sent, and the socket is looked for again at most once a second. Must not keep
//! or parse a line.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How often a socket found missing is looked for again.
const RETRY: Duration = Duration::from_secs(1);

/// How often missed lines are said at most (journald's WARN_FORWARD_SYSLOG_MISSED_USEC).
const TELL_EVERY: Duration = Duration::from_secs(30);

/// What became of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Delivered.
    Yes,
    /// Delivered; `n` lines before it were dropped since this was last said.
    AfterMissing(u64),
    /// The socket was full: dropped and counted.
    Missed,
    /// No one listens there.
    NoListener,
}

/// The client end towards the syslog daemon's socket.
#[derive(Debug)]
pub struct Forwarder {
    socket: UnixDatagram,
    path: PathBuf,
    /// Not listened on: not tried again before this.
    absent_until: Option<Instant>,
    missed: u64,
    told: Option<Instant>,
}

impl Forwarder {
    /// A forwarder to the syslog socket at `path` (it need not exist yet).
    pub fn new(path: &Path) -> io::Result<Forwarder> {
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(Forwarder {
            socket,
            path: path.to_owned(),
            absent_until: None,
            missed: 0,
            told: None,
        })
    }

    /// Where it forwards to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Send one datagram (already formatted) without blocking.
    pub fn send(&mut self, datagram: &[u8], now: Instant) -> Sent {
        if self.absent_until.is_some_and(|until| now < until) {
            return Sent::NoListener;
        }
        match self.socket.send_to(datagram, &self.path) {
            Ok(_) => {
                self.absent_until = None;
                if self.missed > 0 && self.told.is_none_or(|t| now >= t + TELL_EVERY) {
                    self.told = Some(now);
                    return Sent::AfterMissing(std::mem::take(&mut self.missed));
                }
                Sent::Yes
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.missed += 1;
                Sent::Missed
            }
            // ENOENT, ECONNREFUSED (a socket file no one reads), and anything else: nothing
            // there to take it now.
            Err(_) => {
                self.absent_until = Some(now + RETRY);
                Sent::NoListener
            }
        }
    }
}

/// One line as journald forwards it: `<PRI>` (facility 0 read as user, as
/// syslog_fixup_facility), the time as `Mmm dd hh:mm:ss` (UTC; rsyslog's imuxsock takes its
/// own time unless told otherwise), then `IDENT[PID]: ` (`IDENT: ` without a pid) and the
/// message.
pub fn format(
    (priority, facility): (u8, u8),
    time: SystemTime,
    identifier: &str,
    pid: Option<i32>,
    message: &[u8],
) -> Vec<u8> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let facility = if facility == 0 { 1 } else { facility };
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let c = crate::vocab::time::civil(secs);
    let month = MONTHS[usize::try_from(c.month.saturating_sub(1)).unwrap_or(0) % 12];
    let mut out = format!(
        "<{}>{month} {:>2} {:02}:{:02}:{:02} {identifier}",
        u16::from(facility) * 8 + u16::from(priority & 7),
        c.day,
        c.hour,
        c.minute,
        c.second
    )
    .into_bytes();
    if let Some(pid) = pid {
        out.extend_from_slice(format!("[{pid}]").as_bytes());
    }
    out.extend_from_slice(b": ");
    out.extend_from_slice(message);
    out
}

/// ForwardToSyslog= of the image's journald.conf (`etc/systemd/journald.conf`, then the
/// drop-ins `journald.conf.d/*.conf` of etc, run, usr/local/lib and usr/lib by name, a name in
/// an earlier directory hiding the later ones; the last assignment wins). Default yes, as
/// Debian's journald (upstream says no since systemd 246; Debian patches it back to yes, and
/// its rsyslog reads the forwarded lines on `syslog.socket` with imuxsock).
pub fn configured(root: &Path) -> bool {
    let mut files = vec![root.join("etc/systemd/journald.conf")];
    let mut drop_ins: std::collections::BTreeMap<std::ffi::OsString, PathBuf> =
        std::collections::BTreeMap::new();
    for dir in ["etc", "run", "usr/local/lib", "usr/lib"] {
        let dir = root.join(dir).join("systemd/journald.conf.d");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".conf") {
                drop_ins.entry(name).or_insert_with(|| entry.path());
            }
        }
    }
    files.extend(drop_ins.into_values());
    let mut forward = true;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut in_journal = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_journal = line == "[Journal]";
            } else if in_journal
                && let Some((key, value)) = line.split_once('=')
                && key.trim() == "ForwardToSyslog"
            {
                match value.trim() {
                    "1" | "yes" | "y" | "true" | "t" | "on" => forward = true,
                    "0" | "no" | "n" | "false" | "f" | "off" => forward = false,
                    _ => {}
                }
            }
        }
    }
    forward
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_journald() {
        // 2026-12-06 09:05:03 UTC.
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_547_903);
        assert_eq!(
            format((3, 3), t, "cron", Some(42), b"hi"),
            b"<27>Dec  6 09:05:03 cron[42]: hi"
        );
        // Facility 0 (a native entry without SYSLOG_FACILITY=) is user's; no pid.
        assert_eq!(
            format((6, 0), t, "x", None, b"m"),
            b"<14>Dec  6 09:05:03 x: m"
        );
        // The output parses back as the line it was.
        let back = crate::journal::syslog::parse(&format((4, 20), t, "id", Some(7), b"text"));
        assert_eq!(
            (back.priority, back.facility, back.identifier.as_deref()),
            (4, 20, Some("id"))
        );
        assert_eq!((back.pid, &back.message[..]), (Some(7), &b"text"[..]));
    }

    #[test]
    fn journald_conf_and_drop_ins() {
        let root = std::env::temp_dir().join(format!("bosun-jconf-{}", std::process::id()));
        let etc = root.join("etc/systemd");
        std::fs::create_dir_all(etc.join("journald.conf.d")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib/systemd/journald.conf.d")).unwrap();
        // Negative control: Debian's file, all commented out, leaves the default on.
        std::fs::write(
            etc.join("journald.conf"),
            "[Journal]\n#ForwardToSyslog=yes\n",
        )
        .unwrap();
        assert!(configured(&root));
        std::fs::write(
            etc.join("journald.conf"),
            "[Journal]\nForwardToSyslog=no\n[Other]\nForwardToSyslog=yes\n",
        )
        .unwrap();
        assert!(!configured(&root));
        // A drop-in in usr/lib turns it on, unless etc has one of the same name.
        let lib = root.join("usr/lib/systemd/journald.conf.d/50-fwd.conf");
        std::fs::write(&lib, "[Journal]\nForwardToSyslog=yes\n").unwrap();
        assert!(configured(&root));
        std::fs::write(etc.join("journald.conf.d/50-fwd.conf"), "").unwrap();
        assert!(!configured(&root));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_full_and_back() {
        let dir = std::env::temp_dir().join(format!("bosun-forward-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("syslog");
        let mut f = Forwarder::new(&path).unwrap();
        let t0 = Instant::now();
        // Negative control: nothing listens, nothing is counted as missed.
        assert_eq!(f.send(b"a", t0), Sent::NoListener);
        let server = UnixDatagram::bind(&path).unwrap();
        // Within a second the socket is not looked for again.
        assert_eq!(f.send(b"b", t0), Sent::NoListener);
        let t1 = t0 + RETRY;
        // Fill the receiver's queue (nobody reads).
        let mut sent = 0;
        loop {
            match f.send(b"line", t1) {
                Sent::Yes => sent += 1,
                Sent::Missed => break,
                other => panic!("{other:?}"),
            }
        }
        assert!(sent > 0);
        assert_eq!(f.send(b"x", t1), Sent::Missed);
        let mut buf = [0; 16];
        for _ in 0..sent {
            server.recv(&mut buf).unwrap();
        }
        assert_eq!(f.send(b"y", t1), Sent::AfterMissing(2));
        assert_eq!(f.send(b"z", t1), Sent::Yes);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The persistent journal (`log.persist`): the lines of every run kept in files on the data
//! volume (`DATA/.bosun/journal` by default), so an operator can read what happened before the
//! last restart (`journalctl -b -1`, `initctl logs --boot -1`) with or without bosun running.
//! Owns the files' format and names, their writing (by the writer process, [`run_writer`],
//! never in PID 1: a slow or hung volume stalls that process, not PID 1, which drops and counts
//! what it cannot hand over), the size cap and rotation, and their reading ([`list_boots`],
//! [`Boot::records`], [`read_boot`]).
//!
//! Format: one file per part of a run, `boot-START-ID-PART.jsonl` (START the run's start in ms
//! since the epoch, 13 digits; ID the run's id, PID 1's boot ID, in hex; PART from 0000), each
//! line one JSON object: the journal's one shape of a line ([`LogLine`], as `initctl logs
//! --json` gives it: `seq`, `unit`, `pid`, `ms`, `stderr`, `text`, `raw`, `syslog`,
//! `transport`, `stdio`) plus `boot`; lines of older files, which kept a stdout line's fields
//! under `syslog`, read the same ([`Record::parse`]). A part is closed at an eighth of the cap
//! (journald's SystemMaxFileSize= default); when all parts together pass the cap, the oldest
//! parts go first, whichever run they belong to. Must not know PID 1's loop or the control
//! protocol.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::record::{LogLine, SyslogFields};
use super::ring::Entry;
use crate::vocab::exit::Exit;

/// The directory's name under the volume's `.bosun`.
pub const DIR_NAME: &str = "journal";

/// The cap when `log.persist_max` is not set: a tenth of the volume's filesystem (journald's
/// SystemMaxUse= default), at most this (the volume holds the user's data, not logs).
pub const DEFAULT_MAX: u64 = 64 * 1024 * 1024;

/// What the journal leaves free on the volume's filesystem, whatever its cap: 15 % of the
/// filesystem, at most 4 GiB (journald's SystemKeepFree= default), so that the journal never
/// takes the space the service's data needs.
pub fn keep_free(fs_bytes: u64) -> u64 {
    (fs_bytes / 100 * 15).min(4 << 30)
}

/// The cap in force for a journal of `total` bytes capped at `max`, on a filesystem of `size`
/// bytes with `free` bytes available: what it holds plus what is free beyond [`keep_free`],
/// between [`MIN_MAX`] and `max` (journald's cached_space_limit): on a filesystem short of
/// free space the journal stops growing, its newest lines taking its oldest runs' place.
fn cap_in_force(max: u64, total: u64, size: u64, free: u64) -> u64 {
    let room = total.saturating_add(free.saturating_sub(keep_free(size)));
    room.clamp(MIN_MAX.min(max), max)
}

/// The smallest cap taken (smaller settings are raised to it): a few parts of a few lines.
pub const MIN_MAX: u64 = 16 * 1024;

/// How long written lines may wait for fdatasync (journald syncs every SyncIntervalSec=, 5
/// minutes; bosun's writes are cheap and a container's end is often abrupt).
pub const SYNC_INTERVAL: Duration = Duration::from_secs(5);

/// The unit name of bosun's own messages.
pub const OWN_UNIT: &str = "bosun";

/// The syslog facility of bosun's own messages (LOG_DAEMON).
pub const OWN_FACILITY: u8 = 3;

/// The writer's exit code when it said why it cannot write (PID 1 then says nothing more).
pub const EXIT_SAID: u8 = 3;

const PREFIX: &str = "boot-";
const SUFFIX: &str = ".jsonl";

/// A failed reading of the persistent journal.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read the persistent journal {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the persistent journal {path} holds no run {offset}")]
    NoSuchBoot { path: PathBuf, offset: i64 },
}

/// One persisted line: the journal's one shape of a line ([`LogLine`], what `initctl logs
/// --json` gives) and the run it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    pub line: LogLine,
    /// The run's id: PID 1's boot ID (`_BOOT_ID`).
    pub boot: String,
}

impl Record {
    /// A journal entry of run `boot`.
    pub fn of(entry: &Entry, boot: &str) -> Record {
        Record {
            line: LogLine::of(entry),
            boot: boot.to_owned(),
        }
    }

    /// One of bosun's own messages (PID `pid`, syslog priority `priority`) of run `boot`.
    pub fn own(message: &crate::log::Own, pid: i32, boot: &str) -> Record {
        Record {
            line: LogLine {
                seq: 0,
                unit: OWN_UNIT.to_owned(),
                pid,
                ms: message.ms,
                stderr: true,
                text: message.text.clone(),
                raw: None,
                syslog: Some(SyslogFields {
                    priority: message.priority,
                    facility: OWN_FACILITY,
                    identifier: Some(OWN_UNIT.to_owned()),
                    fields: Vec::new(),
                }),
                transport: String::new(),
                stdio: None,
            },
            boot: boot.to_owned(),
        }
    }

    /// The record as one line of a file, newline included.
    pub fn to_line(&self) -> Vec<u8> {
        // A Record always serializes (strings, numbers and byte arrays only).
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }

    /// A line of a file, in either format: files written before the line had one shape kept
    /// a stdout or stderr line's fields under `syslog` (with `transport` `stdout`); they are
    /// read into `stdio`, where the shape keeps them. None for a line that is not a record
    /// (the torn last line of a run that ended mid-write).
    pub fn parse(text: &[u8]) -> Option<Record> {
        let mut record: Record = serde_json::from_slice(text).ok()?;
        let line = &mut record.line;
        if line.transport == "stdout" && line.stdio.is_none() {
            line.stdio = line.syslog.take();
        }
        Some(record)
    }
}

/// One file's place: (run start, run id, part).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Name {
    start: u64,
    boot: String,
    part: u32,
}

impl Name {
    fn file(&self) -> String {
        format!(
            "{PREFIX}{:013}-{}-{:04}{SUFFIX}",
            self.start, self.boot, self.part
        )
    }

    fn parse(name: &str) -> Option<Name> {
        let inner = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let mut fields = inner.splitn(3, '-');
        let start = fields.next()?.parse().ok()?;
        let boot = fields.next()?;
        let part = fields.next()?.parse().ok()?;
        let hex = !boot.is_empty() && boot.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| Name {
            start,
            boot: boot.to_owned(),
            part,
        })
    }
}

/// The journal's files in `dir`, oldest first, with their sizes.
fn files(dir: &Path) -> io::Result<Vec<(Name, u64)>> {
    let mut out = Vec::new();
    for item in fs::read_dir(dir)? {
        let item = item?;
        if let Some(name) = item.file_name().to_str().and_then(Name::parse) {
            // A file removed meanwhile is simply not counted.
            let size = item.metadata().map_or(0, |m| m.len());
            out.push((name, size));
        }
    }
    out.sort();
    Ok(out)
}

/// One run in the persistent journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    pub id: String,
    /// When the run started (ms since the epoch).
    pub start_ms: u64,
    /// Its files, in order.
    pub files: Vec<PathBuf>,
    /// Bytes of its files.
    pub bytes: u64,
}

impl Boot {
    /// The time of its first line that can be read (ms), if any: the run's start when the
    /// cap has removed none of its parts.
    pub fn first_ms(&self) -> Option<u64> {
        let first = self.files.first()?;
        let file = File::open(first).ok()?;
        io::BufReader::new(file)
            .split(b'\n')
            .map_while(Result::ok)
            .find_map(|line| Record::parse(&line))
            .map(|r| r.line.ms)
    }

    /// The time of its last line that can be read (ms), if any.
    pub fn last_ms(&self) -> Option<u64> {
        let last = self.files.last()?;
        let text = fs::read(last).ok()?;
        text.split(|&b| b == b'\n')
            .rev()
            .find_map(Record::parse)
            .map(|r| r.line.ms)
    }

    /// Its lines, in order. A line that cannot be read (the last one of a run that ended
    /// mid-write) is skipped; a part removed by the cap since it was listed has none.
    pub fn records(&self) -> impl Iterator<Item = Record> + use<> {
        self.files.clone().into_iter().flat_map(|path| {
            let lines = File::open(path)
                .map(|f| io::BufReader::new(f).split(b'\n'))
                .into_iter()
                .flatten();
            lines
                .map_while(Result::ok)
                .filter_map(|l| Record::parse(&l))
        })
    }
}

/// The runs the journal in `dir` holds, oldest first (a missing directory holds none).
pub fn list_boots(dir: &Path) -> Result<Vec<Boot>, PersistError> {
    let found = match files(dir) {
        Ok(found) => found,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(PersistError::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut boots: Vec<Boot> = Vec::new();
    for (name, size) in found {
        let path = dir.join(name.file());
        match boots.last_mut() {
            Some(last) if last.id == name.boot && last.start_ms == name.start => {
                last.files.push(path);
                last.bytes += size;
            }
            _ => boots.push(Boot {
                id: name.boot,
                start_ms: name.start,
                files: vec![path],
                bytes: size,
            }),
        }
    }
    Ok(boots)
}

/// The run `offset` names, as journalctl's `-b`: 0 the newest (the current one while bosun
/// runs), -1 the one before, ...; 1 the oldest kept, 2 the next, ...
pub fn find_boot<T>(boots: &[T], offset: i64) -> Option<&T> {
    let index = if offset > 0 {
        usize::try_from(offset - 1).ok()?
    } else {
        let back = usize::try_from(offset.unsigned_abs()).ok()?;
        boots.len().checked_sub(1 + back)?
    };
    boots.get(index)
}

/// The lines of run `offset` (see [`find_boot`]) in `dir`, in order (see [`Boot::records`]).
pub fn read_boot(
    dir: &Path,
    offset: i64,
) -> Result<impl Iterator<Item = Record> + use<>, PersistError> {
    let boots = list_boots(dir)?;
    let boot = find_boot(&boots, offset).ok_or_else(|| PersistError::NoSuchBoot {
        path: dir.to_owned(),
        offset,
    })?;
    Ok(boot.records())
}

/// The cap when none is set: a tenth of the filesystem holding `dir`, at most
/// [`DEFAULT_MAX`].
pub fn default_max(dir: &Path) -> u64 {
    rustix::fs::statvfs(dir).map_or(DEFAULT_MAX, |fs| {
        (fs.f_blocks.saturating_mul(fs.f_frsize) / 10).clamp(MIN_MAX, DEFAULT_MAX)
    })
}

/// The files of one run being written, within the cap of the whole directory.
#[derive(Debug)]
pub struct Writer {
    dir: PathBuf,
    name: Name,
    file: File,
    /// Bytes of the current part.
    part_bytes: u64,
    /// Bytes of every file in the directory.
    total: u64,
    max: u64,
    /// The cap in force: `max`, or less while the filesystem's free space is short of
    /// [`keep_free`] (looked at when a part is started).
    limit: u64,
    /// Written since the last fdatasync.
    dirty: bool,
}

impl Writer {
    /// Start run `boot` (started at `start_ms`) in `dir` (created, mode 0750), holding all
    /// runs to `max` bytes (None: [`default_max`]). Older runs are cut to the cap first.
    pub fn open(dir: &Path, boot: &str, start_ms: u64, max: Option<u64>) -> io::Result<Writer> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(dir)?;
        let max = max.unwrap_or_else(|| default_max(dir)).max(MIN_MAX);
        let name = Name {
            start: start_ms,
            boot: boot.to_owned(),
            part: 0,
        };
        let file = create(&dir.join(name.file()))?;
        let total = files(dir)?.iter().map(|(_, size)| size).sum();
        let mut writer = Writer {
            dir: dir.to_owned(),
            name,
            file,
            part_bytes: 0,
            total,
            max,
            limit: max,
            dirty: false,
        };
        writer.enforce_cap()?;
        Ok(writer)
    }

    /// The cap taken.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Append whole lines (each ending in a newline), starting a new part first when the
    /// current one is full, and removing the oldest parts when the directory passes the cap.
    pub fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        if self.part_bytes > 0 && self.part_bytes + lines.len() as u64 > self.part_max() {
            self.rotate()?;
        }
        self.file.write_all(lines)?;
        self.part_bytes += lines.len() as u64;
        self.total += lines.len() as u64;
        self.dirty = true;
        if self.total > self.limit {
            self.enforce_cap()?;
        }
        Ok(())
    }

    /// The cap in force: what the directory holds plus what is free beyond [`keep_free`], at
    /// most `max` and at least [`MIN_MAX`] (journald's rule for SystemKeepFree=).
    fn limit(&self) -> u64 {
        rustix::fs::statvfs(&self.dir).map_or(self.max, |fs| {
            cap_in_force(
                self.max,
                self.total,
                fs.f_blocks.saturating_mul(fs.f_frsize),
                fs.f_bavail.saturating_mul(fs.f_frsize),
            )
        })
    }

    /// fdatasync what was written since the last call.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            self.dirty = false;
            rustix::fs::fdatasync(self.file.as_fd())?;
        }
        Ok(())
    }

    /// Bytes at which a part is closed: an eighth of the cap.
    fn part_max(&self) -> u64 {
        self.max / 8
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.sync()?;
        self.name.part += 1;
        self.file = create(&self.dir.join(self.name.file()))?;
        self.part_bytes = 0;
        self.enforce_cap()
    }

    /// Remove the oldest files but the current one until the directory is within the cap
    /// in force.
    fn enforce_cap(&mut self) -> io::Result<()> {
        let found = files(&self.dir)?;
        self.total = found.iter().map(|(_, size)| size).sum();
        self.limit = self.limit();
        for (name, size) in found {
            if self.total <= self.limit || name == self.name {
                break;
            }
            match fs::remove_file(self.dir.join(name.file())) {
                Ok(()) => self.total -= size,
                Err(e) if e.kind() == io::ErrorKind::NotFound => self.total -= size,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A new part: mode 0640, never an existing file.
fn create(path: &Path) -> io::Result<File> {
    File::options()
        .append(true)
        .create_new(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// What the writer process is given: `--dir DIR --boot ID --start MS [--max BYTES]
/// [--format json]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterArgs {
    pub dir: PathBuf,
    pub boot: String,
    pub start_ms: u64,
    pub max: Option<u64>,
    /// Say problems as JSON objects (`log.format: json`).
    pub json: bool,
}

impl WriterArgs {
    /// The arguments after the writer's subcommand.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--dir".into(),
            self.dir.clone().into(),
            "--boot".into(),
            self.boot.clone().into(),
            "--start".into(),
            self.start_ms.to_string().into(),
        ];
        if let Some(max) = self.max {
            args.extend(["--max".into(), max.to_string().into()]);
        }
        if self.json {
            args.extend(["--format".into(), "json".into()]);
        }
        args
    }

    fn parse(args: &[OsString]) -> Option<WriterArgs> {
        let mut out = WriterArgs {
            dir: PathBuf::new(),
            boot: String::new(),
            start_ms: 0,
            max: None,
            json: false,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next()?;
            match flag.to_str()? {
                "--dir" => out.dir = PathBuf::from(value),
                "--boot" => out.boot = value.to_str()?.to_owned(),
                "--start" => out.start_ms = value.to_str()?.parse().ok()?,
                "--max" => out.max = Some(value.to_str()?.parse().ok()?),
                "--format" => out.json = value == "json",
                _ => return None,
            }
        }
        (!out.dir.as_os_str().is_empty() && !out.boot.is_empty()).then_some(out)
    }
}

/// The writer process (`bosun persist-journal ARGS`, started by PID 1 with its stdin the read
/// end of a pipe): append the lines PID 1 sends to the run's files until the pipe ends, with
/// fdatasync at most [`SYNC_INTERVAL`] after a write and at the end. A directory that cannot
/// be written is said once (exit [`EXIT_SAID`]); a write that fails later is said once and its
/// lines are lost until writing works again.
pub fn run_writer(args: &[OsString]) -> Exit {
    let Some(args) = WriterArgs::parse(args) else {
        crate::log::error(format_args!(
            "persist-journal: expected --dir DIR --boot ID --start MS [--max BYTES] \
             [--format json]"
        ));
        return Exit::Usage;
    };
    crate::log::set_json(args.json);
    let mut writer = match Writer::open(&args.dir, &args.boot, args.start_ms, args.max) {
        Ok(writer) => writer,
        Err(e) => {
            crate::log::warn(format_args!(
                "{}: cannot keep the persistent journal ({e}); this run's lines are kept in \
                 memory only",
                args.dir.display()
            ));
            return Exit::Code(EXIT_SAID);
        }
    };
    crate::log::debug(format_args!(
        "persistent journal in {} (at most {} bytes)",
        args.dir.display(),
        writer.max()
    ));
    let stdin = io::stdin();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut failing = false;
    let mut sync_at: Option<Instant> = None;
    loop {
        let timeout = sync_at.map(|at| at.saturating_duration_since(Instant::now()));
        if timeout.is_some_and(|t| t.is_zero()) || !readable(&stdin, timeout) {
            if writer.sync().is_err() {
                writer.dirty = true;
            }
            sync_at = None;
            continue;
        }
        let n = match nix::unistd::read(stdin.as_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => continue,
            Err(_) => break,
        };
        pending.extend_from_slice(&buf[..n]);
        let Some(end) = pending.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        match writer.write(&pending[..=end]) {
            Ok(()) if failing => {
                failing = false;
                crate::log::notice(format_args!(
                    "{}: writing the persistent journal again",
                    args.dir.display()
                ));
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                crate::log::warn(format_args!(
                    "{}: cannot write the persistent journal ({e}); lines are lost until it \
                     can be written again",
                    args.dir.display()
                ));
            }
            Err(_) => {}
        }
        pending.drain(..=end);
        sync_at.get_or_insert_with(|| Instant::now() + SYNC_INTERVAL);
    }
    let _ = writer.sync();
    Exit::Success
}

/// Whether `stdin` has something to read (or has ended) within `timeout` (None: no limit).
fn readable(stdin: &io::Stdin, timeout: Option<Duration>) -> bool {
    let mut fds = [nix::poll::PollFd::new(
        stdin.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let ms = timeout.map_or(nix::poll::PollTimeout::NONE, |t| {
        nix::poll::PollTimeout::from(u16::try_from(t.as_millis().max(1)).unwrap_or(u16::MAX))
    });
    // EINTR: look again.
    nix::poll::poll(&mut fds, ms).is_ok_and(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, text: &str, boot: &str) -> Record {
        let mut line = LogLine::sample(seq, "web.service", text);
        (line.pid, line.ms) = (42, 1000 + seq);
        Record {
            line,
            boot: boot.into(),
        }
    }

    #[test]
    fn names_sort_by_run_then_part_and_foreign_files_are_ignored() {
        let name = Name {
            start: 1_767_323_045_123,
            boot: "ab12".into(),
            part: 3,
        };
        assert_eq!(name.file(), "boot-1767323045123-ab12-0003.jsonl");
        assert_eq!(Name::parse(&name.file()), Some(name));
        for bad in [
            "boot-1-xyz-0.jsonl",
            "boot-1-ab-0.json",
            "notes.txt",
            "boot--ab-0.jsonl",
        ] {
            assert_eq!(Name::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn runs_are_read_back_by_offset_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        for (start, boot) in [(100, "aa"), (200, "bb")] {
            let mut w = Writer::open(dir.path(), boot, start, Some(1 << 20)).unwrap();
            for seq in 1..=3 {
                w.write(&record(seq, &format!("{boot} {seq}"), boot).to_line())
                    .unwrap();
            }
            w.sync().unwrap();
        }
        // A run that ended mid-write.
        let last = dir.path().join("boot-0000000000200-bb-0000.jsonl");
        let mut f = File::options().append(true).open(&last).unwrap();
        f.write_all(b"{\"seq\":4,\"unit\"").unwrap();
        std::fs::write(dir.path().join("README"), "not ours").unwrap();
        let boots = list_boots(dir.path()).unwrap();
        assert_eq!(
            boots.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            ["aa", "bb"]
        );
        assert_eq!(boots[1].last_ms(), Some(1003));
        assert_eq!(boots[1].first_ms(), Some(1001));
        let texts = |offset| -> Vec<String> {
            read_boot(dir.path(), offset)
                .unwrap()
                .map(|r| r.line.text)
                .collect()
        };
        assert_eq!(texts(0), ["bb 1", "bb 2", "bb 3"]);
        assert_eq!(texts(-1), ["aa 1", "aa 2", "aa 3"]);
        assert_eq!(texts(1), texts(-1));
        assert_eq!(texts(2), texts(0));
        assert!(matches!(
            read_boot(dir.path(), -2),
            Err(PersistError::NoSuchBoot { offset: -2, .. })
        ));
        assert!(list_boots(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn files_written_before_one_shape_read_the_same() {
        // As the writer wrote them before the line had one shape: a stdout line's fields
        // under `syslog`; bosun's own message; a syslog line.
        let old = [
            r#"{"seq":3,"unit":"web.service","pid":42,"ms":1003,"stderr":true,"text":"hi","syslog":{"priority":3,"facility":3,"identifier":"web"},"transport":"stdout","boot":"aa"}"#,
            r#"{"seq":0,"unit":"bosun","pid":1,"ms":1004,"stderr":true,"text":"up","syslog":{"priority":6,"facility":3,"identifier":"bosun"},"boot":"aa"}"#,
            r#"{"seq":4,"unit":"cron.service","pid":7,"ms":1005,"stderr":false,"text":"said","syslog":{"priority":5,"facility":9,"identifier":"CRON"},"transport":"syslog","boot":"aa"}"#,
        ];
        let read: Vec<Record> = old
            .iter()
            .map(|l| Record::parse(l.as_bytes()).unwrap())
            .collect();
        let stdio = &read[0].line;
        assert!(stdio.syslog.is_none(), "{stdio:?}");
        assert_eq!(stdio.stdio.as_ref().map(|f| f.priority), Some(3));
        assert_eq!((stdio.priority(), stdio.identifier()), (3, "web"));
        assert_eq!(read[1].line.syslog.as_ref().map(|f| f.priority), Some(6));
        assert_eq!(read[1].line.transport(), "syslog");
        assert_eq!(read[2].line.identifier(), "CRON");
        assert_eq!(read[2].boot, "aa");
        // What is written now reads back as it was.
        for record in &read {
            assert_eq!(Record::parse(&record.to_line()).as_ref(), Some(record));
        }
        let now = String::from_utf8(read[0].to_line()).unwrap();
        assert!(now.contains(r#""stdio":{"priority":3"#), "{now}");
        assert!(Record::parse(b"{\"seq\":4,\"unit\"").is_none());
    }

    #[test]
    fn the_cap_removes_the_oldest_parts_first() {
        let dir = tempfile::tempdir().unwrap();
        let max = 64 * 1024;
        let line = record(1, &"x".repeat(200), "cc").to_line();
        let mut old = Writer::open(dir.path(), "aa", 100, Some(max)).unwrap();
        for _ in 0..100 {
            old.write(&line).unwrap();
        }
        drop(old);
        let mut w = Writer::open(dir.path(), "cc", 300, Some(max)).unwrap();
        for _ in 0..2000 {
            w.write(&line).unwrap();
        }
        let total: u64 = files(dir.path()).unwrap().iter().map(|f| f.1).sum();
        assert!(total <= max, "{total}");
        // The older run went first; the current one keeps its newest parts.
        let boots = list_boots(dir.path()).unwrap();
        assert_eq!(boots.len(), 1);
        assert_eq!(boots[0].id, "cc");
        assert!(boots[0].files.len() >= 7, "{:?}", boots[0].files);
        // Negative control: without the cap the same lines take far more.
        let dir = tempfile::tempdir().unwrap();
        let mut w = Writer::open(dir.path(), "cc", 300, Some(1 << 30)).unwrap();
        for _ in 0..2000 {
            w.write(&line).unwrap();
        }
        let total: u64 = files(dir.path()).unwrap().iter().map(|f| f.1).sum();
        assert!(total > 4 * max, "{total}");
    }

    #[test]
    fn the_journal_leaves_the_filesystem_its_free_space() {
        const M: u64 = 1 << 20;
        // Plenty free: the cap.
        assert_eq!(cap_in_force(64 * M, 10 * M, 1000 * M, 900 * M), 64 * M);
        // 1000 MiB, 150 MiB kept free, 160 free: 10 more than it holds.
        assert_eq!(cap_in_force(64 * M, 20 * M, 1000 * M, 160 * M), 30 * M);
        // A full filesystem: no growth (new lines take the oldest runs' place), as journald.
        assert_eq!(cap_in_force(64 * M, 40 * M, 1000 * M, 0), 40 * M);
        assert_eq!(cap_in_force(64 * M, 0, 1000 * M, 0), MIN_MAX);
        // 4 GiB kept free at most.
        assert_eq!(keep_free(100 << 30), 4 << 30);
        assert_eq!(keep_free(1000 * M), 150 * M);
    }

    #[test]
    fn offsets_count_from_either_end() {
        let boot = |id: &str| Boot {
            id: id.into(),
            start_ms: 0,
            files: Vec::new(),
            bytes: 0,
        };
        let boots = [boot("a"), boot("b"), boot("c")];
        let id = |o| find_boot(&boots, o).map(|b| b.id.as_str());
        assert_eq!(id(0), Some("c"));
        assert_eq!(id(-2), Some("a"));
        assert_eq!(id(-3), None);
        assert_eq!(id(1), Some("a"));
        assert_eq!(id(3), Some("c"));
        assert_eq!(id(4), None);
    }

    #[test]
    fn writer_arguments_round_trip() {
        let args = WriterArgs {
            dir: "/data/.bosun/journal".into(),
            boot: "ab".into(),
            start_ms: 5,
            max: Some(1 << 20),
            json: true,
        };
        assert_eq!(WriterArgs::parse(&args.to_args()), Some(args));
        assert_eq!(WriterArgs::parse(&["--dir".into()]), None);
    }
}

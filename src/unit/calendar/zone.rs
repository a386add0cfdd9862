//! Time zones for calendar events: the compiled tz database files (TZif, tzfile(5)) under
//! /usr/share/zoneinfo, with the POSIX `TZ` rule found at their end (`rule.rs`), and the
//! local zone (`TZ`, else /etc/localtime). A zone answers one question, the wall-clock fields
//! at a UNIX time, with glibc's rules (which type applies before the first transition, the
//! footer rule after the last, leap seconds in the `right/` zones), because systemd computes
//! calendar events with glibc's `localtime`. Reading files is the only I/O; nothing is cached.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::civil::{self, Tm};
use super::rule::PosixRule;

/// Where the compiled zones are; systemd looks nowhere else (time-util.c, verify_timezone).
pub const ZONEINFO: &str = "/usr/share/zoneinfo";

/// Why a time zone could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// The file could not be read.
    #[error("cannot read time zone file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid TZif file.
    #[error("time zone file {path} is not a valid TZif file: {why}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// One local time type of a zone: its offset, DST flag and abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LocalType {
    /// Seconds east of UTC.
    offset: i64,
    isdst: bool,
    abbrev: String,
}

/// A leap second record of a `right/` zone: from `at` on, `correction` seconds are inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Leap {
    at: i64,
    correction: i64,
}

/// A time zone: the rules giving the wall clock at any UNIX time.
#[derive(Clone, PartialEq, Eq)]
pub struct TimeZone {
    name: String,
    /// Transition instants, ascending.
    transitions: Vec<i64>,
    /// The type in force from each transition on.
    transition_types: Vec<usize>,
    /// At least one.
    types: Vec<LocalType>,
    leaps: Vec<Leap>,
    /// The rule after the last transition (the TZif footer), if any.
    rule: Option<PosixRule>,
    /// glibc's `tzname` after `tzset()`: the standard and DST abbreviations.
    tzname: [String; 2],
    /// Given by a `TZ` rule alone: the rule applies at all times.
    rule_only: bool,
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimeZone").field(&self.name).finish()
    }
}

impl TimeZone {
    /// Coordinated Universal Time.
    pub fn utc() -> TimeZone {
        TimeZone::fixed("UTC", "UTC", 0)
    }

    /// A zone at a constant offset (seconds east of UTC) with abbreviation `abbrev`.
    fn fixed(name: &str, abbrev: &str, offset: i64) -> TimeZone {
        TimeZone {
            name: name.to_owned(),
            transitions: Vec::new(),
            transition_types: Vec::new(),
            types: vec![LocalType {
                offset,
                isdst: false,
                abbrev: abbrev.to_owned(),
            }],
            leaps: Vec::new(),
            rule: None,
            tzname: [abbrev.to_owned(), abbrev.to_owned()],
            rule_only: false,
        }
    }

    /// Call the zone `name` (tests build named zones from rules).
    #[cfg(test)]
    pub(crate) fn rename(&mut self, name: &str) {
        name.clone_into(&mut self.name);
    }

    /// The name the zone was loaded under (`Europe/Berlin`, `/etc/localtime`, a `TZ` rule).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// glibc's `tzname[0]` and `tzname[1]` for this zone as the local zone: the abbreviations
    /// a calendar event may end with to mean standard or daylight saving time.
    ///
    /// glibc sets them when it reads the file (walking back from the last transition) and
    /// again each time it converts a time ([`Self::settle_tzname`]). The two differ for zones
    /// that gave up DST: Europe/Moscow has MSD from its file, not once the present is
    /// converted (its footer rule has no DST).
    pub fn tzname(&self) -> [&str; 2] {
        [&self.tzname[0], &self.tzname[1]]
    }

    /// Whether `name` is a zone systemd accepts at the end of a calendar event
    /// (verify_timezone): letters, digits, `-`, `_`, `+` and single inner slashes, naming a
    /// regular file under [`ZONEINFO`] that starts with the TZif magic.
    pub fn is_valid_name(name: &str) -> bool {
        is_valid_name_in(Path::new(ZONEINFO), name)
    }

    /// The zone `name` from [`ZONEINFO`], such as `Europe/Berlin`.
    pub fn load(name: &str) -> Result<TimeZone, ZoneError> {
        Self::load_file(name, &Path::new(ZONEINFO).join(name))
    }

    /// The zone in the TZif file `path`, called `name`.
    pub fn load_file(name: &str, path: &Path) -> Result<TimeZone, ZoneError> {
        let bytes = std::fs::read(path).map_err(|source| ZoneError::Read {
            path: path.to_owned(),
            source,
        })?;
        TimeZone::from_tzif(name, &bytes).map_err(|why| ZoneError::Format {
            path: path.to_owned(),
            why,
        })
    }

    /// The local zone as glibc finds it: `TZ` unset means /etc/localtime, empty means UTC, a
    /// leading `:` is dropped, an absolute path or a name under [`ZONEINFO`] is a file,
    /// anything else a POSIX rule such as `CET-1CEST,M3.5.0,M10.5.0/3`. What cannot be read
    /// is UTC, as in glibc. Its [`Self::tzname`] is what a process that has read the clock
    /// sees (see [`Self::settle_tzname`]).
    pub fn local() -> TimeZone {
        let tz = std::env::var("TZ").ok();
        let mut zone = Self::from_tz_variable(
            tz.as_deref(),
            Path::new(ZONEINFO),
            Path::new("/etc/localtime"),
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        zone.settle_tzname(now);
        zone
    }

    /// [`Self::local`] for a given value of `TZ` (`None`: unset) and file locations, with the
    /// `tzname` glibc sets when it reads them.
    pub fn from_tz_variable(tz: Option<&str>, zoneinfo: &Path, localtime: &Path) -> TimeZone {
        let Some(tz) = tz else {
            return Self::load_file("/etc/localtime", localtime).unwrap_or_else(|_| Self::utc());
        };
        let tz = tz.strip_prefix(':').unwrap_or(tz);
        if tz.is_empty() {
            return Self::utc();
        }
        let path = if tz.starts_with('/') {
            PathBuf::from(tz)
        } else {
            zoneinfo.join(tz)
        };
        if let Ok(zone) = Self::load_file(tz, &path) {
            return zone;
        }
        match PosixRule::parse(tz) {
            Some(rule) => Self::from_rule(tz, rule),
            None => Self::utc(),
        }
    }

    /// A zone given by a POSIX `TZ` rule alone, such as `EST5EDT,M3.2.0,M11.1.0`.
    pub fn from_posix(text: &str) -> Option<TimeZone> {
        PosixRule::parse(text).map(|rule| Self::from_rule(text, rule))
    }

    fn from_rule(name: &str, rule: PosixRule) -> TimeZone {
        let mut zone = Self::fixed(name, &rule.std_name, rule.std_offset);
        zone.tzname = rule.tzname();
        zone.rule = Some(rule);
        zone.rule_only = true;
        zone
    }

    /// Read a TZif file (tzfile(5)): version 1 data, or the 64-bit data and footer of
    /// version 2 and later.
    pub fn from_tzif(name: &str, bytes: &[u8]) -> Result<TimeZone, &'static str> {
        let mut r = Reader { bytes, at: 0 };
        let v1 = r.header()?;
        let version = v1.version;
        let mut zone = if version >= b'2' {
            r.skip(v1.data_len(4))?;
            let v2 = r.header()?;
            let zone = r.data(name, &v2, 8)?;
            let footer = r.footer()?;
            let mut zone = zone;
            if !footer.is_empty() {
                zone.rule = Some(PosixRule::parse(footer).ok_or("its footer is not a TZ rule")?);
            }
            zone
        } else {
            r.data(name, &v1, 4)?
        };
        zone.tzname = zone.read_tzname();
        Ok(zone)
    }

    /// Set [`Self::tzname`] as glibc's `localtime` does each time it converts `t`: the
    /// abbreviation in force, and the next one of the other kind; after the last transition
    /// the footer rule's. A long-running process (systemd's PID 1) has converted the present.
    pub fn settle_tzname(&mut self, t: i64) {
        if self.rule_only {
            return;
        }
        let n = self.transitions.len();
        let mut names: [Option<&str>; 2] = [None, None];
        if n == 0 || t < self.transitions[0] {
            let first_std = self.types.iter().position(|x| !x.isdst);
            // The DST types before the first standard one give tzname[1].
            names[1] = self
                .types
                .first()
                .filter(|x| x.isdst)
                .map(|x| x.abbrev.as_str());
            let i = first_std.unwrap_or(0);
            names[0] = Some(&self.types[i].abbrev);
            if names[1].is_none() {
                names[1] = self.types[i..]
                    .iter()
                    .find(|x| x.isdst)
                    .map(|x| x.abbrev.as_str());
            }
        } else if t >= self.transitions[n - 1]
            && let Some(rule) = &self.rule
        {
            self.tzname = rule.tzname();
            return;
        } else {
            let i = self.transitions.partition_point(|&x| x <= t);
            let cur = &self.types[self.transition_types[i - 1]];
            names[usize::from(cur.isdst)] = Some(&cur.abbrev);
            for &ty in &self.transition_types[i..] {
                let other = &self.types[ty];
                let slot = usize::from(other.isdst);
                if names[slot].is_none() {
                    names[slot] = Some(&other.abbrev);
                    if names[1 - slot].is_some() {
                        break;
                    }
                }
            }
            if names[0].is_none() {
                names[0] = names[1];
            }
        }
        let std = names[0].unwrap_or(&self.types[0].abbrev).to_owned();
        let dst = names[1].map_or_else(|| std.clone(), str::to_owned);
        self.tzname = [std, dst];
    }

    /// glibc's choice of `tzname` when it reads a file: walking back from the last
    /// transition, the first abbreviation of each kind.
    fn read_tzname(&self) -> [String; 2] {
        let mut names: [Option<&str>; 2] = [None, None];
        for &ty in self.transition_types.iter().rev() {
            let t = &self.types[ty];
            let slot = usize::from(t.isdst);
            if names[slot].is_none() {
                names[slot] = Some(&t.abbrev);
                if names[1 - slot].is_some() {
                    break;
                }
            }
        }
        let std = names[0].unwrap_or(&self.types[0].abbrev).to_owned();
        let dst = names[1].map_or_else(|| std.clone(), str::to_owned);
        [std, dst]
    }

    /// The wall-clock fields at UNIX time `t` (glibc's `localtime_r`).
    pub(crate) fn localtime(&self, t: i64) -> Tm {
        let (offset, isdst) = self.offset_at(t);
        let (correction, hit) = self.leap_at(t);
        let mut tm = civil::breakdown(t, offset - correction, i32::from(isdst));
        tm.gmtoff = offset;
        tm.sec += hit;
        tm
    }

    /// UTC fields at `t` as glibc's `gmtime_r` gives them while this zone is `TZ`: with its
    /// leap seconds, if it has any.
    pub(crate) fn gmtime(&self, t: i64) -> Tm {
        let (correction, hit) = self.leap_at(t);
        let mut tm = civil::breakdown(t, -correction, 0);
        tm.gmtoff = 0;
        tm.sec += hit;
        tm
    }

    /// Whether the zone counts leap seconds (the `right/` zones).
    pub(crate) fn has_leap_seconds(&self) -> bool {
        !self.leaps.is_empty()
    }

    /// The UTC offset and DST flag in force at `t` (glibc's __tzfile_compute).
    fn offset_at(&self, t: i64) -> (i64, bool) {
        if self.rule_only
            && let Some(rule) = &self.rule
        {
            return rule.offset_at(t);
        }
        let ty = match (self.transitions.first(), self.transitions.last()) {
            (Some(&first), Some(&last)) if t >= first => {
                if t >= last
                    && let Some(rule) = &self.rule
                {
                    return rule.offset_at(t);
                }
                let i = self.transitions.partition_point(|&x| x <= t);
                self.transition_types[i - 1]
            }
            _ => {
                // Before the first transition: the first standard-time type.
                self.types.iter().position(|x| !x.isdst).unwrap_or(0)
            }
        };
        let lt = &self.types[ty];
        (lt.offset, lt.isdst)
    }

    /// The leap second correction at `t`, and how many inserted seconds `t` is (glibc shows
    /// an inserted second as second 60).
    fn leap_at(&self, t: i64) -> (i64, i64) {
        let i = self.leaps.partition_point(|l| l.at <= t);
        if i == 0 {
            return (0, 0);
        }
        let mut i = i - 1;
        let correction = self.leaps[i].correction;
        let mut hit = 0;
        let positive = if i == 0 {
            correction > 0
        } else {
            correction > self.leaps[i - 1].correction
        };
        if t == self.leaps[i].at && positive {
            hit = 1;
            while i > 0
                && self.leaps[i].at == self.leaps[i - 1].at + 1
                && self.leaps[i].correction == self.leaps[i - 1].correction + 1
            {
                hit += 1;
                i -= 1;
            }
        }
        (correction, hit)
    }
}

fn is_valid_name_in(zoneinfo: &Path, name: &str) -> bool {
    if name.is_empty() || name.starts_with('/') || name.len() >= 4096 {
        return false;
    }
    let mut slash = false;
    for b in name.bytes() {
        if !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/')) {
            return false;
        }
        if b == b'/' && slash {
            return false;
        }
        slash = b == b'/';
    }
    if slash {
        return false;
    }
    let path = zoneinfo.join(name);
    let Ok(meta) = std::fs::metadata(&path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"TZif"
}

/// The counts of a TZif header.
struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl Header {
    /// The length of the data block after this header, with times of `time_len` bytes.
    fn data_len(&self, time_len: usize) -> usize {
        self.timecnt * (time_len + 1)
            + self.typecnt * 6
            + self.charcnt
            + self.leapcnt * (time_len + 4)
            + self.isstdcnt
            + self.isutcnt
    }
}

/// A cursor over TZif bytes; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("it is truncated")?;
        let s = self.bytes.get(self.at..end).ok_or("it is truncated")?;
        self.at = end;
        Ok(s)
    }

    fn skip(&mut self, n: usize) -> Result<(), &'static str> {
        self.take(n).map(|_| ())
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn count(&mut self) -> Result<usize, &'static str> {
        // A count larger than the file cannot be honest; refuse it before allocating.
        let n = usize::try_from(self.u32()?).map_err(|_| "a count is too large")?;
        if n > self.bytes.len() {
            return Err("a count is larger than the file");
        }
        Ok(n)
    }

    fn time(&mut self, len: usize) -> Result<i64, &'static str> {
        let b = self.take(len)?;
        Ok(if len == 8 {
            i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        } else {
            i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        })
    }

    fn header(&mut self) -> Result<Header, &'static str> {
        if self.take(4)? != b"TZif" {
            return Err("the magic TZif is missing");
        }
        let version = self.take(1)?[0];
        self.skip(15)?;
        Ok(Header {
            version,
            isutcnt: self.count()?,
            isstdcnt: self.count()?,
            leapcnt: self.count()?,
            timecnt: self.count()?,
            typecnt: self.count()?,
            charcnt: self.count()?,
        })
    }

    fn data(&mut self, name: &str, h: &Header, len: usize) -> Result<TimeZone, &'static str> {
        if h.typecnt == 0 {
            return Err("it has no local time type");
        }
        let mut transitions = Vec::with_capacity(h.timecnt);
        for _ in 0..h.timecnt {
            transitions.push(self.time(len)?);
        }
        if transitions.windows(2).any(|w| w[0] >= w[1]) {
            return Err("its transitions are not in ascending order");
        }
        let transition_types: Vec<usize> = self
            .take(h.timecnt)?
            .iter()
            .map(|&b| usize::from(b))
            .collect();
        if transition_types.iter().any(|&t| t >= h.typecnt) {
            return Err("a transition names a missing local time type");
        }
        let mut raw = Vec::with_capacity(h.typecnt);
        for _ in 0..h.typecnt {
            let b = self.take(6)?;
            let offset = i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            raw.push((offset, b[4] != 0, usize::from(b[5])));
        }
        let chars = self.take(h.charcnt)?;
        let mut types = Vec::with_capacity(h.typecnt);
        for (offset, isdst, idx) in raw {
            let tail = chars
                .get(idx..)
                .ok_or("an abbreviation index is out of range")?;
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            types.push(LocalType {
                offset,
                isdst,
                abbrev: String::from_utf8_lossy(&tail[..end]).into_owned(),
            });
        }
        let mut leaps = Vec::with_capacity(h.leapcnt);
        for _ in 0..h.leapcnt {
            let at = self.time(len)?;
            let correction = i64::from(i32::from_be_bytes(
                self.take(4)?.try_into().map_err(|_| "it is truncated")?,
            ));
            leaps.push(Leap { at, correction });
        }
        self.skip(h.isstdcnt + h.isutcnt)?;
        Ok(TimeZone {
            name: name.to_owned(),
            transitions,
            transition_types,
            types,
            leaps,
            rule: None,
            tzname: [String::new(), String::new()],
            rule_only: false,
        })
    }

    /// The footer of version 2+: a TZ rule between two newlines (possibly empty).
    fn footer(&mut self) -> Result<&'a str, &'static str> {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        let Some(rest) = rest.strip_prefix(b"\n") else {
            return Ok("");
        };
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("its footer is not terminated")?;
        std::str::from_utf8(&rest[..end]).map_err(|_| "its footer is not text")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TZif v2 file: `types` (offset, isdst, abbreviation index), `transitions` (time, type),
    /// `leaps` (time, correction), abbreviations `chars`, footer `footer`.
    fn tzif(
        types: &[(i32, u8, u8)],
        transitions: &[(i64, u8)],
        leaps: &[(i64, i32)],
        chars: &[u8],
        footer: &str,
    ) -> Vec<u8> {
        let header = |out: &mut Vec<u8>, timecnt: usize, leapcnt: usize| {
            out.extend_from_slice(b"TZif2");
            out.extend_from_slice(&[0; 15]);
            for n in [0, 0, leapcnt, timecnt, types.len(), chars.len()] {
                out.extend_from_slice(&u32::try_from(n).unwrap().to_be_bytes());
            }
        };
        let mut out = Vec::new();
        // An empty version 1 block, as zic -b slim writes.
        header(&mut out, 0, 0);
        for (off, dst, idx) in types {
            out.extend_from_slice(&off.to_be_bytes());
            out.extend_from_slice(&[*dst, *idx]);
        }
        out.extend_from_slice(chars);
        header(&mut out, transitions.len(), leaps.len());
        for (t, _) in transitions {
            out.extend_from_slice(&t.to_be_bytes());
        }
        for (_, ty) in transitions {
            out.push(*ty);
        }
        for (off, dst, idx) in types {
            out.extend_from_slice(&off.to_be_bytes());
            out.extend_from_slice(&[*dst, *idx]);
        }
        out.extend_from_slice(chars);
        for (t, c) in leaps {
            out.extend_from_slice(&t.to_be_bytes());
            out.extend_from_slice(&c.to_be_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(footer.as_bytes());
        out.push(b'\n');
        out
    }

    /// Berlin-like: LMT, then CET/CEST transitions in 2023 and 2024, then the footer rule.
    fn berlin() -> TimeZone {
        let bytes = tzif(
            &[(3208, 0, 0), (7200, 1, 4), (3600, 0, 9)],
            &[
                (-2_422_054_408, 2),
                (1_679_792_400, 1), // 2023-03-26 01:00 UTC
                (1_698_541_200, 2), // 2023-10-29 01:00 UTC
            ],
            &[],
            b"LMT\0CEST\0CET\0",
            "CET-1CEST,M3.5.0,M10.5.0/3",
        );
        TimeZone::from_tzif("Europe/Berlin", &bytes).unwrap()
    }

    #[test]
    fn tzif_transitions_then_footer() {
        let z = berlin();
        assert_eq!(z.tzname(), ["CET", "CEST"]);
        // Before the first transition: the first standard type, LMT.
        assert_eq!(z.offset_at(-3_000_000_000), (3208, false));
        assert_eq!(z.offset_at(1_679_792_399), (3600, false));
        assert_eq!(z.offset_at(1_679_792_400), (7200, true));
        // After the last transition the footer rule: 2024-03-31 01:00 UTC starts DST and
        // 2024-10-27 01:00 UTC ends it.
        assert_eq!(z.offset_at(1_711_846_799), (3600, false));
        assert_eq!(z.offset_at(1_711_846_800), (7200, true));
        assert_eq!(z.offset_at(1_729_990_799), (7200, true));
        assert_eq!(z.offset_at(1_729_990_800), (3600, false));
        let tm = z.localtime(1_711_846_800);
        assert_eq!((tm.hour, tm.isdst, tm.gmtoff), (3, 1, 7200));
    }

    #[test]
    fn tzname_as_glibc_reads_then_converts() {
        // Moscow-like: MSD until 2010, then MSK all year, footer "MSK-3".
        let types = [(14_400, 1, 0), (10_800, 0, 4), (14_400, 0, 4)];
        let transitions = [(1_269_730_800, 0), (1_288_479_600, 1), (1_301_180_400, 2)];
        let bytes = tzif(&types, &transitions, &[], b"MSD\0MSK\0", "MSK-3");
        let mut z = TimeZone::from_tzif("Europe/Moscow", &bytes).unwrap();
        assert_eq!(z.tzname(), ["MSK", "MSD"]);
        z.settle_tzname(1_700_000_000);
        assert_eq!(z.tzname(), ["MSK", "MSK"]);
        // Between transitions: the type in force and the next one of the other kind.
        z.settle_tzname(1_280_000_000);
        assert_eq!(z.tzname(), ["MSK", "MSD"]);
        // Casablanca-like: standard +01 with explicit +00 "DST" periods ahead.
        let types = [(3600, 0, 0), (0, 1, 4)];
        let transitions = [(1_700_000_000, 0), (1_710_000_000, 1), (1_712_000_000, 0)];
        let bytes = tzif(&types, &transitions, &[], b"+01\0+00\0", "<+01>-1");
        let mut z = TimeZone::from_tzif("Africa/Casablanca", &bytes).unwrap();
        z.settle_tzname(1_705_000_000);
        assert_eq!(z.tzname(), ["+01", "+00"]);
        z.settle_tzname(1_800_000_000);
        assert_eq!(z.tzname(), ["+01", "+01"]);
    }

    #[test]
    fn posix_rules_as_glibc_reads_them() {
        let ny = TimeZone::from_posix("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(ny.tzname(), ["EST", "EDT"]);
        // 2024-03-10 07:00 UTC (02:00 EST) starts DST, 2024-11-03 06:00 UTC ends it.
        assert_eq!(ny.offset_at(1_710_053_999), (-18_000, false));
        assert_eq!(ny.offset_at(1_710_054_000), (-14_400, true));
        assert_eq!(ny.offset_at(1_730_613_599), (-14_400, true));
        assert_eq!(ny.offset_at(1_730_613_600), (-18_000, false));
        // Southern hemisphere: DST spans the new year (Sydney, AEST-10AEDT).
        let syd = TimeZone::from_posix("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert!(syd.offset_at(1_704_067_200).1); // January
        assert!(!syd.offset_at(1_719_792_000).1); // July
        // Quoted names, minutes, defaults, Julian days, negative and long times.
        let z = TimeZone::from_posix("<+0330>-3:30").unwrap();
        assert_eq!(
            (z.offset_at(0), z.tzname()),
            ((12_600, false), ["+0330", "+0330"])
        );
        assert!(
            TimeZone::from_posix("EST5EDT")
                .unwrap()
                .offset_at(1_720_000_000)
                .1
        );
        let z = TimeZone::from_posix("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1").unwrap();
        assert_eq!(z.tzname(), ["-03", "-02"]);
        assert!(TimeZone::from_posix("XXX3YYY,J60/25,300").is_some());
        for bad in [
            "",
            "AB1",
            "EST",
            "EST5EDT,M13.1.0,M1.1.0",
            "EST5EDT,M3.2.0",
            "<EST5",
        ] {
            assert!(TimeZone::from_posix(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn leap_seconds_show_as_second_60() {
        // right/UTC-like: one leap second inserted after 1972-06-30 23:59:59 UTC (TAI-based
        // count 78796800 is the inserted second).
        let bytes = tzif(&[(0, 0, 0)], &[], &[(78_796_800, 1)], b"UTC\0", "UTC0");
        let z = TimeZone::from_tzif("right/UTC", &bytes).unwrap();
        let at = z.localtime(78_796_800);
        assert_eq!((at.hour, at.min, at.sec), (23, 59, 60));
        let after = z.localtime(78_796_801);
        assert_eq!((after.mday, after.hour, after.sec), (1, 0, 0));
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        let good = tzif(&[(0, 0, 0)], &[(0, 0)], &[], b"UTC\0", "UTC0");
        for len in 0..good.len() {
            let _ = TimeZone::from_tzif("x", &good[..len]);
        }
        let mut flipped = good.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = TimeZone::from_tzif("x", &flipped);
            flipped[i] ^= 0xff;
        }
        assert!(TimeZone::from_tzif("x", &good).is_ok());
        assert_eq!(
            TimeZone::from_tzif("x", b"TZjf").unwrap_err(),
            "the magic TZif is missing"
        );
    }

    #[test]
    fn tz_variable_as_glibc_reads_it() {
        let none = Path::new("/nonexistent");
        let z = TimeZone::from_tz_variable(Some(""), none, none);
        assert_eq!(z.tzname(), ["UTC", "UTC"]);
        let z = TimeZone::from_tz_variable(Some(":CET-1CEST"), none, none);
        assert_eq!(z.tzname(), ["CET", "CEST"]);
        let z = TimeZone::from_tz_variable(None, none, none);
        assert_eq!(z.offset_at(0), (0, false));
    }
}

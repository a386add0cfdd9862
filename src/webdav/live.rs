//! The live properties of a resource (RFC 4918 section 15, RFC 4331's quota) written
//! straight into a multistatus answer, and the text forms they share with GET's headers
//! (HTTP dates, MIME types). No value is built as a `String` of its own: a listing of 100,000
//! members allocates nothing per member here (building a string per property was most of a
//! listing's time in the profile). It reads nothing from the filesystem but a lock root's
//! type, and parses nothing.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::Server;
use super::fs::{Meta, Quota};
use super::locks::Lock;
use super::xml::push_escaped;

/// The live properties `allprop` returns, in order.
pub const LIVE: [&str; 9] = [
    "resourcetype",
    "getcontentlength",
    "getcontenttype",
    "getetag",
    "getlastmodified",
    "creationdate",
    "supportedlock",
    "lockdiscovery",
    "displayname",
];
/// RFC 4331's properties: only when asked for by name (`allprop` leaves them out).
pub const QUOTA: [&str; 2] = ["quota-available-bytes", "quota-used-bytes"];

const SUPPORTEDLOCK: &str = "<D:supportedlock><D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry></D:supportedlock>";

/// One resource of a multistatus answer, as its live properties need it.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    pub meta: &'a Meta,
    /// Its last name (`None` for the root).
    pub name: Option<&'a str>,
    /// The locks covering it, in `DAV:lockdiscovery` order: for a member, those inherited
    /// from its collection, then those rooted at it.
    pub locks: [&'a [Lock]; 2],
    /// The space on the root's filesystem, when the request asks for it.
    pub quota: Option<Quota>,
    /// The moment lock timeouts count from.
    pub now: Instant,
}

/// Append live property `name` of `r` (in the DAV: namespace) as a whole element; `false`
/// (and nothing written) when `r` has no such property.
pub fn push_live(server: &Server, r: &Resource<'_>, name: &str, out: &mut String) -> bool {
    let m = r.meta;
    match name {
        "resourcetype" => out.push_str(if m.is_dir {
            "<D:resourcetype><D:collection/></D:resourcetype>"
        } else {
            "<D:resourcetype/>"
        }),
        "getcontentlength" if !m.is_dir => {
            out.push_str("<D:getcontentlength>");
            push_dec(out, m.len);
            out.push_str("</D:getcontentlength>");
        }
        "getcontenttype" if !m.is_dir => {
            out.push_str("<D:getcontenttype>");
            out.push_str(content_type(r.name.unwrap_or("")));
            out.push_str("</D:getcontenttype>");
        }
        "getetag" => {
            out.push_str("<D:getetag>");
            push_etag(out, m);
            out.push_str("</D:getetag>");
        }
        "getlastmodified" => {
            out.push_str("<D:getlastmodified>");
            push_http_date(out, m.mtime);
            out.push_str("</D:getlastmodified>");
        }
        "creationdate" => {
            out.push_str("<D:creationdate>");
            push_rfc3339(out, m.created);
            out.push_str("</D:creationdate>");
        }
        "displayname" => {
            out.push_str("<D:displayname>");
            push_escaped(out, r.name.unwrap_or(""));
            out.push_str("</D:displayname>");
        }
        "supportedlock" => out.push_str(SUPPORTEDLOCK),
        "lockdiscovery" => {
            out.push_str("<D:lockdiscovery>");
            for lock in r.locks.iter().flat_map(|locks| locks.iter()) {
                push_activelock(server, lock, r.now, out);
            }
            out.push_str("</D:lockdiscovery>");
        }
        "quota-available-bytes" | "quota-used-bytes" => {
            let Some(q) = r.quota else { return false };
            let (tag, n) = if name == "quota-used-bytes" {
                ("quota-used-bytes", q.used)
            } else {
                ("quota-available-bytes", q.available)
            };
            out.push_str("<D:");
            out.push_str(tag);
            out.push('>');
            push_dec(out, n);
            out.push_str("</D:");
            out.push_str(tag);
            out.push('>');
        }
        _ => return false,
    }
    true
}

/// One `DAV:activelock`.
pub fn push_activelock(server: &Server, lock: &Lock, now: Instant, out: &mut String) {
    let root_is_dir = server
        .root
        .stat(&lock.root)
        .ok()
        .flatten()
        .is_some_and(|m| m.is_dir);
    out.push_str("<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>");
    out.push_str(if lock.exclusive {
        "<D:exclusive/>"
    } else {
        "<D:shared/>"
    });
    out.push_str("</D:lockscope><D:depth>");
    out.push_str(if lock.infinite { "infinity" } else { "0" });
    out.push_str("</D:depth>");
    if !lock.owner.is_empty() {
        // Already XML: the owner element's content as the client sent it.
        out.push_str("<D:owner>");
        out.push_str(&lock.owner);
        out.push_str("</D:owner>");
    }
    out.push_str("<D:timeout>Second-");
    push_dec(out, lock.seconds_left(now));
    out.push_str("</D:timeout><D:locktoken><D:href>");
    push_escaped(out, &lock.token);
    out.push_str("</D:href></D:locktoken><D:lockroot><D:href>");
    push_escaped(out, &lock.root.href(&server.cfg.prefix, root_is_dir));
    out.push_str("</D:href></D:lockroot></D:activelock>");
}

/// A MIME type from a file name's extension.
pub fn content_type(name: &str) -> &'static str {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    // Lowercased on the stack: this runs for every member of a listing.
    let mut lower = [0u8; 5];
    if ext.len() > lower.len() {
        return "application/octet-stream";
    }
    for (l, b) in lower.iter_mut().zip(ext.bytes()) {
        *l = b.to_ascii_lowercase();
    }
    match &lower[..ext.len()] {
        b"html" | b"htm" => "text/html",
        b"txt" | b"md" | b"py" | b"rs" | b"sh" | b"c" | b"h" | b"ini" | b"conf" | b"cfg"
        | b"toml" | b"yaml" | b"yml" => "text/plain",
        b"css" => "text/css",
        b"js" | b"mjs" => "text/javascript",
        b"json" | b"ipynb" => "application/json",
        b"xml" => "application/xml",
        b"svg" => "image/svg+xml",
        b"png" => "image/png",
        b"jpg" | b"jpeg" => "image/jpeg",
        b"gif" => "image/gif",
        b"pdf" => "application/pdf",
        b"zip" => "application/zip",
        b"gz" => "application/gzip",
        b"php" => "application/x-httpd-php",
        _ => "application/octet-stream",
    }
}

/// Seconds since the epoch, clamped to what both date forms can show (a file dated before
/// 1970 or after 9999 shows as the nearer end, instead of failing the request).
fn clamped_secs(t: SystemTime) -> i64 {
    const YEAR_10000: u64 = 253_402_300_800;
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs.min(YEAR_10000 - 1)).unwrap_or(0)
}

/// `t` as an HTTP date (RFC 9110 IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let mut out = String::with_capacity(29);
    push_http_date(&mut out, t);
    out
}

/// Append `t` as an HTTP date.
pub fn push_http_date(out: &mut String, t: SystemTime) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = clamped_secs(t);
    let c = crate::vocab::time::civil(secs);
    // 1970-01-01 was a Thursday.
    let weekday = usize::try_from(secs.div_euclid(86_400).rem_euclid(7)).unwrap_or(0);
    out.push_str(DAYS[weekday]);
    out.push_str(", ");
    push_two(out, u64::from(c.day));
    out.push(' ');
    let month = usize::try_from(c.month).unwrap_or(1).clamp(1, 12);
    out.push_str(MONTHS[month - 1]);
    out.push(' ');
    push_year(out, c.year);
    out.push(' ');
    push_clock(out, &c);
    out.push_str(" GMT");
}

/// Append `t` as `YYYY-MM-DDThh:mm:ssZ`, without fractional seconds (Windows refuses them).
pub fn push_rfc3339(out: &mut String, t: SystemTime) {
    let c = crate::vocab::time::civil(clamped_secs(t));
    push_year(out, c.year);
    out.push('-');
    push_two(out, u64::from(c.month));
    out.push('-');
    push_two(out, u64::from(c.day));
    out.push('T');
    push_clock(out, &c);
    out.push('Z');
}

fn push_year(out: &mut String, year: i64) {
    let year = u64::try_from(year).unwrap_or(0);
    push_two(out, year / 100);
    push_two(out, year % 100);
}

fn push_clock(out: &mut String, c: &crate::vocab::time::Civil) {
    let part = |v: i64| u64::try_from(v).unwrap_or(0);
    push_two(out, part(c.hour));
    out.push(':');
    push_two(out, part(c.minute));
    out.push(':');
    push_two(out, part(c.second));
}

/// Two decimal digits of `n` (below 100).
fn push_two(out: &mut String, n: u64) {
    out.push(digit(n / 10 % 10));
    out.push(digit(n % 10));
}

fn digit(n: u64) -> char {
    char::from(b"0123456789"[usize::try_from(n % 10).unwrap_or(0)])
}

/// Append `n` in decimal.
pub fn push_dec(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

/// Append `n` in lowercase hexadecimal (shifts, not 128-bit divisions: three per member).
fn push_hex(out: &mut String, n: u128) {
    let digits = (128 - n.leading_zeros()).div_ceil(4).max(1);
    for k in (0..digits).rev() {
        let nibble = (n >> (4 * k)) & 15;
        out.push(char::from(
            b"0123456789abcdef"[usize::try_from(nibble).unwrap_or(0)],
        ));
    }
}

/// Append `m`'s entity tag ([`Meta::etag`]) escaped for XML.
fn push_etag(out: &mut String, m: &Meta) {
    out.push_str("&quot;");
    push_hex(out, u128::from(m.ino));
    out.push('-');
    push_hex(out, u128::from(m.len));
    out.push('-');
    push_hex(out, m.mtime_nanos());
    out.push_str("&quot;");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rfc3339(t: SystemTime) -> String {
        let mut out = String::new();
        push_rfc3339(&mut out, t);
        out
    }

    #[test]
    fn creationdate_has_no_fraction() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::new(951_782_400, 999)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "2026-11-18T11:06:40Z"
        );
    }

    #[test]
    fn http_dates_match_httpdate_and_out_of_range_ones_clamp() {
        for secs in [
            0,
            1,
            86_399,
            951_782_400,
            1_795_000_000,
            4_102_444_799,
            253_402_300_799,
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(http_date(t), httpdate::fmt_http_date(t), "at {secs}");
        }
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_nanos(1)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        // httpdate panics on these; a file can carry them (touch -d 1960-01-01).
        let before = UNIX_EPOCH - Duration::from_secs(315_619_200);
        assert_eq!(http_date(before), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z");
        let after = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
        assert_eq!(http_date(after), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn numbers_and_etags() {
        for n in [0, 7, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = String::new();
            push_dec(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        let m = Meta {
            is_dir: false,
            is_file: true,
            len: 0x1234,
            mtime: UNIX_EPOCH + Duration::new(1_795_000_000, 123),
            created: UNIX_EPOCH,
            ino: 0,
            mode: 0o100_644,
        };
        let mut out = String::new();
        push_etag(&mut out, &m);
        assert_eq!(out, super::super::xml::escape(&m.etag()));
    }

    #[test]
    fn content_types_ignore_case() {
        assert_eq!(content_type("a.HTML"), "text/html");
        assert_eq!(content_type("a.tar.gz"), "application/gzip");
        assert_eq!(content_type("Makefile"), "application/octet-stream");
        assert_eq!(content_type("a.jpegxl"), "application/octet-stream");
        assert_eq!(content_type(".Json"), "application/json");
    }
}

//! HTTP Digest (RFC 7616) and Basic as pure functions: parsing `Authorization`, computing the
//! expected response from an htdigest HA1, the nonce format (timestamp + random bytes + HMAC
//! with a per-process secret) and the nonce-count replay window. No I/O, no clock: callers pass
//! the time. Fuzzed through [`parse_authorization`].

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use thiserror::Error;

/// Why an `Authorization` header could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("authorization header uses an unsupported scheme {scheme:?}")]
    Scheme { scheme: String },
    #[error("authorization header is malformed near byte {at}")]
    Syntax { at: usize },
    #[error("authorization header repeats the parameter {name:?}")]
    Duplicate { name: String },
    #[error("authorization header lacks the parameter {name:?}")]
    Missing { name: &'static str },
    #[error("authorization header has an invalid {name:?} value")]
    Invalid { name: &'static str },
}

/// The hash function of a Digest algorithm (RFC 7616 section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    Md5,
    Sha256,
}

impl HashKind {
    /// Lowercase hex of H(`data`).
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            HashKind::Md5 => hex(&Md5::digest(data)),
            HashKind::Sha256 => hex(&Sha256::digest(data)),
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            HashKind::Md5 => 32,
            HashKind::Sha256 => 64,
        }
    }
}

/// A Digest algorithm bosun verifies: MD5 or SHA-256, each plain or `-sess` (RFC 7616 3.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Algorithm {
    pub hash: HashKind,
    pub sess: bool,
}

impl Algorithm {
    pub const MD5: Algorithm = Algorithm {
        hash: HashKind::Md5,
        sess: false,
    };
    pub const MD5_SESS: Algorithm = Algorithm {
        hash: HashKind::Md5,
        sess: true,
    };
    pub const SHA256: Algorithm = Algorithm {
        hash: HashKind::Sha256,
        sess: false,
    };
    pub const SHA256_SESS: Algorithm = Algorithm {
        hash: HashKind::Sha256,
        sess: true,
    };

    /// The name in `algorithm=` (RFC 7616 section 6.1).
    pub fn name(self) -> &'static str {
        match (self.hash, self.sess) {
            (HashKind::Md5, false) => "MD5",
            (HashKind::Md5, true) => "MD5-sess",
            (HashKind::Sha256, false) => "SHA-256",
            (HashKind::Sha256, true) => "SHA-256-sess",
        }
    }

    fn parse(text: &str) -> Option<Algorithm> {
        [
            Algorithm::MD5,
            Algorithm::MD5_SESS,
            Algorithm::SHA256,
            Algorithm::SHA256_SESS,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(text))
    }
}

/// The parameters of a Digest `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestParams {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Algorithm,
    /// `username` is H(user:realm) (RFC 7616 3.4.4), not the user name itself.
    pub userhash: bool,
    pub qop: String,
    pub nc: u64,
    pub cnonce: String,
    pub opaque: Option<String>,
}

/// What a client presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Digest(DigestParams),
    Basic { user: String, password: String },
}

/// Parse an `Authorization` header value.
pub fn parse_authorization(header: &str) -> Result<Credentials, DigestError> {
    let header = header.trim_start();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = decode_base64(rest.trim()).ok_or(DigestError::Invalid { name: "basic" })?;
        let text = String::from_utf8(raw).map_err(|_| DigestError::Invalid { name: "basic" })?;
        let (user, password) = text
            .split_once(':')
            .ok_or(DigestError::Invalid { name: "basic" })?;
        return Ok(Credentials::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        });
    }
    if !scheme.eq_ignore_ascii_case("digest") {
        return Err(DigestError::Scheme {
            scheme: scheme.chars().take(32).collect(),
        });
    }
    let params = parse_params(rest)?;
    let get = |name: &'static str| -> Option<&str> {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let need = |name: &'static str| get(name).ok_or(DigestError::Missing { name });
    let algorithm = match get("algorithm") {
        None => Algorithm::MD5,
        Some(a) => Algorithm::parse(a).ok_or(DigestError::Invalid { name: "algorithm" })?,
    };
    // RFC 2069 requests (no qop) and auth-int are not supported.
    let qop = need("qop")?;
    if !qop.eq_ignore_ascii_case("auth") {
        return Err(DigestError::Invalid { name: "qop" });
    }
    let nc_text = need("nc")?;
    if nc_text.len() != 8 {
        return Err(DigestError::Invalid { name: "nc" });
    }
    let nc = u64::from_str_radix(nc_text, 16).map_err(|_| DigestError::Invalid { name: "nc" })?;
    let userhash = match get("userhash") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(DigestError::Invalid { name: "userhash" }),
    };
    let username = match (get("username"), get("username*")) {
        (Some(name), None) => name.to_owned(),
        // RFC 7616 3.4.4: the extended notation of RFC 8187, never with userhash.
        (None, Some(ext)) if !userhash => {
            decode_ext_value(ext).ok_or(DigestError::Invalid { name: "username*" })?
        }
        (None, None) => return Err(DigestError::Missing { name: "username" }),
        _ => return Err(DigestError::Invalid { name: "username" }),
    };
    Ok(Credentials::Digest(DigestParams {
        username,
        realm: need("realm")?.to_owned(),
        nonce: need("nonce")?.to_owned(),
        uri: need("uri")?.to_owned(),
        response: need("response")?.to_ascii_lowercase(),
        algorithm,
        userhash,
        qop: "auth".to_owned(),
        nc,
        cnonce: need("cnonce")?.to_owned(),
        opaque: get("opaque").map(str::to_owned),
    }))
}

/// Parse `name=value, name="quoted \" value", ...` into lowercase names and unquoted values.
pub fn parse_params(text: &str) -> Result<Vec<(String, String)>, DigestError> {
    let bytes = text.as_bytes();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && matches!(bytes[*i], b' ' | b'\t') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        while i < bytes.len() && bytes[i] == b',' {
            i += 1;
            skip_ws(&mut i);
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && is_token_char(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(DigestError::Syntax { at: i });
        }
        let name = text[start..i].to_ascii_lowercase();
        skip_ws(&mut i);
        if bytes.get(i) != Some(&b'=') {
            return Err(DigestError::Syntax { at: i });
        }
        i += 1;
        skip_ws(&mut i);
        let value = if bytes.get(i) == Some(&b'"') {
            i += 1;
            let mut value = Vec::new();
            loop {
                match bytes.get(i) {
                    None => return Err(DigestError::Syntax { at: i }),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let escaped = *bytes.get(i + 1).ok_or(DigestError::Syntax { at: i })?;
                        value.push(escaped);
                        i += 2;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            String::from_utf8(value).map_err(|_| DigestError::Syntax { at: i })?
        } else {
            let start = i;
            while i < bytes.len() && is_token_char(bytes[i]) {
                i += 1;
            }
            if i == start {
                return Err(DigestError::Syntax { at: i });
            }
            text[start..i].to_owned()
        };
        if out.iter().any(|(k, _)| *k == name) {
            return Err(DigestError::Duplicate { name });
        }
        out.push((name, value));
        skip_ws(&mut i);
        match bytes.get(i) {
            None => break,
            Some(b',') => i += 1,
            Some(_) => return Err(DigestError::Syntax { at: i }),
        }
    }
    Ok(out)
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&b)
}

/// Decode an RFC 8187 `ext-value` (`UTF-8'lang'percent-encoded`); UTF-8 only.
fn decode_ext_value(text: &str) -> Option<String> {
    let (charset, rest) = text.split_once('\'')?;
    let (_lang, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let pair = encoded.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(pair, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Lowercase hex of MD5(`data`).
pub fn md5_hex(data: &[u8]) -> String {
    HashKind::Md5.hex(data)
}

/// The `response` a client holding `ha1` (lowercase hex of H(user:realm:password), as in an
/// htdigest file of the algorithm's hash) must send.
pub fn expected_response(ha1: &str, p: &DigestParams, method: &str) -> String {
    let h = p.algorithm.hash;
    let ha1 = if p.algorithm.sess {
        h.hex(format!("{ha1}:{}:{}", p.nonce, p.cnonce).as_bytes())
    } else {
        ha1.to_owned()
    };
    let ha2 = h.hex(format!("{method}:{}", p.uri).as_bytes());
    h.hex(
        format!(
            "{ha1}:{}:{:08x}:{}:{}:{ha2}",
            p.nonce, p.nc, p.cnonce, p.qop
        )
        .as_bytes(),
    )
}

/// The HA1 an htdigest file stores for `user` in `realm` with `password` (MD5).
pub fn ha1(user: &str, realm: &str, password: &str) -> String {
    ha1_with(HashKind::Md5, user, realm, password)
}

/// H(user:realm:password) with the hash `h`: a line of the MD5 or SHA-256 user file.
pub fn ha1_with(h: HashKind, user: &str, realm: &str, password: &str) -> String {
    h.hex(format!("{user}:{realm}:{password}").as_bytes())
}

/// The `username` a client sends with `userhash=true`: H(user:realm) (RFC 7616 3.4.4).
pub fn userhash(h: HashKind, user: &str, realm: &str) -> String {
    h.hex(format!("{user}:{realm}").as_bytes())
}

/// Compare without an early exit on the first differing byte.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The verdict on a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this process and still fresh.
    Valid,
    /// Issued by this process but expired: answer with `stale=true`.
    Stale,
    /// Not ours (forged, or from an earlier process).
    Invalid,
}

const NONCE_TAG_LEN: usize = 16;

/// A nonce: hex(timestamp seconds, 8 bytes) + hex(random, 12 bytes) + hex(HMAC-SHA256 of both,
/// first 16 bytes) under `key`.
pub fn make_nonce(key: &[u8; 32], now_secs: u64, random: [u8; 12]) -> String {
    let mut body = Vec::with_capacity(20);
    body.extend_from_slice(&now_secs.to_be_bytes());
    body.extend_from_slice(&random);
    let tag = nonce_tag(key, &body);
    format!("{}{}", hex(&body), hex(&tag))
}

/// Check a nonce's authenticity and age.
pub fn check_nonce(key: &[u8; 32], nonce: &str, now_secs: u64, lifetime_secs: u64) -> NonceCheck {
    let Some(raw) = unhex(nonce) else {
        return NonceCheck::Invalid;
    };
    if raw.len() != 20 + NONCE_TAG_LEN {
        return NonceCheck::Invalid;
    }
    let (body, tag) = raw.split_at(20);
    if !ct_eq(&nonce_tag(key, body), tag) {
        return NonceCheck::Invalid;
    }
    let mut stamp = [0u8; 8];
    stamp.copy_from_slice(&body[..8]);
    let issued = u64::from_be_bytes(stamp);
    if issued > now_secs.saturating_add(5) {
        NonceCheck::Invalid
    } else if now_secs.saturating_sub(issued) > lifetime_secs {
        NonceCheck::Stale
    } else {
        NonceCheck::Valid
    }
}

fn nonce_tag(key: &[u8; 32], body: &[u8]) -> [u8; NONCE_TAG_LEN] {
    let mut out = [0u8; NONCE_TAG_LEN];
    // HMAC accepts keys of any length, so this cannot fail.
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        mac.update(body);
        out.copy_from_slice(&mac.finalize().into_bytes()[..NONCE_TAG_LEN]);
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The nonce counts already used with one nonce: the highest, and a bitmap of the 128 below
/// it, so requests sent in parallel over several connections may arrive out of order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NcWindow {
    highest: u64,
    seen: u128,
}

impl NcWindow {
    /// Record `nc`; `false` when it was used before or is too old to tell.
    pub fn accept(&mut self, nc: u64) -> bool {
        if nc == 0 {
            return false;
        }
        if nc > self.highest {
            let shift = nc - self.highest;
            self.seen = if shift >= 128 { 0 } else { self.seen << shift };
            // The old highest becomes a seen entry `shift` places down.
            if self.highest > 0 && shift <= 128 {
                self.seen |= 1u128 << (shift - 1);
            }
            self.highest = nc;
            return true;
        }
        if nc == self.highest {
            return false;
        }
        let back = self.highest - nc;
        if back > 128 {
            return false;
        }
        let bit = 1u128 << (back - 1);
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        true
    }
}

/// Decode standard base64 (with optional padding).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC2617_HEADER: &str = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

    fn digest(header: &str) -> DigestParams {
        match parse_authorization(header).unwrap() {
            Credentials::Digest(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rfc2617_example_verifies() {
        let p = digest(RFC2617_HEADER);
        assert_eq!(p.username, "Mufasa");
        assert_eq!(p.uri, "/dir/index.html");
        assert_eq!(p.nc, 1);
        let ha1 = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        assert_eq!(expected_response(&ha1, &p, "GET"), p.response);
        assert_ne!(expected_response(&ha1, &p, "PUT"), p.response);
    }

    #[test]
    fn md5_sess_uses_nonce_and_cnonce() {
        let mut p = digest(RFC2617_HEADER);
        p.algorithm = Algorithm::MD5_SESS;
        let ha1 = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let sess = md5_hex(format!("{ha1}:{}:{}", p.nonce, p.cnonce).as_bytes());
        let ha2 = md5_hex(b"GET:/dir/index.html");
        let want = md5_hex(format!("{sess}:{}:00000001:0a4f113b:auth:{ha2}", p.nonce).as_bytes());
        assert_eq!(expected_response(&ha1, &p, "GET"), want);
    }

    const RFC7616_HEADER: &str = r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

    #[test]
    fn rfc7616_examples_verify() {
        // RFC 7616 section 3.9.1, SHA-256 and then MD5 on the same request.
        let p = digest(RFC7616_HEADER);
        assert_eq!(p.algorithm, Algorithm::SHA256);
        let sha = ha1_with(
            HashKind::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(sha.len(), HashKind::Sha256.hex_len());
        assert_eq!(expected_response(&sha, &p, "GET"), p.response);
        let mut md5 = p.clone();
        md5.algorithm = Algorithm::MD5;
        let ha1 = ha1("Mufasa", "http-auth@example.org", "Circle of Life");
        assert_eq!(
            expected_response(&ha1, &md5, "GET"),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        // The MD5 HA1 does not verify a SHA-256 response (negative control).
        assert_ne!(expected_response(&ha1, &p, "GET"), p.response);
        for (text, want) in [
            ("sha-256-SESS", Algorithm::SHA256_SESS),
            ("MD5-sess", Algorithm::MD5_SESS),
            ("md5", Algorithm::MD5),
        ] {
            let h = RFC7616_HEADER.replace("algorithm=SHA-256", &format!("algorithm={text}"));
            assert_eq!(digest(&h).algorithm, want);
        }
    }

    #[test]
    fn userhash_and_extended_usernames() {
        let h = RFC7616_HEADER.replace(
            "username=\"Mufasa\"",
            &format!(
                "username=\"{}\", userhash=true",
                userhash(HashKind::Sha256, "Mufasa", "http-auth@example.org")
            ),
        );
        let p = digest(&h);
        assert!(p.userhash);
        assert_eq!(p.username.len(), 64);
        let ext = RFC7616_HEADER.replace(
            "username=\"Mufasa\"",
            "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe",
        );
        assert_eq!(digest(&ext).username, "J\u{e4}s\u{f8}n Doe");
        for bad in [
            RFC7616_HEADER.replace("username=\"Mufasa\"", "username*=UTF-8''%zz"),
            RFC7616_HEADER.replace("username=\"Mufasa\"", "username*=latin1''x"),
            RFC7616_HEADER.replace("username=\"Mufasa\"", "username*=UTF-8''x, userhash=true"),
            format!("{RFC7616_HEADER}, username*=UTF-8''x"),
            format!("{RFC7616_HEADER}, userhash=maybe"),
        ] {
            assert!(parse_authorization(&bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn parameter_grammar() {
        let p = parse_params(r#"a=1,b="x, y",  C = "q\"uote" ,,d=tok/en"#).unwrap();
        assert_eq!(
            p,
            [("a", "1"), ("b", "x, y"), ("c", "q\"uote"), ("d", "tok/en")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(parse_params("").unwrap(), []);
        assert!(matches!(
            parse_params("a=1, a=2"),
            Err(DigestError::Duplicate { .. })
        ));
        for bad in [
            "a", "a=", "=1", "a=\"open", "a=1 b=2", "a=\"x\\", "a=1;b=2", "a b=1",
        ] {
            assert!(parse_params(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn malformed_digest_headers_are_refused() {
        let cases = [
            "Negotiate abc",
            "Digest",
            "Digest username=\"a\"",
            &RFC2617_HEADER.replace("qop=auth", "qop=auth-int"),
            &RFC2617_HEADER.replace("nc=00000001", "nc=1"),
            &RFC2617_HEADER.replace("nc=00000001", "nc=0000000g"),
            &RFC2617_HEADER.replace(", qop=auth", ""),
            &RFC2617_HEADER.replace("username=", "username*="),
            &format!("{RFC2617_HEADER}, algorithm=SHA-512-256"),
            &format!("{RFC2617_HEADER}, uri=\"/other\""),
        ];
        for header in cases {
            assert!(
                parse_authorization(header).is_err(),
                "{header:?} was accepted"
            );
        }
        assert!(parse_authorization(&format!("{RFC2617_HEADER}, algorithm=\"MD5-sess\"")).is_ok());
    }

    #[test]
    fn scheme_and_names_are_case_insensitive_values_are_not() {
        let upper = RFC2617_HEADER
            .replacen("Digest", "DIGEST", 1)
            .replace("username=", "UserName=")
            .replace("qop=auth", "QOP=auth");
        let p = digest(&upper);
        assert_eq!(p.username, "Mufasa");
        assert_eq!(p.realm, "testrealm@host.com");
        // Tabs and missing blanks between parameters are fine.
        let tight = RFC2617_HEADER.replace(", ", ",\t");
        assert_eq!(digest(&tight), digest(RFC2617_HEADER));
        // Quoted values may contain commas, equals signs and escaped quotes.
        let odd = RFC2617_HEADER.replace("uri=\"/dir/index.html\"", "uri=\"/a,b=c/\\\"q\\\"\"");
        assert_eq!(digest(&odd).uri, "/a,b=c/\"q\"");
        // nc and response are parsed as hex, whatever their case.
        let nc = RFC2617_HEADER.replace("nc=00000001", "nc=0000000A");
        assert_eq!(digest(&nc).nc, 10);
        let resp = RFC2617_HEADER.replace(
            "6629fae49393a05397450978507c4ef1",
            "6629FAE49393A05397450978507C4EF1",
        );
        assert_eq!(digest(&resp).response, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn garbage_never_panics() {
        for header in [
            "Digest ,,,,",
            "Digest a=\"\\",
            "Digest \u{10000}=1",
            "Basic",
            "Basic ====",
            "",
            " ",
            "Digest a=\"\u{e9}\"",
        ] {
            let _ = parse_authorization(header);
        }
        assert!(decode_base64("QQ").is_some());
        assert_eq!(decode_base64("QUJD").unwrap(), b"ABC");
    }

    #[test]
    fn basic_is_decoded() {
        assert_eq!(
            parse_authorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap(),
            Credentials::Basic {
                user: "Aladdin".into(),
                password: "open sesame".into()
            }
        );
        assert!(parse_authorization("Basic !!!").is_err());
        assert!(parse_authorization("Basic bm9jb2xvbg==").is_err());
    }

    #[test]
    fn nonces_expire_and_resist_forgery() {
        let key = [7u8; 32];
        let nonce = make_nonce(&key, 1000, [1; 12]);
        assert_eq!(check_nonce(&key, &nonce, 1000, 60), NonceCheck::Valid);
        assert_eq!(check_nonce(&key, &nonce, 1060, 60), NonceCheck::Valid);
        assert_eq!(check_nonce(&key, &nonce, 1061, 60), NonceCheck::Stale);
        assert_eq!(
            check_nonce(&[8u8; 32], &nonce, 1000, 60),
            NonceCheck::Invalid
        );
        let mut forged = nonce.clone().into_bytes();
        forged[3] = if forged[3] == b'0' { b'1' } else { b'0' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(check_nonce(&key, &forged, 1000, 60), NonceCheck::Invalid);
        assert_eq!(check_nonce(&key, "zz", 1000, 60), NonceCheck::Invalid);
        assert_eq!(
            check_nonce(&key, &make_nonce(&key, 2000, [1; 12]), 1000, 60),
            NonceCheck::Invalid
        );
    }

    #[test]
    fn nonce_count_window() {
        let mut w = NcWindow::default();
        assert!(!w.accept(0));
        assert!(w.accept(1));
        assert!(!w.accept(1));
        assert!(w.accept(3));
        assert!(w.accept(2), "out of order within the window");
        assert!(!w.accept(2));
        assert!(!w.accept(3));
        assert!(w.accept(200));
        assert!(!w.accept(1), "too old to tell");
        assert!(w.accept(150));
        assert!(!w.accept(150));
        assert!(w.accept(199));
        assert!(!w.accept(72 - 1));
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}

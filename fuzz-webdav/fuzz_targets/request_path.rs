//! Fuzz request-path decoding: whatever is accepted must be a clean relative path (no empty,
//! `.` or `..` segment, no slash, backslash or NUL) and must round-trip through `href`.
#![no_main]

use bosun::webdav::path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let target = format!("/webdav/{text}");
    if let Ok(p) = path::parse_target(&target, "/webdav/") {
        for segment in p.segments() {
            assert!(!segment.is_empty() && segment != "." && segment != "..");
            assert!(!segment.contains(['/', '\\', '\0']));
        }
        let again = path::parse_target(&p.href("/webdav/", false), "/webdav/");
        assert_eq!(again.as_ref(), Ok(&p));
    }
});

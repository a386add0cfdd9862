//! Fuzz the `If` header parser (RFC 4918 10.4): no panics on any input.
#![no_main]

use bosun::webdav::locks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(lists) = locks::parse_if(text) {
        let _ = locks::submitted_tokens(&lists);
    }
    let _ = locks::parse_timeout(Some(text));
});

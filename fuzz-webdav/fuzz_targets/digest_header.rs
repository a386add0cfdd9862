//! Fuzz the `Authorization` header parser (Digest and Basic): it must never panic, and a
//! parsed Digest header must survive a response computation.
#![no_main]

use bosun::webdav::digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = digest::parse_params(text);
    if let Ok(digest::Credentials::Digest(params)) = digest::parse_authorization(text) {
        let _ = digest::expected_response("00000000000000000000000000000000", &params, "GET");
    }
    let _ = digest::check_nonce(&[0; 32], text, 1_000, 300);
});

//! Fuzz the XML body parser: no panics, and a parsed tree re-serialises to XML that parses to
//! the same tree (dead property values depend on it).
#![no_main]

use bosun::webdav::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = xml::parse(data) {
        let text = root.to_xml();
        let again = xml::parse(text.as_bytes()).expect("re-serialised XML parses");
        assert_eq!(again, root);
    }
});

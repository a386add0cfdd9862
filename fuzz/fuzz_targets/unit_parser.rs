//! Fuzz target for the unit-file reader: arbitrary bytes as a service, socket, timer and
//! target file (syntax, every supported key's value parser, exec lines, specifiers, the
//! whole-unit checks), and as an environment file. Nothing may panic; nothing touches disk.

#![no_main]

use std::path::Path;

use bosun::unit::apply::{Applier, check_unit};
use bosun::unit::{SpecifierContext, Unit, UnitName, envfile, exec, value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = SpecifierContext::fixed();
    for name in ["fuzz@in-st\\x2dance.service", "fuzz.socket", "fuzz.timer", "fuzz.target", "fuzz.mount"] {
        let Ok(name) = UnitName::parse(name) else { return };
        let path = Path::new("/fuzz/unit");
        let mut unit = Unit::new(name.clone());
        let mut applier = Applier::new(&ctx, &name, Some(path));
        applier.apply_file(&mut unit, path, data);
        let _ = check_unit(&unit, path);
        for d in &applier.diagnostics {
            let _ = d.to_string();
        }
        if let Some(service) = unit.service() {
            let env = |n: &str| (n.len() % 2 == 0).then(|| format!("{n} 'a b' \"c\""));
            for cmd in &service.exec_start {
                let _ = cmd.expand_argv(&env);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = envfile::parse_env_text(text);
        let _ = value::parse_timespan(text);
        let _ = value::parse_size(text);
        let _ = exec::parse_exec_line(text, &|w| Ok(w.to_owned()));
    }
});

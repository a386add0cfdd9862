//! Argument parsing and printing for every personality of the binary. Choosing the personality
//! happens here: by `argv[0]` (`systemctl`, `initctl`, `journalctl`) and otherwise by the first word
//! (`bosun init`, `bosun ctl`, ...). No PID-1 logic lives here.

pub mod bosun;
pub mod image;
pub mod initctl;
pub mod journalctl;
pub mod security;
pub mod systemctl;
pub mod verify;
pub mod webdav;

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::vocab::exit::Exit;

/// Run the personality chosen by `args` (argv including `argv[0]`) and return how to exit.
pub fn dispatch(args: Vec<OsString>) -> Exit {
    let invoked_as = args
        .first()
        .map(|arg0| Path::new(arg0).file_name().unwrap_or(arg0.as_os_str()))
        .and_then(OsStr::to_str)
        .unwrap_or("bosun")
        .to_owned();
    let rest = args.get(1..).unwrap_or_default().to_vec();
    let first = rest.first().and_then(|w| w.to_str());
    // A closed pipe ends a command quietly, as it ends systemctl: SIGPIPE's default action.
    // PID 1 (`bosun`, `bosun init`), the WebDAV server and the `image` verbs that change files
    // keep it ignored: their readers going away must not end them half-way (their --help,
    // --version and read-only verbs opt in themselves).
    let server = match invoked_as.as_str() {
        "systemctl" | "initctl" | "journalctl" => false,
        _ => !matches!(first, Some("verify" | "systemctl" | "ctl" | "journalctl")),
    };
    if server {
        // PID 1 and the servers run for long: musl's allocator, which gives memory back.
        crate::sys::server_allocation();
    } else {
        crate::sys::die_on_sigpipe();
    }
    match invoked_as.as_str() {
        "systemctl" => {
            let prog = args.first().map_or_else(
                || "systemctl".to_owned(),
                |a| a.to_string_lossy().into_owned(),
            );
            systemctl::main(&prog, &rest)
        }
        "initctl" => initctl::main("initctl", &rest),
        "journalctl" => journalctl::main("journalctl", &rest),
        _ => match first {
            Some("init") => bosun::main(&rest[1..]),
            Some("image") => image::main(&rest[1..]),
            Some("verify") => verify::main(&rest[1..]),
            Some("webdav") => webdav::main(&rest[1..]),
            Some("systemctl") => systemctl::main("systemctl", &rest[1..]),
            Some("ctl") => initctl::main("bosun ctl", &rest[1..]),
            Some("journalctl") => journalctl::main("journalctl", &rest[1..]),
            _ => bosun::main(&rest),
        },
    }
}

/// Log panics as one line on stderr (the default hook's output can be lost among a service's
/// lines). PID 1 must report why it is going down.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        crate::log::error(format_args!("internal error (please report): {info}"));
    }));
}

//! bosun's entry point: choose the personality from `argv[0]` or the first word, run it, and map
//! its outcome to the process exit code. Nothing else lives here.

use std::process::ExitCode;

fn main() -> ExitCode {
    bosun::cli::install_panic_hook();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let status = bosun::cli::dispatch(args);
    ExitCode::from(status.code())
}

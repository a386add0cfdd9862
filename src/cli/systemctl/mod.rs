//! `systemctl` (a symlink to bosun, or `bosun systemctl`): systemd 252's command line, and the
//! choice between the two halves that serve it. When bosun runs (its control socket under the
//! root answers), [`online::run`] asks it; when it does not — a `RUN systemctl enable nginx`
//! in a Dockerfile — [`offline::run`] works on the unit files, with the same links, words and
//! exit codes as `systemctl --root=DIR` of systemd 252. `--root=DIR` always means offline, as
//! in systemd. Parsing ([`args`]) and printing only; the file work is [`crate::unit::install`].

pub mod args;
pub(crate) mod glyph;
pub(crate) mod mangle;
pub mod offline;
pub mod online;
pub mod options;
mod sysv;
pub(crate) mod text;
pub mod verb;

use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use crate::vocab::exit::Exit;
pub use args::{Invocation, Options, Parsed, UnitArg, Verb};

/// The systemd version bosun's systemctl answers to: scripts parse the number.
pub const SYSTEMD_VERSION: u32 = 252;

/// Whether a bosun serves the control socket under `root`: a connection is accepted, or
/// refused for lack of permission (the socket is there; the online half reports the denial).
/// A missing socket, or one nobody listens on (a stale file), means bosun is not running.
/// The connection is kept for the first call that follows.
pub fn bosun_running(root: &Path) -> bool {
    let socket = crate::control::socket_path(root);
    match UnixStream::connect(&socket) {
        Ok(stream) => {
            crate::control::client::keep_for_next_call(&socket, stream);
            true
        }
        Err(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
    }
}

/// The root offline verbs work under: `--root`, else `$BOSUN_ROOT` (made absolute), else `/`.
pub fn root_of(options: &Options) -> PathBuf {
    let root = options
        .root
        .clone()
        .or_else(|| std::env::var_os("BOSUN_ROOT").map(PathBuf::from))
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("/"));
    std::path::absolute(&root).unwrap_or(root)
}

/// `systemctl ARGS...`: `prog` is how getopt names the program (`argv[0]`).
pub fn main(prog: &str, args: &[OsString]) -> Exit {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match args::parse(prog, &args, std::env::current_dir().ok()) {
        Err(e) => {
            eprintln!("{e}");
            Exit::Failure
        }
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            Exit::Success
        }
        Ok(Parsed::Run(invocation)) => run(&invocation),
    }
}

/// Run a parsed invocation: offline or online.
pub fn run(invocation: &Invocation) -> Exit {
    for notice in &invocation.notices {
        eprintln!("{notice}");
    }
    let root = root_of(&invocation.options);
    if invocation.options.root.is_some() {
        if !invocation.verb.works_offline() {
            eprintln!(
                "Verb '{}' cannot be used with --root= or --image=.",
                invocation.verb.word()
            );
            return Exit::Failure;
        }
        return offline::run(invocation, &root);
    }
    if bosun_running(&root) {
        online::run(invocation, &root)
    } else {
        offline::run(invocation, &root)
    }
}

/// `--version`: systemd's two lines, the first naming bosun, the second the features bosun
/// has in systemd's terms (none of the optional libraries; cgroup v2 where delegated).
pub fn version_text() -> String {
    const FEATURES: [&str; 36] = [
        "PAM",
        "AUDIT",
        "SELINUX",
        "APPARMOR",
        "IMA",
        "SMACK",
        "SECCOMP",
        "GCRYPT",
        "GNUTLS",
        "OPENSSL",
        "ACL",
        "BLKID",
        "CURL",
        "ELFUTILS",
        "FIDO2",
        "IDN2",
        "IDN",
        "IPTC",
        "KMOD",
        "LIBCRYPTSETUP",
        "LIBFDISK",
        "PCRE2",
        "PWQUALITY",
        "P11KIT",
        "QRENCODE",
        "TPM2",
        "BZIP2",
        "LZ4",
        "XZ",
        "ZLIB",
        "ZSTD",
        "BPF_FRAMEWORK",
        "XKBCOMMON",
        "UTMP",
        "SYSVINIT",
        "",
    ];
    let features: Vec<String> = FEATURES
        .iter()
        .filter(|f| !f.is_empty())
        .map(|f| format!("-{f}"))
        .collect();
    format!(
        "systemd {SYSTEMD_VERSION} (bosun {})\n{} default-hierarchy=unified\n",
        env!("CARGO_PKG_VERSION"),
        features.join(" ")
    )
}

/// `--help`.
pub fn help_text() -> String {
    format!(
        "\
systemctl [OPTIONS...] COMMAND ...

Query or send control commands to bosun, this container's service manager (systemd {SYSTEMD_VERSION}
compatible). Without a running bosun, the unit file commands work on the file system.

Unit Commands:
  list-units [PATTERN...]             List units bosun has loaded
  list-sockets [PATTERN...]           List socket units bosun has loaded, ordered
                                      by address
  list-timers [PATTERN...]            List timer units bosun has loaded, ordered
                                      by next elapse
  list-paths [PATTERN...]             List path units bosun has loaded, ordered
                                      by path
  is-active PATTERN...                Check whether units are active
  is-failed [PATTERN...]              Check whether units are failed
  status [PATTERN...|PID...]          Show runtime status of one or more units
  show [PATTERN...|JOB...]            Show properties of one or more units
  cat PATTERN...                      Show files and drop-ins of specified units
  start UNIT...                       Start (activate) one or more units
  stop UNIT...                        Stop (deactivate) one or more units
  reload UNIT...                      Reload one or more units
  restart UNIT...                     Start or restart one or more units
  try-restart UNIT...                 Restart one or more units if active
  reload-or-restart UNIT...           Reload one or more units if possible, otherwise
                                      start or restart
  reload-or-try-restart UNIT...       If active, reload one or more units, if supported,
                                      otherwise restart
  kill UNIT...                        Send signal to processes of a unit
  reset-failed [PATTERN...]           Reset failed state for all, one, or more units
  list-dependencies [UNIT...]         Recursively show units which are required or wanted
                                      by the units or by which those units are required or
                                      wanted

Unit File Commands:
  list-unit-files [PATTERN...]        List installed unit files
  enable [UNIT...|PATH...]            Enable one or more unit files
  disable UNIT...                     Disable one or more unit files
  reenable UNIT...                    Reenable one or more unit files
  preset UNIT...                      Enable/disable one or more unit files based on
                                      preset configuration
  is-enabled UNIT...                  Check whether unit files are enabled
  mask UNIT...                        Mask one or more units
  unmask UNIT...                      Unmask one or more units
  get-default                         Get the name of the default target
  set-default TARGET                  Set the default target

Environment Commands:
  show-environment                    Dump environment
  set-environment VARIABLE=VALUE...   Set one or more environment variables
  unset-environment VARIABLE...       Unset one or more environment variables
  import-environment VARIABLE...      Import all or some environment variables

Manager State Commands:
  daemon-reload                       Reload unit files (nothing to do without a running bosun)
  daemon-reexec                       Reexecute bosun
  is-system-running                   Check whether the system is fully running

System Commands:
  default                             Enter the default target
  halt                                Shut down and halt: the container stops
  poweroff                            Shut down and power-off: the container stops
  reboot                              Shut down and reboot: the container stops (its
                                      restart policy decides what follows)
  exit [EXIT_CODE]                    Stop the container with this exit code

Options:
  -h --help              Show this help
     --version           Show package version
     --system            Connect to the system manager (the only one there is)
  -t --type=TYPE         List units of a particular type
     --state=STATE       List units with particular LOAD or SUB or ACTIVE state
     --failed            Shortcut for --state=failed
  -p --property=NAME     Show only properties by this name
  -P NAME                Equivalent to --value --property=NAME
  -a --all               Show all properties/all units currently in memory,
                         including dead/empty ones
  -l --full              Don't ellipsize unit names on output
     --reverse           Show reverse dependencies with 'list-dependencies'
     --after             Show units ordered after with 'list-dependencies'
     --before            Show units ordered before with 'list-dependencies'
     --value             When showing properties, only print the value
     --job-mode=MODE     Specify how to deal with already queued jobs, when
                         queueing a new job
     --ignore-dependencies
                         Shortcut for --job-mode=ignore-dependencies
     --kill-whom=WHOM    Whom to send signal to
  -s --signal=SIGNAL     Which signal to send
     --now               Start or stop unit after enabling or disabling it
     --wait              For (re)start, wait until service stopped again
                         For is-system-running, wait until startup is completed
     --no-block          Do not wait until operation finished
     --no-legend         Do not print a legend (column headers and hints)
     --legend=BOOL       Enable/disable the legend
     --no-pager          Accepted (bosun never pages)
     --no-ask-password   Accepted (bosun never asks for passwords)
     --no-wall           Accepted (bosun never sends wall messages)
  -q --quiet             Suppress output
     --no-reload         Don't reload daemon after en-/dis-abling unit files
     --root=PATH         Edit/enable/disable/mask unit files in the specified
                         root directory
     --runtime           Edit/enable/disable/mask unit files temporarily until
                         next reboot
  -f --force             When enabling unit files, override existing symlinks
     --preset-mode=      Apply only enable, only disable, or all presets
  -n --lines=INTEGER     Number of journal entries to show
  -o --output=STRING     Change journal output mode (short, short-precise,
                             short-iso, short-iso-precise, short-full,
                             short-monotonic, short-unix, verbose, export,
                             json, json-pretty, json-sse, cat)
     --plain             Print unit dependencies as a list instead of a tree

--user, -H/--host and -M/--machine are refused: bosun is this container's only manager.
See bosun's README for what differs from systemd.
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_line_parses_as_systemd() {
        let text = version_text();
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            format!("systemd 252 (bosun {})", env!("CARGO_PKG_VERSION"))
        );
        // What scripts do: the second word is the number.
        assert_eq!(first.split_whitespace().nth(1), Some("252"));
        let second = text.lines().nth(1).unwrap();
        assert!(second.starts_with("-PAM -AUDIT -SELINUX"));
        assert!(second.ends_with("default-hierarchy=unified"));
        assert!(!second.contains('+'));
    }

    #[test]
    fn no_socket_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!bosun_running(dir.path()));
        let path = crate::control::socket_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        {
            let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
            assert!(bosun_running(dir.path()));
        }
        // A stale socket file with nobody listening: not running.
        assert!(!bosun_running(dir.path()));
    }
}

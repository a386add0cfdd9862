//! The test harness: run bosun as a real PID 1 in its own namespaces, find its pid as seen from
//! the host, signal it, wait for it with a deadline, and dump everything when a check fails.
//!
//! `Pid1` runs `unshare --pid --fork --mount-proc --kill-child` (plus `--user --map-root-user`
//! when the tests are not root), mounts fresh tmpfs on /run and /tmp inside, then execs bosun,
//! so bosun is PID 1 of the namespace. Scratch trees live under `CARGO_TARGET_TMPDIR` (not /tmp,
//! which is private inside the namespace).

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The bosun binary under test.
pub fn bosun() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_bosun"))
}

/// Debian's python3 (not a pyenv shim: a shell-script shim would change pids and timing).
pub const PYTHON: &str = "/usr/bin/python3";

/// A fresh directory under the target dir, removed when dropped unless the test failed.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create scratch dir");
        Scratch { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Write an executable script.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.join(name);
        fs::write(&path, body).expect("write script");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod script");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A free loopback port (bound, then released for the test's server to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// A unit tree under `root/etc/systemd/system`, every unit wanted at boot.
pub fn enable(root: &Path, units: &[(&str, &str)]) {
    let dir = root.join("etc/systemd/system");
    std::fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
    for (name, text) in units {
        std::fs::write(dir.join(name), text).unwrap();
        std::os::unix::fs::symlink(
            format!("../{name}"),
            dir.join("multi-user.target.wants").join(name),
        )
        .unwrap();
    }
}

/// Poll `cond` until it holds or `timeout` passes; true when it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether this machine lets us make PID namespaces; prints a loud SKIP line once if not.
pub fn namespaces_work() -> bool {
    static WORKS: OnceLock<Result<(), String>> = OnceLock::new();
    let result = WORKS.get_or_init(|| {
        let out = Command::new("unshare")
            .args(ns_flags())
            .arg("true")
            .output()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    });
    match result {
        Ok(()) => true,
        Err(why) => {
            println!("SKIP: PID namespaces unavailable here ({why}); PID-1 tests not run");
            false
        }
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn ns_flags() -> Vec<&'static str> {
    let mut flags = vec![];
    if !is_root() {
        flags.extend(["--user", "--map-root-user"]);
    }
    flags.extend(["--pid", "--fork", "--mount-proc", "--kill-child"]);
    flags
}

/// Inside the new namespaces: fresh tmpfs on /run and /tmp, then exec the command as PID 1.
/// The directories in $BOSUN_TEST_KEEP (colon-separated; the workspace and target dirs when
/// they live under /tmp, as in a CI checkout there) are bound aside first and moved back to the
/// same paths on top of the new /tmp, so the binary and scratch trees stay reachable.
const INSIDE: &str = r#"set -e
if [ -n "$BOSUN_TEST_NET" ]; then ip link set lo up; fi
unset BOSUN_TEST_NET
mount -t tmpfs -o mode=755 bosun-run /run
mkdir /run/.keep
i=0
IFS=:
for dir in $BOSUN_TEST_KEEP; do
    mkdir /run/.keep/$i && mount --bind "$dir" /run/.keep/$i
    i=$((i+1))
done
mount -t tmpfs -o mode=1777 bosun-tmp /tmp
i=0
for dir in $BOSUN_TEST_KEEP; do
    mkdir -p "$dir" && mount --move /run/.keep/$i "$dir" && rmdir /run/.keep/$i
    i=$((i+1))
done
unset IFS
rmdir /run/.keep
unset BOSUN_TEST_KEEP
if [ -n "$BOSUN_TEST_SETUP" ]; then eval "$BOSUN_TEST_SETUP"; fi
unset BOSUN_TEST_SETUP
exec "$@""#;

/// The test's own directories that live under /tmp and must stay visible inside the namespace.
fn keep_under_tmp() -> String {
    let mut keep: Vec<PathBuf> = Vec::new();
    for dir in [env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR")] {
        let dir = fs::canonicalize(dir).unwrap_or_else(|_| PathBuf::from(dir));
        if dir.starts_with("/tmp") && !keep.iter().any(|k| dir.starts_with(k)) {
            keep.retain(|k| !k.starts_with(&dir));
            keep.push(dir);
        }
    }
    if let Some(bin) = bosun().parent().and_then(|p| fs::canonicalize(p).ok())
        && bin.starts_with("/tmp")
        && !keep.iter().any(|k| bin.starts_with(k))
    {
        keep.push(bin);
    }
    let keep: Vec<String> = keep.iter().map(|k| k.display().to_string()).collect();
    keep.join(":")
}

/// How a finished run ended, with everything it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub command: String,
}

impl Finished {
    /// The exit code; panics with the full dump when killed by a signal.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| {
            panic!(
                "killed by signal {:?}\n{}",
                self.status.signal(),
                self.dump()
            )
        })
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn dump(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.status,
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        )
    }

    /// Assert the exit code, dumping everything on mismatch.
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(self.status.code(), Some(expected), "{}", self.dump());
        self
    }
}

/// Builds a run of some program (bosun, or a control) as PID 1 of fresh namespaces.
#[derive(Debug)]
pub struct Pid1Builder {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    namespace: bool,
    network: bool,
    setup: Option<String>,
}

impl Pid1Builder {
    /// Also a private network namespace, with only loopback up.
    pub fn private_network(mut self) -> Self {
        self.network = true;
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Run this shell script inside the namespaces, as root, just before the program starts
    /// (mounts that only the namespace sees).
    pub fn setup(mut self, script: &str) -> Self {
        self.setup = Some(script.to_owned());
        self
    }

    /// Run directly as a child of the test, not in new namespaces (bosun is then not PID 1).
    pub fn without_namespace(mut self) -> Self {
        self.namespace = false;
        self
    }

    /// Start it. None (after a SKIP line) when namespaces are unavailable.
    pub fn start(self) -> Option<Pid1> {
        if self.namespace && !namespaces_work() {
            return None;
        }
        let scratch = Scratch::new("pid1-out");
        let out = scratch.join("stdout");
        let err = scratch.join("stderr");
        let mut cmd = if self.namespace {
            let mut c = Command::new("unshare");
            c.args(ns_flags());
            if self.network {
                c.arg("--net").env("BOSUN_TEST_NET", "1");
            }
            c.args(["sh", "-c", INSIDE, "sh"]);
            c.env("BOSUN_TEST_KEEP", keep_under_tmp());
            if let Some(script) = &self.setup {
                c.env("BOSUN_TEST_SETUP", script);
            }
            c.arg(&self.program);
            c
        } else {
            Command::new(&self.program)
        };
        cmd.args(&self.args);
        // Units come from an empty tree unless the test gives one: the host's enabled units
        // (nginx, ssh, cron on a test machine) must never start here.
        let empty_root = scratch.join("root");
        fs::create_dir_all(&empty_root).expect("empty unit root");
        cmd.env("BOSUN_ROOT", &empty_root);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(fs::File::create(&out).expect("stdout file"))
            .stderr(fs::File::create(&err).expect("stderr file"));
        let command = format!("{cmd:?}");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command}: {e}"));
        let mut run = Pid1 {
            child,
            init_pid: 0,
            namespace: self.namespace,
            out,
            err,
            command,
            _scratch: scratch,
        };
        run.init_pid = if run.namespace {
            run.find_init()
        } else {
            run.child.id() as i32
        };
        Some(run)
    }
}

/// A running PID 1 under test.
#[derive(Debug)]
pub struct Pid1 {
    child: Child,
    init_pid: i32,
    namespace: bool,
    out: PathBuf,
    err: PathBuf,
    command: String,
    _scratch: Scratch,
}

impl Pid1 {
    /// Run bosun with these arguments.
    pub fn bosun() -> Pid1Builder {
        Self::program(bosun())
    }

    /// Run any program the same way (for negative controls).
    pub fn program(program: impl AsRef<OsStr>) -> Pid1Builder {
        Pid1Builder {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            namespace: true,
            network: false,
            setup: None,
        }
    }

    /// The namespace's init as a host pid: unshare's only child. 0 when it has already gone
    /// (a command that exits at once), which `signal` refuses.
    fn find_init(&mut self) -> i32 {
        let unshare = self.child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(tasks) = fs::read_dir(format!("/proc/{unshare}/task")) {
                for task in tasks.flatten() {
                    let children =
                        fs::read_to_string(task.path().join("children")).unwrap_or_default();
                    if let Some(pid) = children.split_whitespace().next() {
                        return pid.parse().unwrap_or(0);
                    }
                }
            }
            if !matches!(self.child.try_wait(), Ok(None)) {
                return 0;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "init of {} did not appear",
                self.command
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// bosun's pid as the host sees it.
    pub fn pid(&self) -> i32 {
        self.init_pid
    }

    /// Send a signal to bosun (from the host, i.e. from an ancestor namespace).
    pub fn signal(&self, signo: i32) {
        // kill(0, ...) would signal the test's own process group.
        assert!(self.init_pid > 0, "{} has already exited", self.command);
        let rc = unsafe_free_kill(self.init_pid, signo);
        assert!(rc, "kill({}, {signo}) failed", self.init_pid);
    }

    pub fn stderr_now(&self) -> String {
        fs::read_to_string(&self.err).unwrap_or_default()
    }

    pub fn stdout_now(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Wait for it to end; kill it and fail with a dump after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Finished {
        let ended = wait_until(timeout, || !matches!(self.child.try_wait(), Ok(None)));
        if !ended {
            let _ = self.child.kill();
            let status = self.child.wait().expect("wait after kill");
            let finished = self.collect(status);
            panic!("timed out after {timeout:?}\n{}", finished.dump());
        }
        let status = self.child.wait().expect("wait");
        self.collect(status)
    }

    fn collect(&self, status: ExitStatus) -> Finished {
        Finished {
            status,
            stdout: fs::read(&self.out).unwrap_or_default(),
            stderr: fs::read_to_string(&self.err).unwrap_or_default(),
            command: self.command.clone(),
        }
    }
}

impl Drop for Pid1 {
    fn drop(&mut self) {
        // A failed test must not leave a namespace behind: --kill-child takes PID 1 with it.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// kill(2) for any signal number; real-time signals (which nix's `Signal` cannot name) go
/// through procps' kill(1).
fn unsafe_free_kill(pid: i32, signo: i32) -> bool {
    match nix::sys::signal::Signal::try_from(signo) {
        Ok(signal) => nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).is_ok(),
        Err(_) => Command::new("/bin/kill")
            .args([format!("-{signo}"), pid.to_string()])
            .status()
            .is_ok_and(|s| s.success()),
    }
}

/// Run bosun (or a control program) as PID 1 to completion.
pub fn run_pid1(builder: Pid1Builder, timeout: Duration) -> Option<Finished> {
    builder.start().map(|p| p.wait(timeout))
}

/// bosun's systemctl inside PID 1's namespaces (host pid `pid`), on `root` (BOSUN_ROOT):
/// stdout with `root` taken out of it, and the exit code.
pub fn systemctl_in(pid: i32, root: &Path, args: &[&str]) -> (String, Option<i32>) {
    let mut words = vec!["systemctl"];
    words.extend(args);
    bosun_in(pid, root, &words)
}

/// `bosun WORDS...` (`bosun initctl status`, `bosun verify ...`) inside PID 1's namespaces,
/// as [`systemctl_in`].
pub fn bosun_in(pid: i32, root: &Path, words: &[&str]) -> (String, Option<i32>) {
    let out = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-p", "-m", "--"])
        .arg(bosun())
        .args(words)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .env("BOSUN_ROOT", root)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).replace(&root.display().to_string(), ""),
        out.status.code(),
    )
}

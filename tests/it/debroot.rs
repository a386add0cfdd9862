//! A Debian bookworm root, as a container image's would be: built with `debootstrap
//! --variant=minbase bookworm` from the mirror this machine's apt uses, once per test run
//! under the target directory (an exclusive lock while it is built, a shared one while a test
//! copies it, so parallel tests and test processes share it), then copied for each test, given
//! bosun (`bosun image link`), and booted with bosun as PID 1 chrooted into it, in fresh PID and
//! mount namespaces with their own /proc, /run, /tmp and the machine's /dev. When the root
//! cannot be built (no debootstrap, no network, not root) the tests that need it print a loud
//! SKIP line.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nix::fcntl::{Flock, FlockArg};

use crate::harness::{Pid1, Pid1Builder, bosun};

/// Where the roots and debootstrap's package cache live.
fn home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("debroot")
}

fn lock(exclusive: bool) -> Option<Flock<fs::File>> {
    fs::create_dir_all(home()).ok()?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(home().join("lock"))
        .ok()?;
    let how = if exclusive {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockShared
    };
    Flock::lock(file, how).ok()
}

/// The Debian archive this machine's apt fetches bookworm from (sources.list or deb822
/// `.sources`), else deb.debian.org.
pub fn mirror() -> String {
    let mut texts = Vec::new();
    if let Ok(t) = fs::read_to_string("/etc/apt/sources.list") {
        texts.push(t);
    }
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".list") || name.ends_with(".sources") {
                texts.push(fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    let debian = |uri: &str| uri.starts_with("http") && !uri.contains("security");
    for text in &texts {
        // One-line style: `deb [options] URI bookworm main`.
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line
                .split_whitespace()
                .filter(|w| !w.starts_with('['))
                .collect();
            if words.first() == Some(&"deb")
                && words.get(2) == Some(&"bookworm")
                && let Some(uri) = words.get(1).filter(|u| debian(u))
            {
                return (*uri).to_owned();
            }
        }
        // deb822: a stanza with `URIs:` and a `Suites:` naming bookworm.
        for stanza in text.split("\n\n") {
            let field = |key: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .map(str::trim)
                    .unwrap_or("")
            };
            let suites = field("Suites:");
            let uri = field("URIs:").split_whitespace().next().unwrap_or("");
            if suites.split_whitespace().any(|s| s == "bookworm") && debian(uri) {
                return uri.to_owned();
            }
        }
    }
    "http://deb.debian.org/debian".to_owned()
}

/// apt's HTTP proxy on this machine (`Acquire::http::Proxy "URL";`), for debootstrap.
fn proxy() -> Option<String> {
    let dir = fs::read_dir("/etc/apt/apt.conf.d").ok()?;
    for e in dir.flatten() {
        let text = fs::read_to_string(e.path()).unwrap_or_default();
        for line in text.lines() {
            let line = line.trim();
            if line
                .to_ascii_lowercase()
                .starts_with("acquire::http::proxy ")
            {
                let url = line.split('"').nth(1)?;
                return Some(url.to_owned());
            }
        }
    }
    None
}

/// The pristine bookworm root, built on first use in this test run; None after a SKIP line.
pub fn bookworm() -> Option<&'static Path> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = ROOT.get_or_init(build);
    match built {
        Ok(path) => Some(path.as_path()),
        Err(why) => {
            println!(
                "SKIP: cannot build a Debian bookworm root with debootstrap ({why}); the apt-get tests did not run"
            );
            None
        }
    }
}

fn build() -> Result<PathBuf, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not root".to_owned());
    }
    let debootstrap = ["/usr/sbin/debootstrap", "/sbin/debootstrap"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("debootstrap is not installed (make test-deps installs it)")?;
    let _lock = lock(true).ok_or("cannot lock the debroot directory")?;
    let root = home().join("bookworm");
    let work = home().join("build");
    let cache = home().join("cache");
    for dir in [&root, &work] {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| format!("remove {}: {e}", dir.display()))?;
        }
    }
    fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(debootstrap);
    cmd.args(["--variant=minbase", "--cache-dir"])
        .arg(&cache)
        .arg("bookworm")
        .arg(&work)
        .arg(mirror())
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    if let Some(url) = proxy() {
        cmd.env("http_proxy", url);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("run {debootstrap}: {e}"))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        return Err(format!(
            "debootstrap exited {:?}: {}",
            out.status.code(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    fs::rename(&work, &root).map_err(|e| e.to_string())?;
    Ok(root)
}

/// A copy of the pristine root at `to`, for one test to change.
pub fn copy(to: &Path) -> bool {
    let Some(root) = bookworm() else {
        return false;
    };
    let _shared = lock(false);
    let status = Command::new("cp")
        .arg("-a")
        .arg(root)
        .arg(to)
        .status()
        .expect("run cp");
    assert!(
        status.success(),
        "copy the bookworm root to {}",
        to.display()
    );
    true
}

/// The bosun binary to put in an image: the static one `make test` builds, else this build's
/// own, which runs in a bookworm root when this machine is Debian 12 too (the same glibc);
/// None after a SKIP line otherwise.
pub fn bosun_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BOSUN_STATIC_BIN") {
        return Some(PathBuf::from(path));
    }
    let os = fs::read_to_string("/etc/os-release").unwrap_or_default();
    if os.lines().any(|l| l == "VERSION_ID=\"12\"") && os.contains("ID=debian") {
        return Some(bosun().to_owned());
    }
    println!(
        "SKIP: BOSUN_STATIC_BIN not set (run `make test`) and this machine is not Debian 12, so this build's bosun may not run in a bookworm root"
    );
    None
}

/// Put `binary` in `root` as /usr/local/bin/bosun, link systemctl to it (`bosun image link`),
/// and give the root this machine's resolver so apt can reach the mirror.
pub fn install_bosun(root: &Path, binary: &Path) {
    let target = root.join("usr/local/bin/bosun");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::copy(binary, &target).unwrap();
    let out = Command::new(binary)
        .args(["image", "link", "--root"])
        .arg(root)
        .args(["--bosun", "/usr/local/bin/bosun"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bosun image link: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Ok(resolv) = fs::read("/etc/resolv.conf") {
        let _ = fs::remove_file(root.join("etc/resolv.conf"));
        fs::write(root.join("etc/resolv.conf"), resolv).unwrap();
    }
}

/// bosun as PID 1 of fresh PID and mount namespaces, chrooted into `root` (its /proc, a fresh
/// /run and /tmp, the machine's /dev), as a container runtime would start it; `args` follow
/// `bosun`. The network is the machine's (apt fetches packages).
pub fn boot<I, S>(root: &Path, args: I) -> Pid1Builder
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let r = root.display();
    chrooted(root, args).setup(&format!(
        "mount -t proc proc '{r}/proc' && mount -t tmpfs -o mode=755 run '{r}/run' && \
         mount -t tmpfs -o mode=1777 tmp '{r}/tmp' && mount --rbind /dev '{r}/dev'"
    ))
}

/// bosun as PID 1 chrooted into `root` as a container engine starts it: fresh PID, mount and
/// network namespaces (loopback, and `eth0` at 10.19.0.2/24, one end of a veth pair, as a
/// container's network), its /proc with /proc/sys read-only, a read-only /sys, fresh /run and
/// /tmp, a private /dev (tmpfs with null, zero, full, random, urandom and tty bound from the
/// machine, a new devpts instance, /dev/shm), and `container=podman` in PID 1's environment,
/// as podman gives a container (systemd's units that skip themselves in a container, such as
/// `ConditionVirtualization=!container` and `ConditionPathIsReadWrite=/proc/sys/net/`, see
/// one). The root is a mount point of its own (bound onto itself), as an image's overlay is,
/// and bosun is chrooted into it (not pivoted): its mount namespace's root is not its own.
pub fn boot_isolated<I, S>(root: &Path, args: I) -> Pid1Builder
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let r = root.display();
    chrooted(root, args)
        .private_network()
        .env("container", "podman")
        .setup(&format!(
            "mount --bind '{r}' '{r}' && \
         ip link add eth0 type veth peer name veth0 && ip link set veth0 up && \
         ip addr add 10.19.0.2/24 dev eth0 && ip link set eth0 up && \
         mount -t proc proc '{r}/proc' && mount --bind '{r}/proc/sys' '{r}/proc/sys' && \
         mount -o remount,bind,ro '{r}/proc/sys' && mount -t sysfs -o ro sysfs '{r}/sys' && \
         mount -t tmpfs -o mode=755 run '{r}/run' && mount -t tmpfs -o mode=1777 tmp '{r}/tmp' && \
         mount -t tmpfs -o mode=755,nosuid dev '{r}/dev' && \
         for n in null zero full random urandom tty; do \
           touch '{r}/dev/'$n && mount --bind /dev/$n '{r}/dev/'$n || exit 1; done && \
         mkdir '{r}/dev/pts' '{r}/dev/shm' && \
         mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts '{r}/dev/pts' && \
         ln -s pts/ptmx '{r}/dev/ptmx' && mount -t tmpfs -o mode=1777 shm '{r}/dev/shm' && \
         ln -s /proc/self/fd '{r}/dev/fd' && ln -s /proc/self/fd/0 '{r}/dev/stdin' && \
         ln -s /proc/self/fd/1 '{r}/dev/stdout' && ln -s /proc/self/fd/2 '{r}/dev/stderr'"
        ))
}

/// bosun chrooted into `root`, with the environment a container's PID 1 gets.
fn chrooted<I, S>(root: &Path, args: I) -> Pid1Builder
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Pid1::program("chroot")
        .arg(root)
        .arg("/usr/local/bin/bosun")
        .args(args)
        .env("BOSUN_ROOT", "/")
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("LANG", "C.UTF-8")
}

#[test]
fn mirror_comes_from_apt() {
    let m = mirror();
    assert!(m.starts_with("http"), "{m}");
    assert!(!m.contains("security"), "{m}");
}

/// A copy of the bookworm root at `work` with packages installed by
/// tests/fixtures/corpus/build.sh as an image build installs them (apt in a chroot, every
/// service start denied, apt's archives kept in `cache` so the next build downloads nothing):
/// `packages`, or the corpus when empty. Its output goes to `log`. false after a SKIP line
/// (no bookworm root, or apt could not download); any other failure fails the test.
pub fn install_packages(work: &Path, cache: &Path, packages: &[&str], log: &Path) -> bool {
    if work.exists() {
        fs::remove_dir_all(work).unwrap();
    }
    fs::create_dir_all(work.parent().unwrap()).unwrap();
    if !copy(work) {
        return false;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/build.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(work)
        .arg(cache)
        .args(packages)
        .output()
        .unwrap();
    fs::write(log, [&out.stdout[..], &out.stderr[..]].concat()).unwrap();
    if out.status.success() {
        return true;
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let offline = [
        "Failed to fetch",
        "Temporary failure resolving",
        "Could not resolve",
        "Unable to fetch",
        "Unable to connect",
    ];
    if let Some(why) = offline.iter().find(|w| text.contains(**w)) {
        println!(
            "SKIP: apt could not download packages into the Debian root ({why}; see {})",
            log.display()
        );
        return false;
    }
    panic!("build.sh failed: see {}", log.display());
}

/// In a probe script's output, the text of the section that starts with `== NAME` (up to the next `== ` line).
pub fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let head = format!("== {name}\n");
    let Some(at) = out.find(&head) else {
        return "";
    };
    let rest = &out[at + head.len()..];
    &rest[..rest.find("\n== ").map_or(rest.len(), |i| i + 1)]
}

//! Real containers: the examples of image/ built and run with podman, as users run them. The
//! base image is the Debian bookworm root that `debroot` builds with debootstrap (no registry is
//! reachable), imported with `podman import`; the examples' Dockerfiles install their packages
//! with apt-get at build time. podman runs with runc, cgroupfs, the file events logger and
//! limits the sandbox can give (`containers.conf` below), and its own storage under the target
//! directory, so nothing touches the machine's containers. Where podman cannot run a container
//! here, each test prints one loud SKIP line naming why.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::debroot;
use crate::harness::{Scratch, free_port, wait_until};

/// The examples, in the repository.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("image")
}

/// podman, configured for this machine, with its storage under the target directory.
pub(crate) struct Podman {
    home: PathBuf,
}

impl Podman {
    fn command(&self) -> Command {
        self.tool("podman")
    }

    /// `program` (podman, or podman-compose, which runs podman) with this configuration.
    fn tool(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("CONTAINERS_CONF", self.home.join("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.home.join("storage.conf"))
            .env_remove("NOTIFY_SOCKET");
        cmd
    }

    /// Run podman; its output whatever the exit.
    fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run podman {args:?}: {e}"))
    }

    /// Run podman, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "podman {args:?}: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

const CONTAINERS_CONF: &str = r#"# Written by bosun's tests: runc (crun refuses this host's hybrid cgroups), cgroupfs, events
# in a file, and limits this sandbox can grant.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"#;

/// podman with the base image imported; None after a SKIP line.
pub(crate) fn podman() -> Option<&'static Podman> {
    static PODMAN: OnceLock<Result<Podman, String>> = OnceLock::new();
    match PODMAN.get_or_init(setup) {
        Ok(p) => Some(p),
        Err(why) => {
            println!(
                "SKIP: cannot run containers with podman ({why}); the container tests did not run"
            );
            None
        }
    }
}

const BASE: &str = "localhost/bosun-test/bookworm:latest";

fn setup() -> Result<Podman, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not root".to_owned());
    }
    if Command::new("podman").arg("--version").output().is_err() {
        return Err("podman is not installed (make test-deps installs it)".to_owned());
    }
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("podman");
    fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    fs::write(home.join("containers.conf"), CONTAINERS_CONF).map_err(|e| e.to_string())?;
    // skip_mount_home: overlay does not bind-mount the storage over itself, which would
    // outlive the tests and keep `cargo clean` from removing the target directory.
    fs::write(
        home.join("storage.conf"),
        format!(
            "[storage]\ndriver = \"overlay\"\ngraphroot = \"{0}/storage\"\nrunroot = \"{0}/run\"\n\
             [storage.options.overlay]\nskip_mount_home = \"true\"\n",
            home.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let podman = Podman { home };
    // A container that says hello proves the runtime, before minutes go into builds.
    let root = debroot::bookworm().ok_or("no Debian bookworm root to import")?;
    let tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["-c", "."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("run tar: {e}"))?;
    let import = podman
        .command()
        .args(["import", "-q", "-", BASE])
        .stdin(tar.stdout.ok_or("tar has no stdout")?)
        .output()
        .map_err(|e| format!("run podman import: {e}"))?;
    if !import.status.success() {
        return Err(format!(
            "podman import: {}",
            String::from_utf8_lossy(&import.stderr).trim()
        ));
    }
    // The Dockerfiles' default base, for builds that do not pass BASE (compose): the same
    // Debian release, from debootstrap, in this private storage only.
    let tag = podman.run(&["tag", BASE, "docker.io/library/debian:bookworm-slim"]);
    if !tag.status.success() {
        return Err(format!(
            "podman tag: {}",
            String::from_utf8_lossy(&tag.stderr).trim()
        ));
    }
    let hello = podman.run(&["run", "--rm", BASE, "/bin/echo", "hello"]);
    if String::from_utf8_lossy(&hello.stdout).trim() != "hello" {
        return Err(format!(
            "a container does not start: {}",
            String::from_utf8_lossy(&hello.stderr).trim()
        ));
    }
    Ok(podman)
}

/// Build `image/NAME` as `localhost/bosun-example/NAME:TAG`, with bosun in its context and
/// `BUILD_ID`; `change` may edit the context first (an image's next version). Builds of one
/// example take turns; podman caches their layers.
fn build(p: &Podman, name: &str, tag: &str, build_id: &str, change: impl FnOnce(&Path)) -> String {
    static BUILDS: Mutex<()> = Mutex::new(());
    let _turn = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let bosun = debroot::bosun_binary().expect("a bosun binary for the image");
    let context = Scratch::new(&format!("ctx-{name}-{tag}"));
    let status = Command::new("cp")
        .arg("-a")
        .arg(examples().join(name).join("."))
        .arg(context.path())
        .status()
        .unwrap();
    assert!(status.success());
    fs::copy(&bosun, context.join("bosun")).unwrap();
    change(context.path());
    let image = format!("localhost/bosun-example/{name}:{tag}");
    let started = Instant::now();
    let context_arg = context.path().to_string_lossy().into_owned();
    p.ok(&[
        "build",
        "-q",
        "--isolation=chroot",
        "--build-arg",
        &format!("BASE={BASE}"),
        "--build-arg",
        &format!("BUILD_ID={build_id}"),
        "-t",
        &image,
        &context_arg,
    ]);
    println!(
        "built {image} (build id {build_id}) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    image
}

/// One image per example and tag, built once per test run.
pub(crate) fn image(p: &Podman, name: &'static str) -> String {
    static IMAGES: Mutex<Vec<(&'static str, String)>> = Mutex::new(Vec::new());
    let mut images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, image)) = images.iter().find(|(n, _)| *n == name) {
        return image.clone();
    }
    let image = build(p, name, "test", "1", |_| {});
    images.push((name, image.clone()));
    image
}

/// A container of this test, removed at the end whatever happens.
pub(crate) struct Container<'a> {
    podman: &'a Podman,
    name: String,
}

impl<'a> Container<'a> {
    /// `podman run -d --name NAME ARGS...`.
    pub(crate) fn run(podman: &'a Podman, tag: &str, args: &[&str]) -> Container<'a> {
        let name = format!("bosun-it-{tag}-{}", std::process::id());
        let _ = podman.run(&["rm", "-f", "--ignore", "-t", "0", &name]);
        let mut all = vec!["run", "-d", "--name", &name];
        all.extend_from_slice(args);
        podman.ok(&all);
        Container { podman, name }
    }

    pub(crate) fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec", &self.name];
        all.extend_from_slice(args);
        self.podman.run(&all)
    }

    pub(crate) fn logs(&self) -> String {
        let out = self.podman.run(&["logs", &self.name]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Wait until `initctl is-ready` says yes (boot, hooks and units done).
    pub(crate) fn ready(&self) {
        let ready = wait_until(Duration::from_secs(120), || {
            self.exec(&["initctl", "is-ready"]).status.success()
        });
        assert!(ready, "{} never became ready:\n{}", self.name, self.logs());
    }

    /// The host address a container port is published on (`-p 127.0.0.1::PORT`).
    fn url(&self, port: u16, path: &str) -> String {
        let out = self
            .podman
            .ok(&["port", &self.name, &format!("{port}/tcp")]);
        format!("http://{}{path}", out.lines().next().unwrap_or("").trim())
    }

    /// `podman stop`: how long it took and the container's exit code.
    fn stop(&self) -> (Duration, i32) {
        let started = Instant::now();
        self.podman.ok(&["stop", "-t", "10", &self.name]);
        let took = started.elapsed();
        let code = self
            .podman
            .ok(&["inspect", "--format", "{{.State.ExitCode}}", &self.name]);
        (took, code.trim().parse().unwrap())
    }

    fn start(&self) {
        self.podman.ok(&["start", &self.name]);
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self
            .podman
            .run(&["rm", "-f", "--ignore", "-t", "0", &self.name]);
    }
}

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (body.to_owned(), code.to_owned())
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The appliance's whole life: first run seeds the volume (a host directory) and runs the
/// installer, which calls systemctl; `podman stop` shuts down in order with exit 0; a second
/// start is routine; a new image with a new build id runs the upgrade hook and keeps the file
/// the user changed, with the image's version beside it.
#[test]
fn appliance_first_run_routine_start_and_upgrade() {
    let Some(p) = podman() else { return };
    let image = image(p, "appliance");
    let data = Scratch::new("appliance-data");
    let volume = format!("{}:/data", data.path().display());
    let c = Container::run(
        p,
        "appliance",
        &["-p", "127.0.0.1::80", "-v", &volume, &image],
    );
    c.ready();
    let logs = c.logs();
    assert!(
        logs.contains("/data is empty: seeding it from the template"),
        "{logs}"
    );
    assert!(logs.contains("first-boot.d/10-install"), "{logs}");
    assert!(
        logs.contains("first-boot hooks done: /data is at build 1"),
        "{logs}"
    );
    assert_eq!(
        fs::read_to_string(data.join("var/lib/appliance/installed-by")).unwrap(),
        "1\n"
    );
    assert!(data.join("etc/appliance/admin-token").is_file());
    // The installer's page, from the volume, through nginx.
    let (body, code) = curl(&[&c.url(80, "/")]);
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("appliance for example.test"), "{body}");
    // Operators ask the running container.
    let active = c.exec(&[
        "systemctl",
        "is-active",
        "nginx",
        "redis-server",
        "memcached",
    ]);
    assert!(active.status.success(), "{}", stdout(&active));
    assert_eq!(stdout(&active), "active\nactive\nactive\n");
    let status = stdout(&c.exec(&["initctl", "status"]));
    assert!(status.contains("build 1 (seeded at this boot)"), "{status}");
    assert!(status.contains("memcached.service"), "{status}");
    // redis keeps what the installer stored in the volume.
    let redis = c.exec(&["redis-cli", "get", "appliance:domain"]);
    assert_eq!(stdout(&redis).trim(), "example.test");

    let (took, code) = c.stop();
    println!("appliance: podman stop took {:.2}s", took.as_secs_f64());
    assert_eq!(code, 0, "{}", c.logs());
    let logs = c.logs();
    assert!(
        logs.contains("Stopped A high performance web server"),
        "{logs}"
    );
    assert!(logs.contains("Stopped Advanced key-value store"), "{logs}");

    // Routine start: nothing seeded, no installer.
    c.start();
    c.ready();
    let status = stdout(&c.exec(&["initctl", "status"]));
    assert!(status.contains("/data, ready, build 1"), "{status}");
    assert!(!status.contains("seeded at this boot"), "{status}");
    assert_eq!(c.logs().matches("running 1 first-boot hook").count(), 1);
    let redis = c.exec(&["redis-cli", "get", "appliance:domain"]);
    assert_eq!(stdout(&redis).trim(), "example.test");
    // The user changes a file the next image changes too.
    let conf = data.join("etc/appliance/appliance.conf");
    let mut mine = fs::read_to_string(&conf).unwrap();
    mine.push_str("cache_mb=256\n");
    fs::write(&conf, &mine).unwrap();
    let (_, code) = c.stop();
    assert_eq!(code, 0);
    drop(c);

    // The next image: build id 2, a new schema in appliance.conf.
    let next = build(p, "appliance", "next", "2", |ctx| {
        let file = ctx.join("appliance.conf");
        let text = fs::read_to_string(&file)
            .unwrap()
            .replace("schema=1", "schema=2");
        fs::write(file, text).unwrap();
    });
    let c = Container::run(p, "appliance-next", &["-v", &volume, &next]);
    c.ready();
    let logs = c.logs();
    assert!(
        logs.contains("starting the upgrade from build 1 to 2"),
        "{logs}"
    );
    assert!(
        logs.contains("upgrade hooks done: /data is at build 2"),
        "{logs}"
    );
    assert!(!logs.contains("first-boot.d/"), "{logs}");
    assert_eq!(
        fs::read_to_string(data.join("var/lib/appliance/upgrades")).unwrap(),
        "1 -> 2\n"
    );
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        mine,
        "the user's file was kept"
    );
    let new = fs::read_to_string(data.join("etc/appliance/appliance.conf.bosun-new")).unwrap();
    assert!(new.contains("schema=2"), "{new}");
    assert!(
        logs.contains("kept your /etc/appliance/appliance.conf"),
        "{logs}"
    );
    let status = stdout(&c.exec(&["initctl", "status"]));
    assert!(
        status.contains("build 2 (upgraded from 1 at this boot)"),
        "{status}"
    );
    assert!(status.contains("appliance.conf.bosun-new"), "{status}");
    let (took, code) = c.stop();
    println!(
        "appliance after upgrade: podman stop took {:.2}s",
        took.as_secs_f64()
    );
    assert_eq!(code, 0, "{}", c.logs());
}

/// An htdigest file for user `dev`, password `secret`, realm `WebDAV`.
fn htdigest(dir: &Scratch) -> PathBuf {
    let ha1 = bosun::webdav::digest::ha1("dev", "WebDAV", "secret");
    let path = dir.join("webdav.htdigest");
    fs::write(&path, format!("dev:WebDAV:{ha1}\n")).unwrap();
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    path
}

/// Edit app.py over WebDAV and wait until the app answers with the new greeting.
fn edit_over_webdav(c: &Container<'_>, greeting: &str) {
    let webdav = c.url(8081, "/webdav/app.py");
    let (source, code) = curl(&["--digest", "-u", "dev:secret", &webdav]);
    assert_eq!(code, "200", "{source}");
    let edited = source.replace("hello from the example app", greeting);
    assert_ne!(edited, source);
    let upload = Scratch::new("upload");
    fs::write(upload.join("app.py"), edited).unwrap();
    let file = upload.join("app.py").to_string_lossy().into_owned();
    let (body, code) = curl(&["--digest", "-u", "dev:secret", "-T", &file, &webdav]);
    assert_eq!(code, "204", "{body}");
    let app = c.url(8080, "/");
    let reloaded = wait_until(Duration::from_secs(60), || {
        curl(&[&app]).0.trim() == greeting
    });
    assert!(reloaded, "the app did not reload:\n{}", c.logs());
}

/// The web app with WebDAV switched on (the realm and the htdigest secret), its ports
/// published, ready; `first` are podman options before the rest (`--user`). The Scratch holds
/// the secret while the container runs.
fn webapp_with_webdav<'a>(
    p: &'a Podman,
    tag: &str,
    image: &str,
    first: &[&str],
) -> (Scratch, Container<'a>) {
    let dir = Scratch::new(tag);
    let secret = format!(
        "{}:/opt/app-root/secrets/webdav/.htdigest:ro",
        htdigest(&dir).display()
    );
    let mut args = first.to_vec();
    args.extend([
        "-p",
        "127.0.0.1::8080",
        "-p",
        "127.0.0.1::8081",
        "-e",
        "WEBDAV_AUTHENTICATION_REALM=WebDAV",
        "-v",
        &secret,
        image,
    ]);
    let c = Container::run(p, tag, &args);
    c.ready();
    (dir, c)
}

/// The UIDs of every process in the container (`Uid:` lines of /proc/*/status, one each).
fn uids(c: &Container<'_>) -> String {
    stdout(&c.exec(&["sh", "-c", "grep -h ^Uid /proc/[0-9]*/status | sort -u"]))
}

/// The web app: WebDAV is on when the realm and the secret are given; a file edited over WebDAV
/// changes the running app; without credentials, 401.
#[test]
fn webapp_edited_over_webdav_reloads() {
    let Some(p) = podman() else { return };
    let image = image(p, "webapp");
    let (_secret, c) = webapp_with_webdav(p, "webapp", &image, &[]);
    let (body, code) = curl(&[&c.url(8080, "/")]);
    assert_eq!(
        (body.trim(), code.as_str()),
        ("hello from the example app", "200")
    );
    let (_, code) = curl(&[&c.url(8081, "/webdav/app.py")]);
    assert_eq!(code, "401");
    let active = c.exec(&["systemctl", "is-active", "webapp", "webdav"]);
    assert_eq!(stdout(&active), "active\nactive\n");
    edit_over_webdav(&c, "hello from the edited app");
    let (took, code) = c.stop();
    println!("webapp: podman stop took {:.2}s", took.as_secs_f64());
    assert_eq!(code, 0, "{}", c.logs());

    // Without the realm, no WebDAV server.
    let plain = Container::run(p, "webapp-plain", &["-p", "127.0.0.1::8081", &image]);
    plain.ready();
    let active = plain.exec(&["systemctl", "is-active", "webdav"]);
    assert!(!active.status.success());
}

/// compose.yaml, run by podman-compose: the container runs as the host user (not root, not
/// group 0), the source is the host's checkout, bind-mounted; what the app and WebDAV write
/// there belongs to that user.
#[test]
fn compose_runs_the_webapp_as_the_host_user_with_the_source_bind_mounted() {
    let Some(p) = podman() else { return };
    if Command::new("podman-compose")
        .arg("version")
        .output()
        .is_err()
    {
        println!(
            "SKIP: podman-compose is not installed (make test-deps installs it); compose.yaml did not run"
        );
        return;
    }
    // The project directory as a developer has it: the example, the binary, the secret.
    let project = Scratch::new("compose");
    let status = Command::new("cp")
        .arg("-a")
        .arg(examples().join("webapp/."))
        .arg(project.path())
        .status()
        .unwrap();
    assert!(status.success());
    fs::copy(debroot::bosun_binary().unwrap(), project.join("bosun")).unwrap();
    htdigest(&project);
    let src = project.join("app");
    for path in [src.clone(), src.join("app.py")] {
        nix::unistd::chown(&path, Some(1000.into()), Some(1000.into())).unwrap();
    }
    let compose = Compose {
        podman: p,
        dir: project.path().to_owned(),
        name: format!("bosun-it-compose-{}", std::process::id()),
        ports: (free_port(), free_port()),
    };
    let (ok, text) = compose.run(&["up", "-d", "--build"]);
    assert!(ok, "podman-compose up: {text}");
    let name = &compose.name;
    let c = Container {
        podman: p,
        name: format!("{name}_webapp_1"),
    };
    c.ready();
    edit_over_webdav(&c, "hello from the host user's checkout");
    let meta = fs::metadata(src.join("app.py")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    assert!(
        fs::read_to_string(src.join("app.py"))
            .unwrap()
            .contains("host user's checkout")
    );
    // A new directory, over WebDAV, belongs to the host user too.
    let (_, code) = curl(&[
        "--digest",
        "-u",
        "dev:secret",
        "-X",
        "MKCOL",
        &c.url(8081, "/webdav/static/"),
    ]);
    assert_eq!(code, "201");
    let meta = fs::metadata(src.join("static")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    let uids = uids(&c);
    assert!(
        uids.lines()
            .all(|l| l.split_whitespace().nth(1) == Some("1000")),
        "{uids}"
    );
    let (took, code) = c.stop();
    println!("compose: podman stop took {:.2}s", took.as_secs_f64());
    assert_eq!(code, 0, "{}", c.logs());
}

/// A compose project of a test, taken down at the end whatever happens.
struct Compose<'a> {
    podman: &'a Podman,
    dir: PathBuf,
    name: String,
    /// APP_PORT and WEBDAV_PORT on the host.
    ports: (u16, u16),
}

impl Compose<'_> {
    /// `podman-compose -p NAME ARGS...` as the host user 1000:1000; success and output.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self
            .podman
            .tool("podman-compose")
            .current_dir(&self.dir)
            .env("HOST_UID", "1000")
            .env("HOST_GID", "1000")
            .env("APP_PORT", self.ports.0.to_string())
            .env("WEBDAV_PORT", self.ports.1.to_string())
            .args(["-p", &self.name])
            .args(args)
            .output()
            .expect("run podman-compose");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

impl Drop for Compose<'_> {
    fn drop(&mut self) {
        let _ = self.run(&["down", "-t", "0"]);
    }
}

/// OpenShift's arbitrary UID, in group 0: bosun, the app, WebDAV, systemctl and initctl work.
#[test]
fn arbitrary_uid_in_group_0() {
    let Some(p) = podman() else { return };
    let webapp = image(p, "webapp");
    let (_secret, c) = webapp_with_webdav(p, "arbitrary", &webapp, &["--user", "1000680000:0"]);
    let active = c.exec(&["systemctl", "is-active", "webapp", "webdav"]);
    assert_eq!(stdout(&active), "active\nactive\n", "{}", c.logs());
    let status = stdout(&c.exec(&["initctl", "status"]));
    assert!(status.contains("State: running"), "{status}");
    edit_over_webdav(&c, "hello from an arbitrary UID");
    let owner = stdout(&c.exec(&["stat", "-c", "%u:%g", "/opt/app-root/src/app.py"]));
    assert_eq!(owner.trim(), "1000680000:0");
    let logs = c.logs();
    assert!(!logs.contains("warning: /run"), "{logs}");
    assert!(!logs.contains("control socket"), "{logs}");
    let (took, code) = c.stop();
    println!("arbitrary UID: podman stop took {:.2}s", took.as_secs_f64());
    assert_eq!(code, 0, "{logs}");
}

/// Apache on port 8080, never root: as the image's www-data and as an arbitrary UID, with the
/// database password handed over from a podman secret by LoadCredential=; without the secret,
/// apache2.service fails and says why.
#[test]
fn apache_non_root_with_its_password_from_a_secret() {
    let Some(p) = podman() else { return };
    let image = image(p, "apache");
    let secret = format!("bosun-it-db-password-{}", std::process::id());
    let _ = p.run(&["secret", "rm", &secret]);
    let mut create = p
        .command()
        .args(["secret", "create", &secret, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        create.stdin.take().unwrap().write_all(b"s3cret").unwrap();
    }
    assert!(create.wait().unwrap().success());
    let mount = format!("{secret},target=/run/secrets/db-password");
    let sha = "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";
    for (tag, user, who) in [
        ("apache", None, "33:33"),
        ("apache-arbitrary", Some("1000680000:0"), "1000680000:0"),
    ] {
        let mut args = vec!["-p", "127.0.0.1::8080", "--secret", &mount];
        if let Some(user) = user {
            args.extend(["--user", user]);
        }
        args.push(&image);
        let c = Container::run(p, tag, &args);
        c.ready();
        let (body, code) = curl(&[&c.url(8080, "/status")]);
        assert_eq!(code, "200", "{body}\n{}", c.logs());
        assert!(
            body.contains(&format!("database password: 6 bytes, sha256 {sha}")),
            "{body}"
        );
        assert!(body.contains(&format!("user: {who}")), "{body}");
        let uids = uids(&c);
        assert!(!uids.lines().any(|l| l.contains("\t0\t")), "{uids}");
        let env = stdout(&c.exec(&["sh", "-c", "cat /proc/[0-9]*/environ | tr '\\0' '\\n'"]));
        assert!(!env.contains("s3cret"), "the secret is in an environment");
        let (took, code) = c.stop();
        println!("{tag}: podman stop took {:.2}s", took.as_secs_f64());
        assert_eq!(code, 0, "{}", c.logs());
    }
    // No secret: the unit fails with the path, the rest of the container runs.
    let c = Container::run(p, "apache-nosecret", &[&image]);
    let failed = wait_until(Duration::from_secs(60), || {
        stdout(&c.exec(&["systemctl", "is-active", "apache2"])) == "failed\n"
    });
    assert!(failed, "{}", c.logs());
    // A failed unit: the container is up but not ready (the readiness probe says no).
    assert!(!c.exec(&["initctl", "is-ready"]).status.success());
    let logs = c.logs();
    assert!(
        logs.contains(
            "apache2.service: Failed to set up credentials: \
             LoadCredential=db-password:/run/secrets/db-password: cannot read it"
        ),
        "{logs}"
    );
    let show = c.exec(&["systemctl", "show", "-p", "Result", "apache2"]);
    assert_eq!(stdout(&show), "Result=exit-code\n");
    let _ = p.run(&["secret", "rm", &secret]);
}

/// `podman run --sdnotify=container`: podman passes its NOTIFY_SOCKET on, and hears READY=1
/// from bosun once the units are up; here podman's own NOTIFY_SOCKET is the test's.
#[test]
fn sdnotify_container_gets_ready() {
    let Some(p) = podman() else { return };
    let image = image(p, "webapp");
    let dir = Scratch::new("sdnotify");
    let path = dir.join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let name = format!("bosun-it-sdnotify-{}", std::process::id());
    let _ = p.run(&["rm", "-f", "--ignore", "-t", "0", &name]);
    let guard = Container {
        podman: p,
        name: name.clone(),
    };
    let mut run = p
        .command()
        .env("NOTIFY_SOCKET", &path)
        .args(["run", "-d", "--name", &name, "--sdnotify=container", &image])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut heard = Vec::new();
    let mut buf = [0u8; 4096];
    while !heard
        .iter()
        .any(|m: &String| m.lines().any(|l| l == "READY=1"))
    {
        match socket.recv(&mut buf) {
            Ok(n) => heard.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(e) => panic!("no READY=1 from the container ({e}); heard {heard:?}"),
        }
    }
    assert!(run.wait().unwrap().success());
    // READY=1 means the units are up.
    let active = guard.exec(&["systemctl", "is-active", "webapp"]);
    assert_eq!(stdout(&active), "active\n", "{heard:?}");
}

/// image/kubernetes/webapp.yaml's Deployment, as OpenShift runs it: every container of the pod
/// as an arbitrary UID in group 0 with the fsGroup kubelet gives the volume, the persistent
/// volume seeded by the init container, the readiness and liveness probes' commands answered,
/// and the WebDAV sidecar's edits reaching the app through the shared volume. podman plays the
/// kubelet's part with `podman pod` (its `kube play` cannot mount a secret volume yet); the
/// containers' commands, environment, ports, mounts and probes are read from the manifest.
#[test]
fn kubernetes_deployment_as_openshift_runs_it() {
    use serde::Deserialize;
    use serde_norway::Value;
    let Some(p) = podman() else { return };
    let image = image(p, "webapp");
    let text = fs::read_to_string(examples().join("kubernetes/webapp.yaml")).unwrap();
    let docs: Vec<Value> = serde_norway::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap())
        .collect();
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "Deployment", "Service"]);
    let pod = &docs[1]["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], Value::Bool(true));
    assert!(!text.contains("runAsUser:"), "OpenShift chooses the UID");
    let str_list = |v: &Value| -> Vec<String> {
        v.as_sequence()
            .map(|s| s.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let (uid, fs_group) = ("1000680000", "1000680000");
    let user = format!("{uid}:0");

    // The volumes: the claim is a directory kubelet gave to the fsGroup (setgid, group-writable),
    // the secret a read-only directory with .htdigest.
    let dir = Scratch::new("kube");
    let claim = dir.join("claim");
    fs::create_dir(&claim).unwrap();
    nix::unistd::chown(&claim, None, Some(1000680000.into())).unwrap();
    fs::set_permissions(&claim, std::os::unix::fs::PermissionsExt::from_mode(0o2775)).unwrap();
    let secret = dir.join("secret");
    fs::create_dir(&secret).unwrap();
    fs::rename(htdigest(&dir), secret.join(".htdigest")).unwrap();
    let source_of = |volume: &str| -> PathBuf {
        let v = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == volume)
            .unwrap_or_else(|| panic!("no volume {volume}"));
        if v["persistentVolumeClaim"]["claimName"] == "webapp-src" {
            claim.clone()
        } else if v["secret"]["secretName"] == "webapp-webdav" {
            secret.clone()
        } else {
            panic!("volume {volume}: {v:?}")
        }
    };
    // podman run arguments for one container of the manifest.
    let args_of = |c: &Value| -> Vec<String> {
        let manifest_image = c["image"].as_str().unwrap();
        assert!(
            manifest_image.contains("bosun-example/webapp"),
            "{manifest_image}"
        );
        let mut args = vec![
            "--user".to_owned(),
            user.clone(),
            "--group-add".to_owned(),
            fs_group.to_owned(),
        ];
        for m in c["volumeMounts"].as_sequence().into_iter().flatten() {
            let ro = if m["readOnly"] == Value::Bool(true) {
                ":ro"
            } else {
                ""
            };
            args.extend([
                "-v".to_owned(),
                format!(
                    "{}:{}{ro}",
                    source_of(m["name"].as_str().unwrap()).display(),
                    m["mountPath"].as_str().unwrap()
                ),
            ]);
        }
        for e in c["env"].as_sequence().into_iter().flatten() {
            args.extend([
                "-e".to_owned(),
                format!(
                    "{}={}",
                    e["name"].as_str().unwrap(),
                    e["value"].as_str().unwrap()
                ),
            ]);
        }
        let command = str_list(&c["command"]);
        if !command.is_empty() {
            args.extend([
                "--entrypoint".to_owned(),
                serde_json::to_string(&command).unwrap(),
            ]);
        }
        args.push(image.clone());
        args.extend(str_list(&c["args"]));
        args
    };

    let name = format!("bosun-it-kube-{}", std::process::id());
    let mut create = vec!["pod", "create", "--name", &name];
    let ports: Vec<String> = pod["containers"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|c| c["ports"].as_sequence().cloned().unwrap_or_default())
        .map(|port| format!("127.0.0.1::{}", port["containerPort"].as_u64().unwrap()))
        .collect();
    for port in &ports {
        create.extend(["-p", port]);
    }
    let _ = p.run(&["pod", "rm", "-f", "--ignore", &name]);
    p.ok(&create);
    struct Pod<'a>(&'a Podman, String);
    impl Drop for Pod<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&["pod", "rm", "-f", "-t", "0", &self.1]);
        }
    }
    let _pod = Pod(p, name.clone());
    for c in pod["initContainers"].as_sequence().unwrap() {
        let mut args = vec![
            "run".to_owned(),
            "--rm".to_owned(),
            "--pod".to_owned(),
            name.clone(),
        ];
        args.extend(args_of(c));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        p.ok(&args);
    }
    assert!(
        claim.join("app.py").is_file(),
        "the init container seeded the volume"
    );
    let mut containers = Vec::new();
    for c in pod["containers"].as_sequence().unwrap() {
        let cname = format!("{name}-{}", c["name"].as_str().unwrap());
        let mut args = vec![
            "run".to_owned(),
            "-d".to_owned(),
            "--pod".to_owned(),
            name.clone(),
            "--name".to_owned(),
            cname.clone(),
        ];
        args.extend(args_of(c));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        p.ok(&args);
        containers.push((
            c,
            Container {
                podman: p,
                name: cname,
            },
        ));
    }
    let (app_spec, app) = &containers[0];
    let probe = |kind: &str| str_list(&app_spec[kind]["exec"]["command"]);
    let readiness = probe("readinessProbe");
    assert_eq!(readiness, ["initctl", "is-ready"]);
    let args: Vec<&str> = readiness.iter().map(String::as_str).collect();
    let ready = wait_until(Duration::from_secs(120), || {
        app.exec(&args).status.success()
    });
    assert!(ready, "not ready:\n{}", app.logs());
    let liveness = probe("livenessProbe");
    let args: Vec<&str> = liveness.iter().map(String::as_str).collect();
    assert!(app.exec(&args).status.success(), "{}", app.logs());
    // The pod's ports are the app's: the WebDAV sidecar's edit reaches the app.
    let infra = p.ok(&["pod", "inspect", "--format", "{{.InfraContainerID}}", &name]);
    let front = Container {
        podman: p,
        name: infra.trim().to_owned(),
    };
    edit_over_webdav(&front, "hello from the pod's volume");
    std::mem::forget(front); // the pod's own container goes with the pod
    let meta = fs::metadata(claim.join("app.py")).unwrap();
    assert_eq!(meta.uid(), 1000680000);
    let (took, code) = app.stop();
    println!(
        "kubernetes pod: app container stopped in {:.2}s",
        took.as_secs_f64()
    );
    assert_eq!(code, 0, "{}", app.logs());
}

//! Issue #4, the execution environment: real processes spawned from parsed unit files, checked
//! from the inside (/proc/self/status, `id`, `umask`, `ulimit`, `env`). Identity tests need
//! root and print SKIP otherwise.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::Path;

use bosun::service::spawn::{self, Launch, Spawned};
use bosun::unit::model::ServiceSection;

use crate::harness::Scratch;

fn service(text: &str) -> ServiceSection {
    let ctx = bosun::unit::SpecifierContext::fixed();
    let name = bosun::unit::UnitName::parse("t.service").unwrap();
    let mut unit = bosun::unit::Unit::new(name.clone());
    let mut applier = bosun::unit::apply::Applier::new(&ctx, &name, None);
    applier.apply_file(&mut unit, Path::new("t.service"), text.as_bytes());
    unit.service().expect("a [Service] section").clone()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Spawn ExecStart= of `text`, wait for it, return (exit code, stdout, stderr, warnings).
fn run(
    text: &str,
    root: &Path,
    unit_env: &[(String, String)],
) -> (i32, String, String, Vec<String>) {
    let svc = service(text);
    let identity = spawn::resolve_identity(&svc.exec).unwrap();
    let manager_env = [("PATH".to_owned(), spawn::SERVICE_PATH.to_owned())];
    let process_env = |name: &str| (name == "FROM_BOSUN").then(|| "passed".to_owned());
    let launch = Launch {
        unit: "t.service",
        exec: &svc.exec,
        root,
        manager_env: &manager_env,
        unit_env,
        process_env: &process_env,
        identity: identity.as_ref(),
        cgroup: None,
        sockets: &[],
        connection: None,
        keeper: None,
        private_tmp: None,
    };
    let Spawned {
        pid,
        stdout,
        stderr,
        warnings,
        keeper: _,
        namespace: _,
    } = spawn::spawn(&svc.exec_start[0], &launch).unwrap();
    let read = |fd: Option<OwnedFd>| {
        fd.map(|fd| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut fs::File::from(fd), &mut s).unwrap();
            s
        })
        .unwrap_or_default()
    };
    let (out, err) = (read(stdout), read(stderr));
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
    let code = match status {
        nix::sys::wait::WaitStatus::Exited(_, c) => c,
        other => panic!("{other:?}\n{out}\n{err}"),
    };
    (code, out, err, warnings)
}

#[test]
fn environment_is_merged_in_systemd_order() {
    let dir = Scratch::new("env");
    fs::create_dir_all(dir.join("etc")).unwrap();
    fs::write(
        dir.join("etc/t.env"),
        "# comment\nFROM_FILE=file\nBOTH=file\n",
    )
    .unwrap();
    let unit = "[Service]\n\
        Environment=BOTH=unit ONLY_UNIT=unit \"SPACED=a b\" GONE=x\n\
        EnvironmentFile=/etc/t.env\nEnvironmentFile=-/etc/missing.env\n\
        PassEnvironment=FROM_BOSUN NOT_SET\n\
        UnsetEnvironment=GONE\n\
        ExecStart=/usr/bin/env\n";
    let unit_env = [
        ("INVOCATION_ID".to_owned(), "abc".to_owned()),
        ("ONLY_UNIT".to_owned(), "run".to_owned()),
    ];
    let (code, out, _, _) = run(unit, dir.path(), &unit_env);
    assert_eq!(code, 0, "{out}");
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "BOTH=file",
            "FROM_BOSUN=passed",
            "FROM_FILE=file",
            "INVOCATION_ID=abc",
            "ONLY_UNIT=unit",
            &format!("PATH={}", spawn::SERVICE_PATH),
            "SPACED=a b",
        ]
    );
}

#[test]
fn argv_expands_variables_as_systemd_does() {
    let dir = Scratch::new("argv");
    let unit = "[Service]\nEnvironment=\"WORDS=one two\" ONE=1\n\
        ExecStart=/bin/sh -c 'printf \"[%%s]\" \"$@\"' sh $WORDS ${WORDS} x${ONE}y $$lit\n";
    let (code, out, _, _) = run(unit, dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(out, "[one][two][one two][x1y][$lit]");
}

#[test]
fn identity_umask_nice_limits_and_directory() {
    if !is_root() {
        println!("SKIP: not root; User=/Group= spawn test not run");
        return;
    }
    let dir = Scratch::new("identity");
    let unit = "[Service]\nUser=nobody\nGroup=nogroup\nSupplementaryGroups=daemon\n\
        UMask=0027\nNice=7\nLimitNOFILE=1234:2345\nWorkingDirectory=/tmp\n\
        ExecStart=/bin/sh -c 'echo $(id -u) $(id -g) $(id -G); umask; \
        cut -d\" \" -f19 /proc/self/stat; ulimit -Sn; ulimit -Hn; pwd; echo $USER $HOME; \
        ps -o sid= -p $$$$ | tr -d \" \"; echo $$$$'\n";
    let (code, out, err, warnings) = run(unit, dir.path(), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(warnings.is_empty(), "{warnings:?}");
    let lines: Vec<&str> = out.lines().collect();
    let nogroup = nix::unistd::Group::from_name("nogroup")
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    let daemon = nix::unistd::Group::from_name("daemon")
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    let ids: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(ids[..2], ["65534", &nogroup.to_string()[..]], "{out}");
    assert!(
        ids[2..].contains(&&daemon.to_string()[..]),
        "SupplementaryGroups: {out}"
    );
    assert_eq!(lines[1..6], ["0027", "7", "1234", "2345", "/tmp"], "{out}");
    assert_eq!(lines[6], "nobody /nonexistent");
    assert_eq!(
        lines.get(7),
        lines.get(8),
        "a service leads its own session: {out}"
    );
}

#[test]
fn streams_go_to_pipes_files_or_nowhere() {
    let dir = Scratch::new("streams");
    fs::create_dir_all(dir.join("log")).unwrap();
    fs::write(dir.join("log/app.log"), "old\n").unwrap();
    let (code, out, err, _) = run(
        "[Service]\nExecStart=/bin/sh -c 'echo out; echo err >&2'\n",
        dir.path(),
        &[],
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "out\n", "err\n"));
    let (code, out, err, _) = run(
        "[Service]\nStandardOutput=append:/log/app.log\nStandardError=null\n\
         ExecStart=/bin/sh -c 'echo out; echo err >&2'\n",
        dir.path(),
        &[],
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(
        fs::read_to_string(dir.join("log/app.log")).unwrap(),
        "old\nout\n"
    );
    let (_, _, _, _) = run(
        "[Service]\nStandardOutput=truncate:/log/app.log\nExecStart=/bin/echo new\n",
        dir.path(),
        &[],
    );
    assert_eq!(
        fs::read_to_string(dir.join("log/app.log")).unwrap(),
        "new\n"
    );
}

#[test]
fn spawn_failures_name_the_problem() {
    let dir = Scratch::new("fail");
    let svc = service("[Service]\nExecStart=no-such-program-anywhere\nUser=no-such-user-here\n");
    let err = spawn::resolve_identity(&svc.exec).unwrap_err();
    assert_eq!(err.to_string(), "User=no-such-user-here: no such user");
    let svc = service("[Service]\nExecStart=no-such-program-anywhere\n");
    let env = |_: &str| None;
    let launch = Launch {
        unit: "t.service",
        exec: &svc.exec,
        root: dir.path(),
        manager_env: &[],
        unit_env: &[],
        process_env: &env,
        identity: None,
        cgroup: None,
        sockets: &[],
        connection: None,
        keeper: None,
        private_tmp: None,
    };
    let err = spawn::spawn(&svc.exec_start[0], &launch).unwrap_err();
    assert_eq!(err.errno(), libc::ENOENT);
    assert!(
        err.to_string()
            .starts_with("executable \"no-such-program-anywhere\" not found in /usr/local/sbin:"),
        "{err}"
    );
    let script = dir.join("not-executable");
    fs::write(&script, "#!/bin/sh\n").unwrap();
    let svc = service(&format!("[Service]\nExecStart={}\n", script.display()));
    let launch = Launch {
        exec: &svc.exec,
        root: Path::new("/"),
        ..launch
    };
    let err = spawn::spawn(&svc.exec_start[0], &launch).unwrap_err();
    assert_eq!(err.errno(), libc::EACCES, "{err}");
}

#[test]
fn directories_and_credentials_are_made_for_the_unit() {
    let dir = Scratch::new("dirs");
    fs::create_dir_all(dir.join("secrets")).unwrap();
    fs::write(dir.join("secrets/db"), "hunter2").unwrap();
    let svc = service(
        "[Service]\nExecStart=/bin/true\nRuntimeDirectory=app app/sub\nRuntimeDirectoryMode=0750\n\
         StateDirectory=app\nLoadCredential=db:/secrets/db\nSetCredential=token:abc\n",
    );
    let env = spawn::make_directories(&svc.exec, dir.path(), None).unwrap();
    assert_eq!(
        env,
        [
            (
                "RUNTIME_DIRECTORY".to_owned(),
                "/run/app:/run/app/sub".to_owned()
            ),
            ("STATE_DIRECTORY".to_owned(), "/var/lib/app".to_owned()),
        ]
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        (mode("run/app"), mode("run/app/sub"), mode("var/lib/app")),
        (0o750, 0o750, 0o755)
    );
    let store = std::path::Path::new("/run/credentials/@system");
    let cred = spawn::write_credentials("t.service", &svc.exec, dir.path(), None, store).unwrap();
    assert_eq!(
        cred,
        Some((
            "CREDENTIALS_DIRECTORY".to_owned(),
            "/run/credentials/t.service".to_owned()
        ))
    );
    let cdir = dir.join("run/credentials/t.service");
    assert_eq!(fs::read_to_string(cdir.join("db")).unwrap(), "hunter2");
    assert_eq!(fs::read_to_string(cdir.join("token")).unwrap(), "abc");
    assert_eq!(
        (
            mode("run/credentials/t.service"),
            mode("run/credentials/t.service/db")
        ),
        (0o700, 0o400)
    );
    // A missing credential source fails the start, naming the file: status 243/CREDENTIALS.
    let svc = service("[Service]\nExecStart=/bin/true\nLoadCredential=x:/secrets/missing\n");
    let err =
        spawn::write_credentials("t.service", &svc.exec, dir.path(), None, store).unwrap_err();
    assert!(
        err.to_string()
            == "Failed to set up credentials: LoadCredential=x:/secrets/missing: cannot read it",
        "{err}"
    );
    assert_eq!(err.exit_status(), 243);
    // A name (no path, or a relative one) is looked up among the credentials handed to
    // bosun; one that is not there is left out, no error (systemd 252).
    let svc = service(
        "[Service]\nExecStart=/bin/true\nLoadCredential=absent\nLoadCredential=db\n\
         LoadCredential=copy:db\n",
    );
    let store = std::path::Path::new("/secrets");
    spawn::write_credentials("n.service", &svc.exec, dir.path(), None, store).unwrap();
    let cdir = dir.join("run/credentials/n.service");
    let mut names: Vec<String> = fs::read_dir(&cdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["copy", "db"]);
    assert_eq!(fs::read_to_string(cdir.join("copy")).unwrap(), "hunter2");
}

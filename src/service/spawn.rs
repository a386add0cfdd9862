//! Turning one command of a unit into a running process, as systemd.exec(5) describes: the
//! environment (in systemd's merge order), the identity (User=, Group=, the user's groups and
//! SupplementaryGroups=), WorkingDirectory=, UMask=, Nice=, OOMScoreAdjust=, Limit*=, the
//! standard streams, the per-unit directories and credentials. Everything is prepared here in
//! the parent; the child only runs [`crate::sys::ChildSetup`]. Returns the pid and the read ends
//! of the output pipes; waiting for the process is the reaper's job, never this module's.
//!
//! Settings a container cannot honour as asked (raising a hard limit or lowering nice without
//! the capability) are clamped and reported as warnings, not failures: a unit written for a
//! full system still starts.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio as StdStdio;

use nix::unistd::{Gid, Group, Uid, User};

use super::child::{self, ChildSpec, Environment};
use crate::sys::{ChildSetup, Credentials};
use crate::unit::ExecCommand;
use crate::unit::envfile::{EnvFileError, read_env_files};
use crate::unit::exec::resolve_executable;
use crate::unit::model::{ExecContext, Stdio, WorkingDirectory};

/// systemd's PATH for services (the manager's default).
pub const SERVICE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a command could not be started, naming the unit's setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("User={user}: no such user")]
    UnknownUser { user: String },
    #[error("Group={group}: no such group")]
    UnknownGroup { group: String },
    #[error("looking up {what}")]
    Lookup {
        what: String,
        #[source]
        source: nix::Error,
    },
    #[error("EnvironmentFile=")]
    EnvironmentFile(#[source] EnvFileError),
    #[error(transparent)]
    Seccomp(#[from] super::seccomp::SeccompError),
    #[error("{setting}={path}: cannot open")]
    OpenStream {
        setting: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{setting}={value}: not supported by bosun yet")]
    Unsupported {
        setting: &'static str,
        value: String,
    },
    #[error("{path}: cannot create the {what}")]
    Directory {
        what: &'static str,
        /// The variable of its kind (`RUNTIME_DIRECTORY`, ...).
        var: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: cannot write the credential")]
    Credential {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Failed to set up credentials: LoadCredential={id}:{}: cannot read it", path.display())]
    CredentialSource {
        id: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("executable {path:?} not found in {}", crate::unit::exec::DEFAULT_PATH.join(":"))]
    NotFound { path: String },
    #[error("cannot execute {path}")]
    Exec {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot set up its privileges ({status}/{})", match status {
        213 => "SECUREBITS",
        217 => "USER",
        227 => "NO_NEW_PRIVILEGES",
        _ => "CAPABILITIES",
    })]
    Privileges {
        path: PathBuf,
        status: i32,
        #[source]
        source: io::Error,
    },
    #[error("cannot set up its mount namespace (226/NAMESPACE)")]
    Namespace(#[from] super::namespace::NamespaceError),
    #[error("cannot create a pipe")]
    Pipe(#[source] nix::Error),
    #[error("cannot hand over the socket")]
    Socket(#[source] io::Error),
}

impl SpawnError {
    /// An errno for the state machine's [`crate::service::state::Event::SpawnFailed`].
    pub fn errno(&self) -> i32 {
        match self {
            SpawnError::NotFound { .. } => libc::ENOENT,
            SpawnError::Exec { source, .. } | SpawnError::Privileges { source, .. } => {
                source.raw_os_error().unwrap_or(libc::EIO)
            }
            SpawnError::UnknownUser { .. } | SpawnError::UnknownGroup { .. } => libc::ESRCH,
            _ => libc::EIO,
        }
    }

    /// The executable is not there (not found in the search path, or an absolute path
    /// that does not exist): what the `-` prefix skips.
    pub fn is_missing_executable(&self) -> bool {
        match self {
            SpawnError::NotFound { .. } => true,
            SpawnError::Exec { path, source } => {
                source.raw_os_error() == Some(libc::ENOENT) && fs::symlink_metadata(path).is_err()
            }
            _ => false,
        }
    }

    /// The exit status systemd gives a process whose set-up failed this way before its exec
    /// (exit-status.h), as bosun reports a run that could not be prepared.
    pub fn exit_status(&self) -> i32 {
        match self {
            SpawnError::UnknownUser { .. } | SpawnError::Lookup { .. } => 217, // USER
            SpawnError::UnknownGroup { .. } => 216,                            // GROUP
            SpawnError::Directory { var, .. } => match *var {
                "RUNTIME_DIRECTORY" => 233,
                "STATE_DIRECTORY" => 238,
                "CACHE_DIRECTORY" => 239,
                "LOGS_DIRECTORY" => 240,
                _ => 241, // CONFIGURATION_DIRECTORY
            },
            SpawnError::Credential { .. } | SpawnError::CredentialSource { .. } => 243,
            SpawnError::Seccomp(_) => 228, // SECCOMP
            SpawnError::Privileges { status, .. } => *status,
            SpawnError::Namespace(_) => super::namespace::EXIT_NAMESPACE,
            SpawnError::OpenStream { setting, .. } => match *setting {
                "StandardInput" => 208,
                "StandardOutput" => 209,
                _ => 222, // STDERR
            },
            _ => 203, // EXEC
        }
    }
}

/// Who a unit's processes run as, resolved from User=/Group=.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
    /// The user's groups (as initgroups(3) computes them) plus SupplementaryGroups=.
    pub groups: Vec<u32>,
    pub home: PathBuf,
    pub shell: PathBuf,
}

/// Resolve User=, Group= and SupplementaryGroups=. None when the unit names no user or group
/// (it runs as bosun does).
pub fn resolve_identity(exec: &ExecContext) -> Result<Option<Identity>, SpawnError> {
    let lookup = |what: &str| {
        let what = what.to_owned();
        move |source| SpawnError::Lookup { what, source }
    };
    let (user, uid, primary_gid, home, shell) = match &exec.user {
        None if exec.group.is_none() && exec.supplementary_groups.is_empty() => return Ok(None),
        None => {
            let uid = Uid::current();
            let entry = User::from_uid(uid).map_err(lookup("the current user"))?;
            let (name, home, shell) = entry.map_or(
                (
                    uid.to_string(),
                    PathBuf::from("/"),
                    PathBuf::from("/bin/sh"),
                ),
                |u| (u.name, u.dir, u.shell),
            );
            (name, uid.as_raw(), Gid::current().as_raw(), home, shell)
        }
        Some(name) => {
            let entry = match name.parse::<u32>() {
                Ok(uid) => User::from_uid(Uid::from_raw(uid)).map_err(lookup(name))?,
                Err(_) => Some(
                    User::from_name(name)
                        .map_err(lookup(name))?
                        .ok_or_else(|| SpawnError::UnknownUser { user: name.clone() })?,
                ),
            };
            match entry {
                Some(u) => (u.name, u.uid.as_raw(), u.gid.as_raw(), u.dir, u.shell),
                // A numeric user with no passwd entry: its own number as group, as containers
                // with arbitrary UIDs need.
                None => {
                    let uid = name.parse::<u32>().unwrap_or(0);
                    (
                        name.clone(),
                        uid,
                        uid,
                        PathBuf::from("/"),
                        PathBuf::from("/bin/sh"),
                    )
                }
            }
        }
    };
    let group_id = |name: &str| -> Result<u32, SpawnError> {
        if let Ok(gid) = name.parse::<u32>() {
            return Ok(gid);
        }
        Group::from_name(name)
            .map_err(lookup(name))?
            .map(|g| g.gid.as_raw())
            .ok_or_else(|| SpawnError::UnknownGroup {
                group: name.to_owned(),
            })
    };
    let gid = match &exec.group {
        Some(group) => group_id(group)?,
        None => primary_gid,
    };
    let mut groups = match CString::new(user.as_bytes()) {
        Ok(c) if exec.user.is_some() => nix::unistd::getgrouplist(&c, Gid::from_raw(gid))
            .map(|g| g.into_iter().map(Gid::as_raw).collect())
            .unwrap_or_else(|_| vec![gid]),
        _ => vec![gid],
    };
    for extra in &exec.supplementary_groups {
        let g = group_id(extra)?;
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    Ok(Some(Identity {
        user,
        uid,
        gid,
        groups,
        home,
        shell,
    }))
}

/// The identity of a service that names no User= or Group= when bosun runs such services as
/// the host's user (BOSUN_RUN_AS, PUID/PGID): that uid and gid and no other group, with the
/// name, home and shell of the uid's passwd entry when it has one (it need not).
pub fn host_identity(uid: u32, gid: u32) -> Identity {
    let entry = User::from_uid(Uid::from_raw(uid)).ok().flatten();
    let (user, home, shell) = entry.map_or_else(
        || {
            (
                uid.to_string(),
                PathBuf::from("/"),
                PathBuf::from("/bin/sh"),
            )
        },
        |u| (u.name, u.dir, u.shell),
    );
    Identity {
        user,
        uid,
        gid,
        groups: vec![gid],
        home,
        shell,
    }
}

/// Everything about the run a command belongs to that is not in the unit file.
pub struct Launch<'a> {
    /// The unit's name (credentials directory, messages).
    pub unit: &'a str,
    pub exec: &'a ExecContext,
    /// The filesystem root unit paths are relative to ("/" in production).
    pub root: &'a Path,
    /// The manager's environment for services (`systemctl set-environment`), PATH included.
    pub manager_env: &'a [(String, String)],
    /// Variables bosun sets for this run: INVOCATION_ID, NOTIFY_SOCKET, MAINPID,
    /// SERVICE_RESULT, EXIT_CODE, EXIT_STATUS, ...
    pub unit_env: &'a [(String, String)],
    /// bosun's own environment, where PassEnvironment= takes its variables from.
    pub process_env: &'a dyn Fn(&str) -> Option<String>,
    pub identity: Option<&'a Identity>,
    /// The unit's cgroup to join (cgroup v2 mode).
    pub cgroup: Option<CString>,
    /// Sockets handed over (socket activation): passed as 3, 4, ... with LISTEN_FDS,
    /// LISTEN_PID and LISTEN_FDNAMES; empty for commands other than the main one.
    pub sockets: &'a [(OwnedFd, String)],
    /// The connection of an `Accept=yes` socket: `StandardInput=socket` and
    /// `StandardOutput=socket` use it.
    pub connection: Option<&'a OwnedFd>,
    /// PID 1's keeper socket, when the command is to run under a keeper (no cgroup, and a
    /// service whose daemons leave their starter: see [`crate::sys::Keeper`]).
    pub keeper: Option<std::os::fd::BorrowedFd<'a>>,
    /// The run's PrivateTmp= directories, made at its start.
    pub private_tmp: Option<&'a super::namespace::PrivateTmp>,
}

impl std::fmt::Debug for Launch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launch")
            .field("unit", &self.unit)
            .field("root", &self.root)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// A started process.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    /// The keeper it runs under, if any.
    pub keeper: Option<i32>,
    /// Read ends of the stdout/stderr pipes, for the log.
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// Settings clamped to what the container allows, to log once.
    pub warnings: Vec<String>,
    /// Its mount namespace (/proc/PID/ns/mnt, opened once it runs), when it got one.
    pub namespace: Option<OwnedFd>,
}

/// The environment of a command, in systemd's order: the manager's, then the run's own
/// variables (and USER/LOGNAME/HOME/SHELL when User= is set), PassEnvironment=, Environment=,
/// EnvironmentFile= (later wins), and finally UnsetEnvironment=.
pub fn environment(launch: &Launch<'_>) -> Result<Vec<(String, String)>, SpawnError> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut set = |k: &str, v: &str| {
        env.insert(k.to_owned(), v.to_owned());
    };
    for (k, v) in launch.manager_env {
        set(k, v);
    }
    if let Some(id) = launch.identity.filter(|_| launch.exec.user.is_some()) {
        set("USER", &id.user);
        set("LOGNAME", &id.user);
        set("HOME", &id.home.to_string_lossy());
        set("SHELL", &id.shell.to_string_lossy());
    }
    for (k, v) in launch.unit_env {
        set(k, v);
    }
    for name in &launch.exec.pass_environment {
        if let Some(v) = (launch.process_env)(name) {
            set(name, &v);
        }
    }
    for (k, v) in &launch.exec.environment {
        set(k, v);
    }
    let from_files = read_env_files(&launch.exec.environment_files, launch.root)
        .map_err(SpawnError::EnvironmentFile)?;
    for (k, v) in from_files {
        set(&k, &v);
    }
    for unset in &launch.exec.unset_environment {
        match unset.split_once('=') {
            Some((k, v)) => {
                if env.get(k).is_some_and(|cur| cur == v) {
                    env.remove(k);
                }
            }
            None => {
                env.remove(unset.as_str());
            }
        }
    }
    Ok(env.into_iter().collect())
}

/// Start `command` of the unit described by `launch`.
pub fn spawn(command: &ExecCommand, launch: &Launch<'_>) -> Result<Spawned, SpawnError> {
    let env = environment(launch)?;
    let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let argv = command.expand_argv(&lookup);
    let executable =
        resolve_executable(&command.path, launch.root).ok_or_else(|| SpawnError::NotFound {
            path: command.path.clone(),
        })?;
    let mut warnings = Vec::new();
    let exec = launch.exec;
    // `+` and `!` both leave User=/Group=/SupplementaryGroups= unapplied (systemd.service(5)
    // "Special executable prefixes"); `+` also lifts the privilege steps below. `!!`
    // is `!` only on a kernel without ambient capabilities, which bosun does not run on.
    let privileged = command.flags.full_privileges || command.flags.no_setuid;

    let mut spec = ChildSpec::new(&executable, Vec::new());
    if let Some((argv0, rest)) = argv.split_first() {
        spec.argv0 = Some(argv0.into());
        spec.args = rest.iter().map(Into::into).collect();
    }
    // With sockets to hand over, the child installs the environment itself (it alone knows
    // LISTEN_PID); otherwise the spec carries it.
    let pass_fds = if launch.sockets.is_empty() {
        spec.env = Environment::Exactly(env.iter().map(|(k, v)| (k.into(), v.into())).collect());
        None
    } else {
        spec.env = Environment::SetByChild;
        let mut env = env.clone();
        env.push(("LISTEN_FDS".into(), launch.sockets.len().to_string()));
        let names: Vec<&str> = launch.sockets.iter().map(|(_, n)| n.as_str()).collect();
        env.push(("LISTEN_FDNAMES".into(), names.join(":")));
        let fds: Vec<std::os::fd::BorrowedFd<'_>> = launch
            .sockets
            .iter()
            .map(|(fd, _)| std::os::fd::AsFd::as_fd(fd))
            .collect();
        Some(crate::sys::ListenFds::new(&fds, &env).map_err(SpawnError::Socket)?)
    };

    let identity = if privileged { None } else { launch.identity };
    // `+` lifts every sandboxing step; `!` only the uid change.
    let user_namespace = match command.flags.full_privileges {
        true => None,
        false => super::userns::plan(exec, identity.map(|id| (id.uid, id.gid))),
    };
    let privileges = (!command.flags.full_privileges)
        .then(|| super::privs::plan(exec, identity.map(|id| id.uid), user_namespace.is_some()))
        .flatten();
    let caps = super::privs::own_capabilities("CapEff");
    let namespace = match command.flags.full_privileges {
        true => None,
        false => super::namespace::plan(exec, launch.root, launch.private_tmp)?,
    };
    // What each mount step is about, to name the one that fails in the child.
    let mounts = namespace.as_ref().map(super::namespace::RunPlan::labels);
    let (stdout, stderr) = plan_streams(exec, launch.root, launch.connection, &mut spec)?;
    let other_namespaces = match command.flags.full_privileges {
        true => 0,
        false => super::netns::plan(exec),
    };
    let setup = ChildSetup {
        other_namespaces,
        user_namespace: user_namespace.map(super::userns::entry),
        keeper: None,
        cgroup_procs: launch.cgroup.clone(),
        new_session: true,
        take_terminal: false,
        limits: super::limits::limits(exec, caps & (1 << CAP_SYS_RESOURCE) != 0, &mut warnings),
        nice: exec.nice.filter(|&n| {
            let ok = n >= current_nice() || caps & (1 << CAP_SYS_NICE) != 0;
            if !ok {
                warnings.push(format!(
                    "Nice={n}: lowering the nice value needs CAP_SYS_NICE, which this \
                     container lacks; running at the current value"
                ));
            }
            ok
        }),
        oom_score_adj: exec.oom_score_adjust.and_then(|score| {
            if score < current_oom_score_adj() && caps & (1 << CAP_SYS_RESOURCE) == 0 {
                warnings.push(format!(
                    "OOMScoreAdjust={score}: lowering it needs CAP_SYS_RESOURCE, which this \
                     container lacks; keeping the current value"
                ));
                return None;
            }
            CString::new(score.to_string()).ok()
        }),
        umask: Some(exec.umask.unwrap_or(0o022)),
        credentials: identity.map(|id| Credentials {
            uid: id.uid,
            gid: id.gid,
            groups: id.groups.clone(),
        }),
        chdir: working_directory(exec, identity),
        pass_fds,
        ignore_sigpipe: exec.ignore_sigpipe.unwrap_or(true),
        // Not a sandboxing step: `+` keeps it, as in systemd 252.
        personality: exec.personality,
        seccomp: super::seccomp::compile(exec, !command.flags.full_privileges)?,
        seccomp_no_new_privs: super::seccomp::needs_no_new_privs(caps, identity.map(|i| i.uid)),
        privileges,
        namespace: namespace.map(super::namespace::RunPlan::into_step),
    };
    spec.setup = setup;
    // The spawner drops our copies of the child's pipe ends.
    let exec_failure =
        |failure: child::ExecFailure| match crate::sys::setup_failure(&failure.source) {
            Some((super::namespace::EXIT_NAMESPACE, source)) => {
                SpawnError::Namespace(super::namespace::failure(mounts.as_deref(), &source))
            }
            Some((status, source)) => SpawnError::Privileges {
                path: failure.program,
                status,
                source,
            },
            None => SpawnError::Exec {
                path: failure.program,
                source: failure.source,
            },
        };
    // An init script keeps PID 1 as its parent, as under systemd: the LSB functions of Debian
    // (/lib/lsb/init-functions.d/40-systemd) and Fedora hand a script whose parent is not
    // PID 1 over to `systemctl` (which would wait for the job running the script).
    let keeper = launch.keeper.filter(|_| !is_init_script(&executable));
    let (pid, keeper) = match keeper {
        Some(report) => {
            let report = report.try_clone_to_owned().map_err(SpawnError::Socket)?;
            let kept = child::spawn_kept(spec, report).map_err(exec_failure)?;
            (kept.pid, Some(kept.keeper))
        }
        None => (child::spawn(spec).map_err(exec_failure)?, None),
    };
    // The child has run its exec (the spawner waits for it): the namespace is the command's.
    let namespace = mounts.and_then(|_| fs::File::open(format!("/proc/{pid}/ns/mnt")).ok());
    Ok(Spawned {
        pid,
        keeper,
        stdout,
        stderr,
        warnings,
        namespace: namespace.map(OwnedFd::from),
    })
}

/// Whether `path` (on disk) is a SysV init script: in /etc/init.d or /etc/rc.d/init.d once
/// its symbolic links are followed, as the LSB functions judge it (`readlink -f`).
fn is_init_script(path: &Path) -> bool {
    let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    real.parent()
        .is_some_and(|dir| dir.ends_with("etc/init.d") || dir.ends_with("etc/rc.d/init.d"))
}

/// Wire stdin, stdout and stderr; returns the read ends of the pipes that feed bosun's log.
fn plan_streams(
    exec: &ExecContext,
    root: &Path,
    connection: Option<&OwnedFd>,
    spec: &mut ChildSpec,
) -> Result<(Option<OwnedFd>, Option<OwnedFd>), SpawnError> {
    // The connection, for each stream that names it; blocking, as a program reading its
    // stdin expects (the listening side accepted it non-blocking).
    let socket = |setting: &'static str| -> Result<StdStdio, SpawnError> {
        let fd = connection
            .ok_or(SpawnError::Unsupported {
                setting,
                value: "socket (only the main process of a socket-activated service with \
                        Accept=yes has a connection)"
                    .into(),
            })?
            .try_clone()
            .map_err(SpawnError::Socket)?;
        let flags = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GETFL)
            .map_err(|e| SpawnError::Socket(e.into()))?;
        let blocking =
            nix::fcntl::OFlag::from_bits_truncate(flags) & !nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(blocking))
            .map_err(|e| SpawnError::Socket(e.into()))?;
        Ok(StdStdio::from(fd))
    };
    let on_disk = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    let open = |setting: &'static str, path: &Path, options: &mut fs::OpenOptions| {
        options
            .open(on_disk(path))
            .map_err(|source| SpawnError::OpenStream {
                setting,
                path: path.to_owned(),
                source,
            })
    };
    let stdin = match exec.standard_input.as_ref().unwrap_or(&Stdio::Null) {
        Stdio::Null => StdStdio::null(),
        Stdio::Tty | Stdio::Console | Stdio::Inherit => StdStdio::inherit(),
        Stdio::File(p) => {
            StdStdio::from(open("StandardInput", p, fs::OpenOptions::new().read(true))?)
        }
        // As systemd: a command that has no connection (ExecStartPre=, ...) reads nothing.
        Stdio::Socket if connection.is_none() => StdStdio::null(),
        Stdio::Socket => socket("StandardInput")?,
        other => {
            return Err(SpawnError::Unsupported {
                setting: "StandardInput",
                value: format!("{other:?}").to_lowercase(),
            });
        }
    };
    spec.stdin = Some(stdin);

    // Output streams: `inherit` on stderr means "like stdout".
    // Unset, it follows a socket stdin (systemd: `inherit` when StandardInput=socket).
    let out_kind = exec.standard_output.clone().unwrap_or_else(|| {
        if exec.standard_input == Some(Stdio::Socket) && connection.is_some() {
            Stdio::Socket
        } else {
            Stdio::Journal
        }
    });
    let err_kind = match exec.standard_error.clone().unwrap_or(Stdio::Inherit) {
        Stdio::Inherit => out_kind.clone(),
        other => other,
    };
    let output =
        |setting: &'static str, kind: &Stdio| -> Result<(StdStdio, Option<OwnedFd>), SpawnError> {
            Ok(match kind {
                Stdio::Journal => {
                    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                        .map_err(SpawnError::Pipe)?;
                    (StdStdio::from(write), Some(read))
                }
                Stdio::Null => (StdStdio::null(), None),
                Stdio::Inherit | Stdio::Tty | Stdio::Console => (StdStdio::inherit(), None),
                Stdio::Socket if connection.is_none() => {
                    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                        .map_err(SpawnError::Pipe)?;
                    (StdStdio::from(write), Some(read))
                }
                Stdio::Socket => (socket(setting)?, None),
                Stdio::File(p) => (
                    StdStdio::from(open(
                        setting,
                        p,
                        fs::OpenOptions::new().write(true).create(true),
                    )?),
                    None,
                ),
                Stdio::Append(p) => (
                    StdStdio::from(open(
                        setting,
                        p,
                        fs::OpenOptions::new().append(true).create(true),
                    )?),
                    None,
                ),
                Stdio::Truncate(p) => (
                    StdStdio::from(open(
                        setting,
                        p,
                        fs::OpenOptions::new()
                            .write(true)
                            .create(true)
                            .truncate(true),
                    )?),
                    None,
                ),
                other => {
                    return Err(SpawnError::Unsupported {
                        setting,
                        value: format!("{other:?}").to_lowercase(),
                    });
                }
            })
        };
    let (out, out_pipe) = output("StandardOutput", &out_kind)?;
    let (err, err_pipe) = output("StandardError", &err_kind)?;
    spec.stdout = Some(out);
    spec.stderr = Some(err);
    Ok((out_pipe, err_pipe))
}

fn working_directory(exec: &ExecContext, identity: Option<&Identity>) -> Option<(CString, bool)> {
    let (dir, missing_ok) = exec.working_directory.as_ref()?;
    let path = match dir {
        WorkingDirectory::Home => {
            identity.map_or_else(|| PathBuf::from("/root"), |i| i.home.clone())
        }
        WorkingDirectory::Path(p) => p.clone(),
    };
    CString::new(path.as_os_str().as_bytes())
        .ok()
        .map(|c| (c, *missing_ok))
}

const CAP_SYS_NICE: u32 = 23;
const CAP_SYS_RESOURCE: u32 = 24;

/// bosun's nice value (field 19 of /proc/self/stat; nix has no getpriority wrapper).
fn current_nice() -> i32 {
    fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            rest.split_whitespace().nth(16)?.parse().ok()
        })
        .unwrap_or(0)
}

fn current_oom_score_adj() -> i32 {
    fs::read_to_string("/proc/self/oom_score_adj")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The per-unit directories of systemd.exec(5) "RuntimeDirectory=": created under `root` with
/// their mode, owned by the unit's user (ConfigurationDirectory= stays root's), and the
/// variables that name them (`RUNTIME_DIRECTORY=/run/a:/run/b`, ...).
pub fn make_directories<'a>(
    exec: &'a ExecContext,
    root: &Path,
    identity: Option<&Identity>,
) -> Result<Vec<(String, String)>, SpawnError> {
    /// One kind of per-unit directory: its variable, base, names, mode, and whether the unit's
    /// user owns it.
    struct Kind<'a> {
        var: &'static str,
        base: &'static str,
        names: &'a [String],
        mode: Option<u32>,
        owned: bool,
    }
    let kind = |var, base, names: &'a [String], mode, owned| Kind {
        var,
        base,
        names,
        mode,
        owned,
    };
    let kinds = [
        kind(
            "RUNTIME_DIRECTORY",
            "/run",
            &exec.runtime_directory,
            exec.runtime_directory_mode,
            true,
        ),
        kind(
            "STATE_DIRECTORY",
            "/var/lib",
            &exec.state_directory,
            exec.state_directory_mode,
            true,
        ),
        kind(
            "CACHE_DIRECTORY",
            "/var/cache",
            &exec.cache_directory,
            exec.cache_directory_mode,
            true,
        ),
        kind(
            "LOGS_DIRECTORY",
            "/var/log",
            &exec.logs_directory,
            exec.logs_directory_mode,
            true,
        ),
        kind(
            "CONFIGURATION_DIRECTORY",
            "/etc",
            &exec.configuration_directory,
            exec.configuration_directory_mode,
            false,
        ),
    ];
    let mut env = Vec::new();
    for Kind {
        var,
        base,
        names,
        mode,
        owned,
    } in kinds
    {
        if names.is_empty() {
            continue;
        }
        let mut paths = Vec::new();
        for name in names {
            let path = Path::new(base).join(name);
            let on_disk = root.join(path.strip_prefix("/").unwrap_or(&path));
            let mode = mode.unwrap_or(0o755);
            let fail = |source| SpawnError::Directory {
                what: "directory",
                var,
                path: on_disk.clone(),
                source,
            };
            fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(&on_disk)
                .map_err(fail)?;
            fs::set_permissions(&on_disk, fs::Permissions::from_mode(mode)).map_err(fail)?;
            if owned && let Some(id) = identity {
                nix::unistd::chown(
                    &on_disk,
                    Some(Uid::from_raw(id.uid)),
                    Some(Gid::from_raw(id.gid)),
                )
                .map_err(|e| fail(e.into()))?;
            }
            paths.push(path.to_string_lossy().into_owned());
        }
        env.push((var.to_owned(), paths.join(":")));
    }
    Ok(env)
}

/// Where the credentials handed to bosun itself are (systemd's "received credentials"):
/// `$CREDENTIALS_DIRECTORY` of bosun's own environment when it names an absolute path (a
/// container manager's, as ConditionCredential= reads it), else `/run/credentials/@system`.
pub fn received_credentials_dir() -> PathBuf {
    std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/run/credentials/@system"))
}

/// LoadCredential= and SetCredential=: write each credential into
/// `ROOT/run/credentials/UNIT/` (mode 0700, files 0400, owned by the unit's user) and return
/// `CREDENTIALS_DIRECTORY`. None when the unit has no credentials.
pub fn write_credentials(
    unit: &str,
    exec: &ExecContext,
    root: &Path,
    identity: Option<&Identity>,
    received_credentials: &Path,
) -> Result<Option<(String, String)>, SpawnError> {
    if exec.load_credentials.is_empty() && exec.set_credentials.is_empty() {
        return Ok(None);
    }
    let dir = PathBuf::from(crate::unit::specifier::credentials_dir(unit));
    let on_disk = root.join(dir.strip_prefix("/").unwrap_or(&dir));
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| SpawnError::Credential { path, source }
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&on_disk)
        .map_err(fail(&on_disk))?;
    let write = |id: &str, data: &[u8]| -> Result<(), SpawnError> {
        let file = on_disk.join(id);
        let _ = fs::set_permissions(&file, fs::Permissions::from_mode(0o600));
        fs::write(&file, data).map_err(fail(&file))?;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o400)).map_err(fail(&file))?;
        if let Some(id) = identity {
            nix::unistd::chown(
                &file,
                Some(Uid::from_raw(id.uid)),
                Some(Gid::from_raw(id.gid)),
            )
            .map_err(|e| fail(&file)(e.into()))?;
        }
        Ok(())
    };
    // SetCredential= first: LoadCredential= of the same ID wins, as in systemd.
    for (id, data) in &exec.set_credentials {
        write(id, data.as_bytes())?;
    }
    for (id, source) in &exec.load_credentials {
        // No path, or a relative one: a credential handed to bosun itself (its own
        // $CREDENTIALS_DIRECTORY, else /run/credentials/@system), and one that is not there
        // is no error (systemd 252 exec_setup_credentials(): missing_ok for a name).
        let name = if source.is_empty() { id } else { source };
        let (from, missing_ok) = if Path::new(name).is_absolute() {
            (PathBuf::from(name), false)
        } else {
            (received_credentials.join(name), true)
        };
        let from_disk = root.join(from.strip_prefix("/").unwrap_or(&from));
        let data = match fs::read(&from_disk) {
            Ok(data) => data,
            Err(e) if missing_ok && e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(SpawnError::CredentialSource {
                    id: id.clone(),
                    path: from.clone(),
                    source,
                });
            }
        };
        write(id, &data)?;
    }
    if let Some(id) = identity {
        nix::unistd::chown(
            &on_disk,
            Some(Uid::from_raw(id.uid)),
            Some(Gid::from_raw(id.gid)),
        )
        .map_err(|e| fail(&on_disk)(e.into()))?;
    }
    Ok(Some((
        "CREDENTIALS_DIRECTORY".to_owned(),
        OsStr::new(&dir).to_string_lossy().into_owned(),
    )))
}

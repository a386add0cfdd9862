//! The janitor: one helper process (bosun itself, as `bosun janitor`, started by PID 1 at the
//! first need) that removes what stopped services leave behind: PrivateTmp='s trees,
//! RuntimeDirectory='s trees (renamed aside first, so that a new start may take the name at
//! once), RemoveIPC='s objects. A service may leave millions of files there; systemd 252 forks
//! a child per removal (asynchronous_rm_rf) so that PID 1 does not wait for them. A fork of PID
//! 1 costs PID 1 the copy of its page tables and a fault on every page it writes afterwards,
//! at each stop of such a unit; a job handed to the janitor costs one send(2).
//!
//! PID 1 sends each job as one packet on a SOCK_SEQPACKET pair and never waits: when the
//! janitor's queue is full, when it cannot be started (no `/proc/self/exe`, fork refused), or
//! when it died and cannot be started again, the job runs in a child of its own as before, and
//! where no child can be forked, in PID 1. The janitor ends when PID 1's end of the pair
//! closes: at shutdown, once the units are stopped, PID 1 closes it and spares the janitor
//! the final SIGTERM, so that the last stops' leftovers are removed too (the stop timeout's
//! SIGKILL still ends it).

use std::cell::RefCell;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg, send, sendmsg,
    socketpair,
};

use super::child::{self, ChildSpec};

/// The first word of the janitor's command line (`bosun janitor`).
pub const WORD: &str = "janitor";

/// The largest job sent as one packet; a larger one (thousands of paths) runs in a child.
const PACKET_MAX: usize = 64 * 1024;

/// What to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Whole trees (each path and everything under it; a path that is gone is no error).
    Trees(Vec<PathBuf>),
    /// RemoveIPC=: every IPC object `uid` or `gid` owns, POSIX ones under `root`.
    Ipc { uid: u32, gid: u32, root: PathBuf },
    /// Spare PrivateTmp= directories for a later start: each path 0700 with a `tmp` 01777 in it
    /// (a path that cannot be made is left; the start that finds it missing makes its own).
    Make(Vec<PathBuf>),
}

impl Job {
    /// One packet: `T` (or `M`) and the paths, each ended by NUL; `I`, uid and gid
    /// (little-endian), the root.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Job::Trees(paths) | Job::Make(paths) => {
                out.push(if matches!(self, Job::Make(_)) {
                    b'M'
                } else {
                    b'T'
                });
                for path in paths {
                    out.extend_from_slice(path.as_os_str().as_bytes());
                    out.push(0);
                }
            }
            Job::Ipc { uid, gid, root } => {
                out.push(b'I');
                out.extend_from_slice(&uid.to_le_bytes());
                out.extend_from_slice(&gid.to_le_bytes());
                out.extend_from_slice(root.as_os_str().as_bytes());
            }
        }
        out
    }

    fn decode(packet: &[u8]) -> Option<Job> {
        let (&kind, rest) = packet.split_first()?;
        match kind {
            b'T' | b'M' => {
                let body = if rest.is_empty() {
                    rest
                } else {
                    rest.strip_suffix(&[0])?
                };
                let paths = body
                    .split(|b| *b == 0)
                    .filter(|p| !p.is_empty())
                    .map(|p| PathBuf::from(OsString::from_vec(p.to_vec())))
                    .collect();
                Some(if kind == b'M' {
                    Job::Make(paths)
                } else {
                    Job::Trees(paths)
                })
            }
            b'I' if rest.len() >= 8 => {
                let uid = u32::from_le_bytes(rest[..4].try_into().ok()?);
                let gid = u32::from_le_bytes(rest[4..8].try_into().ok()?);
                let root = PathBuf::from(OsString::from_vec(rest[8..].to_vec()));
                Some(Job::Ipc { uid, gid, root })
            }
            _ => None,
        }
    }

    /// Do it here.
    pub fn run(&self) {
        match self {
            Job::Trees(paths) => {
                for path in paths {
                    match fs::remove_dir_all(path) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => {
                            crate::log::warn(format_args!("cannot remove {}: {e}", path.display()))
                        }
                        _ => {}
                    }
                }
            }
            Job::Ipc { uid, gid, root } => {
                super::ipc::remove(*uid, *gid, root);
            }
            Job::Make(paths) => {
                for path in paths {
                    let _ = super::namespace::make_private_pair(path);
                }
            }
        }
    }
}

/// PID 1's end of the pair and the janitor's pid.
#[derive(Debug)]
enum State {
    NotStarted,
    Running {
        socket: OwnedFd,
        pid: i32,
    },
    /// It could not be started (said once); jobs run in children of their own.
    Unavailable,
    /// PID 1 is ending: the janitor was told to finish what it holds and end; jobs run in
    /// children of their own.
    Finished,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::NotStarted) };
}

/// Start the janitor: PID 1's end of its socket (non-blocking).
fn start() -> io::Result<(OwnedFd, i32)> {
    let (ours, theirs) = socketpair(
        nix::sys::socket::AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    let flags = nix::fcntl::fcntl(&ours, nix::fcntl::FcntlArg::F_GETFL)?;
    let flags = nix::fcntl::OFlag::from_bits_retain(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&ours, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    let spec = ChildSpec {
        stdin: Some(theirs.into()),
        // Not in the terminal's process group: a Ctrl-C is for the main command.
        process_group: true,
        argv0: Some("bosun".into()),
        // Its work waits for no one: the least CPU when PID 1, services and clients want it
        // (a start's namespace copy and PrivateTmp= trees are let go of while the next
        // start runs).
        setup: crate::sys::ChildSetup {
            nice: Some(19),
            ..crate::sys::ChildSetup::default()
        },
        ..ChildSpec::new("/proc/self/exe", vec![WORD.into()])
    };
    let pid = child::spawn(spec).map_err(|e| io::Error::other(crate::log::error_chain(&e)))?;
    Ok((ours, pid))
}

/// Hand `job` over: to the janitor, else to a child of its own, else done here.
pub fn hand_over(job: Job) {
    let packet = job.encode();
    if packet.len() <= PACKET_MAX && to_janitor(&packet) {
        return;
    }
    if crate::sys::run_detached(&|| job.run()).is_err() {
        job.run();
    }
}

/// Hand `job` to the janitor only: false when it cannot take it (nothing else runs it).
pub fn offer(job: &Job) -> bool {
    let packet = job.encode();
    packet.len() <= PACKET_MAX && to_janitor(&packet)
}

/// Send `packet` to the janitor (started, or started again once, when needed); false when it
/// did not take it.
fn to_janitor(packet: &[u8]) -> bool {
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    with_janitor(&|socket| send(socket.as_raw_fd(), packet, flags))
}

/// Hand something to the janitor with `send` (started, or started again once, when needed);
/// false when it did not take it.
fn with_janitor(send: &dyn Fn(&OwnedFd) -> nix::Result<usize>) -> bool {
    // At the thread's end (PID 1's last drops) the state may be gone already: then not.
    STATE
        .try_with(|state| {
            let Ok(mut state) = state.try_borrow_mut() else {
                return false;
            };
            let state = &mut *state;
            for _ in 0..2 {
                if matches!(state, State::NotStarted) {
                    *state = match start() {
                        Ok((socket, pid)) => State::Running { socket, pid },
                        Err(e) => {
                            crate::log::warn(format_args!(
                                "cannot start the janitor ({e}); stopped services' leftovers are \
                             removed by a child each"
                            ));
                            State::Unavailable
                        }
                    };
                }
                let State::Running { socket, .. } = state else {
                    return false;
                };
                match send(socket) {
                    Ok(_) => return true,
                    // Its queue is full: this job goes to a child; the janitor stays.
                    Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::ENOBUFS) => return false,
                    // It died: start it again, once.
                    Err(_) => *state = State::NotStarted,
                }
            }
            false
        })
        .unwrap_or(false)
}

/// PID 1 is ending (its units are stopped): close its end of the pair, so that the janitor
/// ends once it has done every job it was sent (a stopped unit's PrivateTmp= trees among
/// them), and say its pid, which the final SIGTERM must spare (the stop timeout's SIGKILL does
/// not). None when no janitor runs. Later jobs run in children of their own.
pub fn finish() -> Option<i32> {
    STATE
        .try_with(|state| {
            let mut state = state.try_borrow_mut().ok()?;
            match std::mem::replace(&mut *state, State::Finished) {
                // The socket is closed here: the janitor reads what is queued, then the end.
                State::Running { pid, .. } => Some(pid),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// Close `fd` away from PID 1: a command's mount namespace, held open while it ran, whose
/// last close unmounts every mount in it and waits for an RCU grace period. Sent to the
/// janitor with the packet `C`; closed here when the janitor cannot take it.
pub fn close(fd: OwnedFd) {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [std::io::IoSlice::new(b"C")];
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    // Whether it was taken or not, ours is closed when `fd` goes out of scope.
    with_janitor(&|socket| sendmsg::<()>(socket.as_raw_fd(), &iov, &cmsg, flags, None));
}

/// The janitor's life (`bosun janitor`): take jobs from standard input until PID 1's end
/// closes.
pub fn serve() -> crate::vocab::exit::Exit {
    let input = io::stdin();
    let fd = input.as_fd();
    let mut buf = vec![0u8; PACKET_MAX];
    loop {
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let received = recvmsg::<()>(
            fd.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map(|msg| {
            // Descriptors sent along (a namespace to let go of) are closed here.
            for cmsg in msg.cmsgs().into_iter().flatten() {
                if let ControlMessageOwned::ScmRights(fds) = cmsg {
                    for fd in fds {
                        let _ = nix::unistd::close(fd);
                    }
                }
            }
            msg.bytes
        });
        match received {
            Ok(0) => return crate::vocab::exit::Exit::Success,
            Ok(n) => {
                if let Some(job) = buf.get(..n).and_then(Job::decode) {
                    job.run();
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                crate::log::error(format_args!(
                    "janitor: standard input is not bosun's socket: {e}"
                ));
                return crate::vocab::exit::Exit::Usage;
            }
        }
    }
}

/// Rename `dir` aside into `trash` (same file system) and hand the renamed tree over: the name
/// is free again at once. False when it could not be renamed (the caller removes it itself).
pub fn discard(dir: &Path, trash: &Path) -> bool {
    if fs::create_dir_all(trash).is_err() {
        return false;
    }
    let random: String = crate::vocab::id::random_id().chars().take(12).collect();
    let aside = trash.join(random);
    match fs::rename(dir, &aside) {
        Ok(()) => {
            hand_over(Job::Trees(vec![aside]));
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_survive_their_packet() {
        for job in [
            Job::Trees(vec!["/tmp/a b".into(), "/var/tmp/c".into()]),
            Job::Trees(vec![]),
            Job::Make(vec![
                "/tmp/.bosun-private-x".into(),
                "/var/tmp/.bosun-private-x".into(),
            ]),
            Job::Ipc {
                uid: 101,
                gid: 4_000_000_000,
                root: "/".into(),
            },
        ] {
            assert_eq!(Job::decode(&job.encode()), Some(job));
        }
        for bad in [&b""[..], b"X", b"I\x01\x02", b"Tno-end"] {
            assert_eq!(Job::decode(bad), None, "{bad:?}");
        }
    }
}

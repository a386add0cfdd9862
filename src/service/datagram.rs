//! One datagram read with its sender's credentials (SCM_CREDENTIALS) and the descriptors it
//! carried (SCM_RIGHTS): how the notification socket and the journal's datagram sockets read.
//! Owns the reading only; what a datagram means is its reader's business.

use std::os::fd::OwnedFd;

/// One datagram read by [`recv_datagram`].
#[derive(Debug)]
pub struct Datagram {
    /// Its length, which may exceed the buffer it was read into (then cut to the buffer).
    pub len: usize,
    /// The sender's pid and uid (SCM_CREDENTIALS; the socket must have SO_PASSCRED).
    pub pid: Option<i32>,
    pub uid: Option<u32>,
    /// The descriptors it carried (SCM_RIGHTS, close-on-exec), owned: dropping one closes it.
    pub fds: Vec<OwnedFd>,
}

/// Read one datagram from `socket` into `buf` without waiting, with its sender's credentials
/// and the descriptors it passed (up to 16; the kernel closes any beyond the room given).
/// The notification socket and the journal's datagram sockets read this way.
pub fn recv_datagram(
    socket: std::os::fd::BorrowedFd<'_>,
    buf: &mut [u8],
) -> Result<Datagram, nix::errno::Errno> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(libc::ucred, [std::os::fd::RawFd; 16]);
    let msg = recvmsg::<()>(
        std::os::fd::AsRawFd::as_raw_fd(&socket),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_TRUNC,
    )?;
    let mut out = Datagram {
        len: msg.bytes,
        pid: None,
        uid: None,
        fds: Vec::new(),
    };
    for control in msg.cmsgs()? {
        match control {
            ControlMessageOwned::ScmCredentials(creds) => {
                out.pid = Some(creds.pid());
                out.uid = Some(creds.uid());
            }
            ControlMessageOwned::ScmRights(fds) => {
                out.fds
                    .extend(fds.into_iter().map(crate::sys::take_received));
            }
            _ => {}
        }
    }
    Ok(out)
}

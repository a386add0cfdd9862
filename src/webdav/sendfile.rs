//! File bodies without copying them through user space. hyper writes every body it is given
//! through its own buffers, and has no sendfile; so a file body hands hyper placeholder bytes
//! that point into one never-touched allocation (`mark`), and the connection's I/O
//! ([`Conn`]) recognises them by address and sends that many bytes of the file with
//! sendfile(2) instead. The file was opened by the caller (confined beneath the root as every
//! open is); this file opens nothing, and owns no HTTP: hyper still frames every response.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// Size of the placeholder allocation: the largest piece of a file handed to hyper at once.
const MARK_LEN: usize = 64 << 20;

/// The placeholder bytes. Allocated zeroed (untouched pages of an anonymous mapping, so no
/// memory is used) and never read: only their addresses matter.
fn mark() -> &'static [u8] {
    static MARK: OnceLock<&'static [u8]> = OnceLock::new();
    MARK.get_or_init(|| vec![0u8; MARK_LEN].leak())
}

fn is_mark(slice: &[u8]) -> bool {
    let mark = mark().as_ptr_range();
    !slice.is_empty() && mark.contains(&slice.as_ptr())
}

/// A part of a file still to be sent in place of placeholder bytes.
#[derive(Debug)]
struct Region {
    file: Arc<File>,
    offset: u64,
    left: u64,
}

/// The file regions of one connection, in the order their placeholders will be written.
#[derive(Debug, Clone, Default)]
pub struct Regions(Arc<Mutex<VecDeque<Region>>>);

impl Regions {
    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Region>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A response body of `len` bytes of `file` from `offset`, for a connection served through
/// [`Conn`] with the same [`Regions`].
#[derive(Debug)]
pub struct FileBody {
    regions: Regions,
    file: Option<Arc<File>>,
    offset: u64,
    len: u64,
    given: u64,
}

impl FileBody {
    pub fn new(regions: Regions, file: File, offset: u64, len: u64) -> FileBody {
        FileBody {
            regions,
            file: Some(Arc::new(file)),
            offset,
            len,
            given: 0,
        }
    }

    /// The next placeholder chunk, `None` at the end.
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(file) = self.file.take() {
            // Registered when hyper first asks, so regions queue in the order bodies are
            // written on the connection.
            self.regions.queue().push_back(Region {
                file,
                offset: self.offset,
                left: self.len,
            });
        }
        let left = self.len - self.given;
        if left == 0 {
            return None;
        }
        let n = usize::try_from(left).unwrap_or(MARK_LEN).min(MARK_LEN);
        self.given += n as u64;
        Some(Bytes::from_static(&mark()[..n]))
    }

    pub fn total(&self) -> u64 {
        self.len
    }

    pub fn is_done(&self) -> bool {
        self.given == self.len
    }
}

/// A client connection as hyper sees it: the TCP stream, except that placeholder bytes are
/// replaced by the file regions they stand for, and that a client which takes no byte of a
/// response for `stall_limit` is dropped (a reader that stops reading cannot hold the
/// connection and its file).
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    regions: Regions,
    stall_limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
    /// TCP_CORK is on while a file region that takes more than one sendfile call is sent:
    /// full segments only, the tail pushed when the region ends (as Apache does around
    /// sendfile).
    corked: bool,
}

impl Conn {
    pub fn new(stream: TcpStream, regions: Regions, stall_limit: Duration) -> Conn {
        Conn {
            stream,
            regions,
            stall_limit,
            stalled: None,
            corked: false,
        }
    }

    /// A write that made progress clears the stall clock; one that did not starts it, and
    /// fails with `TimedOut` once it has run out.
    fn watch(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.stall_limit;
        let clock = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match clock.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no byte of the response in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn write_slices(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = self.write_now(cx, bufs);
        self.watch(cx, poll)
    }

    fn write_now(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let plain = bufs.iter().take_while(|b| !is_mark(b)).count();
        if plain > 0 && plain < bufs.len() {
            // The head of a file response, its body right behind: MSG_MORE holds the head
            // back so that it leaves with the file's first bytes, in one segment (a small
            // file's whole answer is one packet, not a head packet and a body packet).
            return self.send_more(cx, &bufs[..plain]);
        }
        if plain > 0 {
            return Pin::new(&mut self.stream).poll_write_vectored(cx, &bufs[..plain]);
        }
        let want: usize = bufs
            .iter()
            .take_while(|b| is_mark(b))
            .map(|b| b.len())
            .sum();
        if want == 0 {
            return Poll::Ready(Ok(0));
        }
        loop {
            std::task::ready!(self.stream.poll_write_ready(cx))?;
            let mut regions = self.regions.queue();
            let Some(region) = regions.front_mut() else {
                return Poll::Ready(Err(io::Error::other(
                    "placeholder bytes without a file region",
                )));
            };
            let count = usize::try_from(region.left).unwrap_or(usize::MAX).min(want);
            let sent = self.stream.try_io(Interest::WRITABLE, || {
                rustix::fs::sendfile(
                    self.stream.as_fd(),
                    region.file.as_fd(),
                    Some(&mut region.offset),
                    count,
                )
                .map_err(io::Error::from)
            });
            match sent {
                // The file shrank under us: the promised length cannot be kept.
                Ok(0) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shrank while being sent",
                    )));
                }
                Ok(n) => {
                    region.left -= n as u64;
                    if region.left == 0 {
                        regions.pop_front();
                        if self.corked {
                            let _ = rustix::net::sockopt::set_tcp_cork(&self.stream, false);
                            self.corked = false;
                        }
                    } else if !self.corked {
                        // The region takes more than one call (the socket buffer is full):
                        // cork until its end, so the piece each call ends with does not
                        // leave as a short segment. One call's worth (a small file) needs
                        // no cork: sendfile itself holds all but its last piece back.
                        // Only an optimisation: a refusal changes nothing else.
                        let _ = rustix::net::sockopt::set_tcp_cork(&self.stream, true);
                        self.corked = true;
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Conn {
    /// Write `bufs` with MSG_MORE: the kernel keeps them until the next write without it.
    fn send_more(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        loop {
            std::task::ready!(self.stream.poll_write_ready(cx))?;
            let sent = self.stream.try_io(Interest::WRITABLE, || {
                rustix::net::sendmsg(
                    &self.stream,
                    bufs,
                    &mut rustix::net::SendAncillaryBuffer::default(),
                    rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL,
                )
                .map_err(io::Error::from)
            });
            match sent {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write_slices(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write_slices(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_told_apart_by_address() {
        let regions = Regions::default();
        let file = tempfile::tempfile().unwrap();
        let mut body = FileBody::new(regions.clone(), file, 3, (MARK_LEN as u64) + 5);
        let first = body.next_chunk().unwrap();
        assert_eq!(first.len(), MARK_LEN);
        assert!(is_mark(&first) && is_mark(&first[10..]));
        assert_eq!(body.next_chunk().unwrap().len(), 5);
        assert!(body.is_done() && body.next_chunk().is_none());
        assert_eq!(regions.queue().len(), 1);
        assert_eq!(regions.queue()[0].offset, 3);
        // Zeros elsewhere are data, not placeholders (negative control).
        assert!(!is_mark(&[0u8; 16]));
        assert!(!is_mark(&Bytes::from(vec![0u8; 16])));
        assert!(!is_mark(&first[..0]));
    }
}

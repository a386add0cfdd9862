//! Copying a regular file's data between two open files: by reflink (FICLONE) where the
//! filesystem shares extents, else segment by segment between holes (SEEK_DATA/SEEK_HOLE, so
//! sparse files stay sparse) with copy_file_range, else with sendfile (copy_file_range gives
//! EXDEV between two filesystems of different types, as from an image's overlayfs to a volume;
//! sendfile still copies inside the kernel, page cache to page cache, where read/write would
//! copy every byte twice), else with pread/pwrite. Must not touch metadata.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use rustix::fs::SeekFrom;
use rustix::io::Errno;

/// What has been learnt about the filesystems so far (so failing methods are not retried for
/// every file) and how often reflinks worked.
#[derive(Debug, Clone)]
pub struct DataCopier {
    reflink_works: bool,
    copy_file_range_works: bool,
    sendfile_works: bool,
    pub reflinked: u64,
}

impl Default for DataCopier {
    fn default() -> Self {
        Self {
            reflink_works: true,
            copy_file_range_works: true,
            sendfile_works: true,
            reflinked: 0,
        }
    }
}

const CHUNK: u64 = 1 << 30;
const BUFFER: usize = 1 << 20;
/// Below sendfile's own limit of 0x7ffff000 bytes a call, and page aligned.
const SENDFILE_CHUNK: u64 = 1 << 30;

impl DataCopier {
    /// Copy `size` bytes of `input` into the empty `output`; `blocks` is the input's allocated
    /// 512-byte blocks (fewer than the size says: it may have holes).
    pub fn copy(&mut self, input: &File, output: &File, size: u64, blocks: u64) -> io::Result<()> {
        if size == 0 {
            return Ok(());
        }
        if self.reflink_works {
            match rustix::fs::ioctl_ficlone(output, input) {
                Ok(()) => {
                    self.reflinked += 1;
                    return Ok(());
                }
                // Across filesystems: maybe the next file is on the same one.
                Err(Errno::XDEV) => {}
                Err(_) => self.reflink_works = false,
            }
        }
        if blocks.saturating_mul(512) >= size {
            return self.copy_range(input, output, 0, size);
        }
        let mut pos = 0;
        while pos < size {
            let data = match rustix::fs::seek(input, SeekFrom::Data(pos)) {
                Ok(data) => data,
                Err(Errno::NXIO) => break,
                // No SEEK_DATA on this filesystem: copy everything (holes become zeros).
                Err(_) => return self.copy_range(input, output, 0, size),
            };
            if data >= size {
                break;
            }
            let hole = rustix::fs::seek(input, SeekFrom::Hole(data))?.min(size);
            self.copy_range(input, output, data, hole - data)?;
            pos = hole;
        }
        rustix::fs::ftruncate(output, size)?;
        Ok(())
    }

    fn copy_range(&mut self, input: &File, output: &File, start: u64, len: u64) -> io::Result<()> {
        let end = start + len;
        let mut off_in = start;
        let mut off_out = start;
        while self.copy_file_range_works && off_in < end {
            let chunk = usize::try_from((end - off_in).min(CHUNK)).unwrap_or(BUFFER);
            match rustix::fs::copy_file_range(
                input,
                Some(&mut off_in),
                output,
                Some(&mut off_out),
                chunk,
            ) {
                // The file shrank under us: what is there is copied.
                Ok(0) => return Ok(()),
                Ok(_) | Err(Errno::INTR) => {}
                Err(Errno::XDEV | Errno::NOSYS | Errno::OPNOTSUPP | Errno::INVAL | Errno::PERM) => {
                    self.copy_file_range_works = false;
                }
                Err(errno) => return Err(errno.into()),
            }
        }
        if self.sendfile_works && off_in < end {
            self.send_range(input, output, &mut off_in, end)?;
        }
        if off_in >= end {
            return Ok(());
        }
        // Only now: a 1 MiB zeroed buffer per file costs more than copying a small file.
        let mut buf = vec![0_u8; BUFFER];
        while off_in < end {
            let want = usize::try_from((end - off_in).min(BUFFER as u64)).unwrap_or(BUFFER);
            let got = match input.read_at(&mut buf[..want], off_in) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            output.write_all_at(&buf[..got], off_in)?;
            off_in += got as u64;
        }
        Ok(())
    }

    /// sendfile(2) from `*off_in` up to `end`: it writes at the output's file position, which
    /// is set to the same offset first (segments of a sparse file land where they belong).
    /// Leaves `*off_in` where it stopped; gives up quietly (for this and later files) where
    /// the filesystems refuse it, and read/write goes on from there.
    fn send_range(
        &mut self,
        input: &File,
        output: &File,
        off_in: &mut u64,
        end: u64,
    ) -> io::Result<()> {
        rustix::fs::seek(output, SeekFrom::Start(*off_in))?;
        while *off_in < end {
            let chunk = usize::try_from((end - *off_in).min(SENDFILE_CHUNK)).unwrap_or(BUFFER);
            match rustix::fs::sendfile(output, input, Some(off_in), chunk) {
                // The file shrank under us.
                Ok(0) => {
                    *off_in = end;
                    return Ok(());
                }
                Ok(_) | Err(Errno::INTR) => {}
                Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::XDEV) => {
                    self.sendfile_works = false;
                    return Ok(());
                }
                Err(errno) => return Err(errno.into()),
            }
        }
        Ok(())
    }
}

//! Turning a service's byte stream into lines with bounded memory: a line longer than
//! [`MAX_LINE`] is cut into pieces of that size, and a stream that never writes a newline holds
//! at most [`MAX_LINE`] bytes here. Knows nothing about units or output formats.

/// The longest line kept whole (systemd-journald's LineMax default is 48K).
pub const MAX_LINE: usize = 48 * 1024;

/// One line (without its newline) and whether it was cut because it was too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub bytes: Vec<u8>,
    /// True when the source line went on past this piece.
    pub truncated: bool,
}

/// Accumulates bytes and yields complete lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    /// A full-length piece was just emitted; a newline arriving next ends that line rather
    /// than making an empty one.
    after_cut: bool,
}

impl LineSplitter {
    /// Feed `data`; call `emit` for every line completed (or cut at [`MAX_LINE`]).
    pub fn feed(&mut self, mut data: &[u8], mut emit: impl FnMut(Line)) {
        if self.after_cut && !data.is_empty() {
            self.after_cut = false;
            if data[0] == b'\n' {
                data = &data[1..];
            }
        }
        while !data.is_empty() {
            let room = MAX_LINE - self.pending.len();
            let window = &data[..data.len().min(room)];
            if let Some(nl) = window.iter().position(|&b| b == b'\n') {
                self.pending.extend_from_slice(&window[..nl]);
                emit(Line {
                    bytes: std::mem::take(&mut self.pending),
                    truncated: false,
                });
                data = &data[nl + 1..];
            } else {
                self.pending.extend_from_slice(window);
                data = &data[window.len()..];
                if self.pending.len() == MAX_LINE {
                    let ends_here = data.first() == Some(&b'\n');
                    if ends_here {
                        data = &data[1..];
                    }
                    emit(Line {
                        bytes: std::mem::take(&mut self.pending),
                        truncated: !ends_here,
                    });
                    self.after_cut = !ends_here && data.is_empty();
                }
            }
        }
    }

    /// The stream ended: emit what is left, if anything.
    pub fn finish(&mut self, mut emit: impl FnMut(Line)) {
        if !self.pending.is_empty() {
            emit(Line {
                bytes: std::mem::take(&mut self.pending),
                truncated: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Line> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, |l| out.push(l));
        }
        s.finish(|l| out.push(l));
        out
    }

    #[test]
    fn splits_across_chunks_and_keeps_empty_lines() {
        let lines = split(&[b"a\nb", b"c\n\n", b"tail"]);
        let texts: Vec<&[u8]> = lines.iter().map(|l| l.bytes.as_slice()).collect();
        assert_eq!(texts, [&b"a"[..], b"bc", b"", b"tail"]);
        assert!(lines.iter().all(|l| !l.truncated));
    }

    #[test]
    fn long_line_is_cut_and_memory_stays_bounded() {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        let chunk = vec![b'x'; 10_000];
        for _ in 0..1000 {
            s.feed(&chunk, |l| out.push(l));
            assert!(s.pending.len() < MAX_LINE);
        }
        assert_eq!(out.len(), 10_000_000 / MAX_LINE);
        assert!(out.iter().all(|l| l.truncated && l.bytes.len() == MAX_LINE));
    }

    #[test]
    fn newline_right_at_the_limit() {
        let mut data = vec![b'y'; MAX_LINE];
        data.push(b'\n');
        let lines = split(&[&data]);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].bytes.len(), MAX_LINE);
        assert!(!lines[0].truncated);
        // The same with the newline in the next read: no spurious empty line.
        let lines = split(&[&data[..MAX_LINE], b"\nnext\n"]);
        let texts: Vec<usize> = lines.iter().map(|l| l.bytes.len()).collect();
        assert_eq!(texts, [MAX_LINE, 4]);
    }
}

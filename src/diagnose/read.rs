//! Reading logs: plain, gzip-compressed (`error.log.2.gz`, told by its magic bytes, not its
//! name) or standard input, one line at a time through one reused buffer, so memory does not
//! grow with the log.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Lines longer than this are cut (a FastCGI stderr dump can be megabytes); the rest of the
/// line is skipped, not read into memory.
pub const MAX_LINE: usize = 64 * 1024;

/// A log opened for reading.
pub struct LogReader {
    inner: Box<dyn BufRead>,
    buf: Vec<u8>,
    line_no: u64,
}

impl LogReader {
    /// Open `path` (`-`: standard input), decompressing gzip when the file starts with its magic.
    pub fn open(path: &Path) -> io::Result<LogReader> {
        let raw: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            let meta = std::fs::metadata(path)?;
            if meta.is_dir() {
                return Err(io::Error::other("is a directory"));
            }
            Box::new(File::open(path)?)
        };
        let mut reader = BufReader::with_capacity(256 * 1024, raw);
        let gz = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let inner: Box<dyn BufRead> = if gz {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::bufread::MultiGzDecoder::new(reader),
            ))
        } else {
            Box::new(reader)
        };
        Ok(LogReader {
            inner,
            buf: Vec::with_capacity(4096),
            line_no: 0,
        })
    }

    /// The next line (lossy UTF-8, without its terminator) and its 1-based number, or `None`
    /// at the end.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, std::borrow::Cow<'_, str>)>> {
        self.buf.clear();
        // `read_until` finds the newline with the standard library's fast search; `take`
        // bounds what one line may hold.
        let n = (&mut self.inner)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() >= MAX_LINE {
            // Cut: skip the rest of the line without keeping it.
            loop {
                let available = self.inner.fill_buf()?;
                if available.is_empty() {
                    break;
                }
                match available.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.inner.consume(i + 1);
                        break;
                    }
                    None => {
                        let len = available.len();
                        self.inner.consume(len);
                    }
                }
            }
        }
        self.line_no += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        // Validating is much cheaper than the lossy conversion's scan; logs are nearly
        // always valid UTF-8.
        let text = match std::str::from_utf8(&self.buf) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&self.buf),
        };
        Ok(Some((self.line_no, text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(path: &Path) -> Vec<String> {
        let mut r = LogReader::open(path).unwrap();
        let mut out = Vec::new();
        while let Some((_, l)) = r.next_line().unwrap() {
            out.push(l.into_owned());
        }
        out
    }

    #[test]
    fn plain_gzip_and_long_lines() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("error.log.1");
        let long = "x".repeat(MAX_LINE + 10);
        std::fs::write(&plain, format!("a\r\nb\n{long}\nc")).unwrap();
        let got = lines(&plain);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], "a");
        assert_eq!(got[2].len(), MAX_LINE);
        assert_eq!(got[3], "c");

        // Two gzip members back to back, as logrotate's delaycompress + cat can leave.
        let gz = dir.path().join("whatever-name");
        let mut f = File::create(&gz).unwrap();
        for part in ["one\ntwo\n", "three\n"] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part.as_bytes()).unwrap();
            f.write_all(&e.finish().unwrap()).unwrap();
        }
        drop(f);
        assert_eq!(lines(&gz), ["one", "two", "three"]);
    }
}

//! Source files, byte spans and positions.
//!
//! Every file the tool reads (or knows by heart, for packaged files that are not in the linted
//! tree) lives in one [`SourceMap`]; everything else refers to it by [`FileId`] and [`Span`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A half-open byte range `start..end` into one file's text.
///
/// `u32` keeps tree nodes small; files over 4 GiB are refused when read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// An empty span at `offset`: where an insertion goes.
    pub fn empty(offset: usize) -> Self {
        Span::new(offset, offset)
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// 1-based line and column; the column counts Unicode scalar values, as editors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Byte offsets of line starts, for turning offsets into line and column.
#[derive(Clone, Debug, Default)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| (i + 1) as u32),
        );
        LineIndex { starts }
    }

    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s as usize <= offset) - 1;
        let line_start = self.starts[line] as usize;
        // Offsets always sit on char boundaries in our trees, but be forgiving.
        let column = text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count());
        LineCol {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// Which language a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    Nginx,
    PhpFpm,
}

/// Where a file's text came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Read from disk at this path.
    Disk(PathBuf),
    /// Built-in knowledge of a file that distributions ship (e.g. Debian's `fastcgi_params`),
    /// used when the linted tree includes it but does not contain it.
    Builtin { distro: &'static str },
    /// Text handed to the tool directly (stdin, tests).
    Memory,
    /// A symlink in the tree whose absolute target, mapped onto the tree, is not there: the
    /// text is the target as the link holds it, and nothing was read (never the machine's
    /// own file at that path).
    Link,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the working directory where possible).
    pub name: String,
    pub origin: Origin,
    pub language: Language,
    /// Shared with the file's syntax tree, which reads its words from it. For a file that is
    /// not UTF-8 this is the [`sanitize`]d text: same length, same offsets.
    pub text: Arc<str>,
    /// The bytes read, only when they differ from `text` (a file that is not UTF-8): what fixes
    /// are written over and diffs are shown against.
    pub original: Option<Arc<[u8]>>,
    /// Built the first time a position is asked for: most files of a large run never are.
    lines: OnceLock<LineIndex>,
}

impl SourceFile {
    pub fn new(
        name: impl Into<String>,
        origin: Origin,
        language: Language,
        text: impl Into<Arc<str>>,
    ) -> Self {
        SourceFile {
            name: name.into(),
            origin,
            language,
            text: text.into(),
            original: None,
            lines: OnceLock::new(),
        }
    }

    /// The bytes read from disk, when they are not the text (see [`sanitize`]).
    pub fn with_original(mut self, original: Option<Arc<[u8]>>) -> Self {
        self.original = original;
        self
    }

    /// The file's bytes as read: what a fix must keep.
    pub fn bytes(&self) -> &[u8] {
        self.original.as_deref().unwrap_or(self.text.as_bytes())
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        self.lines
            .get_or_init(|| LineIndex::new(&self.text))
            .line_col(&self.text, offset)
    }

    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    pub fn disk_path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::Disk(p) => Some(p),
            _ => None,
        }
    }

    pub fn is_builtin(&self) -> bool {
        matches!(self.origin, Origin::Builtin { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct FileId(pub u32);

/// All files of one lint run.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// Move `other`'s files after this map's; returns the offset added to their ids.
    pub fn append(&mut self, other: SourceMap) -> u32 {
        let offset = self.files.len() as u32;
        self.files.extend(other.files);
        offset
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Why a file could not be turned into text.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    TooLarge {
        bytes: u64,
    },
    /// The content is neither nginx nor PHP-FPM (see `discover::sniff`).
    NotConfig {
        reason: String,
    },
    /// A NUL byte: almost certainly a binary file.
    Binary {
        offset: usize,
        at: LineCol,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge { bytes } => {
                write!(f, "file is too large ({bytes} bytes; the limit is 4 GiB)")
            }
            ReadError::NotConfig { reason } => {
                write!(f, "not an nginx or PHP-FPM file: {reason}; not linted")
            }
            // The position goes with the problem (`path:line:col: error: ...`), not in the text.
            ReadError::Binary { .. } => {
                write!(
                    f,
                    "NUL byte; this looks like a binary file, not a configuration"
                )
            }
        }
    }
}

impl ReadError {
    /// The byte offset of the error, when it is at one place.
    pub fn offset(&self) -> Option<usize> {
        match self {
            ReadError::Binary { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// Where in the file the error is, when it is at one place.
    pub fn at(&self) -> Option<LineCol> {
        match self {
            ReadError::Binary { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// What stands in, in the parsed text, for each byte that is not UTF-8. nginx and php-fpm read
/// bytes: a Latin-1 or EUC-KR comment, or a `return` string in a legacy encoding, is valid for
/// them. One ASCII byte per invalid byte keeps every offset (spans, fixes) the same as in the
/// file, and DEL means nothing to either grammar (it is an ordinary word, value or comment
/// character), so the file parses exactly as nginx reads it. A column counts one per such byte.
pub const PLACEHOLDER: u8 = 0x7F;

/// A file's text, and its bytes when they are not that text.
#[derive(Clone, Debug)]
pub struct Text {
    pub text: Arc<str>,
    pub original: Option<Arc<[u8]>>,
}

/// Decode bytes as a configuration text (no NUL bytes; bytes that are not UTF-8 become
/// [`PLACEHOLDER`]s, see [`sanitize`]).
pub fn decode(bytes: Vec<u8>) -> Result<String, ReadError> {
    check_size_and_nul(&bytes)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => Ok(sanitize(e.as_bytes())),
    }
}

/// `bytes`, which are not UTF-8, as UTF-8 text of the same length: every byte outside ASCII
/// becomes one [`PLACEHOLDER`]. Such a file is in some legacy encoding (Latin-1, EUC-KR, ...),
/// so a run of its bytes that happens to be valid UTF-8 is not a character either: an
/// EUC-KR syllable is two columns, as on a terminal set to that encoding.
pub fn sanitize(bytes: &[u8]) -> String {
    let ascii: Vec<u8> = bytes
        .iter()
        .map(|&b| if b.is_ascii() { b } else { PLACEHOLDER })
        .collect();
    String::from_utf8(ascii).expect("ASCII only")
}

fn check_size_and_nul(bytes: &[u8]) -> Result<(), ReadError> {
    if bytes.len() as u64 >= u32::MAX as u64 {
        return Err(ReadError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    if let Some(offset) = memchr_nul(bytes) {
        // Counted as the text will be: characters in a UTF-8 file, bytes in any other.
        let prefix = match std::str::from_utf8(bytes) {
            Ok(text) => text[..offset].to_owned(),
            Err(_) => sanitize(&bytes[..offset]),
        };
        return Err(ReadError::Binary {
            offset,
            at: LineIndex::new(&prefix).line_col(&prefix, prefix.len()),
        });
    }
    Ok(())
}

/// Check that bytes are a configuration text (no NUL bytes) and make the shared text of it.
fn shared_text(bytes: &[u8]) -> Result<Text, ReadError> {
    check_size_and_nul(bytes)?;
    Ok(match std::str::from_utf8(bytes) {
        Ok(text) => Text {
            text: Arc::from(text),
            original: None,
        },
        Err(_) => Text {
            text: Arc::from(sanitize(bytes)),
            original: Some(Arc::from(bytes)),
        },
    })
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

/// Read a file from disk as configuration text (no NUL bytes, a regular file under 4 GiB;
/// bytes that are not UTF-8 are kept aside, see [`Text`]), into the one shared allocation a project keeps. Each thread reads through the same
/// buffer: a fresh buffer per file, freed once copied, left the allocator's pages
/// scattered with holes between the texts a large run keeps.
pub fn read_shared(path: &Path) -> Result<Text, ReadError> {
    use std::io::Read as _;
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    check_readable(path)?;
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(buffer))
            .map_err(ReadError::Io)?;
        let text = shared_text(buffer);
        // One unusually large file must not stay resident for the rest of the run.
        if buffer.capacity() > 1 << 20 {
            *buffer = Vec::new();
        }
        text
    })
}

fn check_readable(path: &Path) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::Io(std::io::Error::other(
            "is a directory, expected a file",
        )));
    }
    if !meta.is_file() {
        // Reading a FIFO blocks until a writer comes (a hang in CI); a device may never end.
        return Err(ReadError::Io(std::io::Error::other(
            "not a regular file (a FIFO, socket or device); not read",
        )));
    }
    if meta.len() >= u32::MAX as u64 {
        return Err(ReadError::TooLarge { bytes: meta.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let text = "ab\ncé d\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes; the space after it is column 3.
        assert_eq!(idx.line_col(text, 6), LineCol { line: 2, column: 3 });
        assert_eq!(
            idx.line_col(text, text.len()),
            LineCol { line: 3, column: 1 }
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_keep_their_offsets() {
        // Latin-1 "café", an EUC-KR word (two bytes a syllable, "\xd1\xb1" of which would
        // pass for UTF-8) and a truncated UTF-8 "é".
        let bytes = b"# caf\xe9\nreturn 200 \"\xc7\xd1\xb1\xdb\";\n# \xc3".to_vec();
        let text = decode(bytes.clone()).unwrap();
        assert_eq!(text.len(), bytes.len());
        assert_eq!(text, "# caf\x7f\nreturn 200 \"\x7f\x7f\x7f\x7f\";\n# \x7f");
        let shared = shared_text(&bytes).unwrap();
        assert_eq!(shared.original.as_deref(), Some(&bytes[..]));
        assert!(shared_text(b"ok\n").unwrap().original.is_none());
        // One column per byte that is not UTF-8: the quote after the EUC-KR word is column 17.
        let idx = LineIndex::new(&text);
        assert_eq!(
            idx.line_col(&text, 23),
            LineCol {
                line: 2,
                column: 17
            }
        );
    }

    #[test]
    fn binary_position_counts_like_the_text() {
        match decode(b"# \xe9\xe9\n\xe9x\0".to_vec()) {
            Err(ReadError::Binary { offset: 7, at }) => {
                assert_eq!(at, LineCol { line: 2, column: 3 })
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn decode_refuses_binary() {
        assert!(matches!(
            decode(b"abc\0def".to_vec()),
            Err(ReadError::Binary { offset: 3, .. })
        ));
    }
}

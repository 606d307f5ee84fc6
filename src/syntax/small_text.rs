//! A string that keeps short text inline.
//!
//! A 10,000-site tree holds millions of words, nearly all shorter than 23 bytes
//! (`fastcgi_param`, `SCRIPT_FILENAME`, `80`). A `String` each would mean millions of heap
//! allocations: about a third of the run's time and memory. `SmallText` is as large as a
//! `String` and allocates only for longer text. Its one `unsafe` block skips re-checking
//! UTF-8 that `new` copied from a `&str`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

const INLINE: usize = 22;

#[derive(Clone)]
pub struct SmallText(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl SmallText {
    pub fn new(text: &str) -> SmallText {
        if text.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            SmallText(Repr::Inline {
                len: text.len() as u8,
                bytes,
            })
        } else {
            SmallText(Repr::Heap(text.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: `Inline` is only built by `new`, which copies a whole `&str` (so valid
            // UTF-8) of `len` bytes, and the bytes never change afterwards. Checking again on
            // every read cost 6% of a large run: names are compared millions of times.
            Repr::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..*len as usize])
            },
            Repr::Heap(s) => s,
        }
    }
}

impl Default for SmallText {
    fn default() -> Self {
        SmallText::new("")
    }
}

impl Deref for SmallText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SmallText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SmallText {
    fn from(text: &str) -> Self {
        SmallText::new(text)
    }
}

impl From<String> for SmallText {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            SmallText::new(&text)
        } else {
            SmallText(Repr::Heap(text.into_boxed_str()))
        }
    }
}

impl From<SmallText> for String {
    fn from(text: SmallText) -> Self {
        text.as_str().to_owned()
    }
}

impl PartialEq for SmallText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallText {}

impl PartialEq<str> for SmallText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SmallText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SmallText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SmallText> for str {
    fn eq(&self, other: &SmallText) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SmallText> for &str {
    fn eq(&self, other: &SmallText) -> bool {
        *self == other.as_str()
    }
}

impl PartialOrd for SmallText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SmallText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SmallText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for SmallText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_text_read_back() {
        for text in [
            "",
            "80",
            "fastcgi_param",
            "exactly_twenty_two_by!",
            "twenty-three bytes long",
            "/var/www/site00000.example.com/public",
            "ünïcödé wörds stay whole",
            "ü",
        ] {
            let small = SmallText::new(text);
            assert_eq!(small.as_str(), text);
            assert_eq!(SmallText::from(text.to_owned()), small);
            assert_eq!(small, text);
            assert_eq!(small.to_string(), text);
            assert_eq!(format!("{small:?}"), format!("{text:?}"));
        }
    }

    #[test]
    fn is_no_larger_than_a_string() {
        assert_eq!(
            std::mem::size_of::<SmallText>(),
            std::mem::size_of::<String>()
        );
    }
}

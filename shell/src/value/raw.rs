//! Lossless text: the bytes of a program's line held in a `str` and given back unchanged.
//!
//! Where an op reads a program's output (or a file's lines), each line becomes a string. Most
//! lines are valid UTF-8 and become the same text. A byte that is not part of valid UTF-8
//! (`\xff`, a lone `\x80`...) is held as one *escape character*: byte `0xHH` (always 0x80 or
//! more) becomes the code point U+10FFHH, from the end of Unicode's private use plane 16. A
//! valid character that is itself in that range (U+10FF80..U+10FFFF, encoded `F4 8F BE/BF xx`)
//! is held as the four escape characters of its bytes, so every byte string decodes to exactly
//! one string that [`encode`] turns back into the same bytes.
//!
//! This is the same idea as Python's `surrogateescape` error handler, with private-use code
//! points instead of lone surrogates (which a Rust `str` cannot hold). Every string op works on
//! such lines as on any other (`len`, `in`, `split`, comparisons); writing a string into a file,
//! a pipe or the terminal gives back the original bytes.

use std::borrow::Cow;

/// The first escape character: byte `b` is held as `ESCAPE_BASE + b`, for `b` in 0x80..=0xFF.
const ESCAPE_BASE: u32 = 0x10_FF00;
/// The smallest code point that is an escape character (U+10FF80).
const ESCAPE_FIRST: u32 = ESCAPE_BASE + 0x80;
/// Every character in the escape range starts with this byte in UTF-8 (U+100000..U+10FFFF do),
/// so text without it holds no escape character and passes through as it is.
pub const ESCAPE_LEAD: u8 = 0xF4;

/// The escape character holding byte `b` (0x80..=0xFF).
fn escape(b: u8) -> char {
    debug_assert!(b >= 0x80);
    char::from_u32(ESCAPE_BASE + u32::from(b)).expect("U+10FF80..U+10FFFF are chars")
}

/// The byte an escape character holds, or `None` for any other character.
pub fn escaped_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    (code >= ESCAPE_FIRST).then(|| (code - ESCAPE_BASE) as u8)
}

/// The string holding `bytes` losslessly: the same text when it is valid UTF-8 (and free of
/// escape characters), escape characters for the bytes that are not.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if !bytes.contains(&ESCAPE_LEAD)
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if escaped_byte(c).is_some() {
                let mut utf8 = [0u8; 4];
                out.extend(c.encode_utf8(&mut utf8).bytes().map(escape));
            } else {
                out.push(c);
            }
        }
        // Bytes that are not valid UTF-8 are never ASCII, so each has an escape character.
        out.extend(chunk.invalid().iter().copied().map(escape));
    }
    Cow::Owned(out)
}

/// The bytes `text` stands for: its UTF-8, with each escape character turned back into the
/// byte it holds.
pub fn encode(text: &str) -> Cow<'_, [u8]> {
    if !text.as_bytes().contains(&ESCAPE_LEAD) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match escaped_byte(c) {
            Some(b) => out.push(b),
            None => {
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_text_is_itself() {
        assert!(matches!(
            decode("héllo\r\0".as_bytes()),
            Cow::Borrowed("héllo\r\0")
        ));
        assert!(matches!(encode("héllo"), Cow::Borrowed(b"h\xc3\xa9llo")));
    }

    #[test]
    fn a_bad_byte_is_one_escape_character() {
        let text = decode(b"a\xffb");
        assert_eq!(text.chars().count(), 3);
        assert_eq!(escaped_byte(text.chars().nth(1).unwrap()), Some(0xff));
        assert_eq!(&*encode(&text), b"a\xffb");
    }

    #[test]
    fn a_real_escape_range_character_survives() {
        let real = "x\u{10ffab}y";
        let text = decode(real.as_bytes());
        assert_eq!(
            text.chars().count(),
            6,
            "its four bytes are held one by one"
        );
        assert_eq!(&*encode(&text), real.as_bytes());
    }

    #[test]
    fn every_byte_value_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(&*encode(&decode(&all)), &all[..]);
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = decode(&bytes);
            prop_assert_eq!(&*encode(&text), &bytes[..]);
        }

        #[test]
        fn near_utf8_round_trips(text in "\\PC{0,40}", cut in 0usize..4) {
            // Valid text with a multi-byte character cut short somewhere.
            let mut bytes = text.into_bytes();
            bytes.extend_from_slice(&"\u{10ffff}".as_bytes()[..cut]);
            bytes.extend_from_slice("é\u{10ff80}".as_bytes());
            let text = decode(&bytes);
            prop_assert_eq!(&*encode(&text), &bytes[..]);
        }
    }
}

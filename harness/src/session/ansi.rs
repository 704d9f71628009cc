//! Escape sequences removed from terminal output, for matching and reports.

/// Remove escape sequences and carriage returns.
pub fn strip_ansi(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&strip_ansi_mapped(bytes).0).into_owned()
}

/// [`strip_ansi`] on bytes, with the raw offset of every kept byte.
pub fn strip_ansi_mapped(bytes: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut map = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            i += 1;
            match bytes.get(i) {
                Some(b'[') => {
                    i += 1;
                    while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                        i += 1;
                    }
                    i += 1;
                }
                Some(b']') => {
                    while i < bytes.len() && bytes[i] != 0x07 && bytes[i] != b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                // nF: intermediates then one final byte (`ESC ( B`, the charset yash's
                // terminfo sends with every attribute reset).
                Some(0x20..=0x2f) => {
                    while i < bytes.len() && (0x20..=0x2f).contains(&bytes[i]) {
                        i += 1;
                    }
                    i += 1;
                }
                Some(_) => i += 1,
                None => {}
            }
            continue;
        }
        if b != b'\r' {
            out.push(b);
            map.push(i);
        }
        i += 1;
    }
    (out, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes() {
        assert_eq!(
            strip_ansi(b"\x1b[?2004hbash 1$ \x1b[0m\r\nok"),
            "bash 1$ \nok"
        );
        // yash (TERM=xterm): charset designation and keypad modes leave nothing behind.
        assert_eq!(
            strip_ansi(b"\x1b(B\x1b[m\x1b[8D\x1b[J\x1b[?1l\x1b>got2\r\n\x1b[7m$\x1b(B\x1b[m"),
            "got2\n$"
        );
    }
}

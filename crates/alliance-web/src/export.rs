//! The encrypted transfer file: records for a strategy meeting or a new school, as a ZIP whose
//! every entry is AES-256 encrypted (WinZip AE-2) with a passphrase read out over the
//! telephone. 7-Zip, WinZip and most current archive tools open it; Windows' built-in "Extract
//! all" does not (it knows only the old, broken ZipCrypto).
//!
//! AE-2 rather than AE-1: AE-1 also stores each file's CRC-32 in the clear, which says
//! something about the contents (and everything about a short file). Every entry carries an
//! HMAC-SHA1 instead, so a wrong passphrase or a tampered file is detected.
//!
//! File names are not encrypted (ZIP keeps them in the clear), so name files by what they
//! are ("chronology.pdf"), never by whom they are about.
//!
//! Everything happens in memory; nothing is written to disk or downloaded.

use std::collections::HashSet;
use std::io::Write as _;

use alliance_core::random::{Random, random_bytes};
use alliance_service::OsRandom;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

/// The passphrase alphabet: capitals and digits without the look-alikes 0/O and 1/I/L (31
/// characters, so a passphrase of 24 carries about 119 bits).
const PASSPHRASE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Groups of [`GROUP_LEN`] characters, separated by `-`.
const GROUPS: usize = 6;
const GROUP_LEN: usize = 4;

/// Why a transfer file could not be made. Messages never quote file names or contents (a
/// name may include a child's), so they are safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The passphrase was empty (or only spaces).
    EmptyPassphrase,
    /// A file name was empty, absolute, had an empty, `.` or `..` part, a backslash or a
    /// control character, or appeared twice.
    InvalidName,
    /// The ZIP writer failed (not expected when writing to memory).
    Zip,
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::EmptyPassphrase => "the transfer file needs a passphrase",
            Self::InvalidName => "a file in the transfer file has an unusable or repeated name",
            Self::Zip => "the transfer file could not be written",
        })
    }
}

impl std::error::Error for ExportError {}

impl From<zip::result::ZipError> for ExportError {
    fn from(_: zip::result::ZipError) -> Self {
        // The zip crate's messages can quote file names: drop them.
        Self::Zip
    }
}

impl From<std::io::Error> for ExportError {
    fn from(_: std::io::Error) -> Self {
        Self::Zip
    }
}

/// A ZIP of `files` (name, contents), in that order, each entry deflated and then encrypted
/// with AES-256 (WinZip AE-2) under `passphrase`. Names may contain `/` for folders.
///
/// Entries carry no modification time (the ZIP epoch, 01/01/1980) and Unix permissions 0600,
/// so that on extraction only the person who extracted them can read them.
pub fn encrypted_zip(files: &[(&str, &[u8])], passphrase: &str) -> Result<Vec<u8>, ExportError> {
    if passphrase.trim().is_empty() {
        return Err(ExportError::EmptyPassphrase);
    }
    let mut seen = HashSet::with_capacity(files.len());
    if !files
        .iter()
        .all(|(name, _)| usable_name(name) && seen.insert(*name))
    {
        return Err(ExportError::InvalidName);
    }

    // A streaming writer keeps every entry AE-2: with a seekable one the zip crate rewrites
    // entries of 20 bytes or more as AE-1 (which stores the CRC-32 in the clear).
    let mut zip = ZipWriter::new_stream(Vec::new());
    for (name, contents) in files {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .unix_permissions(0o600)
            .large_file(contents.len() as u64 >= u64::from(u32::MAX))
            .with_aes_encryption(AesMode::Aes256, passphrase);
        zip.start_file(*name, options)?;
        zip.write_all(contents)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Whether `name` is a relative path of ordinary parts that every unzip tool extracts where
/// it is told to.
fn usable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| c.is_control() || c == '\\')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// A new passphrase to read out over the telephone, e.g. `K7QM-3XWD-PH9A-TN4E-RZ2B-8FGY`: six
/// groups of four capitals and digits, without look-alikes, from the operating system's
/// secure randomness.
pub fn new_passphrase() -> String {
    passphrase_from(&OsRandom)
}

/// A passphrase drawn from `random`, without bias (bytes that would favour the start of the
/// alphabet are drawn again).
fn passphrase_from(random: &dyn Random) -> String {
    let n = PASSPHRASE_ALPHABET.len();
    // The largest multiple of the alphabet's size that a byte can hold.
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(GROUPS * (GROUP_LEN + 1));
    let mut drawn = 0;
    while drawn < GROUPS * GROUP_LEN {
        for byte in random_bytes::<32>(random) {
            let byte = usize::from(byte);
            if byte >= limit || drawn == GROUPS * GROUP_LEN {
                continue;
            }
            if drawn > 0 && drawn % GROUP_LEN == 0 {
                out.push('-');
            }
            out.push(char::from(PASSPHRASE_ALPHABET[byte % n]));
            drawn += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read as _};

    use super::*;
    use zip::ZipArchive;
    use zip::result::ZipError;

    fn files() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            (
                "chronology.pdf",
                b"%PDF-1.7 a chronology, long enough to compress: ".repeat(40),
            ),
            ("notes/short.txt", b"hi".to_vec()),
            ("empty.txt", Vec::new()),
        ]
    }

    fn make(passphrase: &str) -> Vec<u8> {
        let files = files();
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, c.as_slice())).collect();
        encrypted_zip(&refs, passphrase).unwrap()
    }

    #[test]
    fn round_trip_with_the_right_passphrase() {
        let passphrase = new_passphrase();
        let bytes = make(&passphrase);
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        for (i, (name, contents)) in files().into_iter().enumerate() {
            let mut file = archive.by_index_decrypt(i, passphrase.as_bytes()).unwrap();
            assert_eq!(file.name().unwrap(), name);
            assert!(file.encrypted());
            // Deflated inside the encryption (the AES extra field records the real method).
            assert_eq!(file.compression(), CompressionMethod::Deflated);
            let mut read = Vec::new();
            file.read_to_end(&mut read).unwrap();
            assert_eq!(read, contents, "{name}");
        }
    }

    #[test]
    fn contents_are_not_in_the_clear() {
        let bytes = make("ABCD-EFGH");
        // Nothing of the (compressed, then encrypted) contents shows; the names do.
        assert!(bytes.windows(14).any(|w| w == b"chronology.pdf"));
        assert!(!bytes.windows(8).any(|w| w == b"%PDF-1.7"));
        assert!(!bytes.windows(2).any(|w| w == b"hi"));
    }

    #[test]
    fn every_entry_is_aes_256_ae_2_over_deflate() {
        let bytes = make("ABCD-EFGH");
        // The AES extra field (0x9901, 7 bytes): vendor version 2 ("AE-2"), vendor "AE",
        // strength 3 (AES-256), actual method 8 (deflate). In each local header and in the
        // central directory.
        let ae2 = [
            0x01, 0x99, 0x07, 0x00, 0x02, 0x00, b'A', b'E', 0x03, 0x08, 0x00,
        ];
        let ae1 = [0x01, 0x99, 0x07, 0x00, 0x01, 0x00, b'A', b'E'];
        let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(count(&ae2), 2 * files().len());
        assert_eq!(count(&ae1), 0);
    }

    #[test]
    fn the_wrong_passphrase_fails() {
        let bytes = make("K7QM-3XWD-PH9A-TN4E-RZ2B-8FGY");
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        for i in 0..archive.len() {
            // The 2-byte password check rejects almost every wrong passphrase; the rare one
            // that passes it fails the HMAC at the end of the entry.
            match archive.by_index_decrypt(i, b"K7QM-3XWD-PH9A-TN4E-RZ2B-8FGZ") {
                Err(ZipError::InvalidPassword) => {}
                Err(other) => panic!("unexpected error: {other}"),
                Ok(mut file) => {
                    let mut read = Vec::new();
                    assert!(file.read_to_end(&mut read).is_err(), "entry {i} opened");
                }
            }
        }
    }

    #[test]
    fn reading_without_a_passphrase_fails() {
        let bytes = make("K7QM-3XWD-PH9A-TN4E-RZ2B-8FGY");
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        for i in 0..archive.len() {
            match archive.by_index(i) {
                Err(ZipError::UnsupportedArchive(message)) => {
                    assert_eq!(message, ZipError::PASSWORD_REQUIRED);
                }
                Err(other) => panic!("unexpected error: {other}"),
                Ok(_) => panic!("entry {i} opened without a passphrase"),
            }
        }
    }

    #[test]
    fn bad_names_and_empty_passphrases_are_refused() {
        let ok: &[u8] = b"x";
        for name in [
            "",
            "/etc/passwd",
            "../up.txt",
            "a/../b",
            "a//b",
            "dir/",
            "./a",
            "a\\b",
            "a\nb",
        ] {
            assert_eq!(
                encrypted_zip(&[(name, ok)], "pass"),
                Err(ExportError::InvalidName),
                "{name:?}"
            );
        }
        assert_eq!(
            encrypted_zip(&[("a.txt", ok), ("a.txt", ok)], "pass"),
            Err(ExportError::InvalidName)
        );
        assert_eq!(
            encrypted_zip(&[("a.txt", ok)], "  "),
            Err(ExportError::EmptyPassphrase)
        );
        // An empty transfer file is still a valid ZIP.
        let empty = encrypted_zip(&[], "pass").unwrap();
        assert_eq!(ZipArchive::new(Cursor::new(empty)).unwrap().len(), 0);
    }

    #[test]
    fn passphrases_have_six_groups_of_four_without_look_alikes() {
        let first = new_passphrase();
        for passphrase in [first.clone(), new_passphrase(), new_passphrase()] {
            assert_eq!(passphrase.len(), 29, "{passphrase}");
            let groups: Vec<&str> = passphrase.split('-').collect();
            assert_eq!(groups.len(), 6, "{passphrase}");
            for group in groups {
                assert_eq!(group.len(), 4, "{passphrase}");
                assert!(
                    group.bytes().all(|b| PASSPHRASE_ALPHABET.contains(&b)),
                    "{passphrase}"
                );
            }
            assert!(!passphrase.contains(['0', 'O', '1', 'I', 'L']));
        }
        assert_ne!(first, new_passphrase());
    }

    /// Bytes from a fixed sequence, to test the drawing.
    struct Cycle(std::sync::Mutex<u8>);

    impl Random for Cycle {
        fn fill(&self, buf: &mut [u8]) {
            let mut next = self.0.lock().unwrap();
            for b in buf {
                *b = *next;
                *next = next.wrapping_add(1);
            }
        }
    }

    #[test]
    fn drawing_is_unbiased_and_uses_every_character() {
        // Bytes 0, 1, 2, ... map to the alphabet in order; 248 to 255 are drawn again.
        let passphrase = passphrase_from(&Cycle(std::sync::Mutex::new(0)));
        assert_eq!(passphrase, "2345-6789-ABCD-EFGH-JKMN-PQRS");
        let limit = 256 - 256 % PASSPHRASE_ALPHABET.len();
        assert_eq!(limit, 248);
        let after = passphrase_from(&Cycle(std::sync::Mutex::new(246)));
        // 246 and 247 are kept (246 % 31 = 29, 247 % 31 = 30); 248..=255 skipped; then 0...
        assert_eq!(&after[..7], "YZ23-45");
    }
}

//! Sealing confidential fields: XChaCha20-Poly1305 with a random 192-bit nonce per value,
//! bound to the record and field it belongs to, so a sealed value moved to another row or
//! column fails to open. Keys are derived from the master key with HKDF-SHA256, one per
//! purpose; the key version travels with every sealed value so keys can be rotated.
//!
//! The master key itself is never in the database (it lives in a key file: see the binary).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The layout of a sealed value: `A1` marker, key version (4 bytes, big-endian), nonce (24
/// bytes), then ciphertext with its 16-byte tag.
const MARKER: [u8; 2] = *b"A1";
const HEADER: usize = 2 + 4 + 24;

/// The root of every key. Its `Debug` says nothing about it.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key for one purpose (`"totp"`, `"resume"`, …) at one version.
    pub fn sealing_key(&self, purpose: &str, version: u32) -> SealingKey {
        let hk = Hkdf::<Sha256>::new(Some(b"alliance-v1"), self.0.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        let info = format!("alliance/seal/{purpose}/v{version}");
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(info.as_bytes(), okm.as_mut());
        SealingKey { key: okm, version }
    }

    /// A key for keyed hashing (HMAC), such as the audit chain's.
    pub fn mac_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(Some(b"alliance-v1"), self.0.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        let _ = hk.expand(format!("alliance/mac/{purpose}").as_bytes(), okm.as_mut());
        okm
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

pub struct SealingKey {
    key: Zeroizing<[u8; 32]>,
    version: u32,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey(v{})", self.version)
    }
}

/// Where a sealed value lives: it opens only there.
#[derive(Debug, Clone, Copy)]
pub struct SealedAt<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: &'a str,
}

impl SealedAt<'_> {
    fn aad(&self, version: u32) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64);
        for part in [self.table, self.column, self.row] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad.extend_from_slice(&version.to_be_bytes());
        aad
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value needs key version {0}, which is not available")]
    UnknownKeyVersion(u32),
    #[error("the sealed value did not open: wrong key, wrong place, or tampered with")]
    Rejected,
}

impl SealingKey {
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Seals `plaintext` for `at`. `nonce` must be fresh random bytes.
    pub fn seal(&self, plaintext: &[u8], at: SealedAt<'_>, nonce: [u8; 24]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&Key::from(*self.key));
        let nonce = XNonce::from(nonce);
        let aad = at.aad(self.version);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + ciphertext.len());
        out.extend_from_slice(&MARKER);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value sealed with this key for `at`.
    pub fn open(&self, sealed: &[u8], at: SealedAt<'_>) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let version = sealed_version(sealed)?;
        if version != self.version {
            return Err(SealError::UnknownKeyVersion(version));
        }
        let nonce_bytes: [u8; 24] = sealed[6..HEADER]
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let cipher = XChaCha20Poly1305::new(&Key::from(*self.key));
        let aad = at.aad(version);
        cipher
            .decrypt(
                &XNonce::from(nonce_bytes),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Rejected)
    }
}

/// The key version a sealed value needs.
pub fn sealed_version(sealed: &[u8]) -> Result<u32, SealError> {
    if sealed.len() < HEADER + 16 || sealed[..2] != MARKER {
        return Err(SealError::Malformed);
    }
    let version: [u8; 4] = sealed[2..6].try_into().map_err(|_| SealError::Malformed)?;
    Ok(u32::from_be_bytes(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: SealedAt<'static> = SealedAt {
        table: "users",
        column: "totp_secret",
        row: "0190",
    };

    #[test]
    fn a_sealed_value_opens_only_where_it_was_sealed() {
        let master = MasterKey::from_bytes([9; 32]);
        let key = master.sealing_key("totp", 1);
        let sealed = key.seal(b"JBSWY3DPEHPK3PXP", AT, [1; 24]);
        assert_eq!(
            key.open(&sealed, AT).map(|p| p.to_vec()),
            Ok(b"JBSWY3DPEHPK3PXP".to_vec())
        );
        assert!(
            !sealed.windows(16).any(|w| w == b"JBSWY3DPEHPK3PXP"),
            "plaintext visible"
        );

        let other_row = SealedAt { row: "0191", ..AT };
        assert_eq!(
            key.open(&sealed, other_row).err(),
            Some(SealError::Rejected)
        );
        let other_column = SealedAt {
            column: "name",
            ..AT
        };
        assert_eq!(
            key.open(&sealed, other_column).err(),
            Some(SealError::Rejected)
        );

        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(&tampered, AT).err(), Some(SealError::Rejected));
        assert_eq!(
            key.open(&sealed[..10], AT).err(),
            Some(SealError::Malformed)
        );
    }

    #[test]
    fn keys_differ_by_purpose_version_and_master() {
        let master = MasterKey::from_bytes([9; 32]);
        let sealed = master.sealing_key("totp", 1).seal(b"x", AT, [2; 24]);
        assert_eq!(
            master.sealing_key("resume", 1).open(&sealed, AT).err(),
            Some(SealError::Rejected)
        );
        assert_eq!(
            master.sealing_key("totp", 2).open(&sealed, AT).err(),
            Some(SealError::UnknownKeyVersion(1))
        );
        let other = MasterKey::from_bytes([8; 32]);
        assert_eq!(
            other.sealing_key("totp", 1).open(&sealed, AT).err(),
            Some(SealError::Rejected)
        );
        assert_eq!(sealed_version(&sealed), Ok(1));
        assert_eq!(format!("{master:?}"), "MasterKey(..)");
    }

    #[test]
    fn fresh_nonces_give_different_ciphertexts() {
        let key = MasterKey::from_bytes([9; 32]).sealing_key("totp", 1);
        assert_ne!(
            key.seal(b"same", AT, [1; 24]),
            key.seal(b"same", AT, [2; 24])
        );
    }
}

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

/// A confidential value after sealing: the only form in which the storage interface takes a
/// confidential field, so nothing can be stored in the clear by mistake.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// A sealed value as read back from storage (opening it checks it).
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

/// The kinds of record whose keys are kept apart for each child, so that one kind can be
/// destroyed (its key deleted) while the others stay readable (policy section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordClass {
    /// Who the child is: identity, identifiers, carers, address. Kept as long as any other
    /// class of the child's record is kept.
    Identity,
    Clinical,
    ProcessNotes,
    Safeguarding,
}

impl RecordClass {
    pub const ALL: [RecordClass; 4] = [
        RecordClass::Identity,
        RecordClass::Clinical,
        RecordClass::ProcessNotes,
        RecordClass::Safeguarding,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RecordClass::Identity => "identity",
            RecordClass::Clinical => "clinical",
            RecordClass::ProcessNotes => "process-notes",
            RecordClass::Safeguarding => "safeguarding",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| format!("unknown record class {code:?}"))
    }
}

/// What a data key belongs to: a child's record class, or one of the service's own purposes
/// (the audit chain's MAC, second-factor secrets, kept forms).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyOwner {
    Child { child: String, class: RecordClass },
    Service { purpose: String },
}

impl KeyOwner {
    /// The two columns the key store keeps it under.
    pub fn columns(&self) -> (String, String) {
        match self {
            KeyOwner::Child { child, class } => (child.clone(), class.code().to_owned()),
            KeyOwner::Service { purpose } => ("service".to_owned(), purpose.clone()),
        }
    }
}

impl MasterKey {
    fn wrapping_key(&self, master_version: u32) -> SealingKey {
        self.sealing_key("key-wrap", master_version)
    }

    /// Wraps a data key for the key store, bound to its owner and both versions.
    pub fn wrap(
        &self,
        master_version: u32,
        owner: &KeyOwner,
        key_version: u32,
        data_key: &[u8; 32],
        nonce: [u8; 24],
    ) -> Vec<u8> {
        let (a, b) = owner.columns();
        let row = format!("{a}/{b}/v{key_version}");
        self.wrapping_key(master_version)
            .seal(
                data_key,
                SealedAt {
                    table: "data_keys",
                    column: "wrapped",
                    row: &row,
                },
                nonce,
            )
            .into_bytes()
    }

    pub fn unwrap_key(
        &self,
        master_version: u32,
        owner: &KeyOwner,
        key_version: u32,
        wrapped: &[u8],
    ) -> Result<SealingKey, SealError> {
        let (a, b) = owner.columns();
        let row = format!("{a}/{b}/v{key_version}");
        let plain = self.wrapping_key(master_version).open(
            &Sealed::from_stored(wrapped.to_vec()),
            SealedAt {
                table: "data_keys",
                column: "wrapped",
                row: &row,
            },
        )?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        Ok(SealingKey::from_bytes(bytes, key_version))
    }

    /// The raw key, only for writing the key file and the recovery export.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The master key sealed under a recovery passphrase, for the service's safe: Argon2id turns
/// the passphrase into a key (64 MiB, 3 passes), XChaCha20-Poly1305 seals the master key.
pub mod recovery {
    use super::{MasterKey, SealError, Sealed, SealedAt, SealingKey};
    use argon2::{Algorithm, Argon2, Params, Version};
    use zeroize::Zeroizing;

    const AT: SealedAt<'static> = SealedAt {
        table: "recovery",
        column: "master-key",
        row: "v1",
    };

    fn passphrase_key(passphrase: &str, salt: &[u8; 16]) -> Result<SealingKey, String> {
        let params = Params::new(64 * 1024, 3, 1, Some(32)).map_err(|e| e.to_string())?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|e| e.to_string())?;
        Ok(SealingKey::from_bytes(*out, 1))
    }

    /// Passphrases for the safe must be long: they guard every child's records.
    pub fn check_passphrase(passphrase: &str) -> Result<(), String> {
        if passphrase.chars().count() < 20 {
            return Err(
                "Use a recovery passphrase of at least 20 characters (several words)".to_owned(),
            );
        }
        Ok(())
    }

    /// `(salt, sealed master key)`.
    pub fn seal(
        master: &MasterKey,
        passphrase: &str,
        salt: [u8; 16],
        nonce: [u8; 24],
    ) -> Result<Vec<u8>, String> {
        check_passphrase(passphrase)?;
        let key = passphrase_key(passphrase, &salt)?;
        Ok(key.seal(master.expose_bytes(), AT, nonce).into_bytes())
    }

    pub fn open(sealed: &[u8], passphrase: &str, salt: [u8; 16]) -> Result<MasterKey, String> {
        let key = passphrase_key(passphrase, &salt)?;
        let plain = key
            .open(&Sealed::from_stored(sealed.to_vec()), AT)
            .map_err(|e: SealError| match e {
                SealError::Rejected => {
                    "the passphrase is not right, or the export is damaged".to_owned()
                }
                other => other.to_string(),
            })?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| "the export is damaged".to_owned())?;
        Ok(MasterKey::from_bytes(bytes))
    }
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
    /// A keyed hash of an identifier (an NHS number, a UPN), so storage can find duplicates
    /// and look a child up without holding the identifier readably. Hex, lower case.
    pub fn lookup_hash(&self, kind: &str, value: &str) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(self.key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(&(kind.len() as u32).to_be_bytes());
        mac.update(kind.as_bytes());
        mac.update(value.as_bytes());
        crate::auth::hex(&mac.finalize().into_bytes())
    }

    /// The raw key, for re-wrapping it and for keyed hashing.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    pub fn from_bytes(bytes: [u8; 32], version: u32) -> Self {
        Self {
            key: Zeroizing::new(bytes),
            version,
        }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Seals `plaintext` for `at`. `nonce` must be fresh random bytes.
    pub fn seal(&self, plaintext: &[u8], at: SealedAt<'_>, nonce: [u8; 24]) -> Sealed {
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
        Sealed(out)
    }

    /// Opens a value sealed with this key for `at`.
    pub fn open(&self, sealed: &Sealed, at: SealedAt<'_>) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let sealed = sealed.as_bytes();
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
            !sealed
                .as_bytes()
                .windows(16)
                .any(|w| w == b"JBSWY3DPEHPK3PXP"),
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

        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            key.open(&Sealed::from_stored(tampered), AT).err(),
            Some(SealError::Rejected)
        );
        let short = Sealed::from_stored(sealed.as_bytes()[..10].to_vec());
        assert_eq!(key.open(&short, AT).err(), Some(SealError::Malformed));
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
        assert_eq!(sealed_version(sealed.as_bytes()), Ok(1));
        assert_eq!(format!("{master:?}"), "MasterKey(..)");
    }

    #[test]
    fn wrapped_keys_open_only_for_their_owner_and_master() {
        let master = MasterKey::from_bytes([9; 32]);
        let owner = KeyOwner::Child {
            child: "c1".into(),
            class: RecordClass::Safeguarding,
        };
        let wrapped = master.wrap(1, &owner, 1, &[4; 32], [5; 24]);
        assert!(master.unwrap_key(1, &owner, 1, &wrapped).is_ok());
        let other_class = KeyOwner::Child {
            child: "c1".into(),
            class: RecordClass::Clinical,
        };
        assert!(master.unwrap_key(1, &other_class, 1, &wrapped).is_err());
        let other_child = KeyOwner::Child {
            child: "c2".into(),
            class: RecordClass::Safeguarding,
        };
        assert!(master.unwrap_key(1, &other_child, 1, &wrapped).is_err());
        assert!(
            MasterKey::from_bytes([8; 32])
                .unwrap_key(1, &owner, 1, &wrapped)
                .is_err()
        );
    }

    #[test]
    fn the_recovery_export_opens_only_with_its_passphrase() {
        let master = MasterKey::from_bytes([9; 32]);
        let phrase = "correct horse battery staple walnut";
        assert!(recovery::seal(&master, "too short", [1; 16], [2; 24]).is_err());
        let sealed = recovery::seal(&master, phrase, [1; 16], [2; 24]).unwrap_or_default();
        let back = recovery::open(&sealed, phrase, [1; 16]);
        assert_eq!(back.map(|m| *m.expose_bytes()).ok(), Some([9; 32]));
        assert!(recovery::open(&sealed, "correct horse battery staple walnuts", [1; 16]).is_err());
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

//! The master key: the root of every encryption key, kept in its own file (0600), never in the
//! database and never in a database backup. Every Alliance process serving one database needs
//! the same file.

use alliance_core::crypto::MasterKey;
use alliance_core::random::Random;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::Path;

/// Reads the key file, creating it (with a fresh key) when `create` and it does not exist.
pub fn load_or_create(path: &Path, create: bool, random: &dyn Random) -> anyhow::Result<MasterKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(text.trim())
            .with_context(|| format!("the master key file {} is not a valid key", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut bytes = [0u8; 32];
            random.fill(&mut bytes);
            write_new(path, &bytes)?;
            tracing::warn!(
                path = %path.display(),
                "created a new master key: back it up separately from the database"
            );
            Ok(MasterKey::from_bytes(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("the master key file {} does not exist", path.display())
        }
        Err(e) => bail!("cannot read the master key file {}: {e}", path.display()),
    }
}

fn parse(hex: &str) -> anyhow::Result<MasterKey> {
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("expected 64 hexadecimal characters");
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16)?;
    }
    Ok(MasterKey::from_bytes(bytes))
}

fn write_new(path: &Path, bytes: &[u8; 32]) -> anyhow::Result<()> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the key folder {}", folder.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create the master key file {}", path.display()))?;
    file.write_all(alliance_core::auth::hex(bytes).as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Random for Fixed {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(7);
        }
    }

    #[test]
    fn a_key_file_is_created_once_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("alliance-keys-{}", std::process::id()));
        let path = dir.join("keys").join("master.key");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            load_or_create(&path, false, &Fixed).is_err(),
            "not created when not asked"
        );
        assert!(load_or_create(&path, true, &Fixed).is_ok());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(text.trim(), "07".repeat(32));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
        assert!(load_or_create(&path, true, &Fixed).is_ok(), "read back");
        std::fs::write(&path, "not hex").ok();
        assert!(load_or_create(&path, true, &Fixed).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

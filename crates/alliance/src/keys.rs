//! The master key files: the root of every key, never in a database or a database backup.
//! Every Alliance process serving one database needs the same file.
//!
//! `master.key` holds the current master key; during a rotation `master.key.next` holds the
//! one data keys are being moved to. Processes look keys up by version, reading the files
//! when they meet a version they have not seen, so a rotation needs no downtime.

use alliance_core::auth::from_hex;
use alliance_core::crypto::{MasterKey, recovery};
use alliance_core::random::{Random, random_bytes};
use alliance_service::keys::{KeyError, MasterKeys};
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const PREFIX: &str = "alliance-master-key";

/// The file of the key being rotated to.
pub fn next_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".next");
    path.with_file_name(name)
}

/// `(version, key)` from a key file: `alliance-master-key v2 <64 hex>`, or bare hex (v1).
pub fn read_key_file(path: &Path) -> anyhow::Result<(u32, MasterKey)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the master key file {}", path.display()))?;
    parse(text.trim())
        .with_context(|| format!("the master key file {} is not a valid key", path.display()))
}

fn parse(text: &str) -> anyhow::Result<(u32, MasterKey)> {
    let (version, hex) = match text.strip_prefix(PREFIX) {
        Some(rest) => {
            let rest = rest.trim();
            let (v, hex) = rest
                .split_once(' ')
                .context("expected a version and a key")?;
            let version: u32 = v.trim_start_matches('v').parse().context("bad version")?;
            (version, hex.trim())
        }
        None => (1, text),
    };
    let bytes: [u8; 32] = from_hex(hex)
        .and_then(|b| b.try_into().ok())
        .context("expected 64 hexadecimal characters")?;
    Ok((version, MasterKey::from_bytes(bytes)))
}

/// Writes a key file that must not exist yet, readable by its owner only, synced to disk.
pub fn write_key_file(path: &Path, version: u32, key: &MasterKey) -> anyhow::Result<()> {
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
    writeln!(
        file,
        "{PREFIX} v{version} {}",
        alliance_core::auth::hex(key.expose_bytes())
    )?;
    file.sync_all()?;
    Ok(())
}

/// Makes the first master key if there is none (first run).
pub fn ensure_exists(path: &Path, random: &dyn Random) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    write_key_file(path, 1, &MasterKey::from_bytes(random_bytes(random)))?;
    tracing::warn!(
        path = %path.display(),
        "created a new master key: keep it, and a recovery export of it, apart from the database"
    );
    Ok(())
}

/// Master keys read from the key files, by version; the cache is safe to lose.
pub struct FileMasterKeys {
    path: PathBuf,
    cache: Mutex<BTreeMap<u32, Arc<MasterKey>>>,
}

impl FileMasterKeys {
    pub fn new(path: PathBuf) -> anyhow::Result<Self> {
        let keys = Self {
            path,
            cache: Mutex::new(BTreeMap::new()),
        };
        keys.reload()?;
        Ok(keys)
    }

    fn reload(&self) -> anyhow::Result<()> {
        let mut found = BTreeMap::new();
        let (version, key) = read_key_file(&self.path)?;
        found.insert(version, Arc::new(key));
        let next = next_path(&self.path);
        if next.exists() {
            let (version, key) = read_key_file(&next)?;
            found.insert(version, Arc::new(key));
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.extend(found);
        Ok(())
    }
}

impl MasterKeys for FileMasterKeys {
    fn current(&self) -> Result<(u32, Arc<MasterKey>), KeyError> {
        let _ = self.reload();
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .iter()
            .next_back()
            .map(|(v, k)| (*v, k.clone()))
            .ok_or(KeyError::MasterMissing(1))
    }

    fn version(&self, version: u32) -> Result<Arc<MasterKey>, KeyError> {
        if let Some(key) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&version)
        {
            return Ok(key.clone());
        }
        let _ = self.reload();
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&version)
            .cloned()
            .ok_or(KeyError::MasterMissing(version))
    }
}

/// The recovery export: the master key sealed under a passphrase, as a small text file.
pub fn export_recovery(
    path: &Path,
    passphrase: &str,
    out: &Path,
    random: &dyn Random,
) -> anyhow::Result<()> {
    let (version, key) = read_key_file(path)?;
    let salt: [u8; 16] = random_bytes(random);
    let sealed =
        recovery::seal(&key, passphrase, salt, random_bytes(random)).map_err(anyhow::Error::msg)?;
    let text = format!(
        "alliance-recovery v1\nmaster-version {version}\nsalt {}\nsealed {}\n",
        alliance_core::auth::hex(&salt),
        alliance_core::auth::hex(&sealed)
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Writes the master key file back from a recovery export.
pub fn import_recovery(export: &Path, passphrase: &str, path: &Path) -> anyhow::Result<u32> {
    let text = std::fs::read_to_string(export)
        .with_context(|| format!("cannot read {}", export.display()))?;
    let field = |name: &str| -> anyhow::Result<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(str::to_owned)
            .with_context(|| format!("the recovery export has no {name}"))
    };
    if !text.starts_with("alliance-recovery v1") {
        bail!("{} is not an Alliance recovery export", export.display());
    }
    let version: u32 = field("master-version")?.parse()?;
    let salt: [u8; 16] = unhex(&field("salt")?)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the recovery export's salt is damaged"))?;
    let sealed = unhex(&field("sealed")?)?;
    let key = recovery::open(&sealed, passphrase, salt).map_err(anyhow::Error::msg)?;
    write_key_file(path, version, &key)?;
    Ok(version)
}

fn unhex(text: &str) -> anyhow::Result<Vec<u8>> {
    from_hex(text).context("damaged hexadecimal")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl Random for Fixed {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn key_files_are_private_versioned_and_read_back() {
        let dir = tempdir("files");
        let path = dir.join("keys").join("master.key");
        ensure_exists(&path, &Fixed(7)).ok();
        let (version, key) = read_key_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((version, *key.expose_bytes()), (1, [7; 32]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
        // A bare hexadecimal key (the first format) reads as version 1.
        std::fs::write(&path, "08".repeat(32)).ok();
        assert_eq!(
            read_key_file(&path)
                .map(|(v, k)| (v, *k.expose_bytes()))
                .ok(),
            Some((1, [8; 32]))
        );
        std::fs::write(&path, "not a key").ok();
        assert!(read_key_file(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_recovery_export_restores_the_key_with_its_passphrase_only() {
        let dir = tempdir("recovery");
        let path = dir.join("master.key");
        write_key_file(&path, 3, &MasterKey::from_bytes([9; 32])).ok();
        let export = dir.join("recovery.txt");
        let phrase = "walnut thistle beacon harbour lantern";
        export_recovery(&path, phrase, &export, &Fixed(1)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&path).ok();
        assert!(import_recovery(&export, "walnut thistle beacon harbour lanterns", &path).is_err());
        assert!(!path.exists(), "nothing is written on a wrong passphrase");
        assert_eq!(import_recovery(&export, phrase, &path).ok(), Some(3));
        assert_eq!(
            read_key_file(&path)
                .map(|(v, k)| (v, *k.expose_bytes()))
                .ok(),
            Some((3, [9; 32]))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("alliance-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }
}

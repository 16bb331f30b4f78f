//! Configuration, in layers: built-in defaults, then `alliance.toml` in the data folder, then
//! environment variables, then command-line flags. Unknown keys are refused; the database
//! URL's password is never printed.

use anyhow::{Context, anyhow, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "alliance.toml";
pub const DEFAULT_DATA: &str = "./alliance-data";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const SQLITE_FILE: &str = "alliance.sqlite3";

/// `alliance.toml`: every key optional, any other key an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub insecure_http: Option<bool>,
    pub https: Option<bool>,
    pub log: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub key_store_url: Option<String>,
}

/// What the command line and environment gave (clap has merged flag over environment).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub insecure_http: bool,
    pub https: bool,
    pub master_key_file: Option<PathBuf>,
    pub key_store_url: Option<String>,
}

/// Where a setting's value came from, for `check-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    EnvironmentOrFlag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => CONFIG_FILE,
            Source::EnvironmentOrFlag => "environment or command line",
        })
    }
}

/// A database URL: SQLite (`sqlite://path`) or PostgreSQL (`postgres://…`). Its password is
/// secret: `Display` and `Debug` hide it.
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite { url: String, path: PathBuf },
    Postgres(SecretString),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let raw = raw.trim();
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or("");
            if path.is_empty() {
                bail!(
                    "the SQLite URL names no file (write it as sqlite://path/to/alliance.sqlite3)"
                );
            }
            return Ok(Self::Sqlite {
                url: raw.to_owned(),
                path: PathBuf::from(path),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let parsed = url::Url::parse(raw).map_err(|e| {
                anyhow!("the PostgreSQL URL is not a valid URL ({e}); write it as postgres://user@host:5432/database")
            })?;
            if parsed.host_str().is_none_or(str::is_empty) {
                bail!(
                    "the PostgreSQL URL names no host; write it as postgres://user@host:5432/database"
                );
            }
            if parsed.path().trim_start_matches('/').is_empty() {
                bail!(
                    "the PostgreSQL URL names no database; write it as postgres://user@host:5432/database"
                );
            }
            return Ok(Self::Postgres(SecretString::from(raw.to_owned())));
        }
        bail!(
            "the database URL must start with sqlite:// or postgres:// (it starts with {:?})",
            raw.split(':')
                .next()
                .unwrap_or("")
                .chars()
                .take(20)
                .collect::<String>()
        )
    }

    pub fn sqlite_in(data: &Path) -> Self {
        let path = data.join(SQLITE_FILE);
        Self::Sqlite {
            url: format!("sqlite://{}", path.display()),
            path,
        }
    }

    /// The URL with any password replaced, safe to print.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite { url, .. } => url.clone(),
            Self::Postgres(secret) => match url::Url::parse(secret.expose_secret()) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("********"));
                    }
                    // Query parameters may carry a password too.
                    if url.query().is_some() {
                        url.set_query(Some("…"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://(unprintable)".to_owned(),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The settings in force, each with where it came from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data: PathBuf,
    pub data_source: Source,
    pub database: DatabaseUrl,
    pub database_source: Source,
    pub bind: SocketAddr,
    pub bind_source: Source,
    pub insecure_http: bool,
    pub https: bool,
    pub log: String,
    /// The master key's file (default `keys/master.key` in the data folder).
    pub master_key_file: PathBuf,
    /// The key store: its own database (default, with SQLite: `keys/keystore.sqlite3` in the
    /// data folder; with PostgreSQL it must be named, as a database of its own).
    pub key_store: Option<DatabaseUrl>,
}

impl Settings {
    /// Resolves every layer. Reads the config file if there is one; changes nothing.
    pub fn resolve(overrides: &Overrides) -> anyhow::Result<Self> {
        let (data, data_source) = match &overrides.data {
            Some(d) => (d.clone(), Source::EnvironmentOrFlag),
            None => (PathBuf::from(DEFAULT_DATA), Source::Default),
        };
        if data.as_os_str().is_empty() {
            bail!("the data folder is empty; give a path with --data or ALLIANCE_DATA");
        }
        let file = read_file(&data)?;

        let (database, database_source) = match (&overrides.database_url, &file.database_url) {
            (Some(url), _) => (DatabaseUrl::parse(url)?, Source::EnvironmentOrFlag),
            (None, Some(url)) => (
                DatabaseUrl::parse(url)
                    .with_context(|| format!("in {CONFIG_FILE}, database_url"))?,
                Source::File,
            ),
            (None, None) => (DatabaseUrl::sqlite_in(&data), Source::Default),
        };

        let (bind_raw, bind_source) = match (&overrides.bind, &file.bind) {
            (Some(b), _) => (b.clone(), Source::EnvironmentOrFlag),
            (None, Some(b)) => (b.clone(), Source::File),
            (None, None) => (DEFAULT_BIND.to_owned(), Source::Default),
        };
        let bind: SocketAddr = bind_raw.parse().map_err(|_| {
            anyhow!("the address to serve on ({bind_raw:?}, from {bind_source}) is not an IP address and port, such as 127.0.0.1:8080")
        })?;

        let master_key_file = overrides
            .master_key_file
            .clone()
            .or(file.master_key_file)
            .unwrap_or_else(|| data.join("keys").join("master.key"));
        let key_store = match (&overrides.key_store_url, &file.key_store_url, &database) {
            (Some(url), _, _) => Some(DatabaseUrl::parse(url).context("the key store URL")?),
            (None, Some(url), _) => Some(
                DatabaseUrl::parse(url)
                    .with_context(|| format!("in {CONFIG_FILE}, key_store_url"))?,
            ),
            (None, None, DatabaseUrl::Sqlite { .. }) => {
                let path = data.join("keys").join("keystore.sqlite3");
                Some(DatabaseUrl::Sqlite {
                    url: format!("sqlite://{}", path.display()),
                    path,
                })
            }
            (None, None, DatabaseUrl::Postgres(_)) => None,
        };
        Ok(Self {
            data,
            data_source,
            database,
            database_source,
            bind,
            bind_source,
            insecure_http: overrides.insecure_http || file.insecure_http.unwrap_or(false),
            https: overrides.https || file.https.unwrap_or(false),
            log: file.log.unwrap_or_else(|| "info".to_owned()),
            master_key_file,
            key_store,
        })
    }

    /// Serving on an address other machines can reach, over plain HTTP, must be asked for:
    /// passwords and children's records would cross the network readable.
    /// Whether browsers will see a secure context: over HTTPS, or on this machine (browsers
    /// treat `localhost` and 127.0.0.1 as secure).
    pub fn secure_context(&self) -> bool {
        self.https || self.bind.ip().is_loopback()
    }

    pub fn check_transport(&self) -> anyhow::Result<()> {
        if !self.bind.ip().is_loopback() && !self.insecure_http {
            bail!(
                "refusing to serve on {} over plain HTTP: other machines could read what is sent. \
                 Serve on 127.0.0.1 behind a reverse proxy that provides TLS (see the README), or, \
                 if the network between the proxy and Alliance is trusted, pass --insecure-http",
                self.bind
            );
        }
        Ok(())
    }
}

fn read_file(data: &Path) -> anyhow::Result<FileConfig> {
    let path = data.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            bail!("the data folder {} is not a folder", data.display())
        }
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    toml::from_str(&text).map_err(|e| anyhow!("{} is not valid: {}", path.display(), e.message()))
}

/// Makes sure the data folder exists and can be written, creating it if it is missing. Run only
/// by commands that are about to write (serve, migrate, demo).
pub fn prepare_data_folder(data: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the data folder {}", data.display()))?;
    let probe = data.join(format!(".alliance-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write in the data folder {}", data.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse(
            "postgres://alliance:s3cr3t@db.example:5432/alliance?password=other",
        )
        .unwrap_or_else(|_| DatabaseUrl::sqlite_in(Path::new("x")));
        let shown = format!("{url} {url:?} {}", url.redacted());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("other"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
    }

    #[test]
    fn database_urls_are_checked() {
        for bad in [
            "mysql://x/y",
            "",
            "postgres://",
            "postgres://host",
            "sqlite://",
            "/tmp/a.db",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(matches!(
            DatabaseUrl::parse("sqlite:///tmp/a.sqlite3"),
            Ok(DatabaseUrl::Sqlite { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://root@127.0.0.1:5432/test"),
            Ok(DatabaseUrl::Postgres(_))
        ));
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let err = toml::from_str::<FileConfig>("bind = \"127.0.0.1:1\"\ndatabse_url = \"x\"").err();
        assert!(
            err.map(|e| e.to_string())
                .unwrap_or_default()
                .contains("databse_url")
        );
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("alliance-config-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(
            dir.join(CONFIG_FILE),
            "bind = \"127.0.0.1:9000\"\nlog = \"debug\"\n",
        );
        let from_file = Settings::resolve(&Overrides {
            data: Some(dir.clone()),
            ..Overrides::default()
        });
        assert_eq!(from_file.as_ref().map(|s| s.bind.port()).ok(), Some(9000));
        assert_eq!(
            from_file.as_ref().map(|s| s.bind_source).ok(),
            Some(Source::File)
        );
        let from_flag = Settings::resolve(&Overrides {
            data: Some(dir.clone()),
            bind: Some("127.0.0.1:9100".into()),
            ..Overrides::default()
        });
        assert_eq!(from_flag.map(|s| s.bind.port()).ok(), Some(9100));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn plain_http_beyond_this_machine_must_be_asked_for() {
        let mut settings = Settings::resolve(&Overrides {
            data: Some(PathBuf::from("/nonexistent-alliance-test")),
            bind: Some("0.0.0.0:8080".into()),
            ..Overrides::default()
        });
        assert!(
            settings
                .as_ref()
                .map(|s| s.check_transport().is_err())
                .unwrap_or(false)
        );
        if let Ok(s) = settings.as_mut() {
            s.insecure_http = true;
            assert!(s.check_transport().is_ok());
            s.bind = "[::1]:8080".parse().unwrap_or(s.bind);
            s.insecure_http = false;
            assert!(s.check_transport().is_ok());
        }
    }
}

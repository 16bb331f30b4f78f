//! Configuration, in layers: built-in defaults, then `alliance.toml` in the data folder, then
//! environment variables, then command-line flags. Unknown keys are refused; the database
//! URL's password and the mail server's password are never printed.

use anyhow::{Context, anyhow, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
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
    /// Where staff reach Alliance (`https://…`), for the sign-in link in emails and the
    /// addresses of calendar feeds.
    pub public_url: Option<String>,
    /// `[mail]`: the SMTP server that carries the staff nudge.
    pub mail: Option<MailFile>,
}

/// `[mail]` in `alliance.toml`: every key optional, any other key an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    pub smtp_url: Option<String>,
    pub from: Option<String>,
    pub username: Option<String>,
    /// Secret: held as a `SecretString` from the moment it is read.
    #[serde(default, deserialize_with = "secret")]
    pub password: Option<SecretString>,
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
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
    pub mail_smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub mail_username: Option<String>,
    /// From the environment only (a flag would show in the process list).
    pub mail_password: Option<SecretString>,
    pub public_url: Option<String>,
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
    /// The SMTP server for the staff nudge; None when `mail.smtp_url` is not set (Alliance
    /// works without mail).
    pub mail: Option<MailSettings>,
    /// Where staff reach Alliance, for the sign-in link in emails.
    pub public_url: Option<PublicUrl>,
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
        let public_url = match (&overrides.public_url, &file.public_url) {
            (Some(url), _) => Some(PublicUrl::parse(url).context("the public URL")?),
            (None, Some(url)) => Some(
                PublicUrl::parse(url).with_context(|| format!("in {CONFIG_FILE}, public_url"))?,
            ),
            (None, None) => None,
        };
        let mail = MailSettings::resolve(overrides, file.mail.unwrap_or_default())?;
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
            mail,
            public_url,
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

/// How Alliance talks to the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://` to another machine: STARTTLS, required (no mail goes out unencrypted).
    StartTls,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
    /// `smtp://` to this machine (127.0.0.1, ::1, localhost): plain, as to a local relay.
    PlainLoopback,
}

impl fmt::Display for SmtpSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpSecurity::StartTls => "STARTTLS",
            SmtpSecurity::ImplicitTls => "TLS",
            SmtpSecurity::PlainLoopback => "plain, on this machine",
        })
    }
}

/// The SMTP server for the staff nudge. The password is secret: `Debug` shows only the
/// server, and `check-config` prints only [`MailSettings::server`].
#[derive(Clone)]
pub struct MailSettings {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub from: lettre::message::Mailbox,
    pub credentials: Option<MailCredentials>,
    pub source: Source,
}

#[derive(Clone)]
pub struct MailCredentials {
    pub username: String,
    pub password: SecretString,
}

impl MailSettings {
    /// `mail.*`, each key from the environment or command line over `alliance.toml`.
    fn resolve(overrides: &Overrides, file: MailFile) -> anyhow::Result<Option<Self>> {
        fn pick<T: Clone>(over: &Option<T>, file: Option<T>) -> Option<(T, Source)> {
            match (over, file) {
                (Some(v), _) => Some((v.clone(), Source::EnvironmentOrFlag)),
                (None, Some(v)) => Some((v, Source::File)),
                (None, None) => None,
            }
        }
        let smtp_url = pick(&overrides.mail_smtp_url, file.smtp_url);
        let from = pick(&overrides.mail_from, file.from);
        let username = pick(&overrides.mail_username, file.username);
        let password = pick(&overrides.mail_password, file.password);
        let Some((smtp_url, source)) = smtp_url else {
            if from.is_some() || username.is_some() || password.is_some() {
                bail!(
                    "mail settings are given but mail.smtp_url is not: set mail.smtp_url \
                     (ALLIANCE_MAIL_SMTP_URL) to send mail, or remove them"
                );
            }
            return Ok(None);
        };
        let (security, host, port) =
            parse_smtp_url(&smtp_url).with_context(|| format!("mail.smtp_url (from {source})"))?;
        let Some((from, from_source)) = from else {
            bail!(
                "mail.smtp_url is set but mail.from is not: give the address nudges come from \
                 (mail.from in {CONFIG_FILE}, or ALLIANCE_MAIL_FROM)"
            );
        };
        let from = from
            .trim()
            .parse::<lettre::message::Mailbox>()
            .map_err(|_| {
                anyhow!(
                    "mail.from (from {from_source}) is not an email address; write it as \
                 alliance@example.org or \"Alliance <alliance@example.org>\""
                )
            })?;
        let credentials = match (username, password) {
            (Some((username, _)), Some((password, _))) => {
                if username.trim().is_empty() {
                    bail!("mail.username is empty");
                }
                Some(MailCredentials { username, password })
            }
            (None, None) => None,
            (Some(_), None) => bail!(
                "mail.username is set but the password is not: give it as mail.password in \
                 {CONFIG_FILE} or in ALLIANCE_MAIL_PASSWORD"
            ),
            (None, Some(_)) => bail!("a mail password is set but mail.username is not"),
        };
        Ok(Some(Self {
            security,
            host,
            port,
            from,
            credentials,
            source,
        }))
    }

    /// The server and how it is reached, safe to print: no user name, no password.
    pub fn server(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{host}:{}, {}", self.port, self.security)
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("server", &self.server())
            .field("credentials", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

/// `smtp://host[:port]` (STARTTLS, default port 587; plain to this machine, default 25) or
/// `smtps://host[:port]` (TLS, default 465). Nothing else: no user, password, path or query
/// (the errors never repeat the URL, which might hold a password).
pub fn parse_smtp_url(raw: &str) -> anyhow::Result<(SmtpSecurity, String, u16)> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        anyhow!("not a valid URL ({e}); write it as smtp://mail.example.org:587 or smtps://mail.example.org")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        bail!(
            "the URL must not hold a user name or password: put them in mail.username and \
             mail.password (or ALLIANCE_MAIL_PASSWORD)"
        );
    }
    let scheme = url.scheme();
    if scheme != "smtp" && scheme != "smtps" {
        bail!("it must start with smtp:// (STARTTLS, or plain to this machine) or smtps:// (TLS)");
    }
    let host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| anyhow!("it names no host; write it as smtp://mail.example.org:587"))?;
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        bail!("it must be only scheme://host:port, such as smtp://mail.example.org:587");
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let (security, default_port) = match (scheme, loopback) {
        ("smtps", _) => (SmtpSecurity::ImplicitTls, 465),
        (_, true) => (SmtpSecurity::PlainLoopback, 25),
        (_, false) => (SmtpSecurity::StartTls, 587),
    };
    Ok((security, host, url.port().unwrap_or(default_port)))
}

/// Where staff reach Alliance: `https://…` (or `http://` on this machine, for trying it out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

impl PublicUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(raw.trim()).map_err(|e| {
            anyhow!("not a valid URL ({e}); write it as https://alliance.example.org")
        })?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => bail!("it names no host; write it as https://alliance.example.org"),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => bail!("it must start with https:// (staff follow it to sign in)"),
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            bail!(
                "it must be only the address Alliance is served at, such as https://alliance.example.org"
            );
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The sign-in page under this address.
    pub fn sign_in_url(&self) -> String {
        format!("{}/sign-in", self.0.as_str().trim_end_matches('/'))
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

    fn mail_settings(file: &str, overrides: Overrides) -> anyhow::Result<Option<MailSettings>> {
        let parsed: FileConfig = toml::from_str(file)?;
        MailSettings::resolve(&overrides, parsed.mail.unwrap_or_default())
    }

    #[test]
    fn smtp_urls_choose_how_mail_is_protected() {
        let ok = |raw: &str| parse_smtp_url(raw).ok();
        assert_eq!(
            ok("smtp://mail.example.org"),
            Some((SmtpSecurity::StartTls, "mail.example.org".into(), 587))
        );
        assert_eq!(
            ok("smtp://mail.example.org:2587"),
            Some((SmtpSecurity::StartTls, "mail.example.org".into(), 2587))
        );
        assert_eq!(
            ok("smtps://mail.example.org"),
            Some((SmtpSecurity::ImplicitTls, "mail.example.org".into(), 465))
        );
        assert_eq!(
            ok("smtp://127.0.0.1:2525"),
            Some((SmtpSecurity::PlainLoopback, "127.0.0.1".into(), 2525))
        );
        assert_eq!(
            ok("smtp://[::1]"),
            Some((SmtpSecurity::PlainLoopback, "::1".into(), 25))
        );
        assert_eq!(
            ok("smtp://localhost"),
            Some((SmtpSecurity::PlainLoopback, "localhost".into(), 25))
        );
        // Plain only on this machine: a private address still gets STARTTLS.
        assert_eq!(
            ok("smtp://10.0.0.5:25").map(|(s, _, _)| s),
            Some(SmtpSecurity::StartTls)
        );
        for bad in [
            "",
            "mail.example.org",
            "http://mail.example.org",
            "smtp://",
            "smtp://mail.example.org/x",
            "smtp://mail.example.org?tls=none",
        ] {
            assert!(parse_smtp_url(bad).is_err(), "{bad:?} was accepted");
        }
        let err = parse_smtp_url("smtp://alliance:hunter2@mail.example.org")
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("mail.password"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn without_an_smtp_url_there_is_no_mail() {
        assert!(matches!(mail_settings("", Overrides::default()), Ok(None)));
        assert!(mail_settings("[mail]\nfrom = \"a@example.org\"\n", Overrides::default()).is_err());
        let with_password_only = Overrides {
            mail_password: Some(SecretString::from("hunter2")),
            ..Overrides::default()
        };
        assert!(mail_settings("", with_password_only).is_err());
    }

    #[test]
    fn mail_needs_a_from_address_and_credentials_in_pairs() {
        let url = "[mail]\nsmtp_url = \"smtp://mail.example.org\"\n";
        assert!(mail_settings(url, Overrides::default()).is_err(), "no from");
        assert!(
            mail_settings(
                &format!("{url}from = \"not an address\"\n"),
                Overrides::default()
            )
            .is_err()
        );
        let named = mail_settings(
            &format!("{url}from = \"Alliance <alliance@example.org>\"\n"),
            Overrides::default(),
        );
        assert_eq!(
            named
                .ok()
                .flatten()
                .map(|m| (m.from.email.to_string(), m.source)),
            Some(("alliance@example.org".into(), Source::File))
        );
        let with_user = format!("{url}from = \"alliance@example.org\"\nusername = \"alliance\"\n");
        assert!(
            mail_settings(&with_user, Overrides::default()).is_err(),
            "no password"
        );
        let from_env = mail_settings(
            &with_user,
            Overrides {
                mail_password: Some(SecretString::from("hunter2")),
                ..Overrides::default()
            },
        );
        assert!(matches!(
            from_env,
            Ok(Some(MailSettings {
                credentials: Some(_),
                ..
            }))
        ));
    }

    #[test]
    fn flags_beat_the_file_for_mail_and_the_password_never_shows() {
        let file = "[mail]\nsmtp_url = \"smtp://mail.example.org\"\nfrom = \"a@example.org\"\n\
                    username = \"alliance\"\npassword = \"s3cr3t-pw\"\n";
        let settings = mail_settings(
            file,
            Overrides {
                mail_smtp_url: Some("smtps://relay.example.org:1465".into()),
                ..Overrides::default()
            },
        )
        .ok()
        .flatten();
        let shown = format!(
            "{settings:?} {}",
            settings
                .as_ref()
                .map(MailSettings::server)
                .unwrap_or_default()
        );
        assert!(shown.contains("relay.example.org:1465, TLS"), "{shown}");
        assert!(
            !shown.contains("s3cr3t-pw") && !shown.contains("alliance"),
            "{shown}"
        );
        let parsed: Result<FileConfig, _> = toml::from_str(file);
        let shown = format!("{parsed:?}");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(toml::from_str::<FileConfig>("[mail]\nsmpt_url = \"x\"\n").is_err());
    }

    #[test]
    fn the_public_url_gives_the_sign_in_link() {
        let link = |raw: &str| PublicUrl::parse(raw).ok().map(|u| u.sign_in_url());
        assert_eq!(
            link("https://alliance.example.org").as_deref(),
            Some("https://alliance.example.org/sign-in")
        );
        assert_eq!(
            link("https://example.org/alliance/").as_deref(),
            Some("https://example.org/alliance/sign-in")
        );
        assert_eq!(
            link("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080/sign-in")
        );
        for bad in [
            "http://alliance.example.org",
            "alliance.example.org",
            "https://alliance.example.org/?x=1",
            "https://user:pw@alliance.example.org",
            "ftp://alliance.example.org",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
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

//! Test support shared by the integration tests: fresh databases on both engines, and the real
//! `alliance` binary started on a free port.
//!
//! Which engines a run covers comes from `ALLIANCE_TEST_BACKENDS` (default `sqlite,postgres`);
//! PostgreSQL is reached at `ALLIANCE_TEST_POSTGRES_URL` (default
//! `postgres://root@127.0.0.1:5432/test`), where each test creates its own database and drops
//! it afterwards.

mod smtp;

pub use smtp::{ReceivedMail, SmtpSink};

use anyhow::{Context, bail};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The role the server connects as on PostgreSQL: it owns nothing.
pub const APP_ROLE: &str = "alliance_test_app";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The engines this run covers.
pub fn backends() -> Vec<Backend> {
    let wanted =
        std::env::var("ALLIANCE_TEST_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    wanted
        .split(',')
        .filter_map(|b| match b.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        })
        .collect()
}

pub fn postgres_admin_url() -> String {
    std::env::var("ALLIANCE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A fresh, empty database, removed when dropped.
pub struct TestDatabase {
    pub backend: Backend,
    /// The data folder (also holds the SQLite file).
    pub data: tempfile::TempDir,
    /// The URL of the tables' owner (migrations run as this).
    pub owner_url: String,
    /// The URL the server should use: on PostgreSQL a role that owns nothing.
    pub app_url: String,
    /// On PostgreSQL, the key store's own database as its owner (the data folder's
    /// `alliance.toml` names it for the server's role). None on SQLite: it is in the folder.
    pub owner_key_store_url: Option<String>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("alliance-test-")
            .tempdir()?;
        match backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    data.path().join("alliance.sqlite3").display()
                );
                Ok(Self {
                    backend,
                    data,
                    owner_url: url.clone(),
                    app_url: url,
                    owner_key_store_url: None,
                    postgres_name: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("alliance_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(&admin).await.with_context(|| {
                    format!(
                        "PostgreSQL is not reachable at {admin}: the tests need it (see README)"
                    )
                })?;
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await?;
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}_keys")))
                    .execute(&mut conn)
                    .await?;
                ensure_app_role(&mut conn).await?;
                conn.close().await?;
                let owner_url = replace_database(&admin, &name)?;
                let app_url = replace_user(&owner_url, APP_ROLE)?;
                let owner_key_store_url = replace_database(&admin, &format!("{name}_keys"))?;
                let app_key_store_url = replace_user(&owner_key_store_url, APP_ROLE)?;
                std::fs::write(
                    data.path().join("alliance.toml"),
                    format!("key_store_url = \"{app_key_store_url}\"\n"),
                )?;
                Ok(Self {
                    backend,
                    data,
                    owner_url,
                    app_url,
                    owner_key_store_url: Some(owner_key_store_url),
                    postgres_name: Some(name),
                })
            }
        }
    }

    pub fn data_path(&self) -> &Path {
        self.data.path()
    }

    /// The options that point a command at this database (and its key store) as their owner.
    pub fn owner_args(&self) -> Vec<String> {
        let mut args = vec![
            "--data".to_owned(),
            self.data_path().display().to_string(),
            "--database".to_owned(),
            self.owner_url.clone(),
        ];
        if let Some(keys) = &self.owner_key_store_url {
            args.extend(["--key-store".to_owned(), keys.clone()]);
        }
        args
    }
}

async fn ensure_app_role(conn: &mut PgConnection) -> anyhow::Result<()> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(APP_ROLE)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        // Two tests may race to create it; losing the race is fine.
        let _ = sqlx::query(AssertSqlSafe(format!("CREATE ROLE {APP_ROLE} LOGIN")))
            .execute(&mut *conn)
            .await;
    }
    Ok(())
}

fn replace_database(url: &str, database: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.to_string())
}

fn replace_user(url: &str, user: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)?;
    if parsed.set_username(user).is_err() || parsed.set_password(None).is_err() {
        bail!("cannot set the user in {url}");
    }
    Ok(parsed.to_string())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        let admin = postgres_admin_url();
        // Drop runs outside any runtime we can borrow: use a short-lived one on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    for database in [name.clone(), format!("{name}_keys")] {
                        let _ = sqlx::query(AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The output of one run of the binary.
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `alliance ARGS` to completion.
pub async fn run(binary: &Path, args: &[&str]) -> anyhow::Result<Output> {
    let output = Command::new(binary)
        .args(args)
        .env_remove("ALLIANCE_DATA")
        .env_remove("ALLIANCE_DATABASE_URL")
        .env_remove("ALLIANCE_BIND")
        .stdin(Stdio::null())
        .output()
        .await?;
    Ok(Output {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Runs `alliance ARGS` with `input` on its standard input.
pub async fn run_with_input(binary: &Path, args: &[&str], input: &str) -> anyhow::Result<Output> {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(binary)
        .args(args)
        .env_remove("ALLIANCE_DATA")
        .env_remove("ALLIANCE_DATABASE_URL")
        .env_remove("ALLIANCE_BIND")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).await?;
    }
    let output = child.wait_with_output().await?;
    Ok(Output {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// The real server, on a free port, stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    child: Child,
}

impl TestServer {
    /// Starts `alliance serve` for `db` (migrating it first as the owner, and on PostgreSQL
    /// serving as the application role), with `extra` arguments.
    pub async fn start(binary: &Path, db: &TestDatabase, extra: &[&str]) -> anyhow::Result<Self> {
        let data = db.data_path().display().to_string();
        let mut migrate = vec!["--data", &data, "--database", &db.owner_url];
        if let Some(keys) = &db.owner_key_store_url {
            migrate.extend([
                "--key-store",
                keys.as_str(),
                "migrate",
                "--grant-to",
                APP_ROLE,
            ]);
        } else {
            migrate.push("migrate");
        }
        let migrated = run(binary, &migrate).await?;
        if !migrated.success {
            bail!("migrate failed: {}", migrated.stderr);
        }
        let mut args = vec![
            "--data",
            &data,
            "--database",
            &db.app_url,
            "serve",
            "--bind",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        Self::spawn(binary, &args).await
    }

    /// Starts the binary with exactly these arguments and waits for it to listen.
    pub async fn spawn(binary: &Path, args: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .args(args)
            .env_remove("ALLIANCE_DATA")
            .env_remove("ALLIANCE_DATABASE_URL")
            .env_remove("ALLIANCE_BIND")
            .env("ALLIANCE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("Alliance is listening on ") {
                    return Ok::<_, anyhow::Error>(rest.split(' ').next().unwrap_or("").to_owned());
                }
            }
            bail!("the server exited before listening")
        })
        .await
        .context("the server did not start within 60 s")??;
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            base: address,
            client,
            child,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.client.get(self.url(path)).send().await?)
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The built binary's path, from Cargo's `CARGO_BIN_EXE_alliance` in the caller.
pub fn binary(path: &str) -> PathBuf {
    PathBuf::from(path)
}

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the first `<input … name="NAME" value="…">` on the page.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// A browser-like client: keeps the session cookie by hand (reqwest would not send a Secure
/// cookie over http://127.0.0.1, which browsers do), sends same-origin headers with forms,
/// and does not follow redirects, so each step can be checked.
pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(server: &TestServer) -> Self {
        Self {
            base: server.base.clone(),
            client: server.client.clone(),
            cookie: None,
        }
    }

    async fn read(&mut self, response: reqwest::Response) -> anyhow::Result<Page> {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or("");
            if let Some(pair) = text.split(';').next()
                && let Some((name, value)) = pair.split_once('=')
                && name.ends_with("alliance")
            {
                self.cookie = if value.is_empty() {
                    None
                } else {
                    Some(format!("{name}={value}"))
                };
            }
        }
        Ok(Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await?,
        })
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Page> {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await?;
        self.read(response).await
    }

    /// Posts a form as Chromium does from a page of this site: every Alliance page says
    /// `Referrer-Policy: no-referrer`, so the browser sends `Origin: null`, with
    /// `Sec-Fetch-Site: same-origin`.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        self.post_with(
            path,
            fields,
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Page> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await?;
        self.read(response).await
    }
}

//! `alliance`: the one binary. Reads configuration, picks the database, and runs a command.
//! The only crate that reads environment variables or prints to the console.

mod config;
mod database;
mod keys;
mod mail;

use alliance_core::auth::TokenScope;
use alliance_core::random::Random;
use alliance_service::demo::{self, DemoScale, DemoSummary, Progress};
use alliance_service::keys::KeyRing;
use alliance_service::{AccountRequest, Alliance, AppError, OsRandom, StoreError, SystemClock};
use alliance_store_sqlite::OpenMode;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use config::{DatabaseUrl, Overrides, Settings};
use database::Database;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "alliance",
    version,
    about = "Alliance: software for the therapeutic alliance with children and young people"
)]
struct Cli {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; every command that touches data takes these.
#[derive(Args, Clone)]
struct DataArgs {
    /// The data folder: the SQLite database, alliance.toml and (later) the key store.
    #[arg(long, global = true, env = "ALLIANCE_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    /// The database: sqlite://FILE (default: alliance.sqlite3 in the data folder) or
    /// postgres://USER@HOST:PORT/DATABASE.
    #[arg(
        long,
        global = true,
        env = "ALLIANCE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,
    /// The master key file (default: keys/master.key in the data folder).
    #[arg(
        long,
        global = true,
        env = "ALLIANCE_MASTER_KEY_FILE",
        value_name = "FILE"
    )]
    master_key_file: Option<PathBuf>,
    /// The key store, a database of its own (default with SQLite: keys/keystore.sqlite3 in the
    /// data folder; required with PostgreSQL).
    #[arg(
        long = "key-store",
        global = true,
        env = "ALLIANCE_KEY_STORE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    key_store: Option<String>,
}

/// The SMTP server for the staff nudge (or `[mail]` in alliance.toml). The password, if the
/// server wants one, comes from ALLIANCE_MAIL_PASSWORD or mail.password in alliance.toml.
#[derive(Args, Clone)]
#[command(next_help_heading = "Mail")]
struct MailArgs {
    /// The mail server: smtp://HOST:587 (STARTTLS), smtps://HOST (TLS), or smtp://127.0.0.1:PORT
    /// (plain, to this machine only). Without it, Alliance sends no email.
    #[arg(
        long,
        global = true,
        env = "ALLIANCE_MAIL_SMTP_URL",
        value_name = "URL"
    )]
    mail_smtp_url: Option<String>,
    /// The address nudges come from, such as alliance@example.org.
    #[arg(
        long,
        global = true,
        env = "ALLIANCE_MAIL_FROM",
        value_name = "ADDRESS"
    )]
    mail_from: Option<String>,
    /// The user name to sign in to the mail server with.
    #[arg(
        long,
        global = true,
        env = "ALLIANCE_MAIL_USERNAME",
        value_name = "USER"
    )]
    mail_username: Option<String>,
    /// Where staff reach Alliance (https://…), for the sign-in link in emails and the
    /// addresses of calendar feeds.
    #[arg(long, global = true, env = "ALLIANCE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (migrating the database first).
    Serve(ServeArgs),
    /// Fill an empty database with a made-up demo service.
    Demo(DemoArgs),
    /// Bring the database's schema up to this binary's version.
    Migrate(MigrateArgs),
    /// Check the configuration and the database without changing anything.
    CheckConfig,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check or export the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Rotate the master key, or export it for the safe and restore it.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check the mail settings.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Run the scheduler by hand (it also runs inside `serve`).
    #[command(subcommand)]
    Scheduler(SchedulerCommand),
    /// Import bank holidays for years (or nations) Alliance does not ship.
    #[command(subcommand)]
    Holidays(HolidaysCommand),
    /// Check measure definition files before adding them (issue 17).
    #[command(subcommand)]
    Measures(MeasuresCommand),
}

#[derive(Subcommand)]
enum MeasuresCommand {
    /// Check a measure definition file (TOML, or JSON when it ends in .json) as a service
    /// adding it would: every problem is listed with its path (`items[2].scale`). Touches no
    /// database and no configuration.
    Check(MeasuresCheckArgs),
}

#[derive(Args)]
struct MeasuresCheckArgs {
    /// The definition file.
    file: PathBuf,
}

#[derive(Subcommand)]
enum SchedulerCommand {
    /// One pass: raise what fell due, escalate what is overdue, send the nudges.
    RunOnce,
}

#[derive(Subcommand)]
enum HolidaysCommand {
    /// Import a file in the UK government's bank-holidays JSON shape (as published at
    /// gov.uk/bank-holidays.json). Shows what it holds; stores it only with --save.
    Import(HolidaysImportArgs),
}

#[derive(Args)]
struct HolidaysImportArgs {
    /// The JSON file.
    file: std::path::PathBuf,
    /// Store the holidays (without it, nothing is changed).
    #[arg(long)]
    save: bool,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Check the mail settings by sending one staff nudge ("Something in Alliance needs you",
    /// the same words every nudge has) to ADDRESS through the configured mail server.
    /// Needs mail.smtp_url and mail.from (alliance.toml, or ALLIANCE_MAIL_SMTP_URL and
    /// ALLIANCE_MAIL_FROM); touches no database.
    Test(MailTestArgs),
}

#[derive(Args)]
struct MailTestArgs {
    /// The address to send the test nudge to (your own).
    #[arg(long, value_name = "ADDRESS")]
    to: String,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Re-wrap every data key under a new master key. Safe to interrupt and run again: it
    /// carries on where it stopped. Servers keep working throughout.
    Rotate(RotateArgs),
    /// Write the master key, sealed under a recovery passphrase (read from standard input), to
    /// a file for the service's safe.
    Export(ExportArgs),
    /// Restore the master key file from a recovery export (passphrase from standard input).
    Import(ImportArgs),
}

#[derive(Args)]
struct RotateArgs {
    /// Keys re-wrapped per transaction.
    #[arg(long, default_value_t = 500)]
    batch: i64,
    /// Stop after this many batches (to rotate a large key store in slices).
    #[arg(long)]
    max_batches: Option<u64>,
}

#[derive(Args)]
struct ExportArgs {
    /// Required: the export is for recovery, sealed under a passphrase.
    #[arg(long, required = true)]
    recovery: bool,
    /// Where to write it (a new file).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
struct ImportArgs {
    /// The recovery export to restore the master key file from.
    #[arg(long, value_name = "FILE")]
    recovery: PathBuf,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole chain; names the first altered, removed or reordered entry.
    Verify,
    /// Write every entry as JSON lines (ids only, never content), for an inspector.
    Export,
    /// After restoring a backup: record the restore in the chain so verification carries on.
    Checkpoint,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a staff account (the first administrator, for example).
    Add(UserAddArgs),
}

#[derive(Args)]
struct UserAddArgs {
    #[arg(long)]
    username: String,
    /// A role: therapist, supervisor, dsl, deputy-dsl, service-lead, administrator, staff.
    /// Repeat for several.
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// The person's name as others see it (default: the username).
    #[arg(long)]
    display_name: Option<String>,
    /// Read the password from the first line of standard input; otherwise one is made up and
    /// printed once.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; it is printed once.
    Create(TokenCreateArgs),
}

#[derive(Args)]
struct TokenCreateArgs {
    #[arg(long)]
    username: String,
    /// read or read-write.
    #[arg(long, default_value = "read")]
    scope: String,
    /// Days until it expires (1 to 366).
    #[arg(long, default_value_t = 90)]
    expires: i64,
    /// What the token is for.
    #[arg(long, default_value = "command line")]
    name: String,
}

#[derive(Args)]
struct ServeArgs {
    /// The address to serve on (default 127.0.0.1:8080).
    #[arg(long, env = "ALLIANCE_BIND", value_name = "ADDR")]
    bind: Option<String>,
    /// Allow plain HTTP on an address other machines can reach.
    #[arg(long, env = "ALLIANCE_INSECURE_HTTP")]
    insecure_http: bool,
    /// Clients reach Alliance over HTTPS (through a proxy): send Strict-Transport-Security.
    #[arg(long, env = "ALLIANCE_HTTPS")]
    https: bool,
    /// Fill an empty database with the small demo service before serving.
    #[arg(long)]
    demo: bool,
    /// How often the scheduler raises what fell due, escalates what is overdue and sends
    /// nudges (it also runs once at start-up).
    #[arg(
        long,
        env = "ALLIANCE_SCHEDULER_INTERVAL",
        value_name = "SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    scheduler_interval: u64,
    /// Sign people out after this many minutes without a request (policy default 30).
    #[arg(
        long,
        env = "ALLIANCE_SESSION_IDLE_MINUTES",
        value_name = "MINUTES",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=480)
    )]
    session_idle_minutes: u32,
    /// For rehearsals and tests only: the server's clock starts at this instant (RFC 3339,
    /// e.g. 2026-12-06T02:00:00Z) and runs on from there. Never on a live service.
    #[arg(long, env = "ALLIANCE_CLOCK_STARTS_AT", value_name = "INSTANT")]
    clock_starts_at: Option<jiff::Timestamp>,
}

#[derive(Args)]
struct DemoArgs {
    /// small (a team to look around), large (a big service) or xlarge.
    #[arg(long, default_value = "small", value_parser = parse_scale)]
    scale: DemoScale,
    /// The same seed always makes the same service.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct MigrateArgs {
    /// PostgreSQL only: after migrating, grant this role what the server needs and no more,
    /// so the server can connect as a role that does not own the tables.
    #[arg(long, value_name = "ROLE")]
    grant_to: Option<String>,
}

fn parse_scale(raw: &str) -> Result<DemoScale, String> {
    DemoScale::parse(raw)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("alliance: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("alliance: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Measures(MeasuresCommand::Check(args)) = &cli.command {
        return check_measure(&args.file);
    }
    let mut overrides = Overrides {
        data: cli.data.data,
        database_url: cli.data.database,
        master_key_file: cli.data.master_key_file,
        key_store_url: cli.data.key_store,
        mail_smtp_url: cli.mail.mail_smtp_url,
        mail_from: cli.mail.mail_from,
        mail_username: cli.mail.mail_username,
        mail_password: std::env::var("ALLIANCE_MAIL_PASSWORD")
            .ok()
            .map(secrecy::SecretString::from),
        public_url: cli.mail.public_url,
        ..Overrides::default()
    };
    if let Command::Serve(serve) = &cli.command {
        overrides.bind = serve.bind.clone();
        overrides.insecure_http = serve.insecure_http;
        overrides.https = serve.https;
    }
    let settings = Settings::resolve(&overrides)?;
    init_logging(&settings.log);
    match cli.command {
        Command::Serve(args) => serve(&settings, &args).await,
        Command::Demo(args) => run_demo(&settings, args).await,
        Command::Migrate(args) => migrate(&settings, args).await,
        Command::CheckConfig => check_config(&settings).await,
        Command::User(UserCommand::Add(args)) => add_user(&settings, args).await,
        Command::Token(TokenCommand::Create(args)) => create_token(&settings, args).await,
        Command::Audit(AuditCommand::Verify) => verify_audit(&settings).await,
        Command::Audit(AuditCommand::Export) => export_audit(&settings).await,
        Command::Audit(AuditCommand::Checkpoint) => {
            let (opened, alliance) = open_existing(&settings).await?;
            let head = alliance
                .checkpoint_after_restore()
                .await
                .map_err(app_error)?;
            opened.close().await;
            println!("Recorded the restore as audit entry {}.", head.seq);
            Ok(())
        }
        Command::Key(KeyCommand::Rotate(args)) => rotate_key(&settings, args).await,
        Command::Key(KeyCommand::Export(args)) => export_key(&settings, &args.out),
        Command::Key(KeyCommand::Import(args)) => import_key(&settings, &args.recovery),
        Command::Mail(MailCommand::Test(args)) => test_mail(&settings, &args.to).await,
        Command::Scheduler(SchedulerCommand::RunOnce) => scheduler_run_once(&settings).await,
        Command::Holidays(HolidaysCommand::Import(args)) => import_holidays(&settings, args).await,
        Command::Measures(MeasuresCommand::Check(args)) => check_measure(&args.file),
    }
}

/// `alliance measures check FILE`: the definition's problems, each with its path, or a
/// summary of a sound one. Reads at most the size a service accepts.
fn check_measure(file: &std::path::Path) -> anyhow::Result<()> {
    use alliance_core::measures::{self, Format, MAX_FILE_BYTES};
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?
        .take(u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX) + 1)
        .read_to_string(&mut text)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let format = Format::from_file_name(&file.display().to_string());
    match measures::parse_definition(&text, format) {
        Ok(d) => {
            println!(
                "{}: {} ({}), version {}: sound. {} item(s), {} scale(s), {} cut-off row(s), {} reliable-change row(s); wording {}.",
                file.display(),
                d.name,
                d.id,
                d.version,
                d.items.len(),
                d.scales.len(),
                d.cutoffs.len(),
                d.reliable_change.len(),
                if d.licence.wording_shipped {
                    "shipped"
                } else {
                    "not shipped (a licensed service loads it)"
                }
            );
            if measures::shipped_definition(&d.id, d.version).is_some() {
                bail!(
                    "{} version {} is shipped with Alliance: a service adding it would be refused; give it a new version",
                    d.id,
                    d.version
                );
            }
            Ok(())
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", file.display());
            }
            bail!("{} problem(s) in {}", errors.len(), file.display())
        }
    }
}

/// The mailer for the configured SMTP server, or None without `mail.smtp_url`.
fn mailer(settings: &Settings) -> anyhow::Result<Option<Arc<dyn alliance_service::mail::Mailer>>> {
    let Some(mail) = &settings.mail else {
        return Ok(None);
    };
    let mailer = mail::SmtpMailer::new(mail, settings.public_url.as_ref())?;
    Ok(Some(Arc::new(mailer)))
}

/// `alliance mail test`: one nudge through the configured server.
async fn test_mail(settings: &Settings, to: &str) -> anyhow::Result<()> {
    let Some(mailer) = mailer(settings)? else {
        bail!(
            "mail is not configured: set mail.smtp_url and mail.from in alliance.toml (or \
             ALLIANCE_MAIL_SMTP_URL and ALLIANCE_MAIL_FROM)"
        );
    };
    mailer
        .send_nudge(to)
        .await
        .map_err(|why| anyhow!("the test nudge was not sent: {why}"))?;
    println!(
        "Sent a test nudge. If it does not arrive, look in the spam folder and the mail server's log."
    );
    Ok(())
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ALLIANCE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The main database and the key store, open.
struct Opened {
    main: Database,
    keys: Database,
}

impl Opened {
    async fn close(&self) {
        self.main.close().await;
        self.keys.close().await;
    }
}

fn key_store_url(settings: &Settings) -> anyhow::Result<&DatabaseUrl> {
    settings.key_store.as_ref().ok_or_else(|| {
        anyhow!(
            "with PostgreSQL the key store must be a database of its own: name it with \
             --key-store postgres://USER@HOST/DATABASE (or ALLIANCE_KEY_STORE_URL, or \
             key_store_url in alliance.toml)"
        )
    })
}

/// Opens both databases for a command that writes: the data folder must be writable (for
/// SQLite), the databases reachable, their schemas not newer than this binary, and the
/// master key present (it is made only for a key store that holds no keys yet).
async fn open_for_writing(settings: &Settings) -> anyhow::Result<Opened> {
    let prepare = |url: &DatabaseUrl| -> anyhow::Result<()> {
        if let DatabaseUrl::Sqlite { path, .. } = url {
            config::prepare_data_folder(&settings.data)?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                config::prepare_data_folder(parent)?;
            }
        }
        Ok(())
    };
    prepare(&settings.database)?;
    let main = Database::open(&settings.database, OpenMode::CreateIfMissing)
        .await
        .map_err(|e| describe(e, settings))?;
    let key_store = key_store_url(settings)?;
    prepare(key_store)?;
    let keys = Database::open_key_store(key_store, OpenMode::CreateIfMissing)
        .await
        .map_err(|e| describe(e, settings))?;
    let status = main.store().schema_status().await?;
    if status.applied > status.known {
        bail!(
            "the database's schema (migration {}) is newer than this Alliance binary knows \
             (migration {}); run the newer Alliance, or restore a backup taken for this version",
            status.applied,
            status.known
        );
    }
    keys.migrate().await.map_err(|e| describe(e, settings))?;
    if !settings.master_key_file.exists() {
        let holds_keys = !keys
            .key_store()
            .keys_wrapped_before(u32::MAX, 1)
            .await?
            .is_empty();
        if holds_keys {
            bail!(
                "the master key file {} is missing, but the key store holds keys wrapped by it: \
                 put the key file back, or restore it with `alliance key import --recovery FILE`",
                settings.master_key_file.display()
            );
        }
        keys::ensure_exists(&settings.master_key_file, &OsRandom)?;
    }
    main.migrate().await.map_err(|e| describe(e, settings))?;
    Ok(Opened { main, keys })
}

fn describe(err: StoreError, settings: &Settings) -> anyhow::Error {
    match err {
        StoreError::Unavailable(why) => anyhow!(
            "cannot reach the database {}: {why}",
            settings.database.redacted()
        ),
        other => anyhow!("{other}"),
    }
}

/// Alliance over the open databases, with the system clock, the OS's randomness and the
/// master key files. Fails, clearly, when the master key does not match the key store.
async fn build_alliance(settings: &Settings, opened: &Opened) -> anyhow::Result<Alliance> {
    build_alliance_with_clock(settings, opened, Arc::new(SystemClock)).await
}

async fn build_alliance_with_clock(
    settings: &Settings,
    opened: &Opened,
    clock: Arc<dyn alliance_core::Clock>,
) -> anyhow::Result<Alliance> {
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let masters = Arc::new(keys::FileMasterKeys::new(settings.master_key_file.clone())?);
    let ring = KeyRing::new(opened.keys.key_store(), masters, random.clone());
    Alliance::start(
        opened.main.store(),
        ring,
        clock,
        random,
        alliance_service::Settings::default(),
    )
    .await
    .map_err(|e| {
        anyhow!(
            "cannot use the master key {}: {e}",
            settings.master_key_file.display()
        )
    })
}

fn print_demo(summary: &DemoSummary) {
    println!("Demo service created: {}", summary.service_name);
    println!(
        "Sign in as any of these, all with the password: {}",
        summary.password
    );
    for (username, what) in &summary.accounts {
        println!("  {username:<20} {what}");
    }
}

async fn serve(settings: &Settings, args: &ServeArgs) -> anyhow::Result<()> {
    let (demo, scheduler_interval) = (args.demo, args.scheduler_interval);
    settings.check_transport()?;
    let database = open_for_writing(settings).await?;
    let clock: Arc<dyn alliance_core::Clock> = match args.clock_starts_at {
        Some(start) => {
            tracing::warn!(
                %start,
                "the clock is shifted (--clock-starts-at): for rehearsals and tests only, never a live service"
            );
            Arc::new(alliance_service::ShiftedClock::starting_at(start))
        }
        None => Arc::new(SystemClock),
    };
    let alliance = build_alliance_with_clock(settings, &database, clock)
        .await?
        .with_idle_timeout(args.session_idle_minutes);
    let alliance = match mailer(settings)? {
        Some(mailer) => alliance.with_mailer(mailer),
        None => alliance,
    };
    if demo {
        match alliance.service_profile().await? {
            Some(profile) if profile.is_demo => {}
            Some(_) => bail!(
                "--demo refused: this database holds a real service, and demo data never goes \
                 into a database with real records; use another --data folder"
            ),
            None => {
                let summary =
                    demo::generate(&alliance, DemoScale::Small, 1, &demo::NoProgress).await?;
                print_demo(&summary);
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let address = listener.local_addr()?;
    if let Some(code) = alliance.issue_setup_code().await.map_err(app_error)? {
        println!(
            "First-run setup: open http://{address}/setup and enter the one-time code {code} \
             (valid for an hour), or run `alliance user add`."
        );
    }
    let scheduler = tokio::spawn(run_scheduler(
        alliance.clone(),
        std::time::Duration::from_secs(scheduler_interval),
    ));
    let app = alliance_web::router(
        alliance,
        alliance_web::WebConfig {
            https: settings.https,
            secure_cookies: settings.secure_context(),
            public_url: settings.public_url.as_ref().map(|u| u.as_str().to_owned()),
        },
    );
    println!(
        "Alliance is listening on http://{address} ({} database)",
        database.main.store().kind().name()
    );
    alliance_web::serve(listener, app, shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    scheduler.abort();
    database.close().await;
    Ok(())
}

/// The scheduler inside `serve`: a pass at start-up (catching up on whatever fell due while
/// nothing ran), then one every `interval`. A failed pass is logged and the next one tried;
/// the rows it claimed are released when their lease runs out.
async fn run_scheduler(alliance: Alliance, interval: std::time::Duration) {
    let worker = format!(
        "{}-{}",
        std::process::id(),
        alliance_core::auth::hex(&alliance_core::random::random_bytes::<6>(&OsRandom))
    );
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match alliance.run_scheduler_once(&worker).await {
            Ok(report) if report != Default::default() => tracing::info!(
                fired = report.fired,
                escalated = report.escalated,
                nudged = report.nudged,
                nudges_failed = report.nudges_failed,
                "scheduler pass"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "a scheduler pass failed; the next will try again"),
        }
    }
}

async fn scheduler_run_once(settings: &Settings) -> anyhow::Result<()> {
    let database = open_for_writing(settings).await?;
    let alliance = build_alliance(settings, &database).await?;
    let alliance = match mailer(settings)? {
        Some(mailer) => alliance.with_mailer(mailer),
        None => alliance,
    };
    let worker = format!("command-line-{}", std::process::id());
    let report = alliance
        .run_scheduler_once(&worker)
        .await
        .map_err(app_error)?;
    println!(
        "Raised {} firing(s), escalated {} task(s), sent {} nudge(s) ({} failed).",
        report.fired, report.escalated, report.nudged, report.nudges_failed
    );
    database.close().await;
    Ok(())
}

async fn import_holidays(settings: &Settings, args: HolidaysImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let database = open_for_writing(settings).await?;
    let alliance = build_alliance(settings, &database).await?;
    let rows = alliance
        .import_holidays_from_command_line(&text, args.save)
        .await
        .map_err(app_error)?;
    let mut years: std::collections::BTreeMap<(String, i16), usize> = Default::default();
    for row in &rows {
        *years
            .entry((row.division.clone(), row.date.year()))
            .or_default() += 1;
    }
    for ((division, year), n) in years {
        println!("{division} {year}: {n} bank holidays");
    }
    if args.save {
        println!("Imported {} bank holidays.", rows.len());
    } else {
        println!("Nothing stored: run again with --save to import them.");
    }
    database.close().await;
    Ok(())
}

fn app_error(err: AppError) -> anyhow::Error {
    match err {
        AppError::Invalid(invalid) => anyhow!(
            "{}",
            invalid
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow!("{other}"),
    }
}

async fn add_user(settings: &Settings, args: UserAddArgs) -> anyhow::Result<()> {
    let database = open_for_writing(settings).await?;
    let alliance = build_alliance(settings, &database).await?;
    let (password, made_up) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        (line.trim_end_matches(['\n', '\r']).to_owned(), false)
    } else {
        (made_up_password(&OsRandom), true)
    };
    let display_name = args.display_name.unwrap_or_else(|| args.username.clone());
    let user = alliance
        .create_user_unchecked(AccountRequest {
            username: &args.username,
            display_name: &display_name,
            password: &password,
            roles: &args.roles,
            registration: "none",
            registration_number: None,
            email: None,
        })
        .await
        .map_err(app_error)?;
    println!(
        "Added {} ({}).",
        user.username.as_str(),
        user.roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if made_up {
        println!("Their first password, shown only now: {password}");
    }
    database.close().await;
    Ok(())
}

/// Five groups of four letters and digits, without look-alike characters.
fn made_up_password(random: &dyn Random) -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut bytes = [0u8; 20];
    random.fill(&mut bytes);
    bytes
        .chunks(4)
        .map(|chunk| {
            chunk
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

async fn create_token(settings: &Settings, args: TokenCreateArgs) -> anyhow::Result<()> {
    let database = open_for_writing(settings).await?;
    let alliance = build_alliance(settings, &database).await?;
    let scope = TokenScope::parse(&args.scope).map_err(|m| anyhow!("--scope: {m}"))?;
    let user = alliance
        .user_by_username(&args.username)
        .await
        .map_err(|e| match e {
            AppError::NotFound => anyhow!("there is no user {}", args.username),
            other => app_error(other),
        })?;
    let issued = alliance
        .issue_token(
            &user,
            &args.name,
            scope,
            Some(args.expires),
            &alliance_service::accounts::command_line_origin(),
        )
        .await
        .map_err(app_error)?;
    println!("{}", issued.secret);
    eprintln!(
        "API token for {} ({}), expires {}. It is shown only now.",
        user.username.as_str(),
        scope.code(),
        alliance_core::uk::date_time(issued.record.expires_at)
    );
    database.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn step(&self, name: &str, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.set_message(name.to_owned());
    }
    fn advance(&self, done: u64) {
        self.0.inc(done);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Opens existing databases for reading the audit trail: nothing is created or migrated.
async fn open_existing(settings: &Settings) -> anyhow::Result<(Opened, Alliance)> {
    let main = Database::open(&settings.database, OpenMode::MustExist)
        .await
        .map_err(|e| describe(e, settings))?;
    let keys = Database::open_key_store(key_store_url(settings)?, OpenMode::MustExist)
        .await
        .map_err(|e| describe(e, settings))?;
    for status in [
        main.store().schema_status().await?,
        keys.store().schema_status().await?,
    ] {
        if status.applied > status.known {
            bail!(
                "the database's schema (migration {}) is newer than this binary (migration {})",
                status.applied,
                status.known
            );
        }
    }
    let opened = Opened { main, keys };
    let alliance = build_alliance(settings, &opened).await?;
    Ok((opened, alliance))
}

fn read_passphrase() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the passphrase from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn export_key(settings: &Settings, out: &std::path::Path) -> anyhow::Result<()> {
    let passphrase = read_passphrase()?;
    keys::export_recovery(&settings.master_key_file, &passphrase, out, &OsRandom)?;
    println!(
        "Wrote the recovery export to {}. Keep it, and its passphrase (apart), in the service's safe.",
        out.display()
    );
    Ok(())
}

fn import_key(settings: &Settings, export: &std::path::Path) -> anyhow::Result<()> {
    if settings.master_key_file.exists() {
        bail!(
            "{} exists already; move it aside first if it really is to be replaced",
            settings.master_key_file.display()
        );
    }
    let passphrase = read_passphrase()?;
    let version = keys::import_recovery(export, &passphrase, &settings.master_key_file)?;
    println!(
        "Restored master key version {version} to {}.",
        settings.master_key_file.display()
    );
    Ok(())
}

/// Moves every data key to a new master key, in batches; resumable. When all are moved, the
/// new key file replaces the old one.
async fn rotate_key(settings: &Settings, args: RotateArgs) -> anyhow::Result<()> {
    let opened = open_for_writing(settings).await?;
    let alliance = build_alliance(settings, &opened).await?;
    let next = keys::next_path(&settings.master_key_file);
    let (current_version, _) = keys::read_key_file(&settings.master_key_file)?;
    let target = if next.exists() {
        let (version, _) = keys::read_key_file(&next)?;
        println!("Carrying on with the rotation to master key version {version}.");
        version
    } else {
        let version = current_version + 1;
        let fresh = alliance_core::crypto::MasterKey::from_bytes(
            alliance_core::random::random_bytes(&OsRandom),
        );
        keys::write_key_file(&next, version, &fresh)?;
        println!("Made master key version {version}; moving every data key to it.");
        version
    };
    let mut batches = 0;
    let mut moved = 0;
    loop {
        if args.max_batches.is_some_and(|max| batches >= max) {
            println!(
                "Stopped after {batches} batches ({moved} keys moved). Run `alliance key rotate` again to carry on."
            );
            opened.close().await;
            return Ok(());
        }
        let done = alliance
            .keys()
            .rewrap_batch(target, args.batch.max(1))
            .await
            .map_err(|e| anyhow!("{e}"))?;
        if done == 0 {
            break;
        }
        moved += done;
        batches += 1;
    }
    // Every key is under the new master key: it becomes the key file, the old one goes.
    std::fs::rename(&next, &settings.master_key_file)
        .with_context(|| format!("cannot replace {}", settings.master_key_file.display()))?;
    opened.close().await;
    println!(
        "Rotated: {moved} keys now under master key version {target}. Make a new recovery export \
         (`alliance key export --recovery`) and destroy the old one."
    );
    Ok(())
}

async fn verify_audit(settings: &Settings) -> anyhow::Result<()> {
    let (database, alliance) = open_existing(settings).await?;
    let result = alliance.verify_audit().await.map_err(app_error)?;
    database.close().await;
    match result {
        Ok(verified) => {
            println!(
                "The audit trail is intact: {} entries, newest {} (MAC {}).",
                verified.entries,
                verified.head.seq,
                alliance_core::auth::hex(&verified.head.mac)
            );
            Ok(())
        }
        Err(broken) => bail!("the audit trail is broken: {broken}"),
    }
}

async fn export_audit(settings: &Settings) -> anyhow::Result<()> {
    use std::io::Write;
    let (database, alliance) = open_existing(settings).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = None;
    let count = alliance
        .export_audit(|e| {
            let line = serde_json::json!({
                "seq": e.seq,
                "at": e.at.to_string(),
                "action": e.event.action.code(),
                "actor_id": e.event.actor,
                "record_type": e.event.record_type,
                "record_id": e.event.record_id,
                "child_id": e.event.child_id,
                "category": e.event.category.code(),
                "detail": e.event.detail,
                "request_id": e.origin.request_id,
                "address": e.origin.address,
                "mac": alliance_core::auth::hex(&e.mac),
            });
            if let Err(err) = writeln!(out, "{line}") {
                failed = Some(err);
            }
        })
        .await
        .map_err(app_error)?;
    out.flush()?;
    database.close().await;
    if let Some(err) = failed {
        bail!("cannot write the export: {err}");
    }
    eprintln!("Exported {count} audit entries. Check them with `alliance audit verify`.");
    Ok(())
}

async fn run_demo(settings: &Settings, args: DemoArgs) -> anyhow::Result<()> {
    let database = open_for_writing(settings).await?;
    let alliance = build_alliance(settings, &database).await?;
    let style = indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let bar = Bar(indicatif::ProgressBar::new(0).with_style(style));
    let summary = demo::generate(&alliance, args.scale, args.seed, &bar).await?;
    print_demo(&summary);
    database.close().await;
    Ok(())
}

async fn migrate(settings: &Settings, args: MigrateArgs) -> anyhow::Result<()> {
    let database = open_for_writing(settings).await?;
    let status = database.main.store().schema_status().await?;
    if let Some(role) = args.grant_to {
        for db in [&database.main, &database.keys] {
            match db {
                Database::Postgres(pg) => pg
                    .grant_app_role(&role)
                    .await
                    .with_context(|| format!("cannot grant the application's rights to {role}"))?,
                Database::Sqlite(_) => bail!("--grant-to is for PostgreSQL; SQLite has no roles"),
            }
        }
        println!("Granted {role} the rights the server needs, in both databases.");
    }
    println!(
        "The database is at migration {}, the newest this binary knows.",
        status.applied
    );
    database.close().await;
    Ok(())
}

/// Reports the settings in force and whether the database is usable, changing nothing.
async fn check_config(settings: &Settings) -> anyhow::Result<()> {
    println!(
        "data folder: {} ({})",
        settings.data.display(),
        settings.data_source
    );
    println!(
        "database:    {} ({})",
        settings.database.redacted(),
        settings.database_source
    );
    println!("bind:        {} ({})", settings.bind, settings.bind_source);
    println!("https:       {}", settings.https);
    match &settings.mail {
        Some(mail) => println!("mail:        {} ({})", mail.server(), mail.source),
        None => println!("mail:        not configured (no email is sent)"),
    }
    if let Some(url) = &settings.public_url {
        println!("public url:  {}", url.as_str());
    }
    let mut problems = Vec::new();
    println!("master key:  {}", settings.master_key_file.display());
    if !settings.master_key_file.exists() {
        println!("The master key file does not exist yet; serve creates it.");
    } else if let Err(e) = keys::read_key_file(&settings.master_key_file) {
        problems.push(format!("{e:#}"));
    }
    match &settings.key_store {
        Some(url) => println!("key store:   {}", url.redacted()),
        None => problems.push(
            "with PostgreSQL the key store must be named (--key-store, ALLIANCE_KEY_STORE_URL)"
                .to_owned(),
        ),
    }
    if let Err(e) = settings.check_transport() {
        problems.push(e.to_string());
    }
    match std::fs::metadata(&settings.data) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => problems.push(format!("{} is not a folder", settings.data.display())),
        Err(_) => println!("The data folder does not exist yet; serve creates it."),
    }
    let missing_sqlite =
        matches!(&settings.database, DatabaseUrl::Sqlite { path, .. } if !path.exists());
    if missing_sqlite {
        println!("The SQLite database does not exist yet; serve creates it.");
    } else {
        match Database::open(&settings.database, OpenMode::MustExist).await {
            Ok(database) => {
                match database.store().schema_status().await {
                    Ok(status) if status.applied > status.known => problems.push(format!(
                        "the database's schema (migration {}) is newer than this binary (migration {})",
                        status.applied, status.known
                    )),
                    Ok(status) if status.is_current() => println!("The database schema is current."),
                    Ok(status) => println!(
                        "The database is at migration {} of {}; serve or migrate will bring it up to date.",
                        status.applied, status.known
                    ),
                    Err(e) => problems.push(describe(e, settings).to_string()),
                }
                database.close().await;
            }
            Err(e) => problems.push(describe(e, settings).to_string()),
        }
    }
    if problems.is_empty() {
        println!("The configuration is usable.");
        Ok(())
    } else {
        bail!(
            "the configuration has problems:\n  - {}",
            problems.join("\n  - ")
        )
    }
}

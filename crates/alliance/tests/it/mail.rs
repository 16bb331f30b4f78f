//! Mail: the staff nudge leaves through the configured SMTP server (here the testkit's sink)
//! with exactly the fixed words and nothing else; the settings are checked, and neither the
//! mail password nor a recipient's address is ever printed.

use crate::alliance_binary;
use alliance_testkit::{ReceivedMail, SmtpSink, TestDatabase, TestServer, backends, run};
use std::io::Write;
use std::time::Duration;

const TO: &str = "therapist.one@example.org";
pub(crate) const FROM: &str = "alliance@example.org";

/// The headers a nudge may carry; any other would be more than the nudge says.
const HEADERS: [&str; 7] = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "content-type",
    "content-transfer-encoding",
];

fn append(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The message is the nudge to `to` from `FROM`, word for word, and nothing more.
pub(crate) fn assert_is_only_the_nudge(mail: &ReceivedMail, to: &str, sign_in_url: Option<&str>) {
    let (subject, body) = alliance_core::notify::nudge_email(sign_in_url);
    assert_eq!(mail.from, FROM, "envelope sender");
    assert_eq!(mail.to, vec![to.to_owned()], "envelope recipients");
    let (headers, received_body) = mail.split();
    assert_eq!(
        received_body, body,
        "the body is the nudge's, byte for byte"
    );
    assert_eq!(mail.header("subject").as_deref(), Some(subject.as_str()));
    assert_eq!(
        mail.header("from").as_deref(),
        Some(format!("Alliance <{FROM}>").as_str())
    );
    assert_eq!(mail.header("to").as_deref(), Some(to));
    assert_eq!(
        mail.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        mail.header("content-transfer-encoding").as_deref(),
        Some("7bit")
    );
    for line in headers.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            continue; // a folded header's continuation
        }
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        assert!(
            HEADERS.contains(&name.as_str()),
            "unexpected header line {line:?}"
        );
    }
}

#[tokio::test]
async fn a_server_configured_for_mail_sends_only_the_fixed_nudge() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let sink = SmtpSink::start().await?;
        append(
            &db.data_path().join("alliance.toml"),
            &format!(
                "public_url = \"https://alliance.example.org\"\n\n[mail]\nsmtp_url = \"{}\"\n\
                 from = \"Alliance <{FROM}>\"\n",
                sink.url()
            ),
        )?;
        let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
        assert_eq!(server.get("/healthz").await?.status(), 200);
        assert!(
            sink.received().is_empty(),
            "starting sends nothing: {:?}",
            sink.received()
        );

        let data = db.data_path().display().to_string();
        let check = run(
            &alliance_binary(),
            &["--data", &data, "--database", &db.app_url, "check-config"],
        )
        .await?;
        let expected = format!(
            "mail:        127.0.0.1:{}, plain, on this machine (alliance.toml)",
            sink.port()
        );
        assert!(check.stdout.contains(&expected), "{}", check.stdout);
        assert!(
            check
                .stdout
                .contains("public url:  https://alliance.example.org/"),
            "{}",
            check.stdout
        );

        let sent = run(
            &alliance_binary(),
            &["--data", &data, "mail", "test", "--to", TO],
        )
        .await?;
        assert!(sent.success, "{}", sent.stderr);
        assert!(sent.stdout.contains("Sent a test nudge"), "{}", sent.stdout);
        assert!(
            !sent.stdout.contains(TO) && !sent.stderr.contains(TO),
            "the address is not printed or logged"
        );

        let received = sink.wait_for(1, Duration::from_secs(10)).await?;
        assert_eq!(received.len(), 1, "{received:?}");
        assert_is_only_the_nudge(
            &received[0],
            TO,
            Some("https://alliance.example.org/sign-in"),
        );
        server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn mail_settings_from_flags_work_without_a_public_url() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    let sink = SmtpSink::start().await?;
    let url = sink.url();
    let from = format!("Alliance <{FROM}>");
    let sent = run(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--mail-smtp-url",
            &url,
            "--mail-from",
            &from,
            "mail",
            "test",
            "--to",
            TO,
        ],
    )
    .await?;
    assert!(sent.success, "{}", sent.stderr);
    let received = sink.wait_for(1, Duration::from_secs(10)).await?;
    assert_is_only_the_nudge(&received[0], TO, None);
    Ok(())
}

#[tokio::test]
async fn a_failed_send_says_why_without_the_address() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    // A port nothing listens on any more.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let url = format!("smtp://127.0.0.1:{closed}");
    let out = run(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--mail-smtp-url",
            &url,
            "--mail-from",
            FROM,
            "mail",
            "test",
            "--to",
            TO,
        ],
    )
    .await?;
    assert!(!out.success);
    assert!(
        out.stderr
            .contains("the test nudge was not sent: cannot talk to the mail server"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(TO) && !out.stdout.contains(TO));

    let out = run(
        &alliance_binary(),
        &["--data", &data, "mail", "test", "--to", TO],
    )
    .await?;
    assert!(!out.success);
    assert!(
        out.stderr.contains("mail is not configured"),
        "{}",
        out.stderr
    );
    Ok(())
}

#[tokio::test]
async fn mail_settings_are_checked_and_the_password_never_shows() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    let config = dir.path().join("alliance.toml");
    std::fs::write(
        &config,
        "[mail]\nsmtp_url = \"smtp://mail.example.org\"\nfrom = \"alliance@example.org\"\n\
         username = \"alliance-smtp\"\npassword = \"hunter2-smtp-secret\"\n",
    )?;
    let check = run(&alliance_binary(), &["--data", &data, "check-config"]).await?;
    assert!(
        check
            .stdout
            .contains("mail:        mail.example.org:587, STARTTLS (alliance.toml)"),
        "{}",
        check.stdout
    );
    for printed in [&check.stdout, &check.stderr] {
        assert!(!printed.contains("hunter2-smtp-secret"), "{printed}");
        assert!(!printed.contains("alliance-smtp"), "{printed}");
    }

    for (file, expect) in [
        (
            "[mail]\nsmtp_url = \"smtp://mail.example.org\"\n",
            "mail.from is not",
        ),
        (
            "[mail]\nsmtp_url = \"smtp://mail.example.org\"\nfrom = \"nobody\"\n",
            "mail.from (from alliance.toml) is not an email address",
        ),
        (
            "[mail]\nsmtp_url = \"smtp://someone:hunter2-smtp-secret@mail.example.org\"\n\
             from = \"alliance@example.org\"\n",
            "must not hold a user name or password",
        ),
        (
            "[mail]\nsmtp_url = \"http://mail.example.org\"\nfrom = \"alliance@example.org\"\n",
            "must start with smtp:// (STARTTLS, or plain to this machine) or smtps://",
        ),
        (
            "[mail]\nfrom = \"alliance@example.org\"\n",
            "mail.smtp_url is not",
        ),
        (
            "[mail]\nsmtp_url = \"smtp://mail.example.org\"\nfrom = \"alliance@example.org\"\n\
             username = \"alliance-smtp\"\n",
            "the password is not",
        ),
        (
            "public_url = \"http://alliance.example.org\"\n",
            "public_url",
        ),
        ("[mail]\nsmtp_host = \"x\"\n", "smtp_host"),
    ] {
        std::fs::write(&config, file)?;
        let out = run(&alliance_binary(), &["--data", &data, "serve"]).await?;
        assert!(!out.success, "{file:?} was accepted");
        assert!(out.stderr.contains(expect), "{file:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("hunter2-smtp-secret"),
            "{}",
            out.stderr
        );
    }
    assert!(
        !dir.path().join("alliance.sqlite3").exists(),
        "nothing was created"
    );
    Ok(())
}

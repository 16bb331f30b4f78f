//! The staff nudge over SMTP (`lettre`): the fixed words of `alliance_core::notify`, to one
//! address at a time. Nothing identifying is logged: not the address, not the server's reply
//! (which may repeat the address); errors say only what kind of failure it was.

use crate::config::{MailSettings, PublicUrl, SmtpSecurity};
use alliance_core::random::Random;
use alliance_service::OsRandom;
use alliance_service::mail::Mailer;
use anyhow::Context;
use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// How long one SMTP command may take before the send is given up (and retried later by the
/// caller).
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    sign_in_url: Option<String>,
}

impl SmtpMailer {
    /// A mailer for the configured server; connects only when it sends.
    pub fn new(settings: &MailSettings, public_url: Option<&PublicUrl>) -> anyhow::Result<Self> {
        let tls = || {
            TlsParameters::new(settings.host.clone())
                .context("cannot set up TLS for the mail server")
        };
        let tls = match settings.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
            SmtpSecurity::PlainLoopback => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some(credentials) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: settings.from.clone(),
            sign_in_url: public_url.map(PublicUrl::sign_in_url),
        })
    }

    /// The nudge to `to`: the fixed subject and body, plain text, and the headers a mail
    /// server expects; nothing else.
    fn message(&self, to: &str) -> Result<Message, String> {
        let to: Mailbox = to
            .trim()
            .parse::<lettre::Address>()
            .map(|address| Mailbox::new(None, address))
            .map_err(|_| "the address is not a valid email address".to_owned())?;
        let (subject, body) = alliance_core::notify::nudge_email(self.sign_in_url.as_deref());
        Message::builder()
            .message_id(Some(message_id(&self.from)))
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(plain_body(body))
            .map_err(|_| "cannot build the message".to_owned())
    }
}

/// The body as written, sent 7bit when it can be (ASCII, CRLF lines of at most 998 octets, as
/// the nudge always is): what arrives is byte for byte what `notify` says. Otherwise lettre
/// picks an encoding.
fn plain_body(text: String) -> Body {
    let fits_7bit = text.is_ascii()
        && text.ends_with("\r\n")
        && text
            .split("\r\n")
            .all(|line| line.len() <= 998 && !line.contains(['\r', '\n', '\0']));
    if fits_7bit {
        Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text)
    }
}

/// `<random@the sender's domain>`, as mail servers expect of every message.
fn message_id(from: &Mailbox) -> String {
    let mut bytes = [0u8; 16];
    OsRandom.fill(&mut bytes);
    format!(
        "<{}@{}>",
        alliance_core::auth::hex(&bytes),
        from.email.domain()
    )
}

/// What went wrong, without the server's words (they may name the address).
fn describe(err: &lettre::transport::smtp::Error) -> String {
    let code = err.status().map(|c| format!(" ({c})")).unwrap_or_default();
    if err.is_permanent() {
        format!("the mail server refused the message{code}")
    } else if err.is_transient() {
        format!("the mail server deferred the message{code}")
    } else if err.is_timeout() {
        "the mail server did not answer in time".to_owned()
    } else if err.is_tls() {
        "the TLS connection to the mail server failed".to_owned()
    } else {
        "cannot talk to the mail server".to_owned()
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send_nudge(&self, to: &str) -> Result<(), String> {
        let result = match self.message(to) {
            Ok(message) => self
                .transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| describe(&e)),
            Err(why) => Err(why),
        };
        match &result {
            Ok(()) => tracing::info!("sent a nudge"),
            Err(why) => tracing::warn!("a nudge was not sent: {why}"),
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    fn mailer(public_url: Option<&str>) -> Option<SmtpMailer> {
        let settings = MailSettings {
            security: SmtpSecurity::PlainLoopback,
            host: "127.0.0.1".into(),
            port: 25,
            from: "Alliance <alliance@example.org>".parse().ok()?,
            credentials: None,
            source: Source::File,
        };
        let public_url = public_url.and_then(|u| PublicUrl::parse(u).ok());
        SmtpMailer::new(&settings, public_url.as_ref()).ok()
    }

    #[test]
    fn the_message_holds_the_fixed_words_and_nothing_else() {
        let formatted = mailer(Some("https://alliance.example.org"))
            .and_then(|m| m.message("someone@example.org").ok())
            .map(|m| String::from_utf8_lossy(&m.formatted()).into_owned())
            .unwrap_or_default();
        let (subject, body) =
            alliance_core::notify::nudge_email(Some("https://alliance.example.org/sign-in"));
        let (headers, sent_body) = formatted.split_once("\r\n\r\n").unwrap_or_default();
        assert_eq!(sent_body, body);
        assert!(
            headers.contains(&format!("Subject: {subject}\r\n")),
            "{headers}"
        );
        assert!(headers.contains("To: someone@example.org\r\n"), "{headers}");
        assert!(
            headers.contains("Content-Transfer-Encoding: 7bit"),
            "{headers}"
        );
        assert!(headers.contains("@example.org>\r\n"), "{headers}");
    }

    #[test]
    fn bodies_that_are_not_plain_ascii_lines_are_encoded() {
        // Longer than lettre's 76 for 7bit, well within the 998 mail allows.
        assert_eq!(
            plain_body(format!("{}\r\nshort\r\n", "x".repeat(90))).encoding(),
            ContentTransferEncoding::SevenBit
        );
        for awkward in [
            "caf\u{e9}\r\n".to_owned(),
            format!("{}\r\n", "x".repeat(1000)),
        ] {
            assert_ne!(
                plain_body(awkward.clone()).encoding(),
                ContentTransferEncoding::SevenBit,
                "{awkward:?}"
            );
        }
    }

    #[test]
    fn a_bad_address_is_refused_without_repeating_it() {
        let err = mailer(None)
            .map(|m| m.message("not-an-address-xyz").err())
            .unwrap_or_default()
            .unwrap_or_default();
        assert!(err.contains("not a valid email address"), "{err}");
        assert!(!err.contains("xyz"));
    }
}

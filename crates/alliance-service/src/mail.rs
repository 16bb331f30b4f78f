//! Sending the staff nudge ("Something in Alliance needs you. Sign in."): the interface the
//! scheduler calls; the binary provides an SMTP implementation when a mail server is
//! configured. Messages carry no names and no content (policy section 2).

use async_trait::async_trait;

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends the nudge to one address. An error is reported and retried by the caller; it
    /// never says anything about the record behind it.
    async fn send_nudge(&self, to: &str) -> Result<(), String>;
}

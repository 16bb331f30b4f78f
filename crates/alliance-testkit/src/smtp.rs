//! A tiny SMTP server for tests: listens on 127.0.0.1 (a free port), accepts every message
//! and keeps it for the test to read. Enough SMTP for a real client (lettre): greeting,
//! EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT. No TLS, no AUTH.

use anyhow::bail;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (MAIL FROM), without the angle brackets.
    pub from: String,
    /// The envelope recipients (RCPT TO), without the angle brackets.
    pub to: Vec<String>,
    /// Everything between DATA and the closing `\r\n.\r\n`, dots unstuffed: the headers, a
    /// blank line, the body.
    pub data: String,
}

impl ReceivedMail {
    /// The headers (unfolded lines as sent) and the body.
    pub fn split(&self) -> (&str, &str) {
        self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""))
    }

    /// The value of the first header called `name` (case-insensitive), on one line.
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = self.split();
        let mut lines = headers.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.eq_ignore_ascii_case(name) {
                let mut value = value.trim().to_owned();
                // Folded continuation lines start with white space.
                while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                    value.push(' ');
                    value.push_str(next.trim());
                }
                return Some(value);
            }
        }
        None
    }
}

/// The sink: running until dropped.
pub struct SmtpSink {
    address: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    // A client that hangs up early is not the sink's concern.
                    let _ = session(stream, keep).await;
                });
            }
        });
        Ok(Self {
            address,
            received,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP on this machine.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until at least `count` messages have arrived (or fails after `timeout`).
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<ReceivedMail>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count {
                return Ok(received);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "the SMTP sink received {} of {count} messages within {timeout:?}",
                    received.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address in `FROM:<a@b>` or `TO:<a@b>` (parameters after it ignored).
fn path(argument: &str) -> String {
    let argument = argument.split_once(':').map_or("", |(_, p)| p).trim();
    match (argument.find('<'), argument.find('>')) {
        (Some(start), Some(end)) if start < end => argument[start + 1..end].to_owned(),
        _ => argument.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

async fn session(stream: TcpStream, keep: Arc<Mutex<Vec<ReceivedMail>>>) -> anyhow::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer
        .write_all(b"220 alliance-testkit SMTP sink\r\n")
        .await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let (verb, argument) = command.split_once(' ').unwrap_or((command, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" => b"250 alliance-testkit\r\n",
            "MAIL" => {
                from = path(argument);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(path(argument));
                b"250 OK\r\n"
            }
            "DATA" => {
                writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut reader).await?;
                let message = ReceivedMail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                };
                keep.lock()
                    .map_err(|_| anyhow::anyhow!("the sink's store is poisoned"))?
                    .push(message);
                b"250 OK: kept\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// The message after DATA: lines up to a line holding only `.`, with leading dots unstuffed.
/// The CRLF before the closing dot belongs to the terminator (`\r\n.\r\n`), not the message.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> anyhow::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            bail!("the client hung up during DATA");
        }
        if line == ".\r\n" || line == ".\n" {
            break;
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
    if data.ends_with("\r\n") {
        data.truncate(data.len() - 2);
    }
    Ok(data)
}

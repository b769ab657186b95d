//! A real SMTP server for tests: a tiny tokio TCP server on 127.0.0.1:0 that speaks
//! enough SMTP (EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to accept
//! mail, and records every message and login it is given. Shared by the server's and the
//! CLI's tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message as delivered: the envelope and the raw data (headers and body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The one-time code of a code mail: the first line that is six digits alone.
    pub fn code(&self) -> String {
        self.data
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in the mail:\n{}", self.data))
            .to_owned()
    }
}

/// The sink; stops accepting when dropped.
pub struct SmtpSink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    logins: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let logins = Arc::new(Mutex::new(Vec::new()));
        let (sink, seen) = (mails.clone(), logins.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (sink, seen) = (sink.clone(), seen.clone());
                tokio::spawn(async move {
                    let _ = session(stream, sink, seen).await;
                });
            }
        });
        Self {
            addr,
            mails,
            logins,
            task,
        }
    }

    /// Every (user, password) a client authenticated with, in order.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.logins.lock().unwrap().clone()
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// The messages received so far for `to`.
    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .collect()
    }

    /// Waits (up to 10 s) until `count` messages for `to` arrived; returns the last.
    pub async fn wait_for(&self, to: &str, count: usize) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = self.mails_to(to);
            if mails.len() >= count {
                return mails[count - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "mail {count} for {to} did not arrive; got {:?}",
                self.mails()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn address(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument[start..]
        .find('>')
        .map_or(argument.len(), |i| start + i);
    argument[start..end].to_owned()
}

fn decoded(line: &str) -> String {
    String::from_utf8(STANDARD.decode(line.trim()).unwrap_or_default()).unwrap_or_default()
}

async fn session(
    stream: TcpStream,
    sink: Arc<Mutex<Vec<Mail>>>,
    logins: Arc<Mutex<Vec<(String, String)>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 sink.test ESMTP test sink\r\n")
        .await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n",
            "AUTH" => {
                let mut words = command.split_whitespace().skip(1);
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let initial = words.next().map(str::to_owned);
                let mut next_line = async |prompt: &[u8]| -> std::io::Result<String> {
                    write.write_all(prompt).await?;
                    let mut answer = String::new();
                    lines.read_line(&mut answer).await?;
                    Ok(answer)
                };
                let login = if mechanism == "PLAIN" {
                    let response = match initial {
                        Some(response) => response,
                        None => next_line(b"334 \r\n").await?,
                    };
                    let plain = decoded(&response);
                    let mut parts = plain.split('\0').skip(1);
                    Some((
                        parts.next().unwrap_or("").to_owned(),
                        parts.next().unwrap_or("").to_owned(),
                    ))
                } else if mechanism == "LOGIN" {
                    let user = decoded(&next_line(b"334 VXNlcm5hbWU6\r\n").await?);
                    let password = decoded(&next_line(b"334 UGFzc3dvcmQ6\r\n").await?);
                    Some((user, password))
                } else {
                    None
                };
                match login {
                    Some(login) => {
                        logins.lock().unwrap().push(login);
                        b"235 authenticated\r\n"
                    }
                    None => b"504 unrecognized authentication type\r\n",
                }
            }
            "HELO" | "NOOP" => b"250 ok\r\n",
            "RSET" => {
                from.clear();
                to.clear();
                b"250 ok\r\n"
            }
            "MAIL" => {
                from = address(&command[4..]);
                b"250 ok\r\n"
            }
            "RCPT" => {
                to.push(address(&command[4..]));
                b"250 ok\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    let text = line.trim_end_matches(['\r', '\n']);
                    if text == "." {
                        break;
                    }
                    data.push_str(text.strip_prefix('.').unwrap_or(text));
                    data.push('\n');
                }
                sink.lock().unwrap().push(Mail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

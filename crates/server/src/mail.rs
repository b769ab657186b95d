//! Mail: the one-time codes that let a share recipient prove their address, sent through
//! the configured SMTP server (`smtp_url`).
//!
//! This module owns what an SMTP setting means ([`SmtpUrl`], [`SmtpConfig`]); the
//! configuration only holds the values, so the dependency runs one way: config → mail.
//!
//! Nothing here logs or returns an address, a code or a credential: a failure is reported
//! by its kind and SMTP status only (an SMTP server's reply text often quotes the
//! recipient's address).

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use zeroize::Zeroizing;

use crate::error::ServerError;

/// How long one SMTP exchange may take before it is abandoned.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// An SMTP URL (see `ServerConfig::smtp_url`), kept as given; `Debug` and
/// [`redacted`](Self::redacted) replace the password in it by `[redacted]`.
///
/// ```
/// let url: sesame_server::config::SmtpUrl = "smtps://mailer:s3cret@mail.example.com".parse().unwrap();
/// assert_eq!(url.redacted(), "smtps://mailer:[redacted]@mail.example.com");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "String")]
pub struct SmtpUrl(Zeroizing<String>);

impl SmtpUrl {
    /// The URL as given (with its password, if any); never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password (if any) replaced by `[redacted]`.
    pub fn redacted(&self) -> String {
        let text = self.0.as_str();
        let Some((scheme, rest)) = text.split_once("://") else {
            return "[unparsable URL]".to_owned();
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:[redacted]@{host}{tail}"),
                None => format!("{scheme}://{userinfo}@{host}{tail}"),
            },
            None => text.to_owned(),
        }
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({:?})", self.redacted())
    }
}

impl From<String> for SmtpUrl {
    fn from(text: String) -> Self {
        Self(Zeroizing::new(text))
    }
}

impl std::str::FromStr for SmtpUrl {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(Zeroizing::new(text.to_owned())))
    }
}

/// The SMTP settings as configured, not yet checked. `Debug` hides the password.
#[derive(Clone, Copy)]
pub(crate) struct SmtpConfig<'a> {
    /// `smtp_url`.
    pub(crate) url: &'a SmtpUrl,
    /// `smtp_from`.
    pub(crate) from: Option<&'a str>,
    /// `smtp_username`.
    pub(crate) username: Option<&'a str>,
    /// `smtp_password`.
    pub(crate) password: Option<&'a str>,
    /// `public_url`.
    pub(crate) public_url: Option<&'a str>,
}

impl std::fmt::Debug for SmtpConfig<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", self.url)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| "[redacted]"))
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    ImplicitTls,
    /// `smtp+starttls://`: STARTTLS, required (port 587 by default).
    StartTls,
    /// `smtp://`: none; loopback hosts only (a local relay, tests).
    Plain,
}

/// The checked SMTP settings of a configuration.
pub(crate) struct MailSettings {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<(String, Zeroizing<String>)>,
    from: Mailbox,
    public_url: Option<String>,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn config_error(message: impl Into<String>) -> ServerError {
    ServerError::Config(message.into())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_decoded(text: &str, what: &str) -> Result<Zeroizing<String>, ServerError> {
    // The core's message names the position, never the text: it may be the password.
    sesame_core::encoding::percent_decode(text, false, &format!("smtp_url {what}"))
        .map_err(|e| config_error(e.to_string()))
}

impl MailSettings {
    /// The SMTP settings of `config`, checked.
    ///
    /// # Errors
    ///
    /// [`ServerError::Config`] naming the setting that cannot work. Messages show the URL
    /// without its password.
    pub(crate) fn check(config: &SmtpConfig<'_>) -> Result<Self, ServerError> {
        let smtp_url = config.url;
        let shown = smtp_url.redacted();
        let url = url::Url::parse(smtp_url.expose()).map_err(|e| {
            config_error(format!(
                "smtp_url {shown} is not a URL ({e}); e.g. smtps://mail.example.com"
            ))
        })?;
        let (security, default_port) = match url.scheme() {
            "smtps" => (Security::ImplicitTls, 465),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtp" => (Security::Plain, 25),
            other => {
                return Err(config_error(format!(
                    "smtp_url {shown} has the scheme {other:?}; use smtps:// (implicit TLS), \
                     smtp+starttls:// (STARTTLS) or smtp:// (plain, to a loopback relay only)"
                )))
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| config_error(format!("smtp_url {shown} has no host")))?
            .to_owned();
        if security == Security::Plain && !is_loopback(&host) {
            return Err(config_error(format!(
                "smtp_url {shown} is plain SMTP to {host}, which is not a loopback address: the \
                 codes (and any password) would cross the network in clear; use smtps:// or \
                 smtp+starttls://, or a relay on this machine"
            )));
        }
        if url.query().is_some() || !url.path().trim_matches('/').is_empty() {
            return Err(config_error(format!(
                "smtp_url {shown} has a path or query, which this server does not use; give \
                 just scheme://[user:password@]host[:port]"
            )));
        }
        let in_url = if url.username().is_empty() {
            None
        } else {
            let user = percent_decoded(url.username(), "user name")?;
            let password = percent_decoded(url.password().unwrap_or(""), "password")?;
            Some((user.to_string(), password))
        };
        let separate = match (config.username, config.password) {
            (None, None) => None,
            (Some(user), Some(password)) => {
                Some((user.to_owned(), Zeroizing::new(password.to_owned())))
            }
            (Some(_), None) => {
                return Err(config_error(
                    "smtp_username is set without smtp_password; give both, or neither",
                ))
            }
            (None, Some(_)) => {
                return Err(config_error(
                    "smtp_password is set without smtp_username; give both, or neither",
                ))
            }
        };
        let credentials =
            match (in_url, separate) {
                (Some(_), Some(_)) => return Err(config_error(
                    "SMTP credentials are both in smtp_url and in smtp_username/smtp_password; \
                     give them in one place",
                )),
                (a, b) => a.or(b),
            };
        let from_text = config.from.ok_or_else(|| {
            config_error(
                "smtp_url needs smtp_from: the sender of the code mails, e.g. \
                 \"Sesame <sesame@example.com>\"",
            )
        })?;
        let from: Mailbox = from_text.parse().map_err(|e| {
            config_error(format!(
                "smtp_from {from_text:?} is not a mail address ({e}); e.g. \
                 \"Sesame <sesame@example.com>\""
            ))
        })?;
        let public_url = match config.public_url {
            None => None,
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                Some(u.trim_end_matches('/').to_owned())
            }
            Some(u) => {
                return Err(config_error(format!(
                    "public_url {u:?} must start with https:// (or http://)"
                )))
            }
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
            from,
            public_url,
        })
    }
}

/// Sends code mails. Cheap to share behind an `Arc`; one SMTP connection per mail.
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: Option<String>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

/// Why a mail was not sent, without the address, the code or the server's reply text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailFailure(pub(crate) String);

impl std::fmt::Display for MailFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Mailer {
    /// A mailer for `config`. Connects to nothing yet.
    ///
    /// # Errors
    ///
    /// [`ServerError::Config`] as [`MailSettings::check`], or when the TLS settings cannot
    /// be built.
    pub(crate) fn new(config: &SmtpConfig<'_>) -> Result<Self, ServerError> {
        let settings = MailSettings::check(config)?;
        let tls_error =
            |e: lettre::transport::smtp::Error| config_error(format!("SMTP TLS setup: {e}"));
        let builder = match settings.security {
            Security::ImplicitTls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(tls_error)?
            }
            Security::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(tls_error)?
            }
            Security::Plain => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            }
        };
        let mut builder = builder.port(settings.port).timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = &settings.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.as_str().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from: settings.from,
            public_url: settings.public_url,
        })
    }

    /// Mails `code` to `to` (an address the share's recipients admit).
    ///
    /// # Errors
    ///
    /// [`MailFailure`] saying what kind of failure it was (never the address or code).
    pub(crate) async fn send_code(
        &self,
        to: &str,
        code: &str,
        valid_minutes: u64,
    ) -> Result<(), MailFailure> {
        let to: Mailbox = to.parse().map_err(|_| {
            MailFailure("the recipient address is not one SMTP can carry".to_owned())
        })?;
        // Short lines, so no transfer encoding wraps the code or the URL.
        let server = match &self.public_url {
            Some(url) => format!("on {url}"),
            None => "through Sesame".to_owned(),
        };
        let body = Zeroizing::new(format!(
            "Your code to open the shared item:\r\n\r\n    {code}\r\n\r\n\
             It works once, for {valid_minutes} minutes.\r\n\r\n\
             Someone with the link to an item shared with you\r\n\
             {server}\r\n\
             asked for it, to prove that they read mail at this address.\r\n\
             If that was not you, do not give the code to anyone;\r\n\
             you can ignore this mail.\r\n"
        ));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject("Your code for a shared item")
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|_| MailFailure("the mail could not be built".to_owned()))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_tls() {
                "TLS failed"
            } else if e.is_permanent() {
                "refused permanently"
            } else if e.is_transient() {
                "refused for now"
            } else if e.is_client() {
                "client error"
            } else {
                "connection failed"
            };
            let status = e
                .status()
                .map(|c| format!(" (SMTP {c})"))
                .unwrap_or_default();
            MailFailure(format!("the SMTP server: {kind}{status}"))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url(text: &str) -> SmtpUrl {
        text.parse().unwrap()
    }

    fn config(url: &SmtpUrl) -> SmtpConfig<'_> {
        SmtpConfig {
            url,
            from: Some("Sesame <sesame@example.com>"),
            username: None,
            password: None,
            public_url: None,
        }
    }

    fn error(config: &SmtpConfig<'_>) -> String {
        MailSettings::check(config).unwrap_err().to_string()
    }

    #[test]
    fn schemes_ports_and_security() {
        for (text, security, port) in [
            ("smtps://mail.example.com", Security::ImplicitTls, 465),
            ("smtp+starttls://mail.example.com", Security::StartTls, 587),
            (
                "smtp+starttls://mail.example.com:2587",
                Security::StartTls,
                2587,
            ),
            ("smtp://127.0.0.1:2525", Security::Plain, 2525),
            ("smtp://localhost", Security::Plain, 25),
            ("smtp://[::1]:25", Security::Plain, 25),
        ] {
            let settings = MailSettings::check(&config(&url(text))).unwrap();
            assert_eq!(
                (settings.security, settings.port),
                (security, port),
                "{text}"
            );
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused_without_showing_the_password() {
        let message = error(&config(&url("smtp://mailer:pa55word@mail.example.com")));
        assert!(message.contains("in clear"), "{message}");
        assert!(!message.contains("pa55word"), "{message}");
        assert!(error(&config(&url("http://mail.example.com"))).contains("scheme"));
        assert!(error(&config(&url("smtps://mail.example.com/x?tls=no"))).contains("path or query"));
        let plain = url("smtps://mail.example.com");
        let mut no_from = config(&plain);
        no_from.from = None;
        assert!(error(&no_from).contains("smtp_from"));
        let mut bad_from = config(&plain);
        bad_from.from = Some("not an address");
        assert!(error(&bad_from).contains("not a mail address"));
        let with_user = url("smtps://u:p@mail.example.com");
        let mut both = config(&with_user);
        both.username = Some("u");
        both.password = Some("p");
        assert!(error(&both).contains("one place"));
        let mut half = config(&plain);
        half.username = Some("u");
        assert!(error(&half).contains("without smtp_password"));
        let mut bad_public = config(&plain);
        bad_public.public_url = Some("sesame.example.com");
        assert!(error(&bad_public).contains("public_url"));
    }

    #[test]
    fn bad_percent_encoding_names_the_part_not_the_secret() {
        let message = error(&config(&url("smtps://mailer:s3cret%zz@mail.example.com")));
        assert!(message.contains("smtp_url password"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        let message = error(&config(&url("smtps://me%ff:pw@mail.example.com")));
        assert!(message.contains("smtp_url user name"), "{message}");
    }

    #[test]
    fn credentials_come_from_the_url_percent_decoded_or_from_the_settings() {
        let encoded = url("smtps://me%40x.org:p%3Ass+w@mail.example.com");
        let settings = MailSettings::check(&config(&encoded)).unwrap();
        let (user, password) = settings.credentials.as_ref().unwrap();
        assert_eq!((user.as_str(), password.as_str()), ("me@x.org", "p:ss+w"));
        assert!(!format!("{settings:?}").contains("p:ss"));
        let plain = url("smtps://mail.example.com");
        let mut separate = config(&plain);
        separate.username = Some("u");
        separate.password = Some("secret");
        let settings = MailSettings::check(&separate).unwrap();
        assert_eq!(settings.credentials.unwrap().1.as_str(), "secret");
        assert!(!format!("{separate:?}").contains("secret"));
    }
}

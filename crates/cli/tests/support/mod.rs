//! Starts the real `sesame` server binary on a fresh data directory for one test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sesame_core::id::Id;
use sesame_core::token::TOKEN_PREFIX;
use sesame_core::{Client, ClientConfig};

/// A running server; killed and its data directory removed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    owner_token: SecretString,
}

impl Server {
    /// A server with default settings.
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// A server whose process gets extra `SESAME_…` environment variables.
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        Self::start_logging(env, Stdio::inherit())
    }

    /// [`start_with_env`](Self::start_with_env), with the server's log (stderr) sent to
    /// `log`.
    pub fn start_logging(env: &[(&str, &str)], log: Stdio) -> Self {
        let bin = env!("CARGO_BIN_EXE_sesame");
        let data_dir = std::env::temp_dir().join(format!("sesame-client-test-{}", Id::generate()));
        std::fs::create_dir_all(&data_dir).unwrap();
        // The server refuses a data directory other users can reach.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let status = Command::new(bin)
            .args(["server", "init", "--data-dir"])
            .arg(&data_dir)
            // The brief's `http://127.0.0.1:0` is refused by the token format (port 0 is not
            // a port a client can reach); the real URL comes from `server start` and
            // `ClientConfig::server_url` overrides this one.
            .args(["--url", "http://127.0.0.1:1"])
            // Keep `init` from saving the owner credential in the real config directory.
            .env("XDG_CONFIG_HOME", data_dir.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .expect("run sesame server init");
        assert!(status.success(), "sesame server init failed: {status}");
        let credential = std::fs::read_to_string(data_dir.join("owner.credential")).unwrap();
        let owner_token = credential
            .split_whitespace()
            .find(|w| w.starts_with(TOKEN_PREFIX))
            .expect("a token in owner.credential")
            .to_owned();
        let mut command = Command::new(bin);
        command
            .args(["server", "start", "--data-dir"])
            .arg(&data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start sesame server");
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Self {
            child,
            url,
            data_dir,
            owner_token: SecretString::from(owner_token),
        }
    }

    pub fn config(&self) -> ClientConfig {
        ClientConfig {
            server_url: Some(self.url.clone()),
            timeout: Duration::from_secs(10),
            ..ClientConfig::new("sesame-tests", "1.0.0")
        }
    }

    /// The owner's client.
    pub async fn owner(&self) -> Client {
        self.connect(&self.owner_token).await
    }

    /// The owner's client, or why authentication failed.
    pub async fn try_owner(&self) -> sesame_core::Result<Client> {
        self.try_connect(&self.owner_token).await
    }

    /// A client for `token`, or why authentication failed.
    pub async fn try_connect(&self, token: &SecretString) -> sesame_core::Result<Client> {
        Client::authenticate(token.expose_secret(), self.config()).await
    }

    /// A client for `token` with the default test configuration.
    pub async fn connect(&self, token: &SecretString) -> Client {
        Client::authenticate(token.expose_secret(), self.config())
            .await
            .expect("authenticate")
    }

    /// The server process's id (to read its memory use from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A second connection to the running server's database, to inspect or tamper with it
    /// (a "malicious server").
    pub async fn database(&self) -> sqlx::SqlitePool {
        let path = self.data_dir.join("sesame.db");
        sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    }

    pub fn db_files(&self) -> Vec<PathBuf> {
        ["sesame.db", "sesame.db-wal", "sesame.db-shm"]
            .iter()
            .map(|f| self.data_dir.join(f))
            .filter(|p| Path::exists(p))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

use sesame_core::model::{
    permissions, ItemCategory, ItemCreateParams, ItemField, ItemFieldType, ItemSection,
    VaultCreateParams,
};

/// A TOTP secret (RFC 6238's SHA-1 test key in base32).
pub const TOTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
pub const OPENSSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

pub fn field(
    id: &str,
    title: &str,
    section: Option<&str>,
    t: ItemFieldType,
    value: &str,
) -> ItemField {
    let mut f = ItemField::new(id, title, t, value);
    f.section_id = section.map(str::to_owned);
    f
}

/// The "Postgres" item: fields in the unnamed section and in sections, TOTP, SSH key, notes.
pub fn postgres(vault: &str) -> ItemCreateParams {
    ItemCreateParams {
        fields: Some(vec![
            field("username", "username", None, ItemFieldType::Text, "pg-user"),
            field(
                "password",
                "password",
                None,
                ItemFieldType::Concealed,
                "pg-top",
            ),
            field(
                "adminpw",
                "password",
                Some("admin"),
                ItemFieldType::Concealed,
                "pg-admin",
            ),
            field(
                "host",
                "host",
                Some("admin"),
                ItemFieldType::Text,
                "db.internal",
            ),
            field(
                "otp",
                "one-time password",
                Some("security"),
                ItemFieldType::Totp,
                TOTP_SECRET,
            ),
            field(
                "sshkey",
                "private key",
                None,
                ItemFieldType::SshKey,
                OPENSSH_KEY,
            ),
        ]),
        sections: Some(vec![
            ItemSection {
                id: "admin".into(),
                title: "Admin".into(),
            },
            ItemSection {
                id: "security".into(),
                title: "Security".into(),
            },
        ]),
        notes: Some("pg notes".into()),
        tags: Some(vec!["prod".into(), "db".into()]),
        ..ItemCreateParams::new(ItemCategory::Database, vault, "Postgres")
    }
}

/// Options of a link that works for one view.
pub fn one_time_share() -> sesame_core::model::ItemShareParams {
    sesame_core::model::ItemShareParams {
        one_time_only: true,
        ..Default::default()
    }
}

/// A one-field login.
pub fn login(vault: &str, title: &str, password: &str) -> ItemCreateParams {
    ItemCreateParams {
        fields: Some(vec![field(
            "password",
            "password",
            None,
            ItemFieldType::Concealed,
            password,
        )]),
        ..ItemCreateParams::new(ItemCategory::Login, vault, title)
    }
}

/// An owner with a vault "Infra" holding [`postgres`], and a service account that may
/// only read it.
pub struct Fixture {
    pub server: Server,
    pub owner: Client,
    pub vault_id: String,
    pub postgres_id: String,
    pub sa_id: String,
    pub sa_token: SecretString,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_server(Server::start()).await
    }

    pub async fn with_server(server: Server) -> Self {
        let owner = server.owner().await;
        let vault = owner
            .vaults()
            .create(VaultCreateParams::new("Infra"))
            .await
            .unwrap();
        let item = owner.items().create(postgres(&vault.id)).await.unwrap();
        let (principal, sa_token) = owner
            .service_accounts()
            .create(
                "ci-reader",
                &[(
                    &vault.id,
                    permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
                )],
                None,
            )
            .await
            .unwrap();
        Self {
            server,
            owner,
            vault_id: vault.id,
            postgres_id: item.id,
            sa_id: principal.id.to_string(),
            sa_token,
        }
    }

    pub async fn service_account(&self) -> Client {
        self.server.connect(&self.sa_token).await
    }

    /// Sets the Postgres item's password, as the owner.
    pub async fn set_postgres_password(&self, value: &str) {
        let mut item = self
            .owner
            .items()
            .get(&self.vault_id, &self.postgres_id)
            .await
            .unwrap();
        item.fields
            .iter_mut()
            .find(|f| f.id == "password")
            .unwrap()
            .value = value.into();
        self.owner.items().put(&item).await.unwrap();
    }
}

impl Server {
    /// Runs `sesame server audit verify` on this server's data and returns its stdout.
    pub fn audit_verify(&self) -> (bool, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["server", "audit", "verify", "--data-dir"])
            .arg(&self.data_dir)
            .output()
            .expect("run sesame server audit verify");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }
}

impl Server {
    /// The owner's token.
    pub fn owner_token(&self) -> &SecretString {
        &self.owner_token
    }

    /// A `sesame` command aimed at this server, authenticated with `token` through
    /// `SESAME_SERVICE_ACCOUNT_TOKEN`, and kept away from the user's config directory.
    pub fn cli(&self, token: &SecretString) -> Command {
        let mut command = self.cli_without_token();
        command.env("SESAME_SERVICE_ACCOUNT_TOKEN", token.expose_secret());
        command
    }

    /// A `sesame` command aimed at this server with no credential at all.
    pub fn cli_without_token(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
        command
            .env_remove("SESAME_SERVICE_ACCOUNT_TOKEN")
            .env_remove("SESAME_FORMAT")
            .env_remove("SESAME_DEBUG_ROUND_TRIPS")
            .env("SESAME_URL", &self.url)
            .env("SESAME_LOG", "warn")
            .env("XDG_CONFIG_HOME", self.data_dir.join("cli-config"))
            .env("HOME", self.data_dir.join("cli-home"));
        command
    }
}

/// The result of a CLI run, decoded.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` with `stdin` and collects its output.
pub fn run(command: &mut Command, stdin: &str) -> Run {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sesame");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

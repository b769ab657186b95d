//! What every command may need: the output format and, made on first use, the client.

use std::path::{Path, PathBuf};

use sesame_core::model::UnreadableKind;
use sesame_core::Client;

use crate::exit::CliResult;
use crate::output::Format;

/// The command's context.
pub(crate) struct Ctx {
    pub(crate) format: Format,
    token_file: Option<PathBuf>,
    /// The client and its round-trip count right after authentication.
    client: Option<(Client, u64)>,
}

impl Ctx {
    pub(crate) fn new(format: Format, token_file: Option<PathBuf>) -> Self {
        Self {
            format,
            token_file,
            client: None,
        }
    }

    /// The authenticated client, authenticating on first use.
    pub(crate) async fn client(&mut self) -> CliResult<Client> {
        if let Some((client, _)) = &self.client {
            return Ok(client.clone());
        }
        let client = crate::credential::connect(self.token_file.as_deref()).await?;
        self.client = Some((client.clone(), client.round_trips()));
        Ok(client)
    }

    pub(crate) fn token_file(&self) -> Option<&Path> {
        self.token_file.as_deref()
    }

    /// Warns, once and on stderr, of every record the client could not open: what it is
    /// and how to remove it. Never content: the client could not read any.
    pub(crate) fn report_unreadable(&self) {
        let Some((client, _)) = &self.client else {
            return;
        };
        for record in client.unreadable_records() {
            let vault = &record.vault_id;
            let remedy = match (&record.item_id, record.kind) {
                (Some(item), _) => {
                    eprintln!(
                        "warning: vault {vault}: item {item} cannot be decrypted ({}); ignored. \
                         Delete it with: sesame item delete {item} --vault {vault}",
                        record.message
                    );
                    continue;
                }
                (None, UnreadableKind::VaultAttributes) => format!(
                    "its items stay usable by vault id. Rename it with: sesame vault edit \
                     {vault} --title NAME --description TEXT, or leave it with: sesame vault \
                     leave {vault}"
                ),
                (None, _) => format!("Leave it with: sesame vault leave {vault}"),
            };
            eprintln!(
                "warning: vault {vault} cannot be opened ({}); ignored. {remedy}",
                record.message
            );
        }
    }

    /// With `SESAME_DEBUG_ROUND_TRIPS=1`: the client's HTTP round trips, on stderr.
    pub(crate) fn report_round_trips(&self) {
        if std::env::var("SESAME_DEBUG_ROUND_TRIPS").as_deref() != Ok("1") {
            return;
        }
        if let Some((client, at_auth)) = &self.client {
            let total = client.round_trips();
            eprintln!(
                "sesame: round trips: {total} total, {} after authentication",
                total.saturating_sub(*at_auth)
            );
        } else {
            eprintln!("sesame: round trips: 0 total, 0 after authentication");
        }
    }
}

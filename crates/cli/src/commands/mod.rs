//! One module per top-level subcommand (`sesame vault …` is [`vault`], `sesame item …`
//! is [`item`], …), as cargo lays out its own. A command module imports the neutral
//! modules at the crate root (output, args, limits, transfer, …), never another command.

pub(crate) mod completion;
pub(crate) mod document;
pub(crate) mod events;
pub(crate) mod inject;
pub(crate) mod item;
pub(crate) mod password;
pub(crate) mod read;
pub(crate) mod run;
pub(crate) mod server;
pub(crate) mod service_account;
pub(crate) mod share;
pub(crate) mod totp;
pub(crate) mod vault;
pub(crate) mod whoami;

//! # sesame-core
//!
//! The whole Sesame client: secret references, one-time passwords, password generation,
//! end-to-end encryption, service account tokens and the item model. Every language
//! binding is a thin shell around this crate.
//!
//! This release holds the offline half: everything that works without a server.
//!
//! ```
//! use sesame_core::reference::SecretReference;
//! let reference: SecretReference = "op://Infra/Postgres/password".parse()?;
//! assert_eq!(reference.vault(), "Infra");
//! # Ok::<(), sesame_core::Error>(())
//! ```

pub mod crypto;
mod error;
pub mod id;
pub mod model;
pub mod password;
pub mod reference;
pub mod token;
pub mod totp;

pub use error::{Error, ErrorCode, Result};

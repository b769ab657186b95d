//! # sesame-core
//!
//! The whole Sesame client: secret references, one-time passwords, password generation,
//! end-to-end encryption, service account tokens and the item model. Every language
//! binding is a thin shell around this crate.
//!
//! [`Client`] connects to a Sesame server; everything else works offline.
//!
//! | module | what it does |
//! |---|---|
//! | [`reference`](mod@reference) | parse, validate and build `op://vault/item/[section/]field` references |
//! | [`totp`] | TOTP and HOTP codes from `otpauth://` URIs or base32 secrets |
//! | [`password`] | the 1Password recipes (Pin, Random, Memorable) with exact entropy |
//! | [`crypto`] | principal keys, HPKE-wrapped vault keys, item envelopes, file streams |
//! | [`token`] | service account tokens: generate, parse, precise errors |
//! | [`model`] | items, fields, vaults and permissions, shaped as in the 1Password SDKs |
//! | [`encoding`] | base64url, percent-decoding and durations (`90d`), parsed one way everywhere |
//! | [`id`] | 26-character random identifiers |
//! | [`client`] | the networked client: authenticate, resolve references, manage items, vaults and service accounts |
//!
//! Every fallible call returns [`Error`], whose [`code`](Error::code) is stable across
//! releases and languages.
//!
//! ```
//! use sesame_core::reference::SecretReference;
//! let reference: SecretReference = "op://Infra/Postgres/password".parse()?;
//! assert_eq!(reference.vault(), "Infra");
//! # Ok::<(), sesame_core::Error>(())
//! ```

#[doc(hidden)]
pub mod api;
pub mod audit;
pub mod client;
pub mod crypto;
pub mod encoding;
pub mod error;
pub mod id;
pub mod model;
pub mod password;
pub mod reference;
pub mod token;
pub mod totp;

pub use client::{Client, ClientConfig};
pub use error::{Error, ErrorCode, ErrorDetails, ErrorEnvelope, Resource, Result};

/// The README's Rust section, compiled as a doc test so that it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

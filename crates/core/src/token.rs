//! (being written)
/// placeholder until the token module lands
#[derive(Debug, thiserror::Error)]
#[error("invalid token")]
pub struct TokenError;

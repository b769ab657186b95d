//! (being written)
/// placeholder until the reference module lands
#[derive(Debug, thiserror::Error)]
#[error("invalid reference")]
pub struct ReferenceError;

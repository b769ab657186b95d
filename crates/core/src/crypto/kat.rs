//! Deterministic entry points for known-answer vectors and tests. Not part of the API.
//!
//! Everything here takes the randomness (nonces, ephemeral keys) or the raw key bytes that
//! the real API keeps to itself, so `tests/vectors/crypto.json` can pin exact bytes. Never
//! use it for real data: a repeated nonce under one key breaks AES-GCM completely.

use std::io::{self, Write};

use rand_core::{CryptoRng, RngCore};

use super::envelope::NONCE_LEN;
use super::file_stream::{ciphertext_len_with_chunk_size, NONCE_PREFIX_LEN};
use super::{EnvelopeContext, FileEncryptor, FileKey, VaultKey, WrappedVaultKey, KEY_LEN};
use crate::id::Id;
use crate::Result;

/// A vault key with the given bytes.
pub fn vault_key_from_bytes(bytes: [u8; KEY_LEN]) -> VaultKey {
    VaultKey::from_bytes(bytes)
}

/// The bytes of a vault key.
pub fn vault_key_bytes(key: &VaultKey) -> [u8; KEY_LEN] {
    *key.as_bytes()
}

/// A file key with the given bytes.
pub fn file_key_from_bytes(bytes: [u8; KEY_LEN]) -> FileKey {
    FileKey::from_bytes(bytes)
}

/// The bytes of a file key.
pub fn file_key_bytes(key: &FileKey) -> [u8; KEY_LEN] {
    *key.as_bytes()
}

/// [`VaultKey::wrap`] whose HPKE ephemeral key is derived from `ephemeral_ikm`
/// (RFC 9180 `DeriveKeyPair(ikmE)`), so the output is reproducible.
pub fn wrap_vault_key(
    key: &VaultKey,
    recipient_public_key: &[u8; 32],
    vault: &Id,
    principal: &Id,
    ephemeral_ikm: [u8; 32],
) -> Result<WrappedVaultKey> {
    key.wrap_with_rng(
        recipient_public_key,
        vault,
        principal,
        &mut FixedBytes(ephemeral_ikm.to_vec()),
    )
}

/// The HPKE `info` of a wrapped vault key.
pub fn vault_key_info(vault: &Id, principal: &Id) -> Vec<u8> {
    super::vault_key::wrap_info(vault, principal)
}

/// [`VaultKey::seal`] with a chosen nonce.
pub fn seal_with_nonce(
    key: &VaultKey,
    context: &EnvelopeContext,
    plaintext: &[u8],
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>> {
    key.seal_with_nonce(context, plaintext, &nonce)
}

/// [`FileEncryptor::new`] with a chosen chunk size and nonce prefix.
pub fn file_encryptor<W: Write>(
    inner: W,
    key: &FileKey,
    file: &Id,
    chunk_size: u32,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
) -> io::Result<FileEncryptor<W>> {
    FileEncryptor::with_params(inner, key, file, chunk_size, nonce_prefix)
}

/// [`super::ciphertext_len`] for a chosen chunk size.
pub fn ciphertext_len(plaintext_len: u64, chunk_size: u32) -> u64 {
    ciphertext_len_with_chunk_size(plaintext_len, chunk_size)
}

/// An "RNG" that replays fixed bytes (then zeros), to feed HPKE a chosen ephemeral seed.
struct FixedBytes(Vec<u8>);

impl RngCore for FixedBytes {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let n = dest.len().min(self.0.len());
        dest[..n].copy_from_slice(&self.0[..n]);
        dest[n..].fill(0);
        self.0.drain(..n);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// Only ever used to reproduce vectors, where determinism is the point.
impl CryptoRng for FixedBytes {}

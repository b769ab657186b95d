//! End-to-end encryption: principal keys, vault keys, item envelopes and file streams.
//!
//! Every primitive comes from a maintained crate (RustCrypto `hkdf`, `aes-gcm`, `aead`,
//! `hpke`, and the dalek curves); this module only fixes *how* they are combined. The byte
//! formats below are a contract shared with the Python, Node and Go implementations, which
//! check themselves against `tests/vectors/crypto.json`. Changing any of them is a new
//! format version, never an edit.
//!
//! Conventions: `||` is concatenation, strings are their ASCII bytes with no terminator or
//! length prefix, an id is its 26 ASCII characters (`[a-z0-9]`, see [`crate::id::Id`]),
//! integers are big-endian, base64url is RFC 4648 §5 without padding.
//!
//! # Principal keys ([`PrincipalKeys`])
//!
//! From the 32-byte token secret, HKDF-SHA256 (RFC 5869) with salt `"sesame/v1"`:
//!
//! - Ed25519 signing seed = `HKDF-Expand(PRK, "sesame/v1/ed25519-signing-key", 32)`
//!   (the RFC 8032 32-byte private key);
//! - X25519 private key = `HKDF-Expand(PRK, "sesame/v1/x25519-encryption-key", 32)`
//!   (clamped by X25519 as usual, RFC 7748).
//!
//! # Vault keys ([`VaultKey`], [`WrappedVaultKey`])
//!
//! A vault key is 32 random bytes. It is wrapped to a member with HPKE (RFC 9180) in Base
//! mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM (suite ids 0x0020,
//! 0x0001, 0x0002):
//!
//! - `info = "sesame/v1/vault-key" || vault_id || principal_id` (19 + 26 + 26 = 71 bytes);
//! - `aad` is empty; the plaintext is the 32-byte key, so the ciphertext is 48 bytes;
//! - on the wire: `{"encapsulatedKey": base64url(enc, 32 bytes), "ciphertext": base64url(ct)}`.
//!
//! # Who may be trusted: the account anchor, certificates and signed grants
//!
//! HPKE Base mode proves nothing about who wrapped a key: anyone holding a member's public
//! key, the server included, can wrap a key of its own choosing that unwraps cleanly, and a
//! server that substitutes a member's public key would receive the real vault key. The
//! server is never trusted for confidentiality, so every key it serves is checked against
//! the account owner's Ed25519 key, which is itself anchored without the server:
//!
//! - **Account id** ([`account_id_for`]): the account id is the owner's key fingerprint,
//!   the first 26 characters of lowercase unpadded base32 of
//!   `SHA-256("sesame/v1/account" || owner Ed25519 public key (32))`. Every token carries
//!   the account id, so a client checks the owner key the server sends against it.
//! - **Principal certificate** ([`principal_certificate_message`]): the owner signs
//!   `"sesame/v1/principal" || account || principal || key_generation (u32) || Ed25519
//!   public key (32) || X25519 public key (32)` (139 bytes) for every principal it creates
//!   or rotates, and for itself at account creation (so its X25519 key is bound too).
//!   A client wraps a vault key only to a principal whose certificate verifies.
//! - **Signed grant** ([`grant_message`]): whoever wraps a vault key signs
//!   `"sesame/v1/grant" || account || vault || grantee || grantee key_generation (u32)
//!   || granter || encapsulated key (32) || HPKE ciphertext` (203 bytes for a 48-byte
//!   ciphertext). A client uses an unwrapped vault key only when this signature verifies
//!   with the granter's key: its own, the owner's, or one the owner certified.
//!
//! - **Audit checkpoint** ([`audit_checkpoint_message`]): the owner's client, having
//!   checked the audit trail's hash chain (see [`crate::audit`]) up to event `seq`, signs
//!   `"sesame/v1/audit-checkpoint" || account || seq (u64) || head hash (32)` (92 bytes),
//!   the head hash being the 32 bytes that event `seq`'s hex `hash` spells. The server
//!   stores checkpoints but cannot make one, so it cannot cut the trail short below, or
//!   rewrite any event up to, a checkpoint without the owner's client noticing.
//!
//! Signatures are Ed25519 (RFC 8032) with strict verification ([`verify_signature`]),
//! 64 bytes, base64url on the wire.
//!
//! Limits: the server still decides *which* genuine grants and ciphertexts a client sees.
//! A member removed from a vault, or a revoked service account, keeps any vault key it
//! already unwrapped, and nothing re-keys a vault yet, so with the server's help it can
//! still read new items there; grants a principal signed before its revocation still
//! verify (its certificate stays valid). The server can withhold updates or serve an older
//! version of an item or vault attributes than the latest, within what that member was
//! once granted (the envelope AAD pins ids and versions, not freshness); a grant made by a
//! service account no longer verifies once that service account's keys are rotated (its
//! certificate is replaced), so such grants must be made again; owner key rotation is not
//! supported (the account id is the owner key), and a compromised owner key compromises
//! the account.
//!
//! # Share links ([`ShareSecret`])
//!
//! A share link is `{server}/s/{share_id}#{fragment}`, the fragment being a random 32-byte
//! secret as base64url; browsers never send the fragment to a server. From the secret,
//! HKDF-SHA256 (salt empty) derives:
//!
//! - the access token = `HKDF(secret, info = "sesame/v1/share/access/" || share_id)`; the
//!   server stores only its SHA-256 and serves the ciphertext (counting a view) only to a
//!   caller presenting the token, so a leaked path alone neither reads nor consumes a share;
//! - the key = `HKDF(secret, info = "sesame/v1/share/key/" || share_id)`, for AES-256-GCM:
//!
//! ```text
//! sealed = nonce (12 random bytes) || ciphertext || tag (16 bytes)
//! aad    = "sesame/v1/share/" || ("item" or "files") || "/" || share_id
//! ```
//!
//! The share page decrypts this with WebCrypto; the server stores ciphertext, the access
//! hash, expiry, view counts and recipient rules, and cannot decrypt.
//!
//! ## Recipients
//!
//! A share may be restricted to recipients (email addresses, or domains). Recipients add
//! an access check, not a layer of encryption: the link's secret still decrypts the
//! snapshot, and the server, which already cannot decrypt, enforces who may fetch it. To
//! fetch a restricted share, a visitor presents the access token and proves an address
//! the share admits (equal to a listed address, or whose domain equals a listed domain)
//! with a one-time code the server mails to it:
//!
//! ```text
//! code      = 6 decimal digits, uniform, from the OS CSPRNG
//! code_key  = HMAC-SHA256(account session secret, "sesame/v1/share-code-key")
//! email_mac = HMAC-SHA256(code_key, lp("email") || lp(share_id) || lp(email))
//! code_mac  = HMAC-SHA256(code_key, lp("code") || lp(share_id) || lp(email) || lp(code))
//! lp(x)     = len(x) as u64 big-endian || x
//! ```
//!
//! The server stores `email_mac`, `code_mac` (random bytes for an address that is not a
//! recipient, so it behaves like one and no code matches), an expiry of 10 minutes and 5
//! tries; it compares MACs in constant time, uses a code up on success, and voids it
//! after the fifth wrong try or when a newer code is asked for. Code requests are limited
//! per share (5 in 10 minutes, 20 a day), so a holder of the link who cannot read a
//! recipient's mail has at most 25 guesses in a million per 10 minutes. The security of
//! a restricted share is that of the link plus the recipient's mailbox and its transport
//! (the server sends over `smtps://` or required STARTTLS, or plain SMTP to a loopback
//! relay only).
//!
//! # Envelopes ([`EnvelopeContext`], [`VaultKey::seal`], [`VaultKey::open`])
//!
//! Vault attributes, item overviews, item details and file keys are sealed with AES-256-GCM
//! under the vault key:
//!
//! ```text
//! envelope = 0x01 || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//! aad      = "sesame/v1/envelope" || account_id || vault_id
//!            || (item_id or 26 zero bytes) || (file_id or 26 zero bytes)
//!            || part (1 byte) || version (u64, big-endian)
//! ```
//!
//! (18 + 26 + 26 + 26 + 26 + 1 + 8 = 131 bytes.) Parts: `0x01` vault attributes, `0x02` item
//! overview, `0x03` item details, `0x04` file key. A zero byte never occurs in an id, so
//! "absent" is unambiguous.
//!
//! # File streams ([`FileKey`], [`FileEncryptor`], [`FileDecryptor`])
//!
//! Each file has its own random 32-byte key (itself sealed as a [`Part::FileKey`] envelope)
//! and is encrypted with the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015)
//! as implemented by `aead::stream::StreamBE32` over AES-256-GCM:
//!
//! ```text
//! stream  = header || chunk_0 || … || chunk_n          (n ≥ 0; chunk_n is the last chunk)
//! header  = "SESF" || 0x01 (format version) || chunk_size (u32) || nonce_prefix (7 bytes)
//! chunk_i = AES-256-GCM(key, nonce_i, aad, plaintext_i) including its 16-byte tag
//! nonce_i = nonce_prefix || i (u32) || (0x01 if i = n else 0x00)
//! aad     = "sesame/v1/file" || file_id || header
//! ```
//!
//! Every chunk but the last holds exactly `chunk_size` plaintext bytes; the last holds
//! `0..=chunk_size` bytes (an empty file is one empty last chunk). Because the chunk index
//! and the last-chunk flag are in the nonce and the file id and header are in the AAD,
//! reordering, dropping, duplicating or splicing chunks, truncating the stream and appending
//! data are all detected. The default chunk size is [`DEFAULT_CHUNK_SIZE`]; a reader accepts
//! `1..=`[`MAX_CHUNK_SIZE`], so its memory stays bounded whatever the header says.

mod envelope;
mod file_stream;
#[cfg(feature = "kat")]
#[doc(hidden)]
pub mod kat;
mod keys;
mod share;
mod trust;
mod vault_key;

pub use envelope::{EnvelopeContext, Part};
pub use file_stream::{
    ciphertext_len, FileDecryptor, FileEncryptor, FileKey, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE,
};
pub use keys::{verify_signature, PrincipalKeys};
pub use share::{access_hash, SharePart, ShareSecret};
pub use trust::{
    account_id_for, audit_checkpoint_message, grant_message, principal_certificate_message,
};
pub use vault_key::{VaultKey, WrappedVaultKey};

/// Length in bytes of every symmetric key and of the token secret.
pub(crate) const KEY_LEN: usize = 32;

/// Lowercase hex of public (non-secret) bytes, for `Debug` output.
pub(crate) fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

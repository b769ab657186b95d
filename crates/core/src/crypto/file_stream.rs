//! Chunked streaming encryption of files (STREAM over AES-256-GCM) with `std::io` adapters.

use std::fmt;
use std::io::{self, Read, Write};

use aead::generic_array::GenericArray;
use aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm::{Aes256Gcm, KeyInit};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::envelope::TAG_LEN;
use super::{EnvelopeContext, Part, VaultKey, KEY_LEN};
use crate::id::{Id, ID_LEN};
use crate::{Error, Result};

/// Plaintext bytes per chunk written by [`FileEncryptor`]: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// The largest chunk size a [`FileDecryptor`] accepts (16 MiB), which bounds its memory.
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

/// The first bytes of every encrypted file.
const MAGIC: &[u8; 4] = b"SESF";
/// The header's format version byte.
const FORMAT_VERSION: u8 = 0x01;
/// Length of the STREAM nonce prefix: the 12-byte AES-GCM nonce minus 4 counter bytes and
/// 1 last-chunk flag byte.
pub(crate) const NONCE_PREFIX_LEN: usize = 7;
/// Length of the header: magic, version, chunk size, nonce prefix.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 1 + 4 + NONCE_PREFIX_LEN;
/// Domain label at the start of every chunk's AAD.
const AAD_LABEL: &[u8] = b"sesame/v1/file";

/// The random key of one file.
///
/// Stored sealed under the vault key (a [`Part::FileKey`] envelope); wiped on drop;
/// `Debug` prints no key material.
///
/// ```
/// use sesame_core::crypto::{EnvelopeContext, FileKey, VaultKey};
/// use sesame_core::id::Id;
///
/// let vault_key = VaultKey::generate();
/// let context = EnvelopeContext::file_key(Id::generate(), Id::generate(), Id::generate(), Id::generate());
/// let file_key = FileKey::generate();
/// let sealed = file_key.wrap(&vault_key, &context)?;
/// let _same_key = FileKey::unwrap(&vault_key, &context, &sealed)?;
/// assert_eq!(format!("{file_key:?}"), "FileKey([redacted])");
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FileKey([u8; KEY_LEN]);

impl FileKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = Self([0; KEY_LEN]);
        OsRng.fill_bytes(&mut key.0);
        key
    }

    #[cfg(feature = "kat")]
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Seals this key under `vault_key` for `context` (made by [`EnvelopeContext::file_key`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `context` is not a file-key context.
    pub fn wrap(&self, vault_key: &VaultKey, context: &EnvelopeContext) -> Result<Vec<u8>> {
        check_file_key_context(context)?;
        vault_key.seal(context, &self.0)
    }

    /// Opens a file key sealed by [`wrap`](Self::wrap).
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] when the envelope fails to open or does not hold a 32-byte key;
    /// [`Error::InvalidInput`] when `context` is not a file-key context.
    pub fn unwrap(vault_key: &VaultKey, context: &EnvelopeContext, sealed: &[u8]) -> Result<Self> {
        check_file_key_context(context)?;
        let plaintext = vault_key.open(context, sealed)?;
        let bytes: [u8; KEY_LEN] = plaintext.as_slice().try_into().map_err(|_| {
            Error::integrity(format!(
                "the sealed file key decrypted to {} bytes instead of {KEY_LEN}",
                plaintext.len()
            ))
        })?;
        Ok(Self(bytes))
    }
}

fn check_file_key_context(context: &EnvelopeContext) -> Result<()> {
    if context.part() == Part::FileKey {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "context",
            "a file key must be sealed with EnvelopeContext::file_key",
        ))
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey([redacted])")
    }
}

/// The encrypted size of a `plaintext_len`-byte file written by [`FileEncryptor`], so a
/// server can enforce size limits before the upload starts.
///
/// ```
/// use sesame_core::crypto::{ciphertext_len, DEFAULT_CHUNK_SIZE};
/// assert_eq!(ciphertext_len(0), 16 + 16); // header + one empty final chunk
/// assert_eq!(ciphertext_len(u64::from(DEFAULT_CHUNK_SIZE) + 1), 16 + 65_537 + 2 * 16);
/// ```
pub fn ciphertext_len(plaintext_len: u64) -> u64 {
    ciphertext_len_with_chunk_size(plaintext_len, DEFAULT_CHUNK_SIZE)
}

pub(crate) fn ciphertext_len_with_chunk_size(plaintext_len: u64, chunk_size: u32) -> u64 {
    let chunk_size = u64::from(chunk_size.max(1));
    let chunks = plaintext_len.div_ceil(chunk_size).max(1);
    (HEADER_LEN as u64)
        .saturating_add(plaintext_len)
        .saturating_add(chunks.saturating_mul(TAG_LEN as u64))
}

/// The header and the per-chunk AAD of one stream.
fn chunk_aad(file: &Id, header: &[u8; HEADER_LEN]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + ID_LEN + HEADER_LEN);
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(file.as_str().as_bytes());
    aad.extend_from_slice(header);
    aad
}

fn stream_for(key: &FileKey, nonce_prefix: &[u8; NONCE_PREFIX_LEN]) -> StreamBE32<Aes256Gcm> {
    let aead = Aes256Gcm::new(key.as_bytes().into());
    StreamBE32::from_aead(aead, GenericArray::from_slice(nonce_prefix))
}

fn integrity(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::integrity(message))
}

/// Encrypts a file as it is written, into `inner`, holding at most one chunk in memory.
///
/// Write the plaintext, then call [`finish`](Self::finish): it writes the final chunk,
/// without which the stream is truncated and will not decrypt. Dropping the encryptor
/// without `finish` leaves an incomplete stream in `inner`.
///
/// ```
/// use std::io::{Read, Write};
/// use sesame_core::crypto::{FileDecryptor, FileEncryptor, FileKey};
/// use sesame_core::id::Id;
///
/// let (key, file) = (FileKey::generate(), Id::generate());
/// let mut encryptor = FileEncryptor::new(Vec::new(), &key, &file)?;
/// encryptor.write_all(b"-----BEGIN PRIVATE KEY-----")?;
/// let ciphertext = encryptor.finish()?;
///
/// let mut plaintext = Vec::new();
/// FileDecryptor::new(ciphertext.as_slice(), &key, &file)?.read_to_end(&mut plaintext)?;
/// assert_eq!(plaintext, b"-----BEGIN PRIVATE KEY-----");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FileEncryptor<W: Write> {
    inner: W,
    stream: StreamBE32<Aes256Gcm>,
    aad: Vec<u8>,
    chunk_size: usize,
    /// Plaintext of the chunk being filled; sealed in place when the next byte arrives.
    buffer: Zeroizing<Vec<u8>>,
    position: u32,
    poisoned: bool,
}

impl<W: Write> FileEncryptor<W> {
    /// Starts the encrypted stream of `file` under `key` and writes its header to `inner`.
    ///
    /// # Errors
    ///
    /// Any error from writing the header to `inner`.
    pub fn new(inner: W, key: &FileKey, file: &Id) -> io::Result<Self> {
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        OsRng.fill_bytes(&mut nonce_prefix);
        Self::with_params(inner, key, file, DEFAULT_CHUNK_SIZE, nonce_prefix)
    }

    /// [`new`](Self::new) with a chosen chunk size and nonce prefix, for known-answer
    /// vectors and tests only: reusing a nonce prefix under one key destroys security.
    pub(crate) fn with_params(
        mut inner: W,
        key: &FileKey,
        file: &Id,
        chunk_size: u32,
        nonce_prefix: [u8; NONCE_PREFIX_LEN],
    ) -> io::Result<Self> {
        if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                Error::invalid_input(
                    "chunk_size",
                    format!("must be between 1 and {MAX_CHUNK_SIZE}, got {chunk_size}"),
                ),
            ));
        }
        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(MAGIC);
        header[4] = FORMAT_VERSION;
        header[5..9].copy_from_slice(&chunk_size.to_be_bytes());
        header[9..].copy_from_slice(&nonce_prefix);
        inner.write_all(&header)?;
        let chunk_size = chunk_size as usize;
        Ok(Self {
            inner,
            stream: stream_for(key, &nonce_prefix),
            aad: chunk_aad(file, &header),
            chunk_size,
            buffer: Zeroizing::new(Vec::with_capacity(chunk_size + TAG_LEN)),
            position: 0,
            poisoned: false,
        })
    }

    /// Writes the final chunk, flushes, and returns the inner writer.
    ///
    /// # Errors
    ///
    /// Any error from `inner`, or an earlier failed write (the stream is then unusable).
    pub fn finish(mut self) -> io::Result<W> {
        self.check_usable()?;
        self.seal_chunk(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn check_usable(&self) -> io::Result<()> {
        if self.poisoned {
            Err(io::Error::other(
                "an earlier write to this encrypted file failed; start a new file",
            ))
        } else {
            Ok(())
        }
    }

    /// Seals the buffered plaintext as the next chunk and writes it out.
    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        self.poisoned = true;
        if !last && self.position == u32::MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                Error::invalid_input("file", "is too large: a stream holds at most 2^32 chunks"),
            ));
        }
        self.stream
            .encrypt_in_place(self.position, last, &self.aad, &mut *self.buffer)
            .map_err(|_| io::Error::other("AES-GCM refused to encrypt a file chunk"))?;
        self.inner.write_all(&self.buffer)?;
        self.buffer.clear();
        self.position = self.position.wrapping_add(1);
        self.poisoned = false;
        Ok(())
    }
}

impl<W: Write> Write for FileEncryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.check_usable()?;
        let mut rest = data;
        while !rest.is_empty() {
            // A full chunk is sealed only once more data arrives, because the last chunk
            // must carry the last-chunk flag and only `finish` knows which one that is.
            if self.buffer.len() == self.chunk_size {
                self.seal_chunk(false)?;
            }
            let take = (self.chunk_size - self.buffer.len()).min(rest.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        Ok(data.len())
    }

    /// Flushes the inner writer; buffered plaintext stays until its chunk is complete.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> fmt::Debug for FileEncryptor<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileEncryptor")
            .field("chunk_size", &self.chunk_size)
            .field("chunks_written", &self.position)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadState {
    Reading,
    Done,
    Failed(String),
}

/// Decrypts a file stream as it is read from `inner`, holding at most one chunk in memory.
///
/// Yields plaintext only after the chunk holding it has been authenticated, and reports
/// the end of the file only after the final chunk has been authenticated as final. Any
/// alteration, truncation, reordering, chunk swap or trailing data is an
/// [`io::ErrorKind::InvalidData`] error whose inner error is a [`crate::Error::Integrity`]
/// (get it with `err.into_inner()` and `downcast::<sesame_core::Error>()`); plaintext read
/// before the error must then be discarded.
///
/// The inner reader must block: an I/O error from it (`TimedOut`, `WouldBlock`, …) is
/// returned once and ends the stream, because the chunk it interrupted can no longer be
/// authenticated. Every later read fails; start the download again.
///
/// ```
/// use std::io::{Read, Write};
/// use sesame_core::crypto::{FileDecryptor, FileEncryptor, FileKey};
/// use sesame_core::{id::Id, Error, ErrorCode};
///
/// let (key, file) = (FileKey::generate(), Id::generate());
/// let mut encryptor = FileEncryptor::new(Vec::new(), &key, &file)?;
/// encryptor.write_all(b"secret")?;
/// let mut ciphertext = encryptor.finish()?;
/// ciphertext.pop(); // truncate
///
/// let err = FileDecryptor::new(ciphertext.as_slice(), &key, &file)?
///     .read_to_end(&mut Vec::new())
///     .unwrap_err();
/// let inner = err.into_inner().unwrap().downcast::<Error>().unwrap();
/// assert_eq!(inner.code(), ErrorCode::Integrity);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FileDecryptor<R: Read> {
    inner: R,
    stream: StreamBE32<Aes256Gcm>,
    aad: Vec<u8>,
    file: Id,
    chunk_size: usize,
    /// The current chunk: ciphertext while reading, plaintext once authenticated.
    buffer: Zeroizing<Vec<u8>>,
    /// How much of `buffer`'s plaintext has been returned.
    offset: usize,
    /// One byte read past the current chunk, proving it is not the last.
    lookahead: Option<u8>,
    position: u32,
    state: ReadState,
}

impl<R: Read> FileDecryptor<R> {
    /// Reads and checks the header of the encrypted stream of `file`.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidData`] when the header is truncated, not a Sesame file
    /// stream, of an unknown version or declares an out-of-range chunk size; any error
    /// from `inner`.
    pub fn new(mut inner: R, key: &FileKey, file: &Id) -> io::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        let read = read_up_to(&mut inner, &mut header)?;
        if read < HEADER_LEN {
            return Err(integrity(format!(
                "file {file} is truncated: the stream is {read} bytes, shorter than its \
                 {HEADER_LEN}-byte header"
            )));
        }
        if &header[..4] != MAGIC {
            return Err(integrity(format!(
                "file {file} is not a Sesame encrypted file (its first bytes are not \"SESF\")"
            )));
        }
        if header[4] != FORMAT_VERSION {
            return Err(integrity(format!(
                "file {file} has stream format version {}, this client reads version \
                 {FORMAT_VERSION}; upgrade the client if the file is newer",
                header[4]
            )));
        }
        let chunk_size = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
        if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
            return Err(integrity(format!(
                "file {file} declares a chunk size of {chunk_size} bytes, outside 1..={MAX_CHUNK_SIZE}"
            )));
        }
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        nonce_prefix.copy_from_slice(&header[9..]);
        let chunk_size = chunk_size as usize;
        Ok(Self {
            inner,
            stream: stream_for(key, &nonce_prefix),
            aad: chunk_aad(file, &header),
            file: *file,
            chunk_size,
            buffer: Zeroizing::new(Vec::with_capacity(chunk_size + TAG_LEN + 1)),
            offset: 0,
            lookahead: None,
            position: 0,
            state: ReadState::Reading,
        })
    }

    /// Reads, authenticates and decrypts the next chunk into `buffer`.
    fn next_chunk(&mut self) -> io::Result<()> {
        let segment = self.chunk_size + TAG_LEN;
        self.buffer.clear();
        self.offset = 0;
        self.buffer.extend(self.lookahead.take());
        // Read one byte past a full chunk: only the end of the input marks the last chunk.
        let start = self.buffer.len();
        self.buffer.resize(segment + 1, 0);
        let read = match read_up_to(&mut self.inner, &mut self.buffer[start..]) {
            Ok(read) => read,
            Err(e) => {
                // The buffer now holds unauthenticated bytes: wipe it and end the stream, so
                // a caller that retries can never read them as plaintext. A decryptor needs a
                // blocking reader; after an I/O error, start again from the beginning.
                let file = self.file;
                let _ = self.fail(format!(
                    "file {file}: reading the stream failed ({}); start the download again",
                    e.kind()
                ));
                return Err(e);
            }
        };
        self.buffer.truncate(start + read);
        let last = self.buffer.len() <= segment;
        if !last {
            self.lookahead = self.buffer.pop();
        }
        let n = self.position;
        let file = self.file;
        if self.buffer.len() < TAG_LEN {
            return Err(self.fail(if n == 0 && self.buffer.is_empty() {
                format!("file {file} is truncated: the stream ends right after its header")
            } else {
                format!("file {file} is truncated: the stream ends inside chunk {n}")
            }));
        }
        if self
            .stream
            .decrypt_in_place(n, last, &self.aad, &mut *self.buffer)
            .is_ok()
        {
            if last {
                self.state = ReadState::Done;
            } else if n == u32::MAX {
                return Err(self.fail(format!(
                    "file {file} has more than 2^32 chunks, which no Sesame encryptor writes"
                )));
            } else {
                self.position = n + 1;
            }
            return Ok(());
        }
        // Authentication failed. Trying the opposite last-chunk flag (the buffer is left
        // intact by a failed decryption) tells truncation and trailing data apart from
        // other damage, so the message can say what happened.
        let other_flag_ok = self
            .stream
            .decrypt_in_place(n, !last, &self.aad, &mut *self.buffer)
            .is_ok();
        self.buffer.zeroize();
        let message = match (last, other_flag_ok) {
            (true, true) => format!(
                "file {file} is truncated: the stream ends after chunk {n}, which is not the \
                 final chunk"
            ),
            (false, true) => format!(
                "file {file} has data after its final chunk {n}: bytes were appended to the stream"
            ),
            (true, false) => format!(
                "file {file}: the final chunk {n} failed authentication: the stream was \
                 truncated, altered or had data appended, or it belongs to another file or key"
            ),
            (false, false) => format!(
                "file {file}: chunk {n} failed authentication: chunks were altered, dropped, \
                 reordered or spliced in from another file, or the key or file id is wrong"
            ),
        };
        Err(self.fail(message))
    }

    fn fail(&mut self, message: String) -> io::Error {
        self.buffer.zeroize();
        self.offset = 0;
        self.state = ReadState::Failed(message.clone());
        integrity(message)
    }
}

impl<R: Read> Read for FileDecryptor<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.offset < self.buffer.len() {
                let n = (self.buffer.len() - self.offset).min(out.len());
                out[..n].copy_from_slice(&self.buffer[self.offset..self.offset + n]);
                self.offset += n;
                return Ok(n);
            }
            match &self.state {
                ReadState::Done => return Ok(0),
                ReadState::Failed(message) => return Err(integrity(message.clone())),
                ReadState::Reading => self.next_chunk()?,
            }
        }
    }
}

impl<R: Read> fmt::Debug for FileDecryptor<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDecryptor")
            .field("file", &self.file)
            .field("chunk_size", &self.chunk_size)
            .field("chunks_read", &self.position)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

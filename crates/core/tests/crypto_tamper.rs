//! Tampering with any ciphertext, context or stream must fail; round trips must not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Read, Write};

use sesame_core::crypto::{
    ciphertext_len, kat, verify_signature, EnvelopeContext, FileDecryptor, FileEncryptor, FileKey,
    PrincipalKeys, VaultKey, WrappedVaultKey, DEFAULT_CHUNK_SIZE,
};
use sesame_core::id::Id;
use sesame_core::token::TokenSecret;
use sesame_core::{Error, ErrorCode};

fn ids<const N: usize>() -> [Id; N] {
    std::array::from_fn(|_| Id::generate())
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

// ---------------------------------------------------------------- principal keys

#[test]
fn derivation_is_deterministic_and_keys_differ() {
    let secret = TokenSecret::from_bytes([9; 32]);
    let (a, b) = (
        PrincipalKeys::derive(&secret),
        PrincipalKeys::derive(&secret),
    );
    assert_eq!(a.signing_public_key(), b.signing_public_key());
    assert_eq!(a.encryption_public_key(), b.encryption_public_key());
    assert_ne!(a.signing_public_key(), a.encryption_public_key());
    let other = PrincipalKeys::derive(&TokenSecret::from_bytes([8; 32]));
    assert_ne!(a.signing_public_key(), other.signing_public_key());
    assert_ne!(a.encryption_public_key(), other.encryption_public_key());
}

#[test]
fn signatures_fail_on_any_change() {
    let keys = PrincipalKeys::derive(&TokenSecret::generate());
    let public = keys.signing_public_key();
    let signature = keys.sign(b"challenge");
    verify_signature(&public, b"challenge", &signature).unwrap();
    for i in 0..signature.len() {
        let mut bad = signature;
        bad[i] ^= 0x01;
        assert!(
            verify_signature(&public, b"challenge", &bad).is_err(),
            "byte {i}"
        );
    }
    let other = PrincipalKeys::derive(&TokenSecret::generate()).signing_public_key();
    let err = verify_signature(&other, b"challenge", &signature).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthenticated);
    let err = verify_signature(&public[..31], b"challenge", &signature).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("32 bytes, got 31"), "{err}");
    let err = verify_signature(&public, b"challenge", &signature[..63]).unwrap_err();
    assert!(err.to_string().contains("64 bytes, got 63"), "{err}");
}

#[test]
fn debug_output_never_holds_private_material() {
    let secret = TokenSecret::from_bytes([0x42; 32]);
    let keys = PrincipalKeys::derive(&secret);
    let text = format!(
        "{keys:?} {secret:?} {:?} {:?}",
        VaultKey::generate(),
        FileKey::generate()
    );
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains("4242"), "{text}");
    assert!(!text.to_lowercase().contains("signingkey"), "{text}");
}

// ---------------------------------------------------------------- vault keys

#[test]
fn vault_key_unwraps_only_for_its_key_vault_and_principal() {
    let member = PrincipalKeys::derive(&TokenSecret::generate());
    let stranger = PrincipalKeys::derive(&TokenSecret::generate());
    let [vault, principal, other] = ids();
    let key = VaultKey::generate();
    let wrapped = key
        .wrap(&member.encryption_public_key(), &vault, &principal)
        .unwrap();
    let unwrapped = VaultKey::unwrap(&wrapped, &member, &vault, &principal).unwrap();
    assert_eq!(kat::vault_key_bytes(&unwrapped), kat::vault_key_bytes(&key));

    for (keys, vault_id, principal_id) in [
        (&stranger, &vault, &principal),
        (&member, &other, &principal),
        (&member, &vault, &other),
        (&member, &principal, &vault),
    ] {
        let err = VaultKey::unwrap(&wrapped, keys, vault_id, principal_id).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Integrity);
        assert!(err.to_string().contains("share the vault"), "{err}");
    }
    for i in 0..32 {
        let mut bad = wrapped.clone();
        bad.encapsulated_key[i] ^= 0x80;
        assert!(
            VaultKey::unwrap(&bad, &member, &vault, &principal).is_err(),
            "enc {i}"
        );
    }
    for i in 0..wrapped.ciphertext.len() {
        let mut bad = wrapped.clone();
        bad.ciphertext[i] ^= 0x01;
        assert!(
            VaultKey::unwrap(&bad, &member, &vault, &principal).is_err(),
            "ct {i}"
        );
    }
    let mut short = wrapped.clone();
    short.ciphertext.pop();
    let err = VaultKey::unwrap(&short, &member, &vault, &principal).unwrap_err();
    assert!(err.to_string().contains("47-byte"), "{err}");
}

#[test]
fn wrapping_twice_gives_different_ciphertexts() {
    let member = PrincipalKeys::derive(&TokenSecret::generate());
    let [vault, principal] = ids();
    let key = VaultKey::generate();
    let a = key
        .wrap(&member.encryption_public_key(), &vault, &principal)
        .unwrap();
    let b = key
        .wrap(&member.encryption_public_key(), &vault, &principal)
        .unwrap();
    assert_ne!(a, b);
}

#[test]
fn low_order_recipient_key_is_rejected() {
    let [vault, principal] = ids();
    let err = VaultKey::generate()
        .wrap(&[0u8; 32], &vault, &principal)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[test]
fn wrapped_vault_key_wire_form() {
    let wrapped = WrappedVaultKey {
        encapsulated_key: [0xfb; 32],
        ciphertext: vec![0xff; 48],
    };
    let json = serde_json::to_value(&wrapped).unwrap();
    assert_eq!(
        json["encapsulatedKey"],
        "-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s"
    );
    assert_eq!(json["ciphertext"].as_str().unwrap().len(), 64);
    assert_eq!(
        serde_json::from_value::<WrappedVaultKey>(json).unwrap(),
        wrapped
    );
    let short = serde_json::json!({"encapsulatedKey": "AAAA", "ciphertext": ""});
    let err = serde_json::from_value::<WrappedVaultKey>(short).unwrap_err();
    assert!(err.to_string().contains("must be 32 bytes"), "{err}");
    let padded = serde_json::json!({"encapsulatedKey": "AA==", "ciphertext": ""});
    assert!(serde_json::from_value::<WrappedVaultKey>(padded).is_err());
}

// ---------------------------------------------------------------- envelopes

#[test]
fn envelope_round_trip_for_every_part() {
    let key = VaultKey::generate();
    let [account, vault, item, file] = ids();
    for context in [
        EnvelopeContext::vault_attributes(account, vault, 3),
        EnvelopeContext::item_overview(account, vault, item, 3),
        EnvelopeContext::item_details(account, vault, item, 3),
        EnvelopeContext::file_key(account, vault, item, file),
    ] {
        for plaintext in [&b""[..], b"x", &pattern(10_000)] {
            let sealed = key.seal(&context, plaintext).unwrap();
            assert_eq!(sealed.len(), 1 + 12 + plaintext.len() + 16);
            assert_eq!(&key.open(&context, &sealed).unwrap()[..], plaintext);
        }
    }
}

#[test]
fn every_flipped_envelope_byte_fails() {
    let key = VaultKey::generate();
    let [account, vault, item] = ids();
    let context = EnvelopeContext::item_details(account, vault, item, 1);
    let sealed = key.seal(&context, b"password=hunter2").unwrap();
    for i in 0..sealed.len() {
        for bit in [0x01, 0x80] {
            let mut bad = sealed.clone();
            bad[i] ^= bit;
            let err = key.open(&context, &bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Integrity, "byte {i}");
            assert!(!err.to_string().contains("hunter2"));
        }
    }
    for len in 0..sealed.len() {
        assert!(
            key.open(&context, &sealed[..len]).is_err(),
            "truncated to {len}"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(key.open(&context, &longer).is_err());
    assert!(VaultKey::generate().open(&context, &sealed).is_err());
}

#[test]
fn every_swapped_context_field_fails() {
    let key = VaultKey::generate();
    let [account, vault, item, file, other] = ids();
    let sealed_details = key
        .seal(
            &EnvelopeContext::item_details(account, vault, item, 5),
            b"d",
        )
        .unwrap();
    for wrong in [
        EnvelopeContext::item_details(other, vault, item, 5),
        EnvelopeContext::item_details(account, other, item, 5),
        EnvelopeContext::item_details(account, vault, other, 5),
        EnvelopeContext::item_details(account, vault, item, 4),
        EnvelopeContext::item_details(account, vault, item, 6),
        EnvelopeContext::item_overview(account, vault, item, 5),
        EnvelopeContext::vault_attributes(account, vault, 5),
        EnvelopeContext::file_key(account, vault, item, file),
    ] {
        let err = key.open(&wrong, &sealed_details).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Integrity, "{wrong:?}");
        assert!(err.to_string().contains("failed authentication"), "{err}");
    }
    let file_context = EnvelopeContext::file_key(account, vault, item, file);
    let sealed_file_key = key.seal(&file_context, b"k").unwrap();
    for wrong in [
        EnvelopeContext::file_key(account, vault, item, other),
        EnvelopeContext::file_key(account, vault, other, file),
    ] {
        assert!(key.open(&wrong, &sealed_file_key).is_err());
    }
}

#[test]
fn envelope_errors_name_the_problem() {
    let key = VaultKey::generate();
    let [account, vault] = ids();
    let context = EnvelopeContext::vault_attributes(account, vault, 1);
    let mut sealed = key.seal(&context, b"name").unwrap();
    assert!(key
        .open(&context, &[])
        .unwrap_err()
        .to_string()
        .contains("empty"));
    sealed[0] = 2;
    let err = key.open(&context, &sealed).unwrap_err();
    assert!(err.to_string().contains("format version 2"), "{err}");
    let err = key.open(&context, &[1; 20]).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn file_keys_wrap_under_the_vault_key() {
    let vault_key = VaultKey::generate();
    let [account, vault, item, file] = ids();
    let context = EnvelopeContext::file_key(account, vault, item, file);
    let file_key = FileKey::generate();
    let sealed = file_key.wrap(&vault_key, &context).unwrap();
    let opened = FileKey::unwrap(&vault_key, &context, &sealed).unwrap();
    assert_eq!(kat::file_key_bytes(&opened), kat::file_key_bytes(&file_key));
    let details = EnvelopeContext::item_details(account, vault, item, 0);
    assert_eq!(
        file_key.wrap(&vault_key, &details).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    // An envelope of the right context but the wrong length is not a key.
    let not_a_key = vault_key.seal(&context, b"short").unwrap();
    let err = FileKey::unwrap(&vault_key, &context, &not_a_key).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity);
}

// ---------------------------------------------------------------- file streams

const SMALL: u32 = 16;
const PREFIX: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

fn encrypt_small(key: &FileKey, file: &Id, prefix: [u8; 7], plaintext: &[u8]) -> Vec<u8> {
    let mut encryptor = kat::file_encryptor(Vec::new(), key, file, SMALL, prefix).unwrap();
    encryptor.write_all(plaintext).unwrap();
    encryptor.finish().unwrap()
}

fn decrypt(key: &FileKey, file: &Id, ciphertext: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    FileDecryptor::new(ciphertext, key, file)?.read_to_end(&mut out)?;
    Ok(out)
}

fn integrity_message(result: io::Result<Vec<u8>>) -> String {
    let err = result.expect_err("tampered stream must not decrypt");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    let inner = err.into_inner().unwrap().downcast::<Error>().unwrap();
    assert_eq!(inner.code(), ErrorCode::Integrity);
    inner.to_string()
}

/// Splits a small-chunk stream into its header and chunks.
fn split(ciphertext: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (header, body) = ciphertext.split_at(16);
    let chunks = body
        .chunks(SMALL as usize + 16)
        .map(<[u8]>::to_vec)
        .collect();
    (header.to_vec(), chunks)
}

fn join(header: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header.to_vec();
    for chunk in chunks {
        out.extend_from_slice(chunk);
    }
    out
}

#[test]
fn round_trips_with_small_writes_and_reads() {
    let key = FileKey::generate();
    let [file] = ids();
    let c = SMALL as usize;
    for len in [0, 1, c - 1, c, c + 1, 2 * c, 2 * c + 1, 37 * c + 5] {
        let plaintext = pattern(len);
        for write_size in [1, 3, c, 100] {
            let mut encryptor =
                kat::file_encryptor(Vec::new(), &key, &file, SMALL, PREFIX).unwrap();
            for piece in plaintext.chunks(write_size) {
                encryptor.write_all(piece).unwrap();
            }
            encryptor.flush().unwrap();
            let ciphertext = encryptor.finish().unwrap();
            assert_eq!(
                ciphertext.len() as u64,
                kat::ciphertext_len(len as u64, SMALL),
                "len {len}"
            );
            for read_size in [1, 5, c, 1000] {
                let mut decryptor = FileDecryptor::new(ciphertext.as_slice(), &key, &file).unwrap();
                let mut out = Vec::new();
                let mut buf = vec![0u8; read_size];
                loop {
                    let n = decryptor.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                assert_eq!(
                    out, plaintext,
                    "len {len} write {write_size} read {read_size}"
                );
                // End of file is sticky.
                assert_eq!(decryptor.read(&mut buf).unwrap(), 0);
            }
        }
    }
}

#[test]
fn round_trips_at_the_default_chunk_size() {
    let key = FileKey::generate();
    let [file] = ids();
    let c = DEFAULT_CHUNK_SIZE as usize;
    for len in [0, 1, c - 1, c, c + 1, 3 * c + 17] {
        let plaintext = pattern(len);
        let mut encryptor = FileEncryptor::new(Vec::new(), &key, &file).unwrap();
        for piece in plaintext.chunks(4096 + 3) {
            encryptor.write_all(piece).unwrap();
        }
        let ciphertext = encryptor.finish().unwrap();
        assert_eq!(
            ciphertext.len() as u64,
            ciphertext_len(len as u64),
            "len {len}"
        );
        assert_eq!(
            decrypt(&key, &file, &ciphertext).unwrap(),
            plaintext,
            "len {len}"
        );
    }
}

#[test]
fn same_plaintext_encrypts_differently_each_time() {
    let key = FileKey::generate();
    let [file] = ids();
    let encrypt = || {
        let mut encryptor = FileEncryptor::new(Vec::new(), &key, &file).unwrap();
        encryptor.write_all(b"same").unwrap();
        encryptor.finish().unwrap()
    };
    assert_ne!(encrypt(), encrypt());
}

#[test]
fn dropping_the_last_chunk_is_truncation() {
    let key = FileKey::generate();
    let [file] = ids();
    let ciphertext = encrypt_small(&key, &file, PREFIX, &pattern(40));
    let (header, chunks) = split(&ciphertext);
    assert_eq!(chunks.len(), 3);
    let message = integrity_message(decrypt(&key, &file, &join(&header, &chunks[..2])));
    assert!(
        message.contains("truncated") && message.contains("not the final chunk"),
        "{message}"
    );
    // Even a stream cut exactly at a chunk boundary after a full chunk.
    let full = encrypt_small(&key, &file, PREFIX, &pattern(32));
    let (header, chunks) = split(&full);
    let message = integrity_message(decrypt(&key, &file, &join(&header, &chunks[..1])));
    assert!(message.contains("truncated"), "{message}");
    // And one cut right after the header.
    let message = integrity_message(decrypt(&key, &file, &header));
    assert!(message.contains("right after its header"), "{message}");
}

#[test]
fn dropping_a_middle_chunk_fails() {
    let key = FileKey::generate();
    let [file] = ids();
    let (header, chunks) = split(&encrypt_small(&key, &file, PREFIX, &pattern(60)));
    assert_eq!(chunks.len(), 4);
    let damaged = join(
        &header,
        &[chunks[0].clone(), chunks[2].clone(), chunks[3].clone()],
    );
    let message = integrity_message(decrypt(&key, &file, &damaged));
    assert!(
        message.contains("chunk 1 failed authentication"),
        "{message}"
    );
}

#[test]
fn swapping_or_duplicating_chunks_fails() {
    let key = FileKey::generate();
    let [file] = ids();
    let (header, chunks) = split(&encrypt_small(&key, &file, PREFIX, &pattern(60)));
    let mut swapped = chunks.clone();
    swapped.swap(0, 1);
    integrity_message(decrypt(&key, &file, &join(&header, &swapped)));
    let mut duplicated = chunks.clone();
    duplicated[1] = chunks[0].clone();
    integrity_message(decrypt(&key, &file, &join(&header, &duplicated)));
    let mut last_moved = chunks.clone();
    last_moved.swap(2, 3); // the short final chunk before a full one
    integrity_message(decrypt(&key, &file, &join(&header, &last_moved)));
}

#[test]
fn splicing_a_chunk_from_another_file_fails() {
    let key = FileKey::generate();
    let [file, other_file] = ids();
    let (header, chunks) = split(&encrypt_small(&key, &file, PREFIX, &pattern(60)));
    // Same key, different nonce prefix (what two real files under one key would have).
    let (_, foreign) = split(&encrypt_small(&key, &file, [9; 7], &pattern(60)));
    let mut spliced = chunks.clone();
    spliced[1] = foreign[1].clone();
    integrity_message(decrypt(&key, &file, &join(&header, &spliced)));
    // Same key and even the same nonce prefix, but another file id.
    let (_, foreign) = split(&encrypt_small(&key, &other_file, PREFIX, &pattern(60)));
    let mut spliced = chunks.clone();
    spliced[1] = foreign[1].clone();
    integrity_message(decrypt(&key, &file, &join(&header, &spliced)));
    // A whole stream presented as another file, or decrypted with another key.
    let ciphertext = join(&header, &chunks);
    integrity_message(decrypt(&key, &other_file, &ciphertext));
    integrity_message(decrypt(&FileKey::generate(), &file, &ciphertext));
}

#[test]
fn every_flipped_stream_byte_fails() {
    let key = FileKey::generate();
    let [file] = ids();
    let ciphertext = encrypt_small(&key, &file, PREFIX, &pattern(40));
    for i in 0..ciphertext.len() {
        let mut bad = ciphertext.clone();
        bad[i] ^= 0x01;
        let result = decrypt(&key, &file, &bad);
        assert!(result.is_err(), "flipping byte {i} went unnoticed");
        assert_eq!(
            result.unwrap_err().kind(),
            io::ErrorKind::InvalidData,
            "byte {i}"
        );
    }
}

#[test]
fn every_truncation_fails() {
    let key = FileKey::generate();
    let [file] = ids();
    let ciphertext = encrypt_small(&key, &file, PREFIX, &pattern(40));
    for len in 0..ciphertext.len() {
        let result = decrypt(&key, &file, &ciphertext[..len]);
        assert!(result.is_err(), "truncation to {len} bytes went unnoticed");
    }
}

#[test]
fn trailing_data_fails() {
    let key = FileKey::generate();
    let [file] = ids();
    for len in [0, 5, 16, 40] {
        let ciphertext = encrypt_small(&key, &file, PREFIX, &pattern(len));
        for extra in [1, 16, 17, 40] {
            let mut longer = ciphertext.clone();
            longer.extend(std::iter::repeat_n(0u8, extra));
            let message = integrity_message(decrypt(&key, &file, &longer));
            if len == 16 {
                // The real final chunk is full, so the appended bytes form a segment of their
                // own and the reader can say exactly what happened.
                assert!(
                    message.contains("after its final chunk 0"),
                    "extra {extra}: {message}"
                );
            } else {
                // Otherwise the tail merges into the final segment: still rejected.
                assert!(
                    message.contains("failed authentication"),
                    "len {len} extra {extra}: {message}"
                );
            }
        }
        // A whole second stream appended.
        let doubled = [ciphertext.clone(), ciphertext[16..].to_vec()].concat();
        integrity_message(decrypt(&key, &file, &doubled));
    }
}

#[test]
fn errors_are_sticky() {
    let key = FileKey::generate();
    let [file] = ids();
    let mut ciphertext = encrypt_small(&key, &file, PREFIX, &pattern(40));
    let last = ciphertext.len() - 1;
    ciphertext[last] ^= 1;
    let mut decryptor = FileDecryptor::new(ciphertext.as_slice(), &key, &file).unwrap();
    let mut buf = [0u8; 64];
    // The first two chunks authenticate and are returned.
    assert_eq!(decryptor.read(&mut buf).unwrap(), 16);
    assert_eq!(decryptor.read(&mut buf).unwrap(), 16);
    assert!(decryptor.read(&mut buf).is_err());
    assert!(decryptor.read(&mut buf).is_err());
}

/// Hands out its bytes, but fails once with `TimedOut` after `fail_at` bytes, as a
/// network stream whose server stalls mid-chunk would.
struct StallingReader {
    bytes: Vec<u8>,
    position: usize,
    fail_at: usize,
    failed: bool,
}

impl Read for StallingReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.failed && self.position >= self.fail_at {
            self.failed = true;
            return Err(io::Error::new(io::ErrorKind::TimedOut, "stalled"));
        }
        let end = self.bytes.len().min(self.position + out.len());
        let end = if self.failed {
            end
        } else {
            end.min(self.fail_at)
        };
        let n = end - self.position;
        out[..n].copy_from_slice(&self.bytes[self.position..end]);
        self.position = end;
        Ok(n)
    }
}

#[test]
fn an_io_error_mid_chunk_ends_the_stream_and_never_yields_unauthenticated_bytes() {
    let key = FileKey::generate();
    let [file] = ids();
    let plaintext = pattern(40);
    let ciphertext = encrypt_small(&key, &file, PREFIX, &plaintext);
    // Stall in the middle of the second chunk (16-byte header, 32-byte chunks).
    let reader = StallingReader {
        bytes: ciphertext,
        position: 0,
        fail_at: 16 + 32 + 10,
        failed: false,
    };
    let mut decryptor = FileDecryptor::new(reader, &key, &file).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(decryptor.read(&mut buf).unwrap(), 16);
    assert_eq!(&buf[..16], &plaintext[..16]);
    assert_eq!(
        decryptor.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::TimedOut
    );
    // Retrying must not hand out what was read before the stall, nor resume silently.
    for _ in 0..3 {
        let err = decryptor.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains("reading the stream failed"),
            "{err}"
        );
    }
}

#[test]
fn bad_headers_are_named() {
    let key = FileKey::generate();
    let [file] = ids();
    let ciphertext = encrypt_small(&key, &file, PREFIX, b"abc");
    let header_error = |bytes: &[u8]| {
        let err = FileDecryptor::new(bytes, &key, &file).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        err.to_string()
    };
    assert!(header_error(&ciphertext[..10]).contains("shorter than its 16-byte header"));
    let mut bad = ciphertext.clone();
    bad[0] = b'X';
    assert!(header_error(&bad).contains("not a Sesame encrypted file"));
    let mut bad = ciphertext.clone();
    bad[4] = 9;
    assert!(header_error(&bad).contains("format version 9"));
    let mut bad = ciphertext.clone();
    bad[5..9].copy_from_slice(&0u32.to_be_bytes());
    assert!(header_error(&bad).contains("chunk size of 0"));
    let mut bad = ciphertext.clone();
    bad[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(header_error(&bad).contains("chunk size of 4294967295"));
    // A changed (but in-range) chunk size is caught by the AAD.
    let mut bad = ciphertext;
    bad[5..9].copy_from_slice(&32u32.to_be_bytes());
    integrity_message(decrypt(&key, &file, &bad));
}

#[test]
fn unfinished_stream_does_not_decrypt() {
    let key = FileKey::generate();
    let [file] = ids();
    let mut sink = Vec::new();
    {
        let mut encryptor = kat::file_encryptor(&mut sink, &key, &file, SMALL, PREFIX).unwrap();
        encryptor.write_all(&pattern(50)).unwrap();
        // dropped without finish()
    }
    integrity_message(decrypt(&key, &file, &sink));
}

#[test]
fn ciphertext_len_counts_header_and_tags() {
    assert_eq!(ciphertext_len(0), 32);
    assert_eq!(ciphertext_len(1), 33);
    let c = u64::from(DEFAULT_CHUNK_SIZE);
    assert_eq!(ciphertext_len(c), 16 + c + 16);
    assert_eq!(ciphertext_len(c + 1), 16 + c + 1 + 32);
    assert_eq!(ciphertext_len(10 * c), 16 + 10 * c + 160);
    assert_eq!(ciphertext_len(u64::MAX), u64::MAX);
}

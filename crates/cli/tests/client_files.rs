//! Files and documents through `sesame-core` against the real `sesame` server binary:
//! round trips at the chunk boundaries, tampering and truncation on disk, the size limit,
//! interrupted uploads, references to files, and blobs freed on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sesame_core::crypto::DEFAULT_CHUNK_SIZE;
use sesame_core::model::{
    DocumentCreateParams, FileCreateParams, Item, ItemCategory, ItemCreateParams, ItemSection,
};
use sesame_core::ErrorCode;
use support::{Fixture, Server};

const CHUNK: usize = DEFAULT_CHUNK_SIZE as usize;

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn section() -> ItemSection {
    ItemSection {
        id: "files".into(),
        title: "Files".into(),
    }
}

fn file(name: &str, field: &str, bytes: Vec<u8>) -> FileCreateParams {
    FileCreateParams {
        name: name.into(),
        content: bytes,
        section_id: "files".into(),
        field_id: field.into(),
    }
}

async fn item_with_section(fx: &Fixture, title: &str) -> Item {
    fx.owner
        .items()
        .create(ItemCreateParams {
            sections: Some(vec![section()]),
            ..ItemCreateParams::new(ItemCategory::SecureNote, &fx.vault_id, title)
        })
        .await
        .unwrap()
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn blob_path(server: &Server, item: &Item, file_id: &str) -> PathBuf {
    server
        .data_dir
        .join("blobs")
        .join(&item.vault_id)
        .join(&item.id)
        .join(file_id)
}

#[tokio::test]
async fn files_round_trip_at_every_chunk_boundary() {
    let fx = Fixture::new().await;
    let sizes = [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17];
    // Created with the item...
    let files: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| file(&format!("f{n}.bin"), &format!("f{i}"), content(n, i as u8)))
        .collect();
    let item = fx
        .owner
        .items()
        .create(ItemCreateParams {
            sections: Some(vec![section()]),
            files: Some(files),
            ..ItemCreateParams::new(ItemCategory::SecureNote, &fx.vault_id, "Bundle")
        })
        .await
        .unwrap();
    assert_eq!(item.files.len(), sizes.len());
    let got = fx.owner.items().get(&fx.vault_id, &item.id).await.unwrap();
    assert_eq!(got.files, item.files);
    for (i, (&n, f)) in sizes.iter().zip(&got.files).enumerate() {
        assert_eq!(f.attributes.size, n as u64);
        let read = fx
            .owner
            .items()
            .files()
            .read(&fx.vault_id, &item.id, &f.attributes)
            .await
            .unwrap();
        assert_eq!(read, content(n, i as u8), "size {n}");
        // The server holds exactly the ciphertext, not the plaintext.
        let on_disk = std::fs::read(blob_path(&fx.server, &item, &f.attributes.id)).unwrap();
        assert_eq!(
            on_disk.len() as u64,
            sesame_core::crypto::ciphertext_len(n as u64)
        );
        if n >= 16 {
            let prefix = content(16, i as u8);
            assert!(!on_disk.windows(16).any(|w| w == prefix.as_slice()));
        }
    }
    // ...and attached later, by the service account that can only read: refused.
    let reader = fx.service_account().await;
    let err = reader
        .items()
        .files()
        .attach(&got, file("x", "x", vec![1]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    let read = reader
        .items()
        .files()
        .read(&fx.vault_id, &item.id, &got.files[1].attributes)
        .await
        .unwrap();
    assert_eq!(read, content(1, 1));
}

#[tokio::test]
async fn attach_delete_and_documents_free_their_blobs() {
    let fx = Fixture::new().await;
    let item = item_with_section(&fx, "Certs").await;
    let files = fx.owner.items().files();
    let item = files
        .attach(&item, file("cert.pem", "cert", b"CERT".to_vec()))
        .await
        .unwrap();
    let item = files
        .attach(&item, file("key.pem", "key", b"KEY".to_vec()))
        .await
        .unwrap();
    assert_eq!(item.version, 3);
    let cert = item.files[0].attributes.clone();
    let key = item.files[1].attributes.clone();
    // An unrelated edit keeps the files readable (their keys are carried over).
    let mut edited = item.clone();
    edited.notes = "rotated".into();
    let item = fx.owner.items().put(&edited).await.unwrap();
    assert_eq!(
        files.read(&fx.vault_id, &item.id, &cert).await.unwrap(),
        b"CERT"
    );
    // A field id in use is refused before anything is uploaded.
    let err = files
        .attach(&item, file("other", "cert", b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);

    let cert_blob = blob_path(&fx.server, &item, &cert.id);
    assert!(cert_blob.exists());
    let item = files.delete(&item, "files", "cert").await.unwrap();
    assert_eq!(item.files.len(), 1);
    assert!(!cert_blob.exists(), "a deleted file's blob stays on disk");
    let err = files.read(&fx.vault_id, &item.id, &cert).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(
        files.read(&fx.vault_id, &item.id, &key).await.unwrap(),
        b"KEY"
    );
    let err = files.delete(&item, "files", "cert").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);

    // Deleting the item frees the rest.
    let key_blob = blob_path(&fx.server, &item, &key.id);
    assert!(key_blob.exists());
    fx.owner
        .items()
        .delete(&fx.vault_id, &item.id)
        .await
        .unwrap();
    assert!(!key_blob.exists(), "a deleted item's blob stays on disk");

    // Documents: created with the item, replaced, the old content freed.
    let doc = fx
        .owner
        .items()
        .create(ItemCreateParams {
            document: Some(DocumentCreateParams {
                name: "contract.pdf".into(),
                content: content(CHUNK + 5, 9),
            }),
            ..ItemCreateParams::new(ItemCategory::Document, &fx.vault_id, "Contract")
        })
        .await
        .unwrap();
    let first = doc.document.clone().unwrap();
    assert_eq!(first.size, CHUNK as u64 + 5);
    assert_eq!(
        files.read(&fx.vault_id, &doc.id, &first).await.unwrap(),
        content(CHUNK + 5, 9)
    );
    let doc = files
        .replace_document(
            &doc,
            DocumentCreateParams {
                name: "contract-v2.pdf".into(),
                content: b"v2".to_vec(),
            },
        )
        .await
        .unwrap();
    let second = doc.document.clone().unwrap();
    assert_eq!(second.name, "contract-v2.pdf");
    assert_eq!(
        files.read(&fx.vault_id, &doc.id, &second).await.unwrap(),
        b"v2"
    );
    assert!(!blob_path(&fx.server, &doc, &first.id).exists());
    // Only Document items have a document.
    let note = item_with_section(&fx, "Note").await;
    let err = files
        .replace_document(
            &note,
            DocumentCreateParams {
                name: "a".into(),
                content: vec![],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let err = fx
        .owner
        .items()
        .create(ItemCreateParams {
            document: Some(DocumentCreateParams {
                name: "a".into(),
                content: vec![],
            }),
            ..ItemCreateParams::new(ItemCategory::Login, &fx.vault_id, "Not a document")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn tampered_or_truncated_blobs_fail_with_integrity_and_return_nothing() {
    let fx = Fixture::new().await;
    let item = item_with_section(&fx, "Secrets").await;
    let files = fx.owner.items().files();
    let original = content(2 * CHUNK + 3, 4);
    let item = files
        .attach(&item, file("data.bin", "data", original.clone()))
        .await
        .unwrap();
    let attributes = item.files[0].attributes.clone();
    let path = blob_path(&fx.server, &item, &attributes.id);
    let pristine = std::fs::read(&path).unwrap();

    // One flipped bit in the last chunk: everything before it authenticates, but the read
    // as a whole fails and returns no content.
    let mut flipped = pristine.clone();
    let last = flipped.len() - 5;
    flipped[last] ^= 0x01;
    std::fs::write(&path, &flipped).unwrap();
    let err = files
        .read(&fx.vault_id, &item.id, &attributes)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    // The streaming variant reports it too.
    let err = files
        .read_to_writer(&fx.vault_id, &item.id, &attributes, io::sink())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    // And so does a reference to the file.
    let err = fx
        .owner
        .secrets()
        .resolve_bytes("op://Infra/Secrets/data.bin")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");

    // Truncated at a chunk boundary (the last chunk dropped).
    std::fs::write(&path, &pristine[..16 + 2 * (CHUNK + 16)]).unwrap();
    let err = files
        .read(&fx.vault_id, &item.id, &attributes)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    // Another file's ciphertext in its place.
    std::fs::write(&path, &pristine[..16]).unwrap();
    let err = files
        .read(&fx.vault_id, &item.id, &attributes)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");

    std::fs::write(&path, &pristine).unwrap();
    assert_eq!(
        files
            .read(&fx.vault_id, &item.id, &attributes)
            .await
            .unwrap(),
        original
    );
}

#[tokio::test]
async fn the_size_limit_is_checked_before_uploading() {
    let dir = std::env::temp_dir().join(format!("sesame-files-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("server.toml");
    std::fs::write(&config, "max_file_bytes = 1000\n").unwrap();
    let server = Server::start_with_env(&[("SESAME_CONFIG", config.to_str().unwrap())]);
    let fx = Fixture::with_server(server).await;
    assert_eq!(fx.owner.max_file_size(), Some(1000));
    let item = item_with_section(&fx, "Limited").await;
    let files = fx.owner.items().files();
    let err = files
        .attach(&item, file("big", "big", vec![0; 1001]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("at most 1000 bytes"), "{err}");
    assert!(
        files_under(&fx.server.data_dir.join("blobs")).is_empty(),
        "nothing may be uploaded"
    );
    let err = fx
        .owner
        .items()
        .create(ItemCreateParams {
            sections: Some(vec![section()]),
            files: Some(vec![file("big", "big", vec![0; 1001])]),
            ..ItemCreateParams::new(ItemCategory::SecureNote, &fx.vault_id, "Too big")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let item = files
        .attach(&item, file("fits", "fits", vec![0; 1000]))
        .await
        .unwrap();
    assert_eq!(item.files[0].attributes.size, 1000);
    let _ = std::fs::remove_dir_all(dir);
}

/// Yields `good` bytes, then fails.
struct FailingReader {
    good: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(0xAB);
        self.good -= n;
        Ok(n)
    }
}

#[tokio::test]
async fn an_interrupted_upload_leaves_the_item_unchanged() {
    let fx = Fixture::new().await;
    let item = item_with_section(&fx, "Stable").await;
    let files = fx.owner.items().files();
    let item = files
        .attach(&item, file("kept.txt", "kept", b"kept".to_vec()))
        .await
        .unwrap();
    // The reader fails after several chunks: the body breaks off mid-stream.
    let err = files
        .attach_reader(
            &item,
            "broken.bin",
            "files",
            "broken",
            10 * CHUNK as u64,
            FailingReader { good: 4 * CHUNK },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(err.to_string().contains("disk on fire"), "{err}");
    // A reader shorter than declared is refused the same way.
    let err = files
        .attach_reader(
            &item,
            "short.bin",
            "files",
            "short",
            3 * CHUNK as u64,
            io::Cursor::new(vec![0; CHUNK]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(err.to_string().contains("declared"), "{err}");

    let now = fx.owner.items().get(&fx.vault_id, &item.id).await.unwrap();
    assert_eq!(now.version, item.version);
    assert_eq!(now.files, item.files);
    // Only the attached file is on disk: the broken uploads left nothing behind.
    let mut leftovers = files_under(&fx.server.data_dir.join("blobs"));
    for _ in 0..50 {
        if leftovers.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        leftovers = files_under(&fx.server.data_dir.join("blobs"));
    }
    assert_eq!(
        leftovers,
        vec![blob_path(&fx.server, &item, &item.files[0].attributes.id)]
    );
    assert_eq!(
        files
            .read(&fx.vault_id, &item.id, &item.files[0].attributes)
            .await
            .unwrap(),
        b"kept"
    );
}

#[tokio::test]
async fn references_name_files() {
    let fx = Fixture::new().await;
    let item = item_with_section(&fx, "TLS").await;
    let files = fx.owner.items().files();
    let item = files
        .attach(
            &item,
            file("cert.pem", "cert", b"-----BEGIN-----\n".to_vec()),
        )
        .await
        .unwrap();
    let binary = vec![0xff, 0xfe, 0x00, 0x80];
    let item = files
        .attach(&item, file("keystore.p12", "ks", binary.clone()))
        .await
        .unwrap();
    let secrets = fx.owner.secrets();
    assert_eq!(
        secrets.resolve("op://Infra/TLS/cert.pem").await.unwrap(),
        "-----BEGIN-----\n"
    );
    assert_eq!(
        secrets
            .resolve("op://Infra/TLS/Files/cert.pem?attribute=content")
            .await
            .unwrap(),
        "-----BEGIN-----\n"
    );
    assert_eq!(
        secrets
            .resolve("op://Infra/TLS/cert.pem?attribute=name")
            .await
            .unwrap(),
        "cert.pem"
    );
    assert_eq!(
        secrets
            .resolve("op://Infra/TLS/cert.pem?attribute=size")
            .await
            .unwrap(),
        "16"
    );
    assert_eq!(
        secrets
            .resolve("op://Infra/TLS/cert.pem?attribute=id")
            .await
            .unwrap(),
        item.files[0].attributes.id
    );
    assert_eq!(
        secrets
            .resolve("op://Infra/TLS/cert.pem?attribute=type")
            .await
            .unwrap(),
        "File"
    );
    // Binary content: bytes through resolve_bytes, a clear error through resolve.
    assert_eq!(
        secrets
            .resolve_bytes("op://Infra/TLS/keystore.p12")
            .await
            .unwrap(),
        binary
    );
    let err = secrets
        .resolve("op://Infra/TLS/keystore.p12")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.to_string().contains("not UTF-8") && err.to_string().contains("resolve_bytes"),
        "{err}"
    );
    // resolve_all answers file references too, each on its own.
    let all = secrets
        .resolve_all(&["op://Infra/TLS/cert.pem", "op://Infra/TLS/keystore.p12"])
        .await
        .unwrap();
    assert_eq!(
        all.get("op://Infra/TLS/cert.pem")
            .unwrap()
            .as_ref()
            .unwrap()
            .secret,
        "-----BEGIN-----\n"
    );
    assert!(all.get("op://Infra/TLS/keystore.p12").unwrap().is_err());
    // The read-only service account resolves files as well.
    let reader = fx.service_account().await;
    assert_eq!(
        reader
            .secrets()
            .resolve_bytes("op://Infra/TLS/keystore.p12")
            .await
            .unwrap(),
        binary
    );
    let err = secrets
        .resolve("op://Infra/TLS/missing.pem")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

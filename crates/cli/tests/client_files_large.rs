//! A 1 GiB file through the real server with bounded memory. Its own test binary, so that
//! the process's peak memory (VmHWM) is this test's alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{self, Read, Write};
use std::time::Instant;

use sesame_core::crypto::ciphertext_len;
use sesame_core::model::{ItemCategory, ItemCreateParams, ItemSection};
use support::Fixture;

const SIZE: u64 = 1 << 30;
const MEMORY_LIMIT: u64 = 128 * 1024 * 1024;

/// A deterministic pseudo-random byte stream (xorshift64*), generated on the fly.
struct Generator {
    state: u64,
    left: u64,
}

impl Generator {
    fn new(len: u64) -> Self {
        Self {
            state: 0x9E37_79B9_7F4A_7C15,
            left: len,
        }
    }

    fn next_word(&mut self) -> [u8; 8] {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes()
    }
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Whole words only, so that any read pattern yields the same stream.
        let n = (buf.len() as u64).min(self.left) as usize / 8 * 8;
        let n = if n == 0 {
            self.left.min(buf.len() as u64) as usize
        } else {
            n
        };
        let mut written = 0;
        while written < n {
            let word = self.next_word();
            let take = (n - written).min(8);
            buf[written..written + take].copy_from_slice(&word[..take]);
            written += take;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Checks what is written against a fresh generator, byte for byte.
struct Verifier {
    expected: Generator,
    buffer: Vec<u8>,
    count: u64,
    first_mismatch: Option<u64>,
}

impl Write for Verifier {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.resize(buf.len(), 0);
        self.expected.read_exact(&mut self.buffer)?;
        if self.first_mismatch.is_none() && self.buffer != buf {
            let at = self
                .buffer
                .iter()
                .zip(buf)
                .position(|(a, b)| a != b)
                .unwrap();
            self.first_mismatch = Some(self.count + at as u64);
        }
        self.count += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Peak resident memory of a process, from its /proc status.
fn vm_hwm(status: &str) -> u64 {
    let text = std::fs::read_to_string(status).unwrap();
    let line = text.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_file_round_trips_with_bounded_memory() {
    let fx = Fixture::new().await;
    let item = fx
        .owner
        .items()
        .create(ItemCreateParams {
            sections: Some(vec![ItemSection {
                id: "files".into(),
                title: "Files".into(),
            }]),
            ..ItemCreateParams::new(ItemCategory::SecureNote, &fx.vault_id, "Backup")
        })
        .await
        .unwrap();
    let started = Instant::now();
    let item = fx
        .owner
        .items()
        .files()
        .attach_reader(
            &item,
            "backup.bin",
            "files",
            "backup",
            SIZE,
            Generator::new(SIZE),
        )
        .await
        .unwrap();
    let upload = started.elapsed();
    let attributes = item.files[0].attributes.clone();
    assert_eq!(attributes.size, SIZE);
    let blob = fx
        .server
        .data_dir
        .join("blobs")
        .join(&item.vault_id)
        .join(&item.id)
        .join(&attributes.id);
    assert_eq!(
        std::fs::metadata(&blob).unwrap().len(),
        ciphertext_len(SIZE)
    );

    let started = Instant::now();
    let verifier = Verifier {
        expected: Generator::new(SIZE),
        buffer: Vec::new(),
        count: 0,
        first_mismatch: None,
    };
    let verifier = fx
        .owner
        .items()
        .files()
        .read_to_writer(&fx.vault_id, &item.id, &attributes, verifier)
        .await
        .unwrap();
    let download = started.elapsed();
    assert_eq!(verifier.count, SIZE);
    assert_eq!(verifier.first_mismatch, None);

    let client = vm_hwm("/proc/self/status");
    let server = vm_hwm(&format!("/proc/{}/status", fx.server.pid()));
    eprintln!(
        "1 GiB file: upload {upload:.1?}, download {download:.1?}; peak RSS client {} MiB, \
         server {} MiB",
        client >> 20,
        server >> 20
    );
    assert!(client < MEMORY_LIMIT, "client peak RSS {client} bytes");
    assert!(server < MEMORY_LIMIT, "server peak RSS {server} bytes");
    std::fs::remove_file(blob).unwrap();
}

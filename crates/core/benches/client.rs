//! The networked client against a local server (`target/debug/sesame`, built by
//! `make bench`): cold authenticate + first resolve, warm resolve, resolve_all of 1,000
//! references, item create and get. Every group has a `baseline/healthz` bench (one
//! authenticated round trip) so results read as ratios. Round-trip counts are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use secrecy::{ExposeSecret, SecretString};
use sesame_core::id::Id;
use sesame_core::model::{
    permissions, ItemCategory, ItemCreateParams, ItemField, ItemFieldType, VaultCreateParams,
};
use sesame_core::token::TOKEN_PREFIX;
use sesame_core::{Client, ClientConfig};
use tokio::runtime::Runtime;

const ITEMS: usize = 1000;

struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
    owner_token: SecretString,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server to measure against: `SESAME_BENCH_SERVER` (`make bench` passes a release
/// build), else the debug build of this checkout.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SESAME_BENCH_SERVER") {
        return Some(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    let path = target.join("debug").join("sesame");
    path.exists().then_some(path)
}

fn start(bin: &PathBuf) -> Server {
    let dir = std::env::temp_dir().join(format!("sesame-bench-{}", Id::generate()));
    // Private, as the server requires of its data directory.
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&dir)
        .unwrap();
    let status = Command::new(bin)
        .args(["server", "init", "--data-dir"])
        .arg(&dir)
        .args(["--url", "http://127.0.0.1:1"])
        // `init` also saves the owner credential under the config directory: keep it here.
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let credential = std::fs::read_to_string(dir.join("owner.credential")).unwrap();
    let owner_token = credential
        .split_whitespace()
        .find(|w| w.starts_with(TOKEN_PREFIX))
        .unwrap()
        .to_owned();
    let mut child = Command::new(bin)
        .args(["server", "start", "--data-dir"])
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("SESAME_RATE_LIMIT_READS", "100000000")
        .env("SESAME_RATE_LIMIT_WRITES", "100000000")
        .env("SESAME_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    Server {
        child,
        url,
        dir,
        owner_token: SecretString::from(owner_token),
    }
}

fn config(server: &Server, cache_ttl: Option<Duration>) -> ClientConfig {
    ClientConfig {
        server_url: Some(server.url.clone()),
        cache_ttl,
        ..ClientConfig::new("sesame-bench", "1.0.0")
    }
}

fn login(vault: &str, title: String, password: String) -> ItemCreateParams {
    ItemCreateParams {
        fields: Some(vec![ItemField::new(
            "password",
            "password",
            ItemFieldType::Concealed,
            password,
        )]),
        ..ItemCreateParams::new(ItemCategory::Login, vault, title)
    }
}

fn bench(c: &mut Criterion) {
    let Some(bin) = binary() else {
        eprintln!(
            "client bench skipped: target/debug/sesame is missing and SESAME_BENCH_SERVER is \
             unset; `make bench` builds a release server and sets it"
        );
        return;
    };
    eprintln!("client bench: server {}", bin.display());
    let rt = Runtime::new().unwrap();
    let server = start(&bin);
    let owner = rt
        .block_on(Client::authenticate(
            server.owner_token.expose_secret(),
            config(&server, None),
        ))
        .unwrap();
    let vault = rt
        .block_on(owner.vaults().create(VaultCreateParams::new("Bench")))
        .unwrap();
    for batch in 0..ITEMS / 50 {
        let params = (0..50)
            .map(|i| {
                login(
                    &vault.id,
                    format!("svc-{batch}-{i}"),
                    format!("pw-{batch}-{i}"),
                )
            })
            .collect();
        let done = rt
            .block_on(owner.items().create_all(&vault.id, params))
            .unwrap();
        assert!(done.individual_responses.iter().all(Result::is_ok));
    }
    let (_, sa_token) = rt
        .block_on(owner.service_accounts().create(
            "bench",
            &[(
                &vault.id,
                permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
            )],
            None,
        ))
        .unwrap();
    let reference = "op://Bench/svc-7-7/password";
    let refs: Vec<String> = (0..ITEMS)
        .map(|n| format!("op://Bench/svc-{}-{}/password", n / 50, n % 50))
        .collect();

    // Round trips, measured once.
    let cold = rt
        .block_on(Client::authenticate(
            sa_token.expose_secret(),
            config(&server, None),
        ))
        .unwrap();
    rt.block_on(cold.secrets().resolve(reference)).unwrap();
    let cold_trips = cold.round_trips();
    let before = cold.round_trips();
    rt.block_on(cold.secrets().resolve(reference)).unwrap();
    let warm_trips = cold.round_trips() - before;
    let before = cold.round_trips();
    let all = rt.block_on(cold.secrets().resolve_all(&refs)).unwrap();
    assert!(all.individual_responses.values().all(Result::is_ok));
    let all_trips = cold.round_trips() - before;
    eprintln!(
        "round trips: cold authenticate + first resolve = {cold_trips}, warm resolve = \
         {warm_trips}, warm resolve_all of {ITEMS} = {all_trips}, warm resolve with a fresh \
         cache_ttl = 0"
    );

    let sa = cold;
    let ttl = rt
        .block_on(Client::authenticate(
            sa_token.expose_secret(),
            config(&server, Some(Duration::from_secs(3600))),
        ))
        .unwrap();
    rt.block_on(ttl.secrets().resolve(reference)).unwrap();

    let mut group = c.benchmark_group("client_authenticate");
    group.sample_size(20);
    group.bench_function("baseline/healthz", |b| {
        b.iter(|| rt.block_on(sa.ping()).unwrap())
    });
    group.bench_function("cold/authenticate_and_first_resolve", |b| {
        b.iter(|| {
            rt.block_on(async {
                let client = Client::authenticate(sa_token.expose_secret(), config(&server, None))
                    .await
                    .unwrap();
                client.secrets().resolve(reference).await.unwrap()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("client_resolve");
    group.bench_function("baseline/healthz", |b| {
        b.iter(|| rt.block_on(sa.ping()).unwrap())
    });
    group.bench_function("warm/resolve", |b| {
        b.iter(|| rt.block_on(sa.secrets().resolve(reference)).unwrap())
    });
    group.bench_function("warm_cache_ttl/resolve", |b| {
        b.iter(|| rt.block_on(ttl.secrets().resolve(reference)).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("client_resolve_all");
    group.sample_size(10);
    group.bench_function("baseline/healthz", |b| {
        b.iter(|| rt.block_on(sa.ping()).unwrap())
    });
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.bench_function("warm/resolve_all_1000", |b| {
        b.iter(|| rt.block_on(sa.secrets().resolve_all(&refs)).unwrap())
    });
    group.finish();

    let item_id = rt
        .block_on(owner.items().list(&vault.id, &Default::default()))
        .unwrap()[0]
        .id
        .clone();
    let mut group = c.benchmark_group("client_items");
    group.throughput(Throughput::Elements(1));
    group.bench_function("baseline/healthz", |b| {
        b.iter(|| rt.block_on(owner.ping()).unwrap())
    });
    group.bench_function("create", |b| {
        b.iter(|| {
            rt.block_on(
                owner
                    .items()
                    .create(login(&vault.id, "bench-new".into(), "x".into())),
            )
            .unwrap()
        })
    });
    group.bench_function("get", |b| {
        b.iter(|| rt.block_on(owner.items().get(&vault.id, &item_id)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

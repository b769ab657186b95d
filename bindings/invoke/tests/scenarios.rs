//! Runs every shared scenario (`tests/scenarios/*.json`, format in its README) through
//! [`sesame_invoke::invoke`] against a real `sesame server` on a fresh SQLite data
//! directory: the Rust half of what keeps the four languages' APIs identical. The Python,
//! JavaScript and Go suites run the same files through their bindings.
//!
//! Also checks that every call of the table is exercised by some scenario.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use sesame_core::Client;

/// The workspace's `tests/scenarios`.
fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario files found");
    files
}

/// The `sesame` binary cargo built beside this test (`target/<profile>/sesame`).
fn sesame_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("SESAME_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("sesame");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p sesame-cli` (or set SESAME_BIN)",
        bin.display()
    );
    bin
}

/// A real server on a fresh data directory; killed and removed on drop.
struct Server {
    child: Child,
    url: String,
    data_dir: PathBuf,
    owner_token: String,
}

impl Server {
    fn start() -> Self {
        let bin = sesame_bin();
        let data_dir = std::env::temp_dir().join(format!(
            "sesame-scenarios-{}",
            sesame_core::id::Id::generate()
        ));
        std::fs::create_dir_all(&data_dir).unwrap();
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let status = Command::new(&bin)
            .args(["server", "init", "--data-dir"])
            .arg(&data_dir)
            .args(["--url", "http://127.0.0.1:1"])
            // init never overwrites a saved credential; keep it out of the real one.
            .env("XDG_CONFIG_HOME", data_dir.join("config"))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "sesame server init failed");
        let credential = std::fs::read_to_string(data_dir.join("owner.credential")).unwrap();
        let owner_token = credential
            .split_whitespace()
            .find(|w| w.starts_with(sesame_core::token::TOKEN_PREFIX))
            .unwrap()
            .to_owned();
        let mut child = Command::new(&bin)
            .args(["server", "start", "--data-dir"])
            .arg(&data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_owned();
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Self {
            child,
            url,
            data_dir,
            owner_token,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// One scenario's state: its clients, tokens and saved values.
struct Run<'a> {
    server: &'a Server,
    clients: HashMap<String, Client>,
    tokens: HashMap<String, String>,
    vars: HashMap<String, Value>,
}

impl<'a> Run<'a> {
    async fn new(server: &'a Server, unique: &str) -> Self {
        let mut run = Self {
            server,
            clients: HashMap::new(),
            tokens: HashMap::new(),
            vars: HashMap::from([
                ("unique".to_owned(), json!(unique)),
                ("serverUrl".to_owned(), json!(server.url)),
            ]),
        };
        run.connect("owner", &server.owner_token.clone())
            .await
            .unwrap_or_else(|e| panic!("the owner could not authenticate: {e}"));
        run
    }

    async fn connect(&mut self, name: &str, token: &str) -> Result<(), Value> {
        let options = json!({
            "auth": token,
            "integrationName": "sesame-scenarios",
            "integrationVersion": "1.0.0",
            "serverUrl": self.server.url,
            "timeoutSeconds": 15,
        });
        match sesame_invoke::authenticate(options.to_string().as_bytes()).await {
            Ok(client) => {
                self.clients.insert(name.to_owned(), client);
                self.tokens.insert(name.to_owned(), token.to_owned());
                Ok(())
            }
            Err(reply) => {
                let envelope: Value = serde_json::from_slice(&reply.json).unwrap();
                Err(envelope["error"].clone())
            }
        }
    }

    /// `${name}` replaced by saved values: a string that is exactly `${name}` becomes the
    /// value itself (any JSON), otherwise the value's text is spliced in.
    fn substitute(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => {
                if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    if !name.contains("${") {
                        return self.var(name).clone();
                    }
                }
                let mut out = String::new();
                let mut rest = s.as_str();
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    let end = rest[start..].find('}').expect("unclosed ${") + start;
                    match self.var(&rest[start + 2..end]) {
                        Value::String(text) => out.push_str(text),
                        other => out.push_str(&other.to_string()),
                    }
                    rest = &rest[end + 1..];
                }
                out.push_str(rest);
                Value::String(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let key = self.substitute(&Value::String(k.clone()));
                        (key.as_str().unwrap_or(k).to_owned(), self.substitute(v))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn var(&self, name: &str) -> &Value {
        let (head, pointer) = match name.find('/') {
            Some(i) => (&name[..i], &name[i..]),
            None => (name, ""),
        };
        let value = self.vars.get(head).unwrap_or_else(|| {
            panic!(
                "${{{name}}} is not defined (saved values: {:?})",
                self.vars.keys()
            )
        });
        value
            .pointer(pointer)
            .unwrap_or_else(|| panic!("${{{name}}}: {pointer} is not in the saved value"))
    }

    fn save(&mut self, step: &Value, result: &Value) -> Result<(), String> {
        if let Some(saves) = step.get("save").and_then(Value::as_object) {
            for (name, pointer) in saves {
                let pointer = pointer.as_str().unwrap_or_default();
                let value = result.pointer(pointer).ok_or_else(|| {
                    format!("save {name}: {pointer:?} is not in the result {result}")
                })?;
                self.vars.insert(name.clone(), value.clone());
            }
        }
        Ok(())
    }

    async fn step(&mut self, step: &Value) -> Result<(), String> {
        // A misspelt key would make a step assert nothing: refuse it.
        const KEYS: &[&str] = &[
            "call",
            "parameters",
            "as",
            "offline",
            "bytes",
            "bytesBase64",
            "expect",
            "expectBytes",
            "expectBytesBase64",
            "save",
            "client",
            "token",
            "cli",
        ];
        if let Some(unknown) = step
            .as_object()
            .and_then(|o| o.keys().find(|k| !KEYS.contains(&k.as_str())))
        {
            return Err(format!(
                "unknown step key {unknown:?} (the keys are {KEYS:?})"
            ));
        }
        if step.get("cli").is_some() && step.get("expect").is_some() {
            return Err("a cli step cannot have \"expect\": it must succeed".to_owned());
        }
        let expect = step.get("expect").map(|e| self.substitute(e));
        if let Some(name) = step.get("client").and_then(Value::as_str) {
            let token = self.substitute(&step["token"]);
            let outcome = self.connect(name, token.as_str().unwrap_or_default()).await;
            return check_outcome(outcome.map(|()| Value::Null), expect.as_ref());
        }
        if let Some(args) = step.get("cli") {
            let output = self.cli(step, &self.substitute(args))?;
            return self.save(step, &output);
        }
        let call = step["call"]
            .as_str()
            .ok_or("a step needs \"call\", \"cli\" or \"client\"")?;
        let who = step.get("as").and_then(Value::as_str).unwrap_or("owner");
        let request = json!({"name": call, "parameters": self.substitute(step.get("parameters").unwrap_or(&json!({})))});
        let bytes = match (step.get("bytes"), step.get("bytesBase64")) {
            (Some(text), None) => Some(
                self.substitute(text)
                    .as_str()
                    .ok_or("bytes is a string")?
                    .as_bytes()
                    .to_vec(),
            ),
            (None, Some(encoded)) => Some(base64(encoded)?),
            (None, None) => None,
            _ => return Err("a step has bytes or bytesBase64, not both".to_owned()),
        };
        let client = if step.get("offline").and_then(Value::as_bool) == Some(true) {
            None
        } else {
            Some(
                self.clients
                    .get(who)
                    .ok_or_else(|| format!("no client named {who:?}"))?,
            )
        };
        let reply = sesame_invoke::invoke(client, request.to_string().as_bytes(), bytes).await;
        let envelope: Value =
            serde_json::from_slice(&reply.json).map_err(|e| format!("reply is not JSON: {e}"))?;
        let outcome = match (envelope.get("ok"), envelope.get("error")) {
            (Some(ok), None) => Ok(ok.clone()),
            (None, Some(error)) => Err(error.clone()),
            _ => return Err(format!("reply is neither ok nor error: {envelope}")),
        };
        let expected_bytes = match (step.get("expectBytes"), step.get("expectBytesBase64")) {
            (Some(text), None) => Some(
                self.substitute(text)
                    .as_str()
                    .ok_or("expectBytes is a string")?
                    .as_bytes()
                    .to_vec(),
            ),
            (None, Some(encoded)) => Some(base64(encoded)?),
            (None, None) => None,
            _ => return Err("a step has expectBytes or expectBytesBase64, not both".to_owned()),
        };
        if let Some(expected) = expected_bytes {
            if reply.bytes.as_deref() != Some(expected.as_slice()) {
                return Err(format!(
                    "{call}: expected bytes {:?}, got {:?}",
                    String::from_utf8_lossy(&expected),
                    reply.bytes.as_deref().map(String::from_utf8_lossy)
                ));
            }
        }
        if let Ok(ok) = &outcome {
            self.save(step, ok).map_err(|e| format!("{call}: {e}"))?;
        }
        check_outcome(outcome, expect.as_ref()).map_err(|e| format!("{call}: {e}"))
    }

    /// Runs the `sesame` command line as a principal (default the owner); its stdout is
    /// JSON.
    fn cli(&self, step: &Value, args: &Value) -> Result<Value, String> {
        let who = step.get("as").and_then(Value::as_str).unwrap_or("owner");
        let token = self
            .tokens
            .get(who)
            .ok_or_else(|| format!("no token for {who:?}"))?;
        let args: Vec<String> = args
            .as_array()
            .ok_or("cli is a list of arguments")?
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| a.to_string())
            })
            .collect();
        let output = Command::new(sesame_bin())
            .args(&args)
            .env("SESAME_URL", &self.server.url)
            .env("SESAME_SERVICE_ACCOUNT_TOKEN", token)
            .env("XDG_CONFIG_HOME", self.server.data_dir.join("config"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run sesame: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "sesame {} failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("sesame {}: stdout is not JSON: {e}", args.join(" ")))
    }
}

/// Standard base64 (`bytesBase64`, `expectBytesBase64`).
fn base64(value: &Value) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let text = value.as_str().ok_or("base64 bytes are a string")?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("{text:?} is not standard base64: {e}"))
}

/// Compares a call's outcome with `{"ok": …}` / `{"error": …}` (no expectation: any
/// success).
fn check_outcome(outcome: Result<Value, Value>, expect: Option<&Value>) -> Result<(), String> {
    match (outcome, expect) {
        (Ok(_), None) => Ok(()),
        (Err(error), None) => Err(format!("expected success, got error {error}")),
        (outcome, Some(expect)) => {
            let (kind, value) = match &outcome {
                Ok(ok) => ("ok", ok),
                Err(error) => ("error", error),
            };
            let expected = expect
                .get(kind)
                .ok_or_else(|| format!("expected {expect}, got {kind} {value}"))?;
            matches(expected, value, kind)
        }
    }
}

/// Whether `actual` has the shape `expected` describes (see the scenario README):
/// objects match the keys they name, arrays element by element, `{"$…": …}` are matchers.
fn matches(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    let fail = |what: String| Err(format!("at {path}: {what}"));
    if let Some(map) = expected.as_object() {
        if let Some((op, arg)) = map
            .iter()
            .next()
            .filter(|(k, _)| k.starts_with('$') && map.len() == 1)
        {
            return match op.as_str() {
                "$any" => Ok(()),
                "$type" => {
                    let kind = match actual {
                        Value::Null => "null",
                        Value::Bool(_) => "boolean",
                        Value::Number(_) => "number",
                        Value::String(_) => "string",
                        Value::Array(_) => "array",
                        Value::Object(_) => "object",
                    };
                    if Some(kind) == arg.as_str() {
                        Ok(())
                    } else {
                        fail(format!("expected a {arg}, got {actual}"))
                    }
                }
                "$length" => {
                    let len = match actual {
                        Value::Array(a) => a.len(),
                        Value::String(s) => s.chars().count(),
                        Value::Object(o) => o.len(),
                        _ => {
                            return fail(format!("expected something with a length, got {actual}"))
                        }
                    };
                    if Some(len as u64) == arg.as_u64() {
                        Ok(())
                    } else {
                        fail(format!("expected length {arg}, got {len}: {actual}"))
                    }
                }
                "$contains" => match (actual, arg) {
                    (Value::String(s), Value::String(sub)) if s.contains(sub.as_str()) => Ok(()),
                    (Value::Array(items), _)
                        if items.iter().any(|i| matches(arg, i, path).is_ok()) =>
                    {
                        Ok(())
                    }
                    _ => fail(format!("expected {actual} to contain {arg}")),
                },
                "$unordered" => {
                    let (Some(want), Some(got)) = (arg.as_array(), actual.as_array()) else {
                        return fail(format!("expected an array, got {actual}"));
                    };
                    if want.len() != got.len() {
                        return fail(format!(
                            "expected {} elements, got {}: {actual}",
                            want.len(),
                            got.len()
                        ));
                    }
                    let mut used = HashSet::new();
                    for w in want {
                        let found = (0..got.len())
                            .find(|i| !used.contains(i) && matches(w, &got[*i], path).is_ok());
                        match found {
                            Some(i) => {
                                used.insert(i);
                            }
                            None => return fail(format!("no element matches {w} in {actual}")),
                        }
                    }
                    Ok(())
                }
                "$absent" => {
                    if actual.is_null() {
                        Ok(())
                    } else {
                        fail(format!("expected nothing, got {actual}"))
                    }
                }
                "$not" => {
                    if matches(arg, actual, path).is_err() {
                        Ok(())
                    } else {
                        fail(format!("expected anything but {arg}, got {actual}"))
                    }
                }
                other => fail(format!("unknown matcher {other}")),
            };
        }
        let Some(object) = actual.as_object() else {
            return fail(format!("expected an object, got {actual}"));
        };
        for (key, want) in map {
            let got = object.get(key).unwrap_or(&Value::Null);
            if !object.contains_key(key) && want.get("$absent").is_none() && !want.is_null() {
                return fail(format!("missing key {key:?} in {actual}"));
            }
            matches(want, got, &format!("{path}.{key}"))?;
        }
        return Ok(());
    }
    if let Some(want) = expected.as_array() {
        let Some(got) = actual.as_array() else {
            return fail(format!("expected an array, got {actual}"));
        };
        if want.len() != got.len() {
            return fail(format!(
                "expected {} elements, got {}: {actual}",
                want.len(),
                got.len()
            ));
        }
        for (i, (w, g)) in want.iter().zip(got).enumerate() {
            matches(w, g, &format!("{path}[{i}]"))?;
        }
        return Ok(());
    }
    let equal = match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == actual,
    };
    if equal {
        Ok(())
    } else {
        fail(format!("expected {expected}, got {actual}"))
    }
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

#[test]
fn every_scenario_passes_against_a_real_server() {
    let runtime = sesame_invoke::runtime().unwrap();
    let server = Server::start();
    let mut failures = Vec::new();
    let files = scenario_files();
    for (index, path) in files.iter().enumerate() {
        let scenario = load(path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let unique = format!(
            "s{index}{}",
            &sesame_core::id::Id::generate().to_string()[..6]
        );
        let result = runtime.block_on(async {
            let mut run = Run::new(&server, &unique).await;
            for (i, step) in scenario["steps"]
                .as_array()
                .expect("steps")
                .iter()
                .enumerate()
            {
                run.step(step)
                    .await
                    .map_err(|e| format!("step {}: {e}", i + 1))?;
            }
            Ok::<(), String>(())
        });
        match result {
            Ok(()) => println!("scenario {name}: ok"),
            Err(e) => {
                println!("scenario {name}: FAILED {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_call_is_exercised_by_a_scenario() {
    let mut used = HashSet::new();
    for path in scenario_files() {
        for step in load(&path)["steps"].as_array().expect("steps") {
            if let Some(call) = step.get("call").and_then(Value::as_str) {
                used.insert(call.to_owned());
            }
        }
    }
    let missing: Vec<&str> = sesame_invoke::CALLS
        .iter()
        .map(|c| c.name)
        .filter(|name| !used.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "calls no scenario exercises: {missing:?}"
    );
    let unknown: Vec<&String> = used
        .iter()
        .filter(|name| !sesame_invoke::CALLS.iter().any(|c| c.name == name.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "scenarios call names the table lacks: {unknown:?}"
    );
}

#[test]
fn the_matcher_can_fail() {
    assert!(matches(&json!({"a": 1}), &json!({"a": 2}), "$").is_err());
    assert!(matches(&json!({"a": {"$type": "string"}}), &json!({"a": 2}), "$").is_err());
    assert!(matches(&json!([1]), &json!([1, 2]), "$").is_err());
    assert!(matches(&json!({"$unordered": [1, 2]}), &json!([2, 1]), "$").is_ok());
    assert!(matches(&json!({"b": {"$absent": true}}), &json!({"a": 1}), "$").is_ok());
    assert!(matches(&json!({"b": 1}), &json!({"a": 1}), "$").is_err());
    assert!(matches(&json!({"$not": {"$contains": 1}}), &json!([2, 3]), "$").is_ok());
    assert!(matches(&json!({"$not": {"$contains": 1}}), &json!([1, 3]), "$").is_err());
    assert_eq!(base64(&json!("//4A")), Ok(vec![0xff, 0xfe, 0x00]));
}

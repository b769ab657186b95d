//! The C ABI as a C program uses it: statuses, envelopes, buffers, null pointers and
//! cancellation from another thread. (The Go suite exercises every call through it.)

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use sesame::{
    sesame_buffer_free, sesame_cancel, sesame_cancel_free, sesame_cancel_new, sesame_client_free,
    sesame_client_new, sesame_invoke, SesameBuffer, SesameClient, SESAME_CANCELLED, SESAME_OK,
};

fn empty() -> SesameBuffer {
    SesameBuffer {
        ptr: std::ptr::null_mut(),
        len: 0,
    }
}

/// Takes a buffer's bytes and frees it.
fn take(buffer: SesameBuffer) -> Vec<u8> {
    let bytes = if buffer.ptr.is_null() {
        Vec::new()
    } else {
        // SAFETY: a non-null buffer from the library holds `len` initialised bytes.
        unsafe { std::slice::from_raw_parts(buffer.ptr, buffer.len) }.to_vec()
    };
    // SAFETY: from the library, freed once.
    unsafe { sesame_buffer_free(buffer) };
    bytes
}

fn invoke_offline(request: &str) -> (i32, serde_json::Value) {
    let (mut reply, mut bytes) = (empty(), empty());
    // SAFETY: a valid request buffer, no client, no data, no cancel, valid out pointers.
    let status = unsafe {
        sesame_invoke(
            std::ptr::null(),
            request.as_ptr(),
            request.len(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            &mut reply,
            &mut bytes,
        )
    };
    assert!(take(bytes).is_empty());
    let json = serde_json::from_slice(&take(reply)).unwrap_or_default();
    (status, json)
}

#[test]
fn statuses_are_the_error_codes_numbers_and_the_reply_is_the_envelope() {
    let (status, json) = invoke_offline(
        r#"{"name": "ValidateSecretReference", "parameters": {"secret_reference": "op://v/i/f"}}"#,
    );
    assert_eq!((status, json), (SESAME_OK, serde_json::json!({"ok": null})));

    let (status, json) = invoke_offline(
        r#"{"name": "ValidateSecretReference", "parameters": {"secret_reference": "op://v"}}"#,
    );
    assert_eq!(status, 1, "invalid_reference is 1");
    assert_eq!(json["error"]["code"], "invalid_reference");

    let (status, json) = invoke_offline(r#"{"name": "NoSuchCall"}"#);
    assert_eq!(status, 3, "invalid_input is 3");
    assert_eq!(json["error"]["argument"], "name");
}

#[test]
fn null_pointers_are_invalid_input_not_crashes() {
    let mut reply = empty();
    // SAFETY: a null request with a length is exactly what is being tested; the out
    // pointer is valid.
    let status = unsafe {
        sesame_invoke(
            std::ptr::null(),
            std::ptr::null(),
            10,
            std::ptr::null(),
            0,
            std::ptr::null(),
            &mut reply,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(status, 3);
    let json: serde_json::Value = serde_json::from_slice(&take(reply)).unwrap_or_default();
    assert_eq!(json["error"]["argument"], "request");
    // Null handles are ignored.
    // SAFETY: null is documented as ignored for each of these.
    unsafe {
        sesame_client_free(std::ptr::null_mut());
        sesame_cancel(std::ptr::null());
        sesame_cancel_free(std::ptr::null_mut());
        sesame_buffer_free(empty());
    }
}

#[test]
fn a_malformed_token_is_refused_without_echoing_it() {
    let options = br#"{"auth": "sesame_sa_NOT-A-TOKEN-c0ffee", "integrationName": "abi", "integrationVersion": "1"}"#;
    let mut client: *mut SesameClient = std::ptr::null_mut();
    let mut reply = empty();
    // SAFETY: valid options buffer and out pointers, no cancel.
    let status = unsafe {
        sesame_client_new(
            options.as_ptr(),
            options.len(),
            std::ptr::null(),
            &mut client,
            &mut reply,
        )
    };
    assert_eq!(status, 2, "invalid_token is 2");
    assert!(client.is_null());
    let text = String::from_utf8(take(reply)).unwrap_or_default();
    assert!(text.contains("invalid_token"), "{text}");
    assert!(!text.contains("c0ffee"), "{text}");
}

#[test]
fn a_call_waiting_on_a_silent_server_is_cancelled_from_another_thread() {
    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("test setup");
    let address = listener.local_addr().expect("test setup");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    let token = sesame_core::token::ServiceAccountToken::generate(
        &format!("http://{address}"),
        sesame_core::id::Id::generate(),
        sesame_core::id::Id::generate(),
    )
    .expect("test setup");
    let token = secrecy::ExposeSecret::expose_secret(&token.to_secret_string()).to_owned();
    let options = serde_json::json!({
        "auth": token, "integrationName": "abi", "integrationVersion": "1",
        "timeoutSeconds": 60, "retries": 0,
    })
    .to_string();
    let cancel = sesame_cancel_new();
    let cancel_address = cancel as usize;
    let started = Instant::now();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: the signal is freed only after this thread is joined.
        unsafe { sesame_cancel(cancel_address as *const _) };
    });
    let mut client: *mut SesameClient = std::ptr::null_mut();
    let mut reply = empty();
    // SAFETY: valid options buffer, a live cancel signal and valid out pointers.
    let status = unsafe {
        sesame_client_new(
            options.as_ptr(),
            options.len(),
            cancel,
            &mut client,
            &mut reply,
        )
    };
    canceller.join().expect("the canceller panicked");
    // SAFETY: no call uses it any more.
    unsafe { sesame_cancel_free(cancel) };
    assert_eq!(status, SESAME_CANCELLED);
    assert!(client.is_null());
    assert!(take(reply).is_empty());
    // Cancelled long before the 60 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

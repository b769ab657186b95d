//! Every JSON request body the server accepts, deserialized as the server's `ApiJson`
//! extractor does (serde_json over the bytes): never panics, and a body that deserializes
//! serializes back to JSON that deserializes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sesame_core::api::{
    AccessGrantRequest, AuthRequest, ItemBatchGetRequest, ItemCreateRequest, ItemUpdateRequest,
    KeyRotationRequest, RateLimitSettings, ServiceAccountCreateRequest, ShareChallengeRequest,
    ShareCreateRequest, ShareOpenRequest, SyncRequest, VaultCreateRequest, VaultUpdateRequest,
};
use sesame_core::model::ItemShareAccountPolicy;

fn check<T: DeserializeOwned + Serialize>(body: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(body) {
        let json = serde_json::to_vec(&value).expect("a request serializes");
        serde_json::from_slice::<T>(&json).expect("a serialized request deserializes");
    }
}

// The first byte picks the request type, so one corpus covers them all.
fuzz_target!(|data: &[u8]| {
    let Some((which, body)) = data.split_first() else {
        return;
    };
    match which % 15 {
        0 => check::<AuthRequest>(body),
        1 => check::<ServiceAccountCreateRequest>(body),
        2 => check::<KeyRotationRequest>(body),
        3 => check::<RateLimitSettings>(body),
        4 => check::<ItemShareAccountPolicy>(body),
        5 => check::<ShareCreateRequest>(body),
        6 => check::<ShareChallengeRequest>(body),
        7 => check::<ShareOpenRequest>(body),
        8 => check::<SyncRequest>(body),
        9 => check::<VaultCreateRequest>(body),
        10 => check::<VaultUpdateRequest>(body),
        11 => check::<AccessGrantRequest>(body),
        12 => check::<ItemCreateRequest>(body),
        13 => check::<ItemBatchGetRequest>(body),
        _ => check::<ItemUpdateRequest>(body),
    }
});

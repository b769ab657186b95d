//! The answers of calls that report one outcome per reference or item, shaped as the
//! 1Password SDKs' `individualResponses`: each entry serializes as `{"content": …}` on
//! success or `{"error": {"code", "message", …details}}` on failure, while Rust callers
//! get a plain [`Result`] per entry.

use std::collections::HashMap;
use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::model::Item;
use crate::Result;

/// A resolved secret and where it came from, like the 1Password `ResolvedReference`.
/// `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResolvedReference {
    /// The value the reference points to.
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub secret: String,
    /// The id of the item it was read from.
    pub item_id: String,
    /// The id of that item's vault.
    pub vault_id: String,
}

impl fmt::Debug for ResolvedReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedReference")
            .field("secret", &super::Redacted(self.secret.len()))
            .field("item_id", &self.item_id)
            .field("vault_id", &self.vault_id)
            .finish()
    }
}

/// The answer to [`Secrets::resolve_all`](crate::client::Secrets::resolve_all): one
/// result per distinct reference, keyed by the reference as given.
///
/// ```
/// use sesame_core::model::{ResolveAllResponse, ResolvedReference};
/// use sesame_core::{Error, Resource};
/// let mut response = ResolveAllResponse::default();
/// response.individual_responses.insert("op://a/b/c".into(), Err(Error::not_found(Resource::Vault, "no vault \"a\"")));
/// let json = serde_json::to_value(&response).unwrap();
/// assert_eq!(json["individualResponses"]["op://a/b/c"]["error"]["code"], "not_found");
/// ```
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResolveAllResponse {
    /// The secret or the error of each reference.
    #[serde(serialize_with = "results_by_key")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "HashMap<String, super::schema::ResponseEntry<ResolvedReference>>")
    )]
    pub individual_responses: HashMap<String, Result<ResolvedReference>>,
}

impl ResolveAllResponse {
    /// The result for `reference`, if it was asked for.
    pub fn get(&self, reference: &str) -> Option<&Result<ResolvedReference>> {
        self.individual_responses.get(reference)
    }
}

/// The answer to [`Items::get_all`](crate::client::Items::get_all): one result per
/// requested id, in request order.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemsGetAllResponse {
    /// One result per requested item.
    #[serde(serialize_with = "results_in_order")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Vec<super::schema::ResponseEntry<Item>>")
    )]
    pub individual_responses: Vec<Result<Item>>,
}

/// The answer to [`Items::create_all`](crate::client::Items::create_all): one result per
/// item to create, in request order.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemsUpdateAllResponse {
    /// One result per item.
    #[serde(serialize_with = "results_in_order")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Vec<super::schema::ResponseEntry<Item>>")
    )]
    pub individual_responses: Vec<Result<Item>>,
}

/// The answer to [`Items::delete_all`](crate::client::Items::delete_all): one result per
/// requested id, keyed by the id as given.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemsDeleteAllResponse {
    /// `Ok(())` or the error of each id.
    #[serde(serialize_with = "results_by_key")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "HashMap<String, super::schema::ResponseEntry<()>>")
    )]
    pub individual_responses: HashMap<String, Result<()>>,
}

/// One entry: `{"content": value}` or `{"error": error}`.
struct Entry<'a, T>(&'a Result<T>);

impl<T: Serialize> Serialize for Entry<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self.0 {
            Ok(value) => map.serialize_entry("content", value)?,
            Err(error) => map.serialize_entry("error", error)?,
        }
        map.end()
    }
}

fn results_by_key<T: Serialize, S: Serializer>(
    results: &HashMap<String, Result<T>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    // Sorted keys: the same answer always serializes to the same bytes.
    let mut keys: Vec<&String> = results.keys().collect();
    keys.sort();
    let mut map = s.serialize_map(Some(keys.len()))?;
    for key in keys {
        map.serialize_entry(key, &Entry(&results[key]))?;
    }
    map.end()
}

fn results_in_order<T: Serialize, S: Serializer>(
    results: &[Result<T>],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(results.iter().map(Entry))
}

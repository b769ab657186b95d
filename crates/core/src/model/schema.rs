//! JSON Schemas of every type that crosses a language boundary, for the code generator
//! that writes the bindings' Python dataclasses, TypeScript types and Go structs
//! (`cargo xtask codegen`). Only with the `schema` feature.
//!
//! [`root`] is one JSON Schema (draft 2020-12) whose `$defs` hold every boundary type
//! under its Rust name ([`TYPES`] lists them; `$defs` adds the [response
//! entries](#response-entries)); a type that appears in several others (`Id`,
//! `ItemField`, `ErrorCode`, …) is defined once and referenced as `#/$defs/Name`.
//!
//! ```
//! let root = sesame_core::model::schema::root();
//! let item = &root.as_value()["$defs"]["Item"];
//! assert_eq!(item["properties"]["createdAt"]["format"], "date-time");
//! assert_eq!(item["properties"]["category"]["$ref"], "#/$defs/ItemCategory");
//! ```
//!
//! # What the schemas describe
//!
//! Every schema is what serde writes and reads, field for field: the camelCase names, the
//! `{"type", "content"}` / `{"type", "parameters"}` adjacent tags, the optional (skipped
//! when empty) fields. [`root`] describes what Sesame **writes** (the serialize contract:
//! a field serde always writes is required, even if a reader would default it), which is
//! what the bindings receive; anything a binding builds to that shape is also accepted.
//! [`root_for`]`(Contract::Deserialize)` describes what Sesame **reads** (only the
//! [`READ_TYPES`]: errors, responses and generated passwords are only written): fields
//! with a default are optional, and the catch-alls below accept anything. A type Sesame
//! only reads ([`ClientOptions`]) is in the reads schema only.
//!
//! A generator writing the types a binding *sends* (`…Params`, filters, recipes,
//! [`ClientOptions`]) may take them from the reads schema, where a field with a default
//! may be left out; what the writes schema requires is always accepted too.
//!
//! Forms that serde does not derive are described by hand:
//!
//! - timestamps (`time::serde::rfc3339`): `{"type": "string", "format": "date-time"}`;
//! - bytes (`base64_bytes`): a string with `"contentEncoding": "base64"` and a pattern
//!   admitting only canonical, padded standard base64;
//! - [`RateLimitState::reset`]: whole seconds, an integer
//!   named `resetSeconds`;
//! - [`Id`]: a string of 26 `[a-z0-9]`;
//! - [`ErrorCode`]: one of its [`as_str`](ErrorCode::as_str)
//!   strings, each with its description;
//! - [`Error`]: the envelope `{"code", "message"}` plus the optional
//!   [`ErrorDetails`] fields beside them;
//! - [`GeneratedPassword`]: `{"password", "entropyBits"}`;
//! - [`ClientOptions::auth`]: a string (read into a `SecretString`);
//! - [`ItemFieldDetails`]: see its [catch-all](#catch-alls).
//!
//! # Catch-alls
//!
//! An enum with an `Unsupported` variant reads every value it does not know as
//! `Unsupported`, and writes that variant as its own name. Its schema lists the known
//! values **and** that name (each a `const` with its description, in a `oneOf`), and
//! names the catch-all in the extension keyword `"x-unknown-as"` (e.g.
//! `"x-unknown-as": "Unsupported"`): a generator may map unknown values to it. Under the
//! deserialize contract the `oneOf` gains one more branch, any other string.
//!
//! [`ItemFieldDetails`] (`{"type", "content"}`) is written as one
//! of `Otp`, `SshKey`, `Address` or `{"type": "Unsupported"}` without content. It is read
//! by hand: any other `type` with any `content` is `Unsupported`, and the `content` of
//! `SshKey` and `Address` may be absent (read as `null`).
//!
//! # Response entries
//!
//! The `individualResponses` of [`ResolveAllResponse`] and the
//! `Items*AllResponse` types hold entries `{"content": T}` on success or
//! `{"error": Error}` on failure: an object with the two optional properties of which
//! exactly one is present. They are the `$defs` `ResolvedReferenceResponse`,
//! `ItemResponse` and `EmptyResponse` (whose `content` is `null`).
//!
//! Descriptions are the Rust doc comments without their code examples.

use std::borrow::Cow;
use std::marker::PhantomData;

/// The `schemars` these schemas are made with: its [`Schema`] is what [`root`] returns.
pub use schemars;
pub use schemars::generate::Contract;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use super::*;
use crate::error::ReferenceErrorDetails;
use crate::id::Id;
use crate::{Error, ErrorCode, ErrorDetails, Resource};

/// Declares the boundary types once: [`TYPES`], [`READ_TYPES`] and what [`root_for`]
/// generates. Types Sesame reads and writes must implement `Serialize` and
/// `DeserializeOwned`; types it only writes, `Serialize`; types it only reads,
/// `DeserializeOwned`.
macro_rules! boundary_types {
    (
        reads_and_writes: [$($both:ident),* $(,)?],
        writes_only: [$($written:ident),* $(,)?],
        reads_only: [$($read:ident),* $(,)?] $(,)?
    ) => {
        /// The Rust name of every type Sesame writes, which is its key in the `$defs` of
        /// [`root`]. `$defs` also holds the [response entries](self#response-entries).
        pub const TYPES: &[&str] = &[
            $(stringify!($both),)*
            $(stringify!($written),)*
        ];

        /// The Rust name of every type Sesame reads: the `$defs` of
        /// [`root_for`]`(Contract::Deserialize)`.
        pub const READ_TYPES: &[&str] = &[$(stringify!($both),)* $(stringify!($read),)*];

        fn add_all(generator: &mut SchemaGenerator) {
            $(add_both::<$both>(generator);)*
            if generator.contract().is_serialize() {
                $(add_written::<$written>(generator);)*
            } else {
                $(add_read::<$read>(generator);)*
            }
        }
    };
}

fn add_both<T: JsonSchema + serde::Serialize + serde::de::DeserializeOwned>(
    generator: &mut SchemaGenerator,
) {
    generator.subschema_for::<T>();
}

fn add_written<T: JsonSchema + serde::Serialize>(generator: &mut SchemaGenerator) {
    generator.subschema_for::<T>();
}

fn add_read<T: JsonSchema + serde::de::DeserializeOwned>(generator: &mut SchemaGenerator) {
    generator.subschema_for::<T>();
}

boundary_types!(
    reads_and_writes: [
        Id,
        // Items, fields, sections and files.
        ItemCategory,
        ItemFieldType,
        OtpFieldDetails,
        SshKeyAttributes,
        AddressFieldDetails,
        ItemFieldDetails,
        ItemField,
        ItemSection,
        AutofillBehavior,
        Website,
        FileAttributes,
        ItemFile,
        ItemState,
        Item,
        FileCreateParams,
        DocumentCreateParams,
        ItemCreateParams,
        ItemOverview,
        ItemListFilter,
        ItemListFilterByStateInner,
        ItemListFilters,
        // Vaults and their access.
        VaultType,
        VaultAccessorType,
        VaultAccess,
        VaultOverview,
        Vault,
        VaultCreateParams,
        VaultUpdateParams,
        VaultGetParams,
        VaultListParams,
        // Shares.
        ItemShareDuration,
        AllowedType,
        AllowedRecipientType,
        ItemShareFiles,
        ItemShareAccountPolicy,
        ValidRecipient,
        ItemShareParams,
        ItemShare,
        SharedItem,
        SharedFile,
        // Records the client cannot open.
        UnreadableKind,
        UnreadableRecord,
        // Principals and rate limits.
        PrincipalKind,
        Principal,
        ServiceAccountRights,
        RateLimitSettings,
        PrincipalRateLimit,
        RateLimitState,
        // The audit trail.
        AuditEvent,
        EventsPage,
        AuditCheckpoint,
        AuditHead,
        AuditVerification,
        // Passwords.
        PasswordRecipe,
        PasswordRecipeMemorableInner,
        PasswordRecipePinInner,
        PasswordRecipeRandomInner,
        SeparatorType,
        WordListType,
    ],
    writes_only: [
        // Errors.
        ErrorCode,
        Resource,
        ErrorDetails,
        ReferenceErrorDetails,
        Error,
        // One outcome per reference or item.
        ResolvedReference,
        ResolveAllResponse,
        ItemsGetAllResponse,
        ItemsUpdateAllResponse,
        ItemsDeleteAllResponse,
        // Passwords and one-time passwords.
        GeneratedPassword,
        TotpCode,
    ],
    reads_only: [
        // How a program asks for a client (in the reads root only, so the bindings
        // generated from `root` do not change until they take it on).
        ClientOptions,
    ],
);

/// The schema of what Sesame writes (the serialize contract): one JSON Schema whose
/// `$defs` hold every boundary type. What the code generator reads.
///
/// ```
/// let root = sesame_core::model::schema::root();
/// let defs = root.as_value()["$defs"].as_object().unwrap();
/// for name in sesame_core::model::schema::TYPES {
///     assert!(defs.contains_key(*name), "{name}");
/// }
/// ```
pub fn root() -> Schema {
    root_for(Contract::Serialize)
}

/// The schema of what Sesame writes ([`Contract::Serialize`]: every type of [`TYPES`]) or
/// reads ([`Contract::Deserialize`]: the types of [`READ_TYPES`], whose defaulted fields
/// are optional and whose catch-alls take anything).
///
/// ```
/// use sesame_core::model::schema::{root_for, Contract};
/// let reads = root_for(Contract::Deserialize);
/// let item = &reads.as_value()["$defs"]["Item"];
/// assert!(!item["required"].as_array().unwrap().contains(&"fields".into()));
/// ```
pub fn root_for(contract: Contract) -> Schema {
    let mut settings = SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(strip_code_examples as fn(&mut Schema)));
    if contract.is_deserialize() {
        settings = settings
            .for_deserialize()
            .with_transform(RecursiveTransform(open_catch_all as fn(&mut Schema)));
    } else {
        settings = settings.for_serialize();
    }
    let meta_schema = settings.meta_schema.clone();
    let mut generator = settings.into_generator();
    add_all(&mut generator);
    let definitions = generator.take_definitions(true);

    let mut root = Map::new();
    if let Some(meta_schema) = meta_schema {
        root.insert("$schema".into(), meta_schema.into());
    }
    root.insert("title".into(), "Sesame boundary types".into());
    root.insert(
        "description".into(),
        format!(
            "Every type that crosses a language boundary, as Sesame {} it (JSON, camelCase).",
            if contract.is_deserialize() {
                "reads"
            } else {
                "writes"
            }
        )
        .into(),
    );
    root.insert("$defs".into(), Value::Object(definitions));
    Schema::from(root)
}

/// Drops fenced code blocks (Rust examples) from a description.
fn strip_code_examples(schema: &mut Schema) {
    let Some(Value::String(description)) = schema.get_mut("description") else {
        return;
    };
    if !description.contains("```") {
        return;
    }
    let mut kept = String::new();
    let mut in_code = false;
    for line in description.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    *description = kept.trim().to_owned();
}

/// Under the deserialize contract, lets a [catch-all](self#catch-alls) enum take any
/// other string, as serde's `#[serde(other)]` does.
fn open_catch_all(schema: &mut Schema) {
    if schema.get("x-unknown-as").is_none() {
        return;
    }
    let Some(Value::Array(variants)) = schema.get_mut("oneOf") else {
        return;
    };
    let known: Vec<Value> = variants
        .iter()
        .filter_map(|variant| variant.get("const").cloned())
        .collect();
    variants.push(serde_json::json!({
        "type": "string",
        "not": {"enum": known},
        "description": "A value this version does not know: read as the `x-unknown-as` value."
    }));
}

/// An RFC 3339 timestamp (`time::serde::rfc3339`).
pub(crate) struct Rfc3339;

impl JsonSchema for Rfc3339 {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Rfc3339".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "format": "date-time"})
    }
}

/// Bytes as canonical, padded standard base64 (`model::base64_bytes`).
pub(crate) struct Base64Bytes;

impl JsonSchema for Base64Bytes {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Base64Bytes".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "contentEncoding": "base64",
            "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
        })
    }
}

/// What an [entry](self#response-entries) holds on success, and the entry's `$defs` name.
pub(crate) trait EntryContent: JsonSchema {
    /// The entry's name in `$defs`.
    const ENTRY_NAME: &'static str;
}

impl EntryContent for super::ResolvedReference {
    const ENTRY_NAME: &'static str = "ResolvedReferenceResponse";
}

impl EntryContent for super::Item {
    const ENTRY_NAME: &'static str = "ItemResponse";
}

impl EntryContent for () {
    const ENTRY_NAME: &'static str = "EmptyResponse";
}

/// One [entry](self#response-entries) of `individualResponses`: `{"content": T}` or
/// `{"error": Error}`.
pub(crate) struct ResponseEntry<T>(PhantomData<T>);

impl<T: EntryContent> JsonSchema for ResponseEntry<T> {
    fn schema_name() -> Cow<'static, str> {
        T::ENTRY_NAME.into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("{}::ResponseEntry<{}>", module_path!(), T::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let content = generator.subschema_for::<T>();
        let error = generator.subschema_for::<crate::Error>();
        json_schema!({
            "description": "One outcome: `content` on success or `error` on failure, never both.",
            "type": "object",
            "properties": {
                "content": content,
                "error": error,
            },
            "additionalProperties": false,
            "minProperties": 1,
            "maxProperties": 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::transform::Transform as _;

    #[test]
    fn code_examples_are_stripped() {
        let mut schema = json_schema!({"description": "Text.\n\n```\nlet x = 1;\n```\nMore."});
        RecursiveTransform(strip_code_examples).transform(&mut schema);
        assert_eq!(schema.as_value()["description"], "Text.\n\nMore.");
    }
}

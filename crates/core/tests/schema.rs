//! Keeps the JSON Schemas of `model::schema` and the serde forms from drifting apart: a
//! representative value of every boundary type is serialized with serde_json and
//! validated against its schema.
//!
//! - What serde writes must validate against [`schema::root`] (the serialize contract)
//!   made *closed*: every object that declares `properties` gets
//!   `"unevaluatedProperties": false`, so a key the schema does not name (a renamed or
//!   forgotten field) fails, not only a missing or mistyped one.
//! - For the types Sesame also reads, the same JSON must deserialize back and validate
//!   against `root_for(Contract::Deserialize)`, and hand-written inputs that serde accepts
//!   (or rejects) must be accepted (or rejected) by that schema.
//! - Every `$defs` entry of both roots must have been checked by a sample, so a new type
//!   cannot join the schema without one.
#![cfg(feature = "schema")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sesame_core::id::Id;
use sesame_core::model::schema::{self, Contract};
use sesame_core::model::*;
use sesame_core::password::generate_password;
use sesame_core::{Error, ErrorCode, Resource};
use time::OffsetDateTime;

/// Validators of `#/$defs/<name>` in one root, and the names checked so far.
struct Checker {
    root: Value,
    /// Whether objects are closed (what serde writes: no unknown keys).
    closed: bool,
    validators: RefCell<HashMap<String, jsonschema::Validator>>,
    checked: RefCell<BTreeSet<String>>,
}

impl Checker {
    fn new(contract: Contract) -> Self {
        let closed = contract.is_serialize();
        let mut root = schema::root_for(contract).to_value();
        if closed {
            close_objects(&mut root["$defs"]);
        }
        Self {
            root,
            closed,
            validators: RefCell::default(),
            checked: RefCell::default(),
        }
    }

    fn validator(&self, name: &str) -> std::cell::RefMut<'_, jsonschema::Validator> {
        let mut validators = self.validators.borrow_mut();
        if !validators.contains_key(name) {
            assert!(
                self.root["$defs"].get(name).is_some(),
                "no $defs/{name} in the {} schema",
                if self.closed { "writes" } else { "reads" }
            );
            let schema = json!({
                "$schema": self.root["$schema"],
                "$defs": self.root["$defs"],
                "$ref": format!("#/$defs/{name}"),
            });
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("$defs/{name} does not compile: {e}"));
            validators.insert(name.to_owned(), validator);
        }
        std::cell::RefMut::map(validators, |v| v.get_mut(name).unwrap())
    }

    /// Fails with every violation unless `value` is valid as `name`.
    fn accepts(&self, name: &str, value: &Value) {
        let validator = self.validator(name);
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("  at {}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} schema of {name} rejects {value}:\n{}",
            if self.closed { "writes" } else { "reads" },
            errors.join("\n")
        );
        self.checked.borrow_mut().insert(name.to_owned());
    }

    /// Fails unless `value` is invalid as `name`.
    fn rejects(&self, name: &str, value: &Value) {
        assert!(
            !self.validator(name).is_valid(value),
            "{} schema of {name} accepts {value}",
            if self.closed { "writes" } else { "reads" }
        );
    }

    fn defs(&self) -> BTreeSet<String> {
        self.root["$defs"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }
}

/// Adds `"unevaluatedProperties": false` to every object schema that names its
/// properties and does not already say what other keys may be.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("properties").is_some_and(Value::is_object)
                && !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties")
            {
                map.insert("unevaluatedProperties".into(), false.into());
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

struct Checks {
    writes: Checker,
    reads: Checker,
}

impl Checks {
    fn new() -> Self {
        Self {
            writes: Checker::new(Contract::Serialize),
            reads: Checker::new(Contract::Deserialize),
        }
    }

    /// A type Sesame only writes: its JSON validates against its writes schema.
    fn written<T: Serialize + schemars::JsonSchema>(&self, value: &T) -> Value {
        let json = serde_json::to_value(value).unwrap();
        self.writes.accepts(&T::schema_name(), &json);
        json
    }

    /// A type Sesame reads and writes: its JSON validates against both schemas and
    /// deserializes back to the same JSON.
    fn read<T: Serialize + DeserializeOwned + schemars::JsonSchema>(&self, value: &T) -> Value {
        let json = self.written(value);
        self.reads.accepts(&T::schema_name(), &json);
        let back: T = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        json
    }

    /// Hand-written JSON that serde reads as `T` validates against its reads schema.
    fn reads_ok<T: DeserializeOwned + schemars::JsonSchema>(&self, json: Value) {
        serde_json::from_value::<T>(json.clone())
            .unwrap_or_else(|e| panic!("serde rejects {json}: {e}"));
        self.reads.accepts(&T::schema_name(), &json);
    }

    /// Hand-written JSON that serde rejects as `T` does not validate either.
    fn reads_err<T: DeserializeOwned + schemars::JsonSchema>(&self, json: Value) {
        assert!(
            serde_json::from_value::<T>(json.clone()).is_err(),
            "serde accepts {json}"
        );
        self.reads.rejects(&T::schema_name(), &json);
    }
}

fn id(c: char) -> Id {
    c.to_string().repeat(26).parse().unwrap()
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

/// Every variant of a catch-all enum, `Unsupported` (read from an unknown value) last.
fn all_of<T: DeserializeOwned>(known: &[&str]) -> Vec<T> {
    known
        .iter()
        .chain(&["a value from the future"])
        .map(|name| serde_json::from_value(json!(name)).unwrap())
        .collect()
}

fn sample_item() -> Item {
    let mut otp = ItemField::new("otp", "one-time password", ItemFieldType::Totp, "JBSWY3DP");
    otp.section_id = Some("sec".into());
    otp.details = Some(ItemFieldDetails::Otp(OtpFieldDetails {
        code: Some("123456".into()),
        error_message: None,
    }));
    let mut ssh = ItemField::new("key", "private key", ItemFieldType::SshKey, "-----BEGIN");
    ssh.details = Some(ItemFieldDetails::SshKey(Some(SshKeyAttributes {
        public_key: "ssh-ed25519 AAAA".into(),
        fingerprint: "SHA256:x".into(),
        key_type: "ed25519".into(),
    })));
    let mut address = ItemField::new("addr", "address", ItemFieldType::Address, "");
    address.details = Some(ItemFieldDetails::Address(None));
    Item {
        id: "a".repeat(26),
        title: "Postgres".into(),
        category: ItemCategory::Database,
        vault_id: "b".repeat(26),
        fields: vec![
            ItemField::new("password", "password", ItemFieldType::Concealed, "hunter2"),
            otp,
            ssh,
            address,
        ],
        sections: vec![ItemSection {
            id: "sec".into(),
            title: "Security".into(),
        }],
        notes: "notes".into(),
        tags: vec!["prod".into()],
        websites: vec![Website {
            url: "https://db.example".into(),
            label: "website".into(),
            autofill_behavior: AutofillBehavior::ExactDomain,
        }],
        version: 3,
        files: vec![ItemFile {
            attributes: FileAttributes {
                name: "ca.pem".into(),
                id: "f".repeat(26),
                size: 1200,
            },
            section_id: "sec".into(),
            field_id: "ca".into(),
        }],
        document: Some(FileAttributes {
            name: "doc.pdf".into(),
            id: "d".repeat(26),
            size: 9,
        }),
        created_at: at(0),
        updated_at: at(1_795_608_000),
    }
}

/// One error of every code, with every kind of details.
fn sample_errors() -> Vec<Error> {
    let reference = sesame_core::reference::validate("op://Infra//password").unwrap_err();
    let token = sesame_core::token::ServiceAccountToken::parse("sesame_not-a-token").unwrap_err();
    vec![
        Error::from(reference),
        Error::from(token),
        Error::invalid_input("recipe.length", "must be between 8 and 100, got 3"),
        Error::not_found(Resource::SharePolicy, "no policy"),
        Error::Ambiguous {
            what: Resource::Item,
            name: "db".into(),
            candidates: vec!["a".repeat(26), "b".repeat(26)],
        },
        Error::PermissionDenied("no".into()),
        Error::Unauthenticated("revoked".into()),
        Error::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        },
        Error::RateLimited { retry_after: None },
        Error::Conflict("stale".into()),
        Error::Network("down".into()),
        Error::Server("boom".into()),
        Error::integrity("tampered"),
    ]
}

fn every_type(checks: &Checks) {
    // Ids and errors.
    checks.read(&Id::generate());
    let errors = sample_errors();
    let codes: BTreeSet<ErrorCode> = errors.iter().map(Error::code).collect();
    assert_eq!(codes.len(), ErrorCode::ALL.len(), "an error of every code");
    for code in ErrorCode::ALL {
        checks.written(code);
    }
    for resource in [Resource::Vault, Resource::SharePolicy, Resource::Endpoint] {
        checks.written(&resource);
    }
    for error in &errors {
        checks.written(error);
        let details = error.details();
        checks.written(&details);
        if let Some(reference) = details.reference {
            checks.written(&reference);
        }
    }

    // Items.
    for category in all_of::<ItemCategory>(&["Login", "SshKey", "Person"]) {
        checks.read(&category);
    }
    for field_type in all_of::<ItemFieldType>(&["Text", "Concealed", "Totp", "Date"]) {
        checks.read(&field_type);
    }
    for state in all_of::<ItemState>(&["active", "archived"]) {
        checks.read(&state);
    }
    for autofill in all_of::<AutofillBehavior>(&["AnywhereOnWebsite", "ExactDomain", "Never"]) {
        checks.read(&autofill);
    }
    let item = sample_item();
    for field in &item.fields {
        checks.read(field);
        if let Some(details) = &field.details {
            checks.read(details);
        }
    }
    for details in [
        ItemFieldDetails::Otp(OtpFieldDetails::default()),
        ItemFieldDetails::SshKey(None),
        ItemFieldDetails::Address(Some(AddressFieldDetails {
            street: "1 Main St".into(),
            city: "Springfield".into(),
            country: "US".into(),
            zip: "12345".into(),
            state: "IL".into(),
        })),
        ItemFieldDetails::Unsupported,
    ] {
        checks.read(&details);
    }
    checks.read(&OtpFieldDetails {
        code: None,
        error_message: Some("bad secret".into()),
    });
    checks.read(&AddressFieldDetails::default());
    checks.read(&SshKeyAttributes {
        public_key: "ssh-ed25519 AAAA".into(),
        fingerprint: "SHA256:x".into(),
        key_type: "ed25519".into(),
    });
    checks.read(&item.sections[0]);
    checks.read(&item.websites[0]);
    checks.read(&item.files[0]);
    checks.read(&item.files[0].attributes);
    checks.read(&item);
    checks.read(&Item {
        fields: Vec::new(),
        document: None,
        ..sample_item()
    });
    let file = FileCreateParams {
        name: "key".into(),
        content: vec![0, 255, 1, 2],
        section_id: "s".into(),
        field_id: "f".into(),
    };
    checks.read(&file);
    let document = DocumentCreateParams {
        name: "a.bin".into(),
        content: b"any bytes at all".to_vec(),
    };
    checks.read(&document);
    checks.read(&DocumentCreateParams {
        name: "empty".into(),
        content: Vec::new(),
    });
    checks.read(&ItemCreateParams::new(ItemCategory::Login, "v", "t"));
    checks.read(&ItemCreateParams {
        fields: Some(item.fields.clone()),
        sections: Some(item.sections.clone()),
        notes: Some("n".into()),
        tags: Some(vec!["a".into()]),
        websites: Some(item.websites.clone()),
        files: Some(vec![file]),
        document: Some(document),
        ..ItemCreateParams::new(ItemCategory::Document, "v", "t")
    });
    checks.read(&ItemOverview {
        id: item.id.clone(),
        title: item.title.clone(),
        category: ItemCategory::Login,
        vault_id: item.vault_id.clone(),
        websites: item.websites.clone(),
        tags: item.tags.clone(),
        created_at: at(0),
        updated_at: at(60),
        state: ItemState::Archived,
    });
    let by_state = ItemListFilterByStateInner {
        active: true,
        archived: false,
    };
    checks.read(&by_state);
    checks.read(&ItemListFilter::ByState(by_state));
    checks.read(&ItemListFilters::default());
    checks.read(&ItemListFilters {
        state: Some(ItemListFilter::ByState(by_state)),
        tag: Some("prod".into()),
        category: Some(ItemCategory::Login),
        title_contains: Some("git".into()),
    });

    // Vaults.
    for vault_type in all_of::<VaultType>(&["personal", "everyone", "transfer", "userCreated"]) {
        checks.read(&vault_type);
    }
    for accessor in all_of::<VaultAccessorType>(&["user", "group"]) {
        checks.read(&accessor);
    }
    let access = VaultAccess {
        vault_uuid: "v".repeat(26),
        accessor_type: VaultAccessorType::User,
        accessor_uuid: "p".repeat(26),
        permissions: permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
    };
    checks.read(&access);
    let overview = VaultOverview {
        id: "v".repeat(26),
        title: "Infra".into(),
        description: "CI".into(),
        vault_type: VaultType::UserCreated,
        active_item_count: 2,
        content_version: 7,
        attribute_version: 1,
        created_at: at(0),
        updated_at: at(1),
        unreadable: None,
    };
    checks.read(&overview);
    checks.read(&VaultOverview {
        unreadable: Some("not shared with you".into()),
        ..overview
    });
    let vault = Vault {
        id: "v".repeat(26),
        title: "Infra".into(),
        description: String::new(),
        vault_type: VaultType::Personal,
        active_item_count: 0,
        content_version: 0,
        attribute_version: 0,
        access: Some(vec![access]),
    };
    checks.read(&vault);
    checks.read(&Vault {
        access: None,
        ..vault
    });
    checks.read(&VaultCreateParams::new("Infra"));
    checks.read(&VaultCreateParams {
        description: Some("d".into()),
        allow_admins_access: Some(true),
        ..VaultCreateParams::new("Infra")
    });
    checks.read(&VaultUpdateParams::default());
    checks.read(&VaultUpdateParams {
        title: Some("t".into()),
        description: Some("d".into()),
    });
    checks.read(&VaultGetParams {
        accessors: Some(true),
    });
    checks.read(&VaultListParams {
        decrypt_details: Some(false),
    });

    // Shares.
    for duration in ItemShareDuration::ALL {
        checks.read(&duration);
    }
    for allowed in [AllowedType::Authenticated, AllowedType::Public] {
        checks.read(&allowed);
    }
    for recipient_type in [AllowedRecipientType::Email, AllowedRecipientType::Domain] {
        checks.read(&recipient_type);
    }
    let mut policy = ItemShareAccountPolicy::default();
    checks.read(&policy.files);
    checks.read(&policy);
    policy.max_views = Some(5);
    policy.files = ItemShareFiles {
        allowed: true,
        max_size: 1,
        allowed_types: Some(vec![AllowedType::Authenticated]),
        allowed_recipient_types: Some(vec![AllowedRecipientType::Email]),
        max_expiry: Some(ItemShareDuration::OneDay),
        default_expiry: Some(ItemShareDuration::OneHour),
        max_views: Some(1),
    };
    checks.read(&policy.files);
    checks.read(&policy);
    let recipients = vec![
        ValidRecipient::parse("Bob@Example.com").unwrap(),
        ValidRecipient::parse("example.org").unwrap(),
    ];
    for recipient in &recipients {
        checks.read(recipient);
    }
    checks.read(&ItemShareParams::default());
    checks.read(&ItemShareParams {
        recipients: Some(recipients),
        expire_after: Some(ItemShareDuration::SevenDays),
        one_time_only: true,
    });
    let share = ItemShare {
        id: id('s'),
        vault_id: id('v'),
        item_id: id('i'),
        created_by: id('p'),
        created_at: at(0),
        expires_at: at(3600),
        max_views: None,
        views: 0,
        has_files: false,
        revoked_at: None,
    };
    checks.read(&share);
    checks.read(&ItemShare {
        max_views: Some(3),
        revoked_at: Some(at(60)),
        ..share
    });
    let shared_file = SharedFile {
        name: "ca.pem".into(),
        size: 5,
        content: b"hello".to_vec(),
    };
    checks.read(&shared_file);
    checks.read(&SharedItem {
        title: "Postgres".into(),
        category: ItemCategory::Database,
        fields: item.fields.clone(),
        sections: item.sections.clone(),
        notes: String::new(),
        websites: Vec::new(),
        tags: Vec::new(),
        files: vec![shared_file],
        expires_at: at(3600),
        views_left: Some(0),
    });

    // Records the client cannot open.
    for kind in all_of::<UnreadableKind>(&["vaultKey", "vaultAttributes", "itemOverview"]) {
        checks.read(&kind);
    }
    checks.read(&UnreadableRecord {
        vault_id: "v".repeat(26),
        item_id: Some("i".repeat(26)),
        kind: UnreadableKind::ItemOverview,
        message: "does not verify".into(),
    });
    checks.read(&UnreadableRecord {
        vault_id: "v".repeat(26),
        item_id: None,
        kind: UnreadableKind::VaultKey,
        message: "does not verify".into(),
    });

    // Principals and rate limits.
    for kind in all_of::<PrincipalKind>(&["owner", "serviceAccount"]) {
        checks.read(&kind);
    }
    let principal = Principal {
        id: id('p'),
        name: "ci-deploy".into(),
        kind: PrincipalKind::ServiceAccount,
        signing_public_key: "c2lnbg".into(),
        encryption_public_key: "ZW5j".into(),
        key_generation: 1,
        created_at: at(0),
        expires_at: Some(at(86_400)),
        revoked_at: Some(at(3600)),
        certificate: Some("Y2VydA".into()),
        can_create_vaults: true,
    };
    checks.read(&principal);
    checks.read(&Principal {
        expires_at: None,
        revoked_at: None,
        certificate: None,
        ..principal
    });
    checks.read(&ServiceAccountRights {
        can_create_vaults: false,
    });
    checks.read(&RateLimitSettings::default());
    checks.read(&RateLimitSettings {
        reads: Some(100),
        writes: None,
    });
    checks.read(&PrincipalRateLimit {
        principal_id: id('p'),
        reads: None,
        writes: Some(5),
        effective_reads: 100_000,
        effective_writes: 5,
        window_seconds: 3600,
    });
    checks.read(&RateLimitState {
        limit: 100,
        remaining: 99,
        reset: Duration::from_secs(42),
    });

    // The audit trail.
    let event = AuditEvent {
        seq: 1,
        time: at(0),
        principal_id: Some(id('p')),
        action: "item.update".into(),
        vault_id: Some(id('v')),
        item_id: None,
        outcome: "ok".into(),
        integration_name: "ci".into(),
        integration_version: "1.0".into(),
        prev_hash: "0".repeat(64),
        hash: "a".repeat(64),
    };
    checks.read(&event);
    checks.read(&EventsPage {
        events: vec![event.clone()],
        next_cursor: Some(2),
    });
    checks.read(&EventsPage {
        events: Vec::new(),
        next_cursor: None,
    });
    let checkpoint = AuditCheckpoint {
        seq: 1,
        hash: "a".repeat(64),
        signature: "c2ln".into(),
    };
    checks.read(&checkpoint);
    checks.read(&AuditHead {
        seq: 1,
        hash: "a".repeat(64),
        checkpoint: Some(checkpoint.clone()),
    });
    checks.read(&AuditHead {
        seq: 0,
        hash: "0".repeat(64),
        checkpoint: None,
    });
    checks.read(&AuditVerification {
        events: 1,
        head_hash: "a".repeat(64),
        checkpoint: Some(checkpoint),
        unsigned: 0,
    });

    // One outcome per reference or item; each entry checked on its own as well.
    let resolved = ResolvedReference {
        secret: "hunter2".into(),
        item_id: "i".repeat(26),
        vault_id: "v".repeat(26),
    };
    checks.written(&resolved);
    let mut resolve_all = ResolveAllResponse::default();
    resolve_all
        .individual_responses
        .insert("op://Infra/db/password".into(), Ok(resolved));
    resolve_all.individual_responses.insert(
        "op://Nope/db/password".into(),
        Err(Error::not_found(Resource::Vault, "no vault \"Nope\"")),
    );
    let json = checks.written(&resolve_all);
    for entry in json["individualResponses"].as_object().unwrap().values() {
        checks.writes.accepts("ResolvedReferenceResponse", entry);
    }
    let get_all = ItemsGetAllResponse {
        individual_responses: vec![Ok(sample_item()), Err(Error::Server("boom".into()))],
    };
    let json = checks.written(&get_all);
    for entry in json["individualResponses"].as_array().unwrap() {
        checks.writes.accepts("ItemResponse", entry);
    }
    checks.written(&ItemsUpdateAllResponse {
        individual_responses: vec![Err(Error::Conflict("stale".into())), Ok(sample_item())],
    });
    checks.written(&ItemsUpdateAllResponse::default());
    let mut delete_all = ItemsDeleteAllResponse::default();
    delete_all
        .individual_responses
        .insert("a".repeat(26), Ok(()));
    delete_all.individual_responses.insert(
        "b".repeat(26),
        Err(Error::PermissionDenied("read only".into())),
    );
    let json = checks.written(&delete_all);
    for entry in json["individualResponses"].as_object().unwrap().values() {
        checks.writes.accepts("EmptyResponse", entry);
    }

    // Passwords.
    let recipes = [
        PasswordRecipe::Pin(PasswordRecipePinInner { length: 6 }),
        PasswordRecipe::Random(PasswordRecipeRandomInner {
            include_digits: true,
            include_symbols: true,
            length: 32,
        }),
        PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
            separator_type: SeparatorType::DigitsAndSymbols,
            capitalize: true,
            word_list_type: WordListType::Syllables,
            word_count: 4,
        }),
    ];
    for recipe in &recipes {
        checks.read(recipe);
        checks.written(&generate_password(recipe).unwrap());
        match recipe {
            PasswordRecipe::Pin(inner) => checks.read(inner),
            PasswordRecipe::Random(inner) => checks.read(inner),
            PasswordRecipe::Memorable(inner) => checks.read(inner),
        };
    }
    let totp = sesame_core::totp::Totp::parse("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    checks.written(&totp.code_at(1_111_111_109));
    for separator in [
        SeparatorType::Digits,
        SeparatorType::DigitsAndSymbols,
        SeparatorType::Spaces,
        SeparatorType::Hyphens,
        SeparatorType::Underscores,
        SeparatorType::Periods,
        SeparatorType::Commas,
    ] {
        checks.read(&separator);
    }
    // How a program asks for a client (only read).
    checks.reads_ok::<ClientOptions>(json!({
        "auth": "sesame_sa_x", "integrationName": "deploy-bot", "integrationVersion": "1.0.0"
    }));
    checks.reads_ok::<ClientOptions>(json!({
        "auth": "sesame_sa_x", "integrationName": "deploy-bot", "integrationVersion": "1.0.0",
        "serverUrl": "https://sesame.example", "timeoutSeconds": 10, "retries": 0,
        "cacheTtlSeconds": null
    }));

    for list in [
        WordListType::FullWords,
        WordListType::Syllables,
        WordListType::ThreeLetters,
    ] {
        checks.read(&list);
    }
}

#[test]
fn what_serde_writes_matches_every_schema() {
    let checks = Checks::new();
    every_type(&checks);

    let written = checks.writes.checked.borrow().clone();
    let missing: Vec<_> = checks.writes.defs().difference(&written).cloned().collect();
    assert!(missing.is_empty(), "$defs without a sample: {missing:?}");
    let read = checks.reads.checked.borrow().clone();
    let missing: Vec<_> = checks.reads.defs().difference(&read).cloned().collect();
    assert!(
        missing.is_empty(),
        "reads $defs without a sample: {missing:?}"
    );

    let types: BTreeSet<String> = schema::TYPES.iter().map(|t| t.to_string()).collect();
    let entries = ["EmptyResponse", "ItemResponse", "ResolvedReferenceResponse"];
    assert_eq!(
        checks.writes.defs(),
        types
            .iter()
            .cloned()
            .chain(entries.map(String::from))
            .collect(),
        "the writes $defs are TYPES and the response entries"
    );
    let read_types: BTreeSet<String> = schema::READ_TYPES.iter().map(|t| t.to_string()).collect();
    assert_eq!(checks.reads.defs(), read_types);
    assert!(
        checks.writes.root["$defs"].get("ClientOptions").is_none(),
        "a type Sesame only reads is in the reads root only"
    );
}

#[test]
fn both_roots_are_valid_2020_12_schemas() {
    for contract in [Contract::Serialize, Contract::Deserialize] {
        let root = schema::root_for(contract).to_value();
        assert_eq!(
            root["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        if let Err(e) = jsonschema::meta::validate(&root) {
            panic!("not a valid schema: {e}");
        }
    }
}

/// The schemas are not vacuous: JSON that serde would never write is refused.
#[test]
fn schemas_refuse_what_serde_never_writes() {
    let writes = Checker::new(Contract::Serialize);
    let item = serde_json::to_value(sample_item()).unwrap();

    writes.rejects("Id", &json!("short"));
    writes.rejects("Id", &json!("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    writes.rejects("ErrorCode", &json!("NotFound"));
    writes.rejects("ItemCategory", &json!("Spaceship"));
    writes.rejects("ItemState", &json!("Archived"));

    let mut bad = item.clone();
    bad["createdAt"] = json!("yesterday");
    writes.rejects("Item", &bad);
    let mut bad = item.clone();
    bad["vault_id"] = bad["vaultId"].take();
    writes.rejects("Item", &bad);
    let mut bad = item.clone();
    bad["fields"][1]["details"]["content"] = json!(null);
    writes.rejects("Item", &bad);
    let mut bad = item.clone();
    bad["surprise"] = json!(1);
    writes.rejects("Item", &bad);

    writes.rejects(
        "DocumentCreateParams",
        &json!({"name": "a", "content": [0, 255]}),
    );
    writes.rejects(
        "DocumentCreateParams",
        &json!({"name": "a", "content": "%%"}),
    );
    writes.rejects(
        "DocumentCreateParams",
        &json!({"name": "a", "content": "AP8"}),
    );
    writes.rejects(
        "RateLimitState",
        &json!({"limit": 1, "remaining": 1, "reset": 5}),
    );
    writes.rejects(
        "RateLimitState",
        &json!({"limit": 1, "remaining": 1, "resetSeconds": "5s"}),
    );
    writes.rejects("GeneratedPassword", &json!({"password": "x"}));
    writes.rejects(
        "TotpCode",
        &json!({"code": "123456", "validFrom": 0, "validUntil": 30}),
    );
    writes.rejects("Error", &json!({"code": "not_found"}));
    writes.rejects(
        "Error",
        &json!({"code": "not_found", "message": "m", "resource": "Vault"}),
    );
    writes.rejects("ItemResponse", &json!({}));
    writes.rejects(
        "EmptyResponse",
        &json!({"content": null, "error": {"code": "server", "message": "m"}}),
    );
    writes.rejects(
        "ResolvedReferenceResponse",
        &json!({"content": {"secret": "s", "itemId": "i"}}),
    );
    writes.rejects(
        "PasswordRecipe",
        &json!({"type": "Pin", "content": {"length": 6}}),
    );
    writes.rejects(
        "ValidRecipient",
        &json!({"type": "Email", "parameters": {"domain": "example.com"}}),
    );
}

/// JSON that serde reads is accepted by the reads schema, and JSON it refuses is refused.
#[test]
fn reads_schema_matches_what_serde_reads() {
    let checks = Checks::new();
    checks.reads_ok::<ItemCreateParams>(json!({"category": "Login", "vaultId": "v", "title": "t"}));
    checks.reads_ok::<ItemCategory>(json!("Spaceship"));
    checks.reads_ok::<ItemState>(json!("deleted"));
    checks.reads_ok::<PrincipalKind>(json!("robot"));
    checks.reads_ok::<ItemFieldDetails>(json!({"type": "Quantum", "content": {"spin": 1}}));
    checks.reads_ok::<ItemFieldDetails>(json!({"type": "Quantum"}));
    checks.reads_ok::<ItemFieldDetails>(json!({"type": "SshKey"}));
    checks.reads_ok::<ItemFieldDetails>(json!({"type": "Address", "content": null}));
    checks.reads_ok::<ItemFieldDetails>(json!({"type": "Otp", "content": {}}));
    checks.reads_ok::<ItemListFilters>(json!({}));
    checks.reads_ok::<DocumentCreateParams>(json!({"name": "a.bin"}));
    checks.reads_ok::<ItemShareParams>(json!({"expireAfter": "OneHour", "oneTimeOnly": true}));
    checks.reads_ok::<RateLimitSettings>(json!({"reads": null, "writes": 100}));
    checks.reads_ok::<Principal>(json!({
        "id": "p".repeat(26), "name": "n", "kind": "owner", "signingPublicKey": "s",
        "encryptionPublicKey": "e", "keyGeneration": 0, "createdAt": "2026-11-25T12:30:00.5+01:00"
    }));
    checks.reads_ok::<VaultOverview>(json!({
        "id": "v", "title": "t", "vaultType": "personal", "activeItemCount": 0,
        "contentVersion": 0, "attributeVersion": 0,
        "createdAt": "2026-11-25T12:00:00Z", "updatedAt": "2026-11-25T12:30:00Z"
    }));

    checks.reads_err::<ItemFieldDetails>(json!({"type": "Otp"}));
    checks.reads_err::<ItemFieldDetails>(json!({"content": {}}));
    checks.reads_err::<ServiceAccountRights>(json!({}));
    checks.reads_err::<RateLimitSettings>(json!({"write": 1}));
    checks.reads_err::<AuditCheckpoint>(json!({"seq": 1, "hash": "h", "signature": "s", "x": 1}));
    checks.reads_err::<Id>(json!("not-an-id"));
    checks.reads_err::<DocumentCreateParams>(json!({"name": "a", "content": "%%"}));
    checks.reads_err::<VaultOverview>(json!({
        "id": "v", "title": "t", "vaultType": "personal", "activeItemCount": 0,
        "contentVersion": 0, "attributeVersion": 0,
        "createdAt": "yesterday", "updatedAt": "2026-11-25T12:30:00Z"
    }));
    checks.reads_err::<ItemShareDuration>(json!("OneWeek"));
    checks.reads_err::<ClientOptions>(json!({"integrationName": "n", "integrationVersion": "1"}));
    checks.reads_err::<ClientOptions>(json!({
        "auth": "a", "integrationName": "n", "integrationVersion": "1", "timeout": 5
    }));
}

/// `x-unknown-as` names what serde writes for a value it read but did not know, on every
/// enum that has such a catch-all.
#[test]
fn catch_alls_name_the_unsupported_value() {
    fn unknown_as<T: Serialize + DeserializeOwned + schemars::JsonSchema>(
        writes: &Value,
        seen: &mut BTreeSet<String>,
    ) {
        let name = T::schema_name().to_string();
        let unknown: T = serde_json::from_value(json!("a value from the future")).unwrap();
        let written = serde_json::to_value(unknown).unwrap();
        assert_eq!(writes["$defs"][&name]["x-unknown-as"], written, "{name}");
        seen.insert(name);
    }
    let writes = schema::root().to_value();
    let mut seen = BTreeSet::new();
    unknown_as::<ItemCategory>(&writes, &mut seen);
    unknown_as::<ItemFieldType>(&writes, &mut seen);
    unknown_as::<AutofillBehavior>(&writes, &mut seen);
    unknown_as::<ItemState>(&writes, &mut seen);
    unknown_as::<VaultType>(&writes, &mut seen);
    unknown_as::<VaultAccessorType>(&writes, &mut seen);
    unknown_as::<PrincipalKind>(&writes, &mut seen);
    unknown_as::<UnreadableKind>(&writes, &mut seen);
    let marked: BTreeSet<String> = writes["$defs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, def)| def.get("x-unknown-as").is_some())
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(marked, seen);
}

#[test]
fn descriptions_carry_no_rust_examples() {
    let text = schema::root().to_value().to_string();
    assert!(
        !text.contains("```"),
        "a code block was left in a description"
    );
    assert!(
        !text.contains("sesame_core::"),
        "a Rust example was left in a description"
    );
}

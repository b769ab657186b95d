//! Secret reference resolution over decrypted data: the matching rules of DESIGN.md §4
//! (names and ids are matched by [`super::lookup`], as every other name-or-id lookup).
//!
//! Pure functions, so every rule is unit-tested without a server.

use crate::model::{FileAttributes, ItemField, ItemFieldType};
use crate::reference::{Attribute, ReferenceQuery, SecretReference, SshFormat};
use crate::totp::Totp;
use crate::Resource;
use crate::{Error, Result};

// Re-exported for the vault and item lookup of `secrets`.
pub(crate) use super::lookup::pick;
use super::sealed::DetailsPlain;
use crate::reference::name_matches;

/// The field ids that carry a 1Password purpose.
const USERNAME_IDS: [&str; 1] = ["username"];
const PASSWORD_IDS: [&str; 1] = ["password"];
/// The name the item notes answer to when no field has it (1Password's notes field id).
const NOTES_NAMES: [&str; 2] = ["notesPlain", "notes"];

/// What a reference resolved to in one item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A value (a field's, or a file's metadata).
    Text(String),
    /// The content of the file with this id, still to be downloaded.
    FileContent(String),
}

/// Resolves the field part of `reference` in one item's details; `item` names the item
/// in errors and `now` (unix seconds) times one-time passwords. A last segment that
/// names no field may name a file (attachment or document).
pub(crate) fn resolve_in_item(
    details: &DetailsPlain,
    reference: &SecretReference,
    item: &str,
    now: u64,
) -> Result<Resolved> {
    if let Some(ReferenceQuery::Attribute(Attribute::Content | Attribute::Name | Attribute::Size)) =
        reference.query()
    {
        return file_attribute(details, reference, item);
    }
    match find_field(details, reference, item) {
        Ok(target) => value_of(&target, details, reference, now).map(Resolved::Text),
        Err(Error::NotFound {
            what,
            name,
            message,
        }) if what == Resource::Field => match find_file(details, reference, item)? {
            Some(file) => file_value(file, reference),
            None => Err(Error::NotFound {
                what,
                name,
                message: format!("{message} (nor a file of that name)"),
            }),
        },
        Err(e) => Err(e),
    }
}

/// What a reference's last segment named.
#[derive(Debug)]
enum Target<'a> {
    Field(&'a ItemField),
    Notes,
}

/// Finds the field of `reference` in an item's details. `item` names the item in errors.
fn find_field<'a>(
    details: &'a DetailsPlain,
    reference: &SecretReference,
    item: &str,
) -> Result<Target<'a>> {
    let wanted = reference.field();
    if let Some(section_segment) = reference.section() {
        let section = pick(
            Resource::Section,
            section_segment,
            &details.sections,
            |s| s.id.as_str(),
            |s| s.title.as_str(),
        )?
        .ok_or_else(|| Error::NotFound {
            what: crate::Resource::Section,
            name: Some(section_segment.to_owned()),
            message: format!("no section {section_segment:?} in item {item}"),
        })?;
        let in_section = details
            .fields
            .iter()
            .filter(|f| f.section_id.as_deref() == Some(section.id.as_str()));
        return pick(Resource::Field, wanted, in_section, field_id, field_title)?
            .map(Target::Field)
            .ok_or_else(|| Error::NotFound {
                what: crate::Resource::Field,
                name: Some(wanted.to_owned()),
                message: format!(
                    "no field {wanted:?} in section {section_segment:?} of item {item}"
                ),
            });
    }
    // Three segments: the unnamed section first, then every section.
    let unnamed = details.fields.iter().filter(|f| f.section_id.is_none());
    if let Some(field) = pick(Resource::Field, wanted, unnamed, field_id, field_title)? {
        return Ok(Target::Field(field));
    }
    if let Some(field) = pick(
        Resource::Field,
        wanted,
        &details.fields,
        field_id,
        field_title,
    )? {
        return Ok(Target::Field(field));
    }
    if NOTES_NAMES.iter().any(|n| name_matches(n, wanted)) {
        return Ok(Target::Notes);
    }
    Err(Error::NotFound {
        what: crate::Resource::Field,
        name: Some(wanted.to_owned()),
        message: format!("no field {wanted:?} in item {item}"),
    })
}

fn field_id(f: &ItemField) -> &str {
    &f.id
}

fn field_title(f: &ItemField) -> &str {
    &f.title
}

/// The value a reference asks for, given what it named. `now` is the unix time for OTPs.
fn value_of(
    target: &Target<'_>,
    details: &DetailsPlain,
    reference: &SecretReference,
    now: u64,
) -> Result<String> {
    let query = reference.query().copied();
    match target {
        Target::Notes => match query {
            None | Some(ReferenceQuery::Attribute(Attribute::Value)) => Ok(details.notes.clone()),
            Some(ReferenceQuery::Attribute(Attribute::Type)) => Ok("Text".into()),
            Some(ReferenceQuery::Attribute(Attribute::Id)) => Ok("notesPlain".into()),
            Some(ReferenceQuery::Attribute(Attribute::Purpose)) => Ok("NOTES".into()),
            Some(other) => Err(Error::invalid_input(
                "reference.query",
                format!("{other} does not apply to the item notes"),
            )),
        },
        Target::Field(field) => match query {
            None | Some(ReferenceQuery::Attribute(Attribute::Value)) => Ok(field.value.clone()),
            Some(ReferenceQuery::Attribute(Attribute::Otp | Attribute::Totp)) => {
                if field.field_type != ItemFieldType::Totp {
                    return Err(Error::invalid_input(
                        "reference.query",
                        format!(
                            "attribute=otp needs a one-time password field, but field {:?} is \
                             of type {}",
                            field.id,
                            type_name(field.field_type)
                        ),
                    ));
                }
                Ok(Totp::parse(&field.value)?.code_at(now).code().to_owned())
            }
            Some(ReferenceQuery::Attribute(Attribute::Type)) => {
                Ok(type_name(field.field_type).to_owned())
            }
            Some(ReferenceQuery::Attribute(Attribute::Id)) => Ok(field.id.clone()),
            Some(ReferenceQuery::Attribute(Attribute::Purpose)) => Ok(purpose(&field.id).into()),
            Some(ReferenceQuery::SshFormat(SshFormat::OpenSsh)) => openssh(field),
            // Content, Name and Size are answered by `resolve_in_item` before a field is looked up.
            Some(other) => Err(Error::invalid_input(
                "reference.query",
                format!(
                    "{other} applies to files; field {:?} is not a file",
                    field.id
                ),
            )),
        },
    }
}

/// The field type as in the model's JSON (`Concealed`, `Totp`, …).
fn type_name(field_type: ItemFieldType) -> &'static str {
    match field_type {
        ItemFieldType::Text => "Text",
        ItemFieldType::Concealed => "Concealed",
        ItemFieldType::CreditCardType => "CreditCardType",
        ItemFieldType::CreditCardNumber => "CreditCardNumber",
        ItemFieldType::Phone => "Phone",
        ItemFieldType::Url => "Url",
        ItemFieldType::Totp => "Totp",
        ItemFieldType::Email => "Email",
        ItemFieldType::Reference => "Reference",
        ItemFieldType::SshKey => "SshKey",
        ItemFieldType::Menu => "Menu",
        ItemFieldType::MonthYear => "MonthYear",
        ItemFieldType::Address => "Address",
        ItemFieldType::Date => "Date",
        _ => "Unsupported",
    }
}

/// `USERNAME`, `PASSWORD`, `NOTES` or empty, by field id as in the 1Password SDK.
fn purpose(id: &str) -> &'static str {
    if USERNAME_IDS.contains(&id) {
        "USERNAME"
    } else if PASSWORD_IDS.contains(&id) {
        "PASSWORD"
    } else if NOTES_NAMES.contains(&id) {
        "NOTES"
    } else {
        ""
    }
}

fn openssh(field: &ItemField) -> Result<String> {
    if field.field_type != ItemFieldType::SshKey {
        return Err(Error::invalid_input(
            "reference.query",
            format!(
                "ssh-format=openssh applies to SSH key fields; field {:?} is of type {}",
                field.id,
                type_name(field.field_type)
            ),
        ));
    }
    let value = field.value.trim_start();
    if value.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        return Ok(field.value.clone());
    }
    let format = if value.starts_with("-----BEGIN PRIVATE KEY-----") {
        "PKCS#8 PEM"
    } else if value.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        "PKCS#1 PEM"
    } else if value.starts_with("-----BEGIN EC PRIVATE KEY-----") {
        "SEC1 PEM"
    } else {
        "not a PEM private key"
    };
    Err(Error::invalid_input(
        "reference.query",
        format!(
            "ssh-format=openssh: the key in field {:?} is stored as {format}; Sesame does not \
             convert key formats yet, so store the key in OpenSSH format \
             (ssh-keygen -p -f KEY converts it in place) or read it without the query",
            field.id
        ),
    ))
}

/// `content`, `name` or `size` of the file the last segment names.
fn file_attribute(
    details: &DetailsPlain,
    reference: &SecretReference,
    item: &str,
) -> Result<Resolved> {
    let wanted = reference.field();
    let file = find_file(details, reference, item)?.ok_or_else(|| Error::NotFound {
        what: crate::Resource::File,
        name: Some(wanted.to_owned()),
        message: format!("no file named {wanted:?} in item {item}"),
    })?;
    file_value(file, reference)
}

/// The file (attachment, or the document) the last segment names, within the
/// reference's section if it has one.
fn find_file<'a>(
    details: &'a DetailsPlain,
    reference: &SecretReference,
    item: &str,
) -> Result<Option<&'a FileAttributes>> {
    let wanted = reference.field();
    let candidates: Vec<&FileAttributes> = match reference.section() {
        Some(section_segment) => {
            let section = pick(
                Resource::Section,
                section_segment,
                &details.sections,
                |s| s.id.as_str(),
                |s| s.title.as_str(),
            )?
            .ok_or_else(|| Error::NotFound {
                what: crate::Resource::Section,
                name: Some(section_segment.to_owned()),
                message: format!("no section {section_segment:?} in item {item}"),
            })?;
            details
                .files
                .iter()
                .filter(|f| f.section_id == section.id)
                .map(|f| &f.attributes)
                .collect()
        }
        None => details.file_attributes().collect(),
    };
    pick(
        Resource::File,
        wanted,
        candidates.iter().copied(),
        |f| f.id.as_str(),
        |f| f.name.as_str(),
    )
}

/// What a reference asks of a file: its content by default.
fn file_value(file: &FileAttributes, reference: &SecretReference) -> Result<Resolved> {
    match reference.query() {
        None | Some(ReferenceQuery::Attribute(Attribute::Content | Attribute::Value)) => {
            Ok(Resolved::FileContent(file.id.clone()))
        }
        Some(ReferenceQuery::Attribute(Attribute::Name)) => Ok(Resolved::Text(file.name.clone())),
        Some(ReferenceQuery::Attribute(Attribute::Size)) => {
            Ok(Resolved::Text(file.size.to_string()))
        }
        Some(ReferenceQuery::Attribute(Attribute::Id)) => Ok(Resolved::Text(file.id.clone())),
        Some(ReferenceQuery::Attribute(Attribute::Type)) => Ok(Resolved::Text("File".into())),
        Some(other) => Err(Error::invalid_input(
            "reference.query",
            format!(
                "{other} does not apply to file {:?}; files answer content, name, size, id \
                 and type",
                file.name
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileAttributes, ItemFile, ItemSection};
    use crate::ErrorCode;

    fn field(id: &str, title: &str, section: Option<&str>, t: ItemFieldType, v: &str) -> ItemField {
        let mut f = ItemField::new(id, title, t, v);
        f.section_id = section.map(str::to_owned);
        f
    }

    fn details() -> DetailsPlain {
        DetailsPlain {
            fields: vec![
                field("username", "username", None, ItemFieldType::Text, "admin"),
                field(
                    "password",
                    "password",
                    None,
                    ItemFieldType::Concealed,
                    "top",
                ),
                field(
                    "p2",
                    "password",
                    Some("s1"),
                    ItemFieldType::Concealed,
                    "in-section",
                ),
                field("host", "host", Some("s1"), ItemFieldType::Text, "db.local"),
                field("dup1", "port", Some("s1"), ItemFieldType::Text, "1"),
                field("dup2", "PORT", Some("s2"), ItemFieldType::Text, "2"),
                field(
                    "otp",
                    "one-time password",
                    Some("s2"),
                    ItemFieldType::Totp,
                    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                ),
                field(
                    "key",
                    "private key",
                    None,
                    ItemFieldType::SshKey,
                    "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
                ),
                field(
                    "pem",
                    "pem key",
                    None,
                    ItemFieldType::SshKey,
                    "-----BEGIN PRIVATE KEY-----\nabc",
                ),
            ],
            sections: vec![
                ItemSection {
                    id: "s1".into(),
                    title: "Database".into(),
                },
                ItemSection {
                    id: "s2".into(),
                    title: "Security".into(),
                },
                ItemSection {
                    id: "s3".into(),
                    title: "security".into(),
                },
            ],
            notes: "remember me".into(),
            files: vec![],
            document: None,
            file_keys: Vec::new(),
        }
    }

    fn resolve(d: &DetailsPlain, reference: &str) -> Result<String> {
        let reference: SecretReference = reference.parse()?;
        match resolve_in_item(d, &reference, "Item", 59)? {
            Resolved::Text(text) => Ok(text),
            Resolved::FileContent(id) => Ok(format!("<content of {id}>")),
        }
    }

    #[test]
    fn three_segments_prefer_the_unnamed_section() {
        let d = details();
        assert_eq!(resolve(&d, "op://v/i/password").unwrap(), "top");
        assert_eq!(
            resolve(&d, "op://v/i/Database/password").unwrap(),
            "in-section"
        );
        // Not in the unnamed section: searched everywhere.
        assert_eq!(resolve(&d, "op://v/i/host").unwrap(), "db.local");
    }

    #[test]
    fn ambiguity_and_not_found_name_the_segment() {
        let d = details();
        let err = resolve(&d, "op://v/i/port").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Ambiguous);
        let text = err.to_string();
        assert!(text.contains("dup1") && text.contains("dup2"), "{text}");
        let err = resolve(&d, "op://v/i/Security/password").unwrap_err();
        assert!(
            matches!(&err, Error::Ambiguous { what, .. } if what == "section"),
            "{err}"
        );
        let err = resolve(&d, "op://v/i/Nope/password").unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { what, .. } if what == "section"),
            "{err}"
        );
        let err = resolve(&d, "op://v/i/Database/username").unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { what, .. } if what == "field"),
            "{err}"
        );
        let err = resolve(&d, "op://v/i/missing").unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { what, message, .. } if what == "field" && message.contains("missing"))
        );
    }

    #[test]
    fn attributes() {
        let d = details();
        assert_eq!(
            resolve(&d, "op://v/i/password?attribute=type").unwrap(),
            "Concealed"
        );
        assert_eq!(
            resolve(&d, "op://v/i/password?attribute=purpose").unwrap(),
            "PASSWORD"
        );
        assert_eq!(
            resolve(&d, "op://v/i/username?attribute=purpose").unwrap(),
            "USERNAME"
        );
        assert_eq!(resolve(&d, "op://v/i/host?attribute=purpose").unwrap(), "");
        assert_eq!(
            resolve(&d, "op://v/i/Database/password?attr=id").unwrap(),
            "p2"
        );
        assert_eq!(
            resolve(&d, "op://v/i/password?attribute=value").unwrap(),
            "top"
        );
        // RFC 6238 SHA-1 vector at T=59: 94287082 → six digits 287082.
        assert_eq!(
            resolve(&d, "op://v/i/one-time password?attribute=totp").unwrap(),
            "287082"
        );
        assert_eq!(resolve(&d, "op://v/i/otp?attribute=otp").unwrap(), "287082");
        let err = resolve(&d, "op://v/i/password?attribute=otp").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(resolve(&d, "op://v/i/notes").unwrap(), "remember me");
        assert_eq!(
            resolve(&d, "op://v/i/notesPlain?attribute=purpose").unwrap(),
            "NOTES"
        );
    }

    #[test]
    fn ssh_format_passes_openssh_and_explains_other_formats() {
        let d = details();
        let key = resolve(&d, "op://v/i/private key?ssh-format=openssh").unwrap();
        assert!(key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let err = resolve(&d, "op://v/i/pem key?ssh-format=openssh").unwrap_err();
        assert!(err.to_string().contains("PKCS#8"), "{err}");
        assert!(!err.to_string().contains("abc"));
        let err = resolve(&d, "op://v/i/password?ssh-format=openssh").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
    }

    #[test]
    fn file_attributes_find_files_by_name() {
        let mut d = details();
        let err = resolve(&d, "op://v/i/cert.pem?attribute=size").unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { what, .. } if what == "file"),
            "{err}"
        );
        d.files.push(ItemFile {
            attributes: FileAttributes {
                name: "cert.pem".into(),
                id: "f1".into(),
                size: 42,
            },
            section_id: "s1".into(),
            field_id: "cert".into(),
        });
        assert_eq!(
            resolve(&d, "op://v/i/CERT.pem?attribute=size").unwrap(),
            "42"
        );
        assert_eq!(
            resolve(&d, "op://v/i/f1?attribute=name").unwrap(),
            "cert.pem"
        );
        assert_eq!(resolve(&d, "op://v/i/cert.pem?attribute=id").unwrap(), "f1");
        assert_eq!(
            resolve(&d, "op://v/i/cert.pem?attribute=type").unwrap(),
            "File"
        );
        // No field of that name: the file's content, bare or asked for.
        assert_eq!(resolve(&d, "op://v/i/cert.pem").unwrap(), "<content of f1>");
        assert_eq!(
            resolve(&d, "op://v/i/cert.pem?attribute=content").unwrap(),
            "<content of f1>"
        );
        // Within its section, by the section's title or id.
        assert_eq!(
            resolve(&d, "op://v/i/s1/cert.pem?attribute=size").unwrap(),
            "42"
        );
        assert!(resolve(&d, "op://v/i/cert.pem?attribute=otp").is_err());
        let err = resolve(&d, "op://v/i/nothing").unwrap_err();
        assert!(err.to_string().contains("nor a file"), "{err}");
    }
}

//! The assignment statements of `item create` and `item edit`
//! (`[section.]field[type]=value`), and the ids the command line makes for the fields,
//! sections and files it adds.

use sesame_core::model::{ItemField, ItemFieldType, ItemSection};
use sesame_core::reference::name_matches;

use crate::exit::{CliResult, Failure, Kind};

/// One `[section.]field[type]=value` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub(crate) section: Option<String>,
    pub(crate) field: String,
    /// `None`: text, or concealed for a field named `password`. `Some(None)`: delete.
    pub(crate) field_type: Option<Option<ItemFieldType>>,
    pub(crate) value: String,
}

/// Field types by their assignment names.
fn field_type(name: &str) -> Option<Option<ItemFieldType>> {
    Some(Some(
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "text" | "string" => ItemFieldType::Text,
            "password" | "concealed" => ItemFieldType::Concealed,
            "email" => ItemFieldType::Email,
            "url" => ItemFieldType::Url,
            "phone" => ItemFieldType::Phone,
            "date" => ItemFieldType::Date,
            "monthyear" => ItemFieldType::MonthYear,
            "otp" | "totp" => ItemFieldType::Totp,
            "menu" => ItemFieldType::Menu,
            "reference" => ItemFieldType::Reference,
            "sshkey" => ItemFieldType::SshKey,
            "delete" => return Some(None),
            _ => return None,
        },
    ))
}

/// Parses `[section.]field[type]=value`; `\` escapes `.`, `=`, `[`, `]` and `\` in the
/// name part. The value is taken as written.
pub(crate) fn parse_assignment(text: &str) -> Result<Assignment, String> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut kind: Option<String> = None;
    let mut chars = text.char_indices();
    let value_at = loop {
        let Some((i, c)) = chars.next() else {
            return Err(format!(
                "{text:?} is not an assignment [section.]field[type]=value"
            ));
        };
        match c {
            '\\' => match chars.next() {
                Some((_, e)) if kind.is_none() => {
                    if let Some(last) = parts.last_mut() {
                        last.push(e);
                    }
                }
                Some((_, e)) => kind.get_or_insert_with(String::new).push(e),
                None => return Err(format!("{text:?} ends with a lone \\")),
            },
            '=' => break i + 1,
            '.' if kind.is_none() && parts.len() == 1 => parts.push(String::new()),
            '[' if kind.is_none() => kind = Some(String::new()),
            ']' if kind.is_some() => match chars.next() {
                Some((i, '=')) => break i + 1,
                _ => return Err(format!("{text:?}: [type] must come just before =")),
            },
            c => match kind.as_mut() {
                Some(kind) => kind.push(c),
                None => {
                    if let Some(last) = parts.last_mut() {
                        last.push(c);
                    }
                }
            },
        }
    };
    let (section, field) = match parts.len() {
        2 => (Some(parts[0].clone()), parts[1].clone()),
        _ => (None, parts[0].clone()),
    };
    if field.is_empty() || section.as_deref() == Some("") {
        return Err(format!(
            "{text:?}: the field (and section) names must not be empty"
        ));
    }
    let field_type = match kind {
        None => None,
        Some(kind) => Some(field_type(&kind).ok_or_else(|| {
            format!(
                "{text:?}: unknown field type {kind:?}; use text, password, email, url, phone, \
                 date, monthYear, otp, menu, reference, sshKey or delete"
            )
        })?),
    };
    Ok(Assignment {
        section,
        field,
        field_type,
        value: text[value_at..].to_owned(),
    })
}

/// A lowercase id made from a title, unique among `taken`.
pub(crate) fn slug(title: &str, taken: &[String]) -> String {
    let mut base: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if base.is_empty() {
        base = "field".to_owned();
    }
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// The id of the section of `sections` whose id is `wanted` or whose title answers to it
/// (the core's name rule), added to `sections` if there is none.
pub(crate) fn section_for(sections: &mut Vec<ItemSection>, wanted: &str) -> String {
    if let Some(s) = sections
        .iter()
        .find(|s| s.id == wanted || name_matches(&s.title, wanted))
    {
        return s.id.clone();
    }
    let taken: Vec<String> = sections.iter().map(|s| s.id.clone()).collect();
    let id = slug(wanted, &taken);
    sections.push(ItemSection {
        id: id.clone(),
        title: wanted.to_owned(),
    });
    id
}

/// Applies assignments to fields and sections.
pub(crate) fn apply(
    fields: &mut Vec<ItemField>,
    sections: &mut Vec<ItemSection>,
    assignments: &[Assignment],
) -> CliResult {
    for a in assignments {
        let section_id = a.section.as_ref().map(|title| section_for(sections, title));
        let existing = fields.iter().position(|f| {
            f.section_id == section_id && (f.id == a.field || name_matches(&f.title, &a.field))
        });
        match (a.field_type, existing) {
            (Some(None), Some(i)) => {
                fields.remove(i);
            }
            (Some(None), None) => {
                return Err(Failure::new(
                    Kind::NotFound,
                    format!(
                        "cannot delete field {:?}: the item has no such field",
                        a.field
                    ),
                ))
            }
            (kind, Some(i)) => {
                fields[i].value.clone_from(&a.value);
                if let Some(Some(kind)) = kind {
                    fields[i].field_type = kind;
                }
                fields[i].details = None;
            }
            (kind, None) => {
                let kind = kind
                    .flatten()
                    .unwrap_or(if name_matches(&a.field, "password") {
                        ItemFieldType::Concealed
                    } else {
                        ItemFieldType::Text
                    });
                let taken: Vec<String> = fields.iter().map(|f| f.id.clone()).collect();
                let mut field = ItemField::new(slug(&a.field, &taken), &a.field, kind, &a.value);
                field.section_id = section_id;
                fields.push(field);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Assignment {
        parse_assignment(text).unwrap()
    }

    #[test]
    fn assignments_with_sections_types_and_escapes() {
        assert_eq!(
            a("username=admin"),
            Assignment {
                section: None,
                field: "username".into(),
                field_type: None,
                value: "admin".into()
            }
        );
        let x = a("admin.host[url]=https://db?x=1");
        assert_eq!(x.section.as_deref(), Some("admin"));
        assert_eq!(x.field, "host");
        assert_eq!(x.field_type, Some(Some(ItemFieldType::Url)));
        assert_eq!(x.value, "https://db?x=1");
        let x = a(r"my\.dotted\=name\[1\]=v");
        assert_eq!((x.section, x.field.as_str()), (None, "my.dotted=name[1]"));
        assert_eq!(a("old[delete]=").field_type, Some(None));
        assert_eq!(
            a("x[password]=").field_type,
            Some(Some(ItemFieldType::Concealed))
        );
        assert!(parse_assignment("novalue").is_err());
        assert!(parse_assignment("f[nope]=1").unwrap_err().contains("nope"));
        assert!(parse_assignment("f[text]x=1").is_err());
        assert!(parse_assignment(".f=1").is_err());
    }

    #[test]
    fn apply_adds_replaces_and_deletes() {
        let (mut fields, mut sections) = (Vec::new(), Vec::new());
        apply(
            &mut fields,
            &mut sections,
            &[a("password=one"), a("Admin.host=h"), a("user=u")],
        )
        .unwrap();
        assert_eq!(fields[0].field_type, ItemFieldType::Concealed);
        assert_eq!(sections[0].title, "Admin");
        assert_eq!(fields[1].section_id.as_deref(), Some("admin"));
        apply(
            &mut fields,
            &mut sections,
            &[a("password=two"), a("user[delete]=")],
        )
        .unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].value, "two");
        assert!(apply(&mut fields, &mut sections, &[a("nope[delete]=")]).is_err());
    }

    #[test]
    fn slugs_and_sections() {
        assert_eq!(slug("One-time Password!", &[]), "one-time-password");
        assert_eq!(slug("x", &["x".to_owned()]), "x-2");
        assert_eq!(slug("ü", &[]), "field");
        let mut sections = Vec::new();
        assert_eq!(section_for(&mut sections, "Files"), "files");
        assert_eq!(section_for(&mut sections, "FILES"), "files");
        assert_eq!(section_for(&mut sections, "files"), "files");
        assert_eq!(sections.len(), 1);
        // Non-ASCII titles fold as references fold them, so `item edit` and `op://` agree.
        let added = section_for(&mut sections, "Ärger");
        assert_eq!(section_for(&mut sections, "äRGER"), added);
        assert_eq!(sections.len(), 2);
    }

    #[test]
    fn fields_match_names_by_the_reference_rule() {
        let mut fields = vec![ItemField::new(
            "pw",
            "Pässword",
            ItemFieldType::Concealed,
            "old",
        )];
        let mut sections = Vec::new();
        apply(&mut fields, &mut sections, &[a("PÄSSWORD=new")]).unwrap();
        assert_eq!((fields.len(), fields[0].value.as_str()), (1, "new"));
    }
}

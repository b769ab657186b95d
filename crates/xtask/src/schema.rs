//! The model's JSON Schemas (`sesame_core::model::schema::root`, what Sesame writes)
//! reduced to the IR: each `$defs` entry becomes a struct, an enum, a tagged union or an
//! alias.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ir::{Def, Field, Ty, Variant};

/// Every model type, by name.
pub fn defs() -> Result<BTreeMap<String, Def>, String> {
    let root = sesame_core::model::schema::root();
    let defs = root
        .as_value()
        .get("$defs")
        .and_then(Value::as_object)
        .ok_or("the model schema has no $defs")?;
    let text = serde_json::to_string(defs).map_err(|e| e.to_string())?;
    // The error envelope is `ErrorEnvelope` in the bindings: `Error` is each language's
    // exception type.
    let text = text.replace("\"#/$defs/Error\"", "\"#/$defs/ErrorEnvelope\"");
    let mut defs: serde_json::Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if let Some(envelope) = defs.remove("Error") {
        defs.insert("ErrorEnvelope".to_owned(), envelope);
    }
    hoist_inline_payloads(&mut defs);
    defs.iter()
        .map(|(name, schema)| {
            Ok((
                name.clone(),
                def(name, schema).map_err(|e| format!("{name}: {e}"))?,
            ))
        })
        .collect()
}

/// A union variant whose content is an inline object (`Email { email }` in Rust) gets a
/// named type, `{Union}{Variant}Inner` as the 1Password SDKs name it, so every language
/// has a class for it rather than a bare map.
fn hoist_inline_payloads(defs: &mut serde_json::Map<String, Value>) {
    let mut hoisted = Vec::new();
    for (name, schema) in defs.iter_mut() {
        let Some(alts) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
            continue;
        };
        for alt in alts {
            let Some(props) = alt.get_mut("properties").and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(wire) = props.values().find_map(constant) else {
                continue;
            };
            for payload in props.values_mut() {
                if payload.get("properties").is_some() && constant(payload).is_none() {
                    let inner = format!("{name}{}Inner", crate::ir::pascal(&wire));
                    let schema = std::mem::replace(
                        payload,
                        serde_json::json!({ "$ref": format!("#/$defs/{inner}") }),
                    );
                    hoisted.push((inner, schema));
                }
            }
        }
    }
    defs.extend(hoisted);
}

fn doc(schema: &Value) -> String {
    schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The single string a schema allows (`const`, or an `enum` of one).
fn constant(schema: &Value) -> Option<String> {
    if let Some(c) = schema.get("const").and_then(Value::as_str) {
        return Some(c.to_owned());
    }
    match schema
        .get("enum")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([Value::String(one)]) => Some(one.clone()),
        _ => None,
    }
}

fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
}

fn def(name: &str, schema: &Value) -> Result<Def, String> {
    let doc = doc(schema);
    // A string enum: `enum: [...]`, or a oneOf of documented constants.
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| (v.to_owned(), String::new()))
            .collect();
        return Ok(Def::Enum {
            name: name.to_owned(),
            doc,
            values,
        });
    }
    if let Some(alts) = alternatives(schema) {
        if alts.iter().all(|a| constant(a).is_some()) {
            let values = alts
                .iter()
                .filter_map(|a| constant(a).map(|c| (c, self::doc(a))))
                .collect();
            return Ok(Def::Enum {
                name: name.to_owned(),
                doc,
                values,
            });
        }
        if let Some(union) = union(name, &doc, alts)? {
            return Ok(union);
        }
    }
    if schema.get("properties").is_some() {
        return Ok(Def::Struct {
            name: name.to_owned(),
            doc,
            fields: fields(schema)?,
        });
    }
    Ok(Def::Alias {
        name: name.to_owned(),
        doc,
        ty: ty(schema)?,
    })
}

/// A oneOf of objects that each fix one property (the tag) to a constant.
fn union(name: &str, doc: &str, alts: &[Value]) -> Result<Option<Def>, String> {
    let mut tag = None;
    let mut content = None;
    let mut variants = Vec::new();
    for alt in alts {
        let Some(props) = alt.get("properties").and_then(Value::as_object) else {
            return Ok(None);
        };
        let Some((tag_key, wire)) = props
            .iter()
            .find_map(|(k, v)| constant(v).map(|c| (k.clone(), c)))
        else {
            return Ok(None);
        };
        if tag.get_or_insert_with(|| tag_key.clone()) != &tag_key {
            return Err(format!("variants tag with both {tag:?} and {tag_key:?}"));
        }
        let rest: Vec<(&String, &Value)> = props.iter().filter(|(k, _)| **k != tag_key).collect();
        let payload = match rest.as_slice() {
            [] => None,
            [(key, schema)] => {
                if content.get_or_insert_with(|| (*key).clone()) != *key {
                    return Err(format!(
                        "variants carry content under both {content:?} and {key:?}"
                    ));
                }
                let required = alt
                    .get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key.as_str())));
                let t = ty(schema)?;
                Some(if required { t } else { optional(t) })
            }
            _ => return Ok(None),
        };
        variants.push(Variant {
            wire,
            payload,
            doc: self::doc(alt),
        });
    }
    Ok(Some(Def::Union {
        name: name.to_owned(),
        doc: doc.to_owned(),
        tag: tag.unwrap_or_else(|| "type".to_owned()),
        content: content.unwrap_or_else(|| "content".to_owned()),
        variants,
    }))
}

fn optional(t: Ty) -> Ty {
    match t {
        Ty::Optional(_) => t,
        other => Ty::Optional(Box::new(other)),
    }
}

fn fields(schema: &Value) -> Result<Vec<Field>, String> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("no properties")?;
    props
        .iter()
        .map(|(wire, field)| {
            let t = ty(field).map_err(|e| format!("{wire}: {e}"))?;
            let (t, nullable) = match t {
                Ty::Optional(inner) => (*inner, true),
                other => (other, false),
            };
            Ok(Field {
                wire: wire.clone(),
                ty: t,
                optional: nullable || !required.contains(&wire.as_str()),
                doc: doc(field),
                secret: field.get("x-secret") == Some(&Value::Bool(true)),
            })
        })
        .collect()
}

/// The type of a field or payload schema.
fn ty(schema: &Value) -> Result<Ty, String> {
    if schema == &Value::Bool(true)
        || schema
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "description"))
    {
        return Ok(Ty::Any);
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return Ok(Ty::Named(name.to_owned()));
    }
    if let Some(alts) = alternatives(schema) {
        let non_null: Vec<&Value> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if non_null.len() == 1 && alts.len() == 2 {
            return Ok(optional(ty(non_null[0])?));
        }
        return Ok(Ty::Any);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        if let [one] = all.as_slice() {
            return ty(one);
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(Ty::Any),
    };
    let nullable = types.contains(&"null");
    let base: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    let t = match base.as_slice() {
        [] => Ty::Unit,
        ["string"] => {
            if schema.get("format").and_then(Value::as_str) == Some("date-time") {
                Ty::Timestamp
            } else if schema.get("contentEncoding").and_then(Value::as_str) == Some("base64") {
                Ty::Bytes
            } else {
                Ty::String
            }
        }
        ["integer"] => Ty::Integer,
        ["number"] => Ty::Number,
        ["boolean"] => Ty::Boolean,
        ["array"] => Ty::List(Box::new(
            schema.get("items").map(ty).transpose()?.unwrap_or(Ty::Any),
        )),
        ["object"] => match schema.get("additionalProperties") {
            Some(values) if values.is_object() => Ty::Map(Box::new(ty(values)?)),
            _ => Ty::Map(Box::new(Ty::Any)),
        },
        other => return Err(format!("unsupported schema type {other:?}")),
    };
    Ok(if nullable { optional(t) } else { t })
}

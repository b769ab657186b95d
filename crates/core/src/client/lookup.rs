//! Name-or-id matching, written once: the rule of DESIGN.md §4 that references,
//! [`Vaults::find`](super::Vaults::find), [`Items::find`](super::Items::find),
//! [`Files::find`](super::Files::find) and
//! [`ServiceAccounts::find`](super::ServiceAccounts::find) all follow, so that a command
//! line, a binding and an `op://` reference given the same text pick the same thing.
//!
//! A segment matches a candidate whose id it is, exactly; otherwise every candidate whose
//! name equals it case-insensitively (Unicode lowercase folding, as names may be in any
//! script). Ids are unique, so an id match wins over name matches; several name matches
//! are [`Error::Ambiguous`] listing their ids (sorted); none is `Ok(None)` here and
//! [`Error::NotFound`] for the public `find` calls.

use crate::reference::name_matches;
use crate::{Error, Resource, Result};

/// Picks the one candidate whose id is `segment` or whose name matches it (see the
/// module). `what` names the kind of candidate in an ambiguity error. `Ok(None)`: nothing
/// matched.
pub(crate) fn pick<'a, T: ?Sized>(
    what: Resource,
    segment: &str,
    candidates: impl IntoIterator<Item = &'a T>,
    id_of: impl Fn(&T) -> &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<Option<&'a T>> {
    let mut by_name = Vec::new();
    for candidate in candidates {
        if id_of(candidate) == segment {
            return Ok(Some(candidate));
        }
        if name_matches(name_of(candidate), segment) {
            by_name.push(candidate);
        }
    }
    match by_name.len() {
        0 => Ok(None),
        1 => Ok(by_name.pop()),
        _ => {
            let mut candidates: Vec<String> = by_name.iter().map(|c| id_of(c).to_owned()).collect();
            // Sorted, so that the same names give the same message however they were
            // listed (the cache is a hash map).
            candidates.sort();
            Err(Error::Ambiguous {
                what,
                name: segment.to_owned(),
                candidates,
            })
        }
    }
}

/// [`pick`], with nothing matched an [`Error::NotFound`] of `what` carrying
/// `not_found()` as its message.
pub(crate) fn find<'a, T: ?Sized>(
    what: Resource,
    segment: &str,
    candidates: impl IntoIterator<Item = &'a T>,
    id_of: impl Fn(&T) -> &str,
    name_of: impl Fn(&T) -> &str,
    not_found: impl FnOnce() -> String,
) -> Result<&'a T> {
    pick(what, segment, candidates, id_of, name_of)?.ok_or_else(|| Error::NotFound {
        what,
        name: Some(segment.to_owned()),
        message: not_found(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id<'a>(c: &'a (&str, &str)) -> &'a str {
        c.0
    }

    fn name<'a>(c: &'a (&str, &str)) -> &'a str {
        c.1
    }

    #[test]
    fn ids_win_then_one_name_case_insensitively() {
        let items = [("bbb", "Prod DB"), ("aaa", "prod db"), ("ccc", "Stage")];
        assert_eq!(
            pick(Resource::Item, "STAGE", &items, id, name).unwrap(),
            Some(&items[2])
        );
        assert_eq!(
            pick(Resource::Item, "aaa", &items, id, name).unwrap(),
            Some(&items[1])
        );
        assert_eq!(
            pick(Resource::Item, "nope", &items, id, name).unwrap(),
            None
        );
        // No preference for the exact spelling: both names match, both are listed, by id.
        for wanted in ["PROD db", "Prod DB"] {
            match pick(Resource::Item, wanted, &items, id, name) {
                Err(Error::Ambiguous {
                    what,
                    name,
                    candidates,
                }) => {
                    assert_eq!((what.as_str(), name.as_str()), ("item", wanted));
                    assert_eq!(candidates, ["aaa", "bbb"]);
                }
                other => panic!("expected ambiguity, got {other:?}"),
            }
        }
        // An id wins even over a name that also matches.
        let shadowed = [("x1", "ccc"), ("ccc", "Other")];
        assert_eq!(
            pick(Resource::Item, "ccc", &shadowed, id, name).unwrap(),
            Some(&shadowed[1])
        );
    }

    /// The command line's old matcher preferred an exact spelling ("Infra" picked a1);
    /// the one rule does not: both spellings match, so the name is ambiguous.
    #[test]
    fn no_preference_for_the_exact_spelling() {
        let vaults = [("a1", "Infra"), ("b2", "infra"), ("c3", "Other")];
        assert_eq!(
            pick(Resource::Vault, "b2", &vaults, id, name).unwrap(),
            Some(&vaults[1])
        );
        assert_eq!(
            pick(Resource::Vault, "other", &vaults, id, name).unwrap(),
            Some(&vaults[2])
        );
        for wanted in ["Infra", "INFRA"] {
            let err = pick(Resource::Vault, wanted, &vaults, id, name).unwrap_err();
            assert!(
                matches!(&err, Error::Ambiguous { candidates, .. } if candidates == &["a1", "b2"]),
                "{err}"
            );
        }
        assert_eq!(
            pick(Resource::Vault, "nope", &vaults, id, name).unwrap(),
            None
        );
    }

    #[test]
    fn unicode_names_fold_case() {
        let vaults = [("v1", "Ünïcode Dätabase"), ("v2", "Ölfeld")];
        assert_eq!(
            pick(Resource::Vault, "ünïcode dätabase", &vaults, id, name).unwrap(),
            Some(&vaults[0])
        );
        assert_eq!(
            pick(Resource::Vault, "öLFELD", &vaults, id, name).unwrap(),
            Some(&vaults[1])
        );
        let colliding = [("b", "ärger"), ("a", "Ärger"), ("c", "Strasse")];
        let err = pick(Resource::Item, "ÄRGER", &colliding, id, name).unwrap_err();
        assert!(
            matches!(&err, Error::Ambiguous { candidates, .. } if candidates == &["a", "b"]),
            "{err}"
        );
        // Lowercase folding, not full case folding: ß is not ss.
        assert_eq!(
            pick(Resource::Item, "straße", &colliding, id, name).unwrap(),
            None
        );
    }

    #[test]
    fn find_turns_no_match_into_not_found() {
        let vaults = [("v1", "Infra")];
        assert_eq!(
            find(Resource::Vault, "INFRA", &vaults, id, name, String::new).unwrap(),
            &vaults[0]
        );
        let err = find(Resource::Vault, "Nope", &vaults, id, name, || {
            "no such vault".into()
        })
        .unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { what, message, .. } if *what == "vault" && message == "no such vault"),
            "{err}"
        );
    }
}

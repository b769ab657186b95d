//! Resolving the references of `sesame inject` and `sesame run`: all with one
//! `resolve_all`, every failure described where it came from.

use std::collections::HashMap;

use crate::ctx::Ctx;
use crate::exit::{kind_of, CliResult, Failure, Kind};

/// Resolves every reference of `references` with one `resolve_all`: the values, or the
/// failures, each described by `describe(reference, error)`, and the exit kind of the first.
pub(crate) async fn resolve_all(
    ctx: &mut Ctx,
    references: &[&str],
    describe: impl Fn(&str, &sesame_core::Error) -> String,
) -> CliResult<HashMap<String, String>> {
    if references.is_empty() {
        return Ok(HashMap::new());
    }
    let client = ctx.client().await?;
    let mut response = client.secrets().resolve_all(references).await?;
    let mut values = HashMap::new();
    let mut failures = Vec::new();
    let mut kind = None;
    for reference in references {
        match response.individual_responses.remove(*reference) {
            Some(Ok(resolved)) => {
                values.insert((*reference).to_owned(), resolved.secret);
            }
            Some(Err(e)) => {
                kind.get_or_insert(kind_of(e.code()));
                failures.push(describe(reference, &e));
            }
            None => {
                kind.get_or_insert(Kind::Other);
                failures.push(format!("{reference}: the client returned no answer"));
            }
        }
    }
    match kind {
        None => Ok(values),
        Some(kind) => Err(Failure::new(kind, failures.join("\n       "))),
    }
}

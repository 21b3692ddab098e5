//! Small JSON reading rules shared by every answer the core reads: an object or nothing, and
//! strings borrowed from the body when they have no escapes.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

/// True when the first non-whitespace byte of `body` opens a JSON object.
pub(crate) fn looks_like_json_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// A string borrowed from the input when it has no escapes.
#[derive(Deserialize)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

/// `deserialize_with` for a string member that is absent when `null`, borrowed from the input
/// when it has no escapes (`#[serde(borrow)]` does not reach into an `Option`).
pub(crate) fn optional_text<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

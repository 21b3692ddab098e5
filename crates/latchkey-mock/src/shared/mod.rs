//! What the endpoints share: the answer type, request parameters, the validation rules,
//! the server's state and token issuance. Nothing here imports from
//! [`endpoint`](crate::endpoint) or the router.

pub(crate) mod assertion;
pub(crate) mod dpop;
pub(crate) mod issue;
pub(crate) mod keys;
pub(crate) mod params;
pub(crate) mod records;
pub(crate) mod replay;
pub(crate) mod reply;
pub(crate) mod rules;
pub(crate) mod state;

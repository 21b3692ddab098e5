//! The resource owner the mock signs in.

use serde_json::{Map, Value};

/// The user every authorization is granted for, whose claims `/userinfo` returns.
///
/// The default is `sub` `mock-user-1`, `email` `user@example.com`, `name` `Mock User`.
#[derive(Debug, Clone, PartialEq)]
pub struct MockUser {
    pub(crate) sub: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) extra: Map<String, Value>,
}

impl Default for MockUser {
    fn default() -> Self {
        Self::new("mock-user-1")
    }
}

impl MockUser {
    /// A user with this subject identifier and the default email and name.
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            email: "user@example.com".to_owned(),
            name: "Mock User".to_owned(),
            extra: Map::new(),
        }
    }

    /// Sets the `email` claim.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// Sets the `name` claim.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds any other claim to the `/userinfo` answer.
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// The `sub` claim.
    pub fn sub(&self) -> &str {
        &self.sub
    }

    pub(crate) fn claims(&self) -> Value {
        let mut map = Map::new();
        map.insert("sub".to_owned(), Value::from(self.sub.clone()));
        map.insert("email".to_owned(), Value::from(self.email.clone()));
        map.insert("email_verified".to_owned(), Value::Bool(true));
        map.insert("name".to_owned(), Value::from(self.name.clone()));
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        Value::Object(map)
    }
}

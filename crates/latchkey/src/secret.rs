//! Secret-bearing newtypes: redacted `Debug`, no `Display`, explicit `expose_secret()`.

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// # Security
        ///
        /// `Debug` prints a redaction, there is no `Display`, and the value is only reachable
        /// through [`expose_secret`](Self::expose_secret), a name meant to stand out in review.
        ///
        /// Serialized as the bare string. Cloning copies it: a copy in the calling thread
        /// touches nothing shared, where a reference count would be one memory location
        /// every thread writes (see the token managers' bench).
        #[derive(Clone, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// Returns the secret itself, for sending it where it belongs.
            ///
            /// # Security
            ///
            /// Never log or display what this returns.
            #[must_use]
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

pub(crate) use secret_type;

secret_type!(
    /// A client secret issued by the authorization server ([RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)).
    ClientSecret
);
secret_type!(
    /// An authorization code received on the redirect URI ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)).
    AuthorizationCode
);
secret_type!(
    /// An access token ([RFC 6749 §1.4](https://www.rfc-editor.org/rfc/rfc6749#section-1.4)).
    AccessToken
);
secret_type!(
    /// A private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as
    /// [`SigningKey::to_pkcs8_pem`](crate::jose::SigningKey::to_pkcs8_pem) writes it.
    PrivateKeyPem
);
secret_type!(
    /// A refresh token ([RFC 6749 §1.5](https://www.rfc-editor.org/rfc/rfc6749#section-1.5)).
    RefreshToken
);

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the optimiser from short-circuiting the loop.
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let token = AccessToken::new("s3cr3t-value");
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
        assert_eq!(token.expose_secret(), "s3cr3t-value");
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}

//! Hand-written serde support for the core's data types.
//!
//! The core does not use serde's derive macros, which keeps `serde_derive`, `syn`, `quote` and
//! `proc-macro2` out of its dependency graph. [`json_object!`] writes the two impls a
//! `#[derive(Serialize, Deserialize)]` would for a struct with named fields, member by member
//! through serde's `MapAccess` (so the errors are serde_json's own, with line and column),
//! and each field's serde attributes become a [`Member`] kind:
//!
//! | kind          | derive attributes                                            |
//! |---------------|--------------------------------------------------------------|
//! | [`Required`]  | none: missing is an error, always written                    |
//! | [`Optional`]  | `#[serde(default, skip_serializing_if = "Option::is_none")]` |
//! | [`Defaulted`] | `#[serde(default)]`                                          |
//! | [`NonEmpty`]  | `#[serde(default, skip_serializing_if = "Map::is_empty")]`   |
//!
//! plus `flatten extra` for a trailing `#[serde(flatten)] extra: Map<String, Value>` (every
//! member that is not a field lands there), and aliases (`name | "alias"`). Without `flatten`,
//! members that are not fields are skipped, as derive does.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// How one struct field is defaulted and whether it is written (see the module docs).
pub(crate) trait Member<T> {
    /// True when the field is left out of the output.
    fn skip(_value: &T) -> bool {
        false
    }
    /// The value when the input has no such member.
    fn missing<E: de::Error>(name: &'static str) -> Result<T, E>;
    /// The value when a struct written as a sequence ends before this field, the `index`th.
    fn missing_element<E: de::Error>(
        name: &'static str,
        index: usize,
        expected: &dyn de::Expected,
    ) -> Result<T, E> {
        let _ = (index, expected);
        Self::missing(name)
    }
}

/// How one struct field is written.
pub(crate) trait Emit<T>: Member<T> {
    /// Serializes the value (when [`skip`](Member::skip) is false).
    fn serialize<S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error>;
}

/// How one struct field is read from the input.
pub(crate) trait Read<'de, T>: Member<T> {
    /// Deserializes the value.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<T, D::Error>;
}

/// A field that must be present.
pub(crate) struct Required;
/// An `Option` that is `None` when absent and left out when `None`.
pub(crate) struct Optional;
/// A field that takes its `Default` when absent and is always written.
pub(crate) struct Defaulted;
/// A map that is empty when absent and left out when empty.
pub(crate) struct NonEmpty;

impl<T> Member<T> for Required {
    fn missing<E: de::Error>(name: &'static str) -> Result<T, E> {
        Err(E::missing_field(name))
    }
    fn missing_element<E: de::Error>(
        _: &'static str,
        index: usize,
        expected: &dyn de::Expected,
    ) -> Result<T, E> {
        Err(E::invalid_length(index, expected))
    }
}

impl<'de, T: Deserialize<'de>> Read<'de, T> for Required {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

impl<T> Member<Option<T>> for Optional {
    fn skip(value: &Option<T>) -> bool {
        value.is_none()
    }
    fn missing<E: de::Error>(_: &'static str) -> Result<Option<T>, E> {
        Ok(None)
    }
}

impl<'de, T: Deserialize<'de>> Read<'de, Option<T>> for Optional {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        Option::deserialize(d)
    }
}

impl<T: Default> Member<T> for Defaulted {
    fn missing<E: de::Error>(_: &'static str) -> Result<T, E> {
        Ok(T::default())
    }
}

impl<'de, T: Default + Deserialize<'de>> Read<'de, T> for Defaulted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

impl Member<Map<String, Value>> for NonEmpty {
    fn skip(value: &Map<String, Value>) -> bool {
        value.is_empty()
    }
    fn missing<E: de::Error>(_: &'static str) -> Result<Map<String, Value>, E> {
        Ok(Map::new())
    }
}

impl<'de> Read<'de, Map<String, Value>> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
        Map::deserialize(d)
    }
}

macro_rules! emit_as_is {
    ($($kind:ty),*) => {$(
        impl<T: Serialize> Emit<T> for $kind
        where
            Self: Member<T>,
        {
            fn serialize<S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
                value.serialize(s)
            }
        }
    )*};
}

emit_as_is!(Required, Optional, Defaulted, NonEmpty);

/// Serializes a field through its [`Emit`] kind.
pub(crate) struct Write<'a, K, T>(pub(crate) &'a T, pub(crate) PhantomData<K>);

impl<K: Emit<T>, T> Serialize for Write<'_, K, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        K::serialize(self.0, s)
    }
}

/// Deserializes a field through its [`Read`] kind.
pub(crate) struct ReadSeed<K, T>(pub(crate) PhantomData<(K, T)>);

impl<'de, K: Read<'de, T>, T> DeserializeSeed<'de> for ReadSeed<K, T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        K::deserialize(d)
    }
}

/// Reads one member's value through its kind into `slot`, refusing a second occurrence with
/// serde's "duplicate field" error.
pub(crate) fn read_member<'de, K, T, A>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error>
where
    K: Read<'de, T>,
    A: MapAccess<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value_seed(ReadSeed::<K, T>(PhantomData))?);
    Ok(())
}

/// The value read for a field, or its kind's value for an absent member.
pub(crate) fn finish<K: Member<T>, T, E: de::Error>(
    slot: Option<T>,
    name: &'static str,
) -> Result<T, E> {
    match slot {
        Some(value) => Ok(value),
        None => K::missing(name),
    }
}

/// An object member's name, borrowed from the input when it has no escapes.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::token::Text::deserialize(d).map(|t| Self(t.0))
    }
}

/// The value of the `index`th element of a struct written as a sequence, or its kind's value
/// when the sequence ends first.
pub(crate) fn element<'de, K, T, A>(
    seq: &mut A,
    name: &'static str,
    index: usize,
    expected: &dyn de::Expected,
) -> Result<T, A::Error>
where
    K: Read<'de, T>,
    A: SeqAccess<'de>,
{
    match seq.next_element_seed(ReadSeed::<K, T>(PhantomData))? {
        Some(value) => Ok(value),
        None => K::missing_element(name, index, expected),
    }
}

/// What an object visitor expects, for serde's error messages: "struct X", or "struct X with
/// N elements" when `len` is given.
pub(crate) struct Expecting(pub(crate) &'static str, pub(crate) Option<usize>);

impl fmt::Display for Expecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.0)?;
        match self.1 {
            Some(1) => f.write_str(" with 1 element"),
            Some(len) => write!(f, " with {len} elements"),
            None => Ok(()),
        }
    }
}

impl de::Expected for Expecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Implements `Serialize` and `Deserialize` for a struct with named fields, each with its
/// [`Member`] kind (see the module docs). `de_only` implements just `Deserialize`.
macro_rules! json_object {
    (
        $(#[$mode:ident])?
        $ty:ident {
            $($field:ident $(| $alias:literal)* : $kind:ty),* $(,)?
        }
        $(flatten $extra:ident)?
    ) => {
        $crate::wire::json_object!(@ser [$($mode)?] $ty { $($field: $kind),* } $($extra)?);

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        ::std::fmt::Display::fmt(&$crate::wire::Expecting(stringify!($ty), None), f)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        $(let mut $field = None;)*
                        $(let mut $extra = serde_json::Map::new();)?
                        while let Some(key) = map.next_key::<$crate::wire::Key<'de>>()? {
                            match &*key.0 {
                                $(stringify!($field) $(| $alias)* => $crate::wire::read_member::<$kind, _, _>(
                                    &mut map,
                                    &mut $field,
                                    stringify!($field),
                                )?,)*
                                _ => {
                                    $crate::wire::json_object!(@unknown map key $($extra)?);
                                }
                            }
                        }
                        Ok($ty {
                            $($field: $crate::wire::finish::<$kind, _, _>($field, stringify!($field))?,)*
                            $($extra,)?
                        })
                    }
                    $crate::wire::json_object!(@seq $ty { $($field: $kind),* } $($extra)?);
                }
                $crate::wire::json_object!(@de d $ty Visitor [$($field)*] $($extra)?)
            }
        }
    };
    // A struct with a flattened map is only ever a map, as with derive.
    (@seq $ty:ident { $($field:ident: $kind:ty),* } $extra:ident) => {};
    // Derive also reads a struct written as a sequence of its fields in order.
    (@seq $ty:ident { $($field:ident: $kind:ty),* }) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<$ty, A::Error> {
            let fields: &[&str] = &[$(stringify!($field)),*];
            let expected = $crate::wire::Expecting(stringify!($ty), Some(fields.len()));
            let mut index = 0;
            $(
                let $field = $crate::wire::element::<$kind, _, _>(
                    &mut seq,
                    stringify!($field),
                    index,
                    &expected,
                )?;
                index += 1;
            )*
            let _ = index;
            Ok($ty { $($field),* })
        }
    };
    (@unknown $map:ident $key:ident $extra:ident) => {
        let value: serde_json::Value = $map.next_value()?;
        $extra.insert($key.0.into_owned(), value);
    };
    (@unknown $map:ident $key:ident) => {
        $map.next_value::<serde::de::IgnoredAny>()?;
    };
    (@de $d:ident $ty:ident $visitor:ident [$($field:ident)*] $extra:ident) => {
        $d.deserialize_map($visitor)
    };
    (@de $d:ident $ty:ident $visitor:ident [$($field:ident)*]) => {
        $d.deserialize_struct(stringify!($ty), &[$(stringify!($field)),*], $visitor)
    };
    (@ser [de_only] $($rest:tt)*) => {};
    (@ser [] $ty:ident { $($field:ident: $kind:ty),* } $($extra:ident)?) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::wire::json_object!(@ser_body self s $ty { $($field: $kind),* } $($extra)?)
            }
        }
    };
    (@ser_body $self:ident $s:ident $ty:ident { $($field:ident: $kind:ty),* } $extra:ident) => {{
        use serde::ser::SerializeMap as _;
        let mut out = $s.serialize_map(None)?;
        $(
            if !<$kind as $crate::wire::Member<_>>::skip(&$self.$field) {
                out.serialize_entry(
                    stringify!($field),
                    &$crate::wire::Write::<$kind, _>(&$self.$field, ::std::marker::PhantomData),
                )?;
            }
        )*
        for (key, value) in &$self.$extra {
            out.serialize_entry(key, value)?;
        }
        out.end()
    }};
    (@ser_body $self:ident $s:ident $ty:ident { $($field:ident: $kind:ty),* }) => {{
        use serde::ser::SerializeStruct as _;
        let len = 0 $(+ usize::from(!<$kind as $crate::wire::Member<_>>::skip(&$self.$field)))*;
        let mut out = $s.serialize_struct(stringify!($ty), len)?;
        $(
            if <$kind as $crate::wire::Member<_>>::skip(&$self.$field) {
                out.skip_field(stringify!($field))?;
            } else {
                out.serialize_field(
                    stringify!($field),
                    &$crate::wire::Write::<$kind, _>(&$self.$field, ::std::marker::PhantomData),
                )?;
            }
        )*
        out.end()
    }};
}

pub(crate) use json_object;

/// Reads an enum variant's name (or index) as one of `names`, like derive's variant
/// identifier; yields the index.
pub(crate) struct VariantName(pub(crate) &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for VariantName {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl de::Visitor<'_> for VariantName {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<usize, E> {
        match usize::try_from(v) {
            Ok(i) if i < self.0.len() => Ok(i),
            _ => Err(E::invalid_value(
                de::Unexpected::Unsigned(v),
                &format!("variant index 0 <= i < {}", self.0.len()).as_str(),
            )),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|name| *name == v)
            .ok_or_else(|| E::unknown_variant(v, self.0))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<usize, E> {
        match self.0.iter().position(|name| name.as_bytes() == v) {
            Some(i) => Ok(i),
            None => Err(E::unknown_variant(&String::from_utf8_lossy(v), self.0)),
        }
    }
}

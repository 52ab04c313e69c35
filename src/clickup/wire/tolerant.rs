//! ClickUp's loose fields, read as they come: ids as numbers or strings, timestamps as strings
//! or numbers, a custom role as an object or a bare id, a shared item as an object or a bare id,
//! a permission level as a name or a number, `null` for an empty list. Reading only: what is
//! written back is the derived `Serialize`. No knowledge of which field is which: the shapes
//! say that.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::{CustomRoleField, SharedItem};

pub(super) fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntVisitor)
}

pub(super) fn opt_int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(OptVisitor(IntVisitor))
}

/// A count of seats: a whole number, 0 or more.
pub(super) fn seat_count<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = int_or_string(d)?;
    if n < 0 {
        return Err(de::Error::custom(format!(
            "a seat count is 0 or more, not {n}"
        )));
    }
    Ok(n)
}

pub(super) fn opt_seat_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match opt_int_or_string(d)? {
        Some(n) if n < 0 => Err(de::Error::custom(format!(
            "a seat count is 0 or more, not {n}"
        ))),
        other => Ok(other),
    }
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer id")
    }

    fn visit_i64<E>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom("id out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            #[allow(clippy::cast_possible_truncation)]
            Ok(v as i64)
        } else {
            Err(E::custom("id is not a whole number"))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("\"{v}\" is not a numeric id")))
    }
}

/// Accepts `null` (and absence, with `#[serde(default)]`) around another visitor.
struct OptVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v).map(Some)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(v).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v).map(Some)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Some)
    }
}

pub(super) fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// Timestamps are strings of milliseconds in ClickUp's answers; numbers are accepted too.
pub(super) fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(OptVisitor(TextVisitor))
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

pub(super) fn custom_role_field<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<CustomRoleField>, D::Error> {
    d.deserialize_any(OptVisitor(CustomRoleVisitor))
}

struct CustomRoleVisitor;

impl<'de> Visitor<'de> for CustomRoleVisitor {
    type Value = CustomRoleField;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a custom role: {id, name} or an id")
    }

    fn visit_i64<E>(self, v: i64) -> Result<CustomRoleField, E> {
        Ok(CustomRoleField { id: v, name: None })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CustomRoleField, E> {
        IntVisitor
            .visit_u64(v)
            .map(|id| CustomRoleField { id, name: None })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<CustomRoleField, E> {
        IntVisitor
            .visit_str(v)
            .map(|id| CustomRoleField { id, name: None })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CustomRoleField, A::Error> {
        #[derive(Deserialize)]
        struct Obj {
            #[serde(deserialize_with = "int_or_string")]
            id: i64,
            #[serde(default)]
            name: Option<String>,
        }
        let obj = Obj::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(CustomRoleField {
            id: obj.id,
            name: obj.name,
        })
    }
}

/// A share's `permission_level`: `"read"`, `"comment"`, `"edit"`, `"create"`, or the number
/// ClickUp's v3 access API uses for each (1, 3, 4, 5). Another number is an error that names it.
pub(super) fn permission_level<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let Some(level) = d.deserialize_any(OptVisitor(TextVisitor))? else {
        return Ok(None);
    };
    if !level.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(level));
    }
    let key = match level.as_str() {
        "1" => "read",
        "3" => "comment",
        "4" => "edit",
        "5" => "create",
        other => {
            return Err(de::Error::custom(format!(
                "permission_level {other} is none of 1 (read), 3 (comment), 4 (edit), 5 (create)"
            )));
        }
    };
    Ok(Some(key.to_owned()))
}

pub(super) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl<'de> Deserialize<'de> for SharedItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = SharedItem;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a shared item: {id, permission_level} or an id")
            }

            fn visit_str<E>(self, v: &str) -> Result<SharedItem, E> {
                Ok(SharedItem {
                    id: v.to_owned(),
                    name: None,
                    permission_level: None,
                })
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SharedItem, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SharedItem, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<SharedItem, A::Error> {
                #[derive(Deserialize)]
                struct Obj {
                    #[serde(deserialize_with = "string_or_number")]
                    id: String,
                    #[serde(default)]
                    name: Option<String>,
                    #[serde(default, deserialize_with = "permission_level")]
                    permission_level: Option<String>,
                }
                let obj = Obj::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SharedItem {
                    id: obj.id,
                    name: obj.name,
                    permission_level: obj.permission_level,
                })
            }
        }
        d.deserialize_any(ItemVisitor)
    }
}

//! ClickUp's loose fields, read as they come: ids and seat counts as numbers or strings,
//! timestamps as strings or numbers, a custom role as an object or a bare id, a shared item as
//! an object or a bare id, a permission level as a name or v3's number. Each reader is a
//! `serde_with` [`DeserializeAs`], named in the shapes as `#[serde_as(deserialize_as = "Id")]`;
//! `null` and absence are serde_with's own (`Option<Id>`, `DefaultOnNull`). Reading only: what
//! is written back is the derived `Serialize`. Which field is which is for the shapes to say.
//!
//! The readers here are those serde_with has no faithful adapter for. Its
//! `PickFirst<(_, DisplayFromStr)>` would refuse ids that ClickUp's answers are read with today
//! (a whole number written `4.0`, a string with spaces around the digits) and its error lists
//! every alternative tried instead of naming the value; nothing in it turns a number into
//! text, or takes an object or a bare id.

use std::fmt;
use std::marker::PhantomData;

use compact_str::CompactString;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_with::{DeserializeAs, serde_as};

use super::{CustomRoleField, SharedItem};

/// An integer id: a number (a whole one, even written as `4.0`), or a string of one, spaces
/// around it ignored.
pub(crate) struct Id;

impl<'de> DeserializeAs<'de, i64> for Id {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
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

/// A count of seats: a whole number as [`Id`] reads one, 0 or more.
pub(crate) struct SeatCount;

impl<'de> DeserializeAs<'de, i64> for SeatCount {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = Id::deserialize_as(d)?;
        if n < 0 {
            return Err(de::Error::custom(format!(
                "a seat count is 0 or more, not {n}"
            )));
        }
        Ok(n)
    }
}

/// Text that ClickUp sends as a string or as a number (timestamps in milliseconds, some ids):
/// a number is kept as its digits.
pub(crate) struct Text;

impl<'de> DeserializeAs<'de, String> for Text {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_any(TextVisitor(PhantomData))
    }
}

impl<'de> DeserializeAs<'de, CompactString> for Text {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<CompactString, D::Error> {
        d.deserialize_any(TextVisitor(PhantomData))
    }
}

/// Reads text into a `String` or a `CompactString`.
struct TextVisitor<T>(PhantomData<T>);

impl<T: for<'a> From<&'a str>> Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E>(self, v: &str) -> Result<T, E> {
        Ok(T::from(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<T, E> {
        Ok(T::from(&v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<T, E> {
        Ok(T::from(&v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<T, E> {
        Ok(T::from(&v.to_string()))
    }
}

/// `custom_role` on a user: `{id, name}` in most answers, a bare id (a number or a string, not
/// a float) in some.
pub(crate) struct CustomRoleOrId;

impl<'de> DeserializeAs<'de, CustomRoleField> for CustomRoleOrId {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<CustomRoleField, D::Error> {
        d.deserialize_any(CustomRoleVisitor)
    }
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
        IdVisitor
            .visit_u64(v)
            .map(|id| CustomRoleField { id, name: None })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<CustomRoleField, E> {
        IdVisitor
            .visit_str(v)
            .map(|id| CustomRoleField { id, name: None })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CustomRoleField, A::Error> {
        #[serde_as]
        #[derive(Deserialize)]
        struct Object {
            #[serde_as(deserialize_as = "Id")]
            id: i64,
            #[serde(default)]
            name: Option<String>,
        }
        let Object { id, name } = Object::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(CustomRoleField { id, name })
    }
}

/// A share's `permission_level`: `"read"`, `"comment"`, `"edit"`, `"create"`, or the number
/// ClickUp's v3 access API uses for each (1, 3, 4, 5), read as its name. Another number is an
/// error that names it.
pub(crate) struct PermissionLevel;

impl<'de> DeserializeAs<'de, String> for PermissionLevel {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let level: String = Text::deserialize_as(d)?;
        if !level.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(level);
        }
        let name = match level.as_str() {
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
        Ok(name.to_owned())
    }
}

/// A shared folder, list or task: an object with `id` and `permission_level`, or a bare id (a
/// string or an integer).
impl<'de> Deserialize<'de> for SharedItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SharedItemVisitor)
    }
}

struct SharedItemVisitor;

impl<'de> Visitor<'de> for SharedItemVisitor {
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
        #[serde_as]
        #[derive(Deserialize)]
        struct Object {
            #[serde_as(deserialize_as = "Text")]
            id: String,
            #[serde(default)]
            name: Option<String>,
            #[serde_as(deserialize_as = "Option<PermissionLevel>")]
            #[serde(default)]
            permission_level: Option<String>,
        }
        let Object {
            id,
            name,
            permission_level,
        } = Object::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(SharedItem {
            id,
            name,
            permission_level,
        })
    }
}

#[cfg(test)]
mod tests {
    //! What each reader takes, pinned to what the hand-written visitors took before serde_with
    //! carried their `null`s.

    use serde::de::DeserializeOwned;
    use serde_json::json;
    use serde_with::DefaultOnNull;

    use super::*;

    #[serde_as]
    #[derive(Debug, Deserialize)]
    struct OptionalId {
        #[serde_as(deserialize_as = "Option<Id>")]
        #[serde(default)]
        v: Option<i64>,
    }

    #[serde_as]
    #[derive(Debug, Deserialize)]
    struct Timestamp {
        #[serde_as(deserialize_as = "Option<Text>")]
        #[serde(default)]
        v: Option<String>,
    }

    #[serde_as]
    #[derive(Debug, Deserialize)]
    struct CustomRole {
        #[serde_as(deserialize_as = "Option<CustomRoleOrId>")]
        #[serde(default)]
        v: Option<CustomRoleField>,
    }

    #[serde_as]
    #[derive(Debug, Deserialize)]
    struct Items {
        #[serde_as(deserialize_as = "DefaultOnNull")]
        #[serde(default)]
        v: Vec<SharedItem>,
    }

    #[serde_as]
    #[derive(Debug, Deserialize)]
    struct Seats {
        #[serde_as(deserialize_as = "SeatCount")]
        v: i64,
        #[serde_as(deserialize_as = "Option<SeatCount>")]
        #[serde(default)]
        w: Option<i64>,
    }

    fn read<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn an_id_is_a_whole_number_or_a_string_of_one() {
        let id = |v| read::<OptionalId>(json!({ "v": v })).map(|r| r.v);
        assert_eq!(id(json!(5)), Ok(Some(5)));
        assert_eq!(id(json!(-5)), Ok(Some(-5)));
        assert_eq!(id(json!("5")), Ok(Some(5)));
        assert_eq!(id(json!(" 5 ")), Ok(Some(5)), "spaces around are ignored");
        assert_eq!(id(json!("+5")), Ok(Some(5)));
        assert_eq!(id(json!(5.0)), Ok(Some(5)), "a whole float is an id");
        assert_eq!(id(json!(null)), Ok(None));
        assert_eq!(read::<OptionalId>(json!({})).map(|r| r.v), Ok(None));
        assert_eq!(id(json!(5.5)), Err("id is not a whole number".to_owned()));
        assert_eq!(id(json!(1e20)), Err("id is not a whole number".to_owned()));
        assert_eq!(id(json!(u64::MAX)), Err("id out of range".to_owned()));
        assert_eq!(
            id(json!("abc")),
            Err("\"abc\" is not a numeric id".to_owned())
        );
        assert!(id(json!(true)).is_err());
    }

    #[test]
    fn a_timestamp_is_text_or_a_number_kept_as_its_digits() {
        let ts = |v| read::<Timestamp>(json!({ "v": v })).map(|r| r.v);
        assert_eq!(ts(json!("1750600000000")), Ok(Some("1750600000000".into())));
        assert_eq!(
            ts(json!(1_750_600_000_000_i64)),
            Ok(Some("1750600000000".into()))
        );
        assert_eq!(ts(json!(-3)), Ok(Some("-3".into())));
        assert_eq!(ts(json!(1.5)), Ok(Some("1.5".into())));
        assert_eq!(ts(json!(9.0)), Ok(Some("9".into())));
        assert_eq!(ts(json!(null)), Ok(None));
        assert!(ts(json!(true)).is_err());
        assert!(ts(json!([])).is_err());
    }

    #[test]
    fn a_custom_role_is_an_object_or_a_bare_id_but_never_a_float() {
        let role = |v| read::<CustomRole>(json!({ "v": v })).map(|r| r.v);
        let field = |id, name: Option<&str>| {
            Ok(Some(CustomRoleField {
                id,
                name: name.map(str::to_owned),
            }))
        };
        assert_eq!(role(json!(5)), field(5, None));
        assert_eq!(role(json!(-5)), field(-5, None));
        assert_eq!(role(json!("5")), field(5, None));
        assert_eq!(role(json!({"id": "5", "name": "x"})), field(5, Some("x")));
        assert_eq!(role(json!({"id": 5.0})), field(5, None));
        assert_eq!(role(json!(null)), Ok(None));
        assert_eq!(
            role(json!({"name": "x"})),
            Err("missing field `id`".to_owned())
        );
        assert_eq!(
            role(json!(5.0)),
            Err(
                "invalid type: floating point `5.0`, expected a custom role: {id, name} or an id"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_shared_item_is_an_object_or_a_bare_id_and_null_is_no_items() {
        let items = |v| read::<Items>(json!({ "v": v })).map(|r| r.v);
        let item = |id: &str, level: Option<&str>| SharedItem {
            id: id.to_owned(),
            name: None,
            permission_level: level.map(str::to_owned),
        };
        assert_eq!(
            items(json!(["86a0x1q", 9, -4, {"id": 9.0, "permission_level": 4}])),
            Ok(vec![
                item("86a0x1q", None),
                item("9", None),
                item("-4", None),
                item("9", Some("edit")),
            ])
        );
        assert_eq!(
            items(json!([{"id": 1, "permission_level": "own"}])),
            Ok(vec![item("1", Some("own"))]),
            "a name is kept as it is"
        );
        assert_eq!(items(json!(null)), Ok(vec![]));
        assert_eq!(read::<Items>(json!({})).map(|r| r.v), Ok(vec![]));
        assert_eq!(
            items(json!([{"id": 1, "permission_level": 2}])),
            Err(
                "permission_level 2 is none of 1 (read), 3 (comment), 4 (edit), 5 (create)"
                    .to_owned()
            )
        );
        assert!(items(json!([1.5])).is_err(), "a bare float is no id");
    }

    #[test]
    fn a_seat_count_is_zero_or_more() {
        let seats = |v, w| read::<Seats>(json!({ "v": v, "w": w })).map(|r| (r.v, r.w));
        assert_eq!(seats(json!("9"), json!(null)), Ok((9, None)));
        assert_eq!(seats(json!(0), json!(3)), Ok((0, Some(3))));
        assert_eq!(
            seats(json!(-1), json!(null)),
            Err("a seat count is 0 or more, not -1".to_owned())
        );
        assert_eq!(
            seats(json!(1), json!(-2)),
            Err("a seat count is 0 or more, not -2".to_owned())
        );
    }
}

//! The JSON Schema of the members file and of a fragment (`schema`, `schema --fragment`), which
//! editors and CI validate the files against: the schemas written by hand where the derived ones
//! would not say what the decoder accepts (values that are text or numbers, lists that may be
//! left empty, roles, shares, dates), and the printing. It must agree with the decoder, never
//! decide anything itself; `tests/it/schema.rs` holds the two to each other. Pure.

use schemars::JsonSchema;

use crate::config::{Access, At, Expiry, FragmentFile, MembersFile, RoleName};
use crate::model::{ShareKind, SharePermission};

/// The JSON Schema of a fragment (`include:`), pretty-printed.
pub(crate) fn fragment_json_schema() -> String {
    schema_of::<FragmentFile>()
}

/// The JSON Schema (draft-07, which yaml-language-server reads) of the file, pretty-printed.
pub(crate) fn json_schema() -> String {
    schema_of::<MembersFile>()
}

fn schema_of<T: JsonSchema>() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// `include:`.
pub(super) fn includes(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "string", "minLength": 1 },
        "description": "Fragment files whose members, guests and groups are merged into this file: globs relative to this file (teams/*.yaml), each matching at least one file."
    })
}

/// `version:`, always 1.
pub(super) fn version_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "const": 1, "description": "Format version of this file: always 1." })
}

/// `workspace.id`: digits, written as text or as a number.
pub(super) fn workspace_id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["string", "integer"],
        "pattern": "^[0-9]+$",
        "minimum": 0,
        "description": "The Workspace (team) id, as in https://app.clickup.com/<id>/…"
    })
}

/// A name: text that is not blank, or a number (`name: 42`).
pub(super) fn name_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "integer"], "minLength": 1, "pattern": NOT_BLANK })
}

/// Text that is not blank.
pub(super) fn text_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "minLength": 1, "pattern": NOT_BLANK })
}

/// A path relative to the Workspace file that stays in its folder: not absolute, no `..`.
pub(super) fn relative_path_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "minLength": 1, "pattern": RELATIVE })
}

/// `sync.into`: one YAML file relative to the Workspace file, in its folder, not a pattern.
pub(super) fn into_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "minLength": 1,
        "allOf": [
            { "pattern": RELATIVE },
            { "pattern": "^[^*?\\[\\]{}]*\\.ya?ml\\s*$" }
        ]
    })
}

/// Not absolute (`/x`, `\x`, `C:\x`) and no `..` part.
const RELATIVE: &str = r"^(?!\s*[/\\])(?!\s*[A-Za-z]:)(?!\s*(.*[/\\])?\.\.([/\\]|\s*$))(?=.*\S).+$";

/// A list that may also be left empty (`members:` with nothing under it).
pub(super) fn list_or_nothing<T: JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    let items = generator.subschema_for::<T>();
    schemars::json_schema!({ "type": ["array", "null"], "items": items, "default": [] })
}

/// A person's `groups`: names of user groups the file defines.
pub(super) fn group_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["array", "null"],
        "items": { "type": ["string", "integer"], "minLength": 1, "pattern": NOT_BLANK },
        "default": []
    })
}

/// A person's `source`: the `sync` rules that brought them, `from:group`.
pub(super) fn source_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["array", "null"],
        "items": { "type": "string", "pattern": "^(okta|entra|google|csv):." },
        "default": []
    })
}

/// A URL of a source: https, or http to a loopback address.
pub(super) fn url_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": "^(https://[^\\s/]+|http://(localhost|127\\.[0-9.]+|\\[::1\\])(:[0-9]+)?)(/\\S*)?$"
    })
}

/// JSON Schema's pattern for text with something else than spaces in it.
const NOT_BLANK: &str = "\\S";

/// JSON Schema's pattern for a domain as `policy.member_domains` takes it: labels joined by
/// dots, without a scheme, a user, a port or a path.
const DOMAIN_PATTERN: &str = "^([^\\s@/:.]+\\.)+[^\\s@/:.]+$";

/// `policy.member_domains`: at least one domain.
pub(super) fn domains(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "minItems": 1,
        "items": { "type": "string", "pattern": DOMAIN_PATTERN }
    })
}

impl JsonSchema for Expiry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Expiry".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [
                { "type": "string", "format": "date" },
                { "type": "string", "format": "date-time" }
            ],
            "description": "A date (00:00 UTC that day) or a time with its zone, in RFC 3339."
        })
    }
}

impl JsonSchema for RoleName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Role".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "admin, member, owner (only the Workspace's real owner), or the name of a custom role of the Workspace (case-insensitive).",
            "anyOf": [
                { "enum": ["admin", "member", "owner"] },
                {
                    "type": "string",
                    "minLength": 1,
                    "pattern": NOT_BLANK,
                    "not": { "pattern": "^\\s*[Gg][Uu][Ee][Ss][Tt]\\s*$" },
                    "description": "The name of a custom role (a member cannot have the role guest: list guests under `guests`)."
                }
            ],
            "default": "member"
        })
    }
}

impl JsonSchema for Access {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Access".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let permission = generator.subschema_for::<SharePermission>();
        let one = |kind: ShareKind| {
            // ClickUp's folder and list ids are numbers; task ids may be custom ("DEV-42").
            let pattern = match kind {
                ShareKind::Task => NOT_BLANK,
                ShareKind::Folder | ShareKind::List => "^\\s*[0-9]+\\s*$",
            };
            schemars::json_schema!({
                "type": "object",
                "properties": {
                    kind.key(): {
                        "type": ["string", "integer"],
                        "minimum": 0,
                        "minLength": 1,
                        "pattern": pattern,
                        "description": format!("The id of the {}.", kind.key())
                    },
                    "permission": permission.clone()
                },
                "required": [kind.key(), "permission"],
                "additionalProperties": false
            })
        };
        schemars::json_schema!({
            "description": "A folder, list or task shared with the guest, and the permission level.",
            "oneOf": [one(ShareKind::Folder), one(ShareKind::List), one(ShareKind::Task)]
        })
    }
}

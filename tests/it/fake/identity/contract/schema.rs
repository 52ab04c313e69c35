//! The descriptions' schemas (OpenAPI 3.0, Google discovery) as JSON Schema 2020-12: see the
//! module above for what is converted and why.

use serde_json::{Map, Value, json};

use super::MAX_ERRORS;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    Okta,
    Graph,
    Google,
}

pub(super) struct Convert<'a> {
    /// `components.schemas` (OpenAPI) or `schemas` (discovery), as published.
    pub(super) schemas: &'a Map<String, Value>,
    pub(super) flavour: Flavour,
    /// Close every object that lists its properties (answers only).
    pub(super) close: bool,
}

impl Convert<'_> {
    fn ref_name<'r>(&self, reference: &'r str) -> &'r str {
        reference
            .strip_prefix("#/components/schemas/")
            .or_else(|| reference.strip_prefix("#/schemas/"))
            .unwrap_or(reference)
    }

    fn target(&self, name: &str) -> String {
        match self.flavour {
            Flavour::Google => format!("#/schemas/{name}"),
            _ => format!("#/components/schemas/{name}"),
        }
    }

    /// The schema with its `allOf` branches merged into one object's keywords (not yet
    /// converted); `inline`: a `$ref` is replaced by what it names (an `allOf` branch).
    pub(super) fn flat(&self, schema: &Value, inline: bool) -> Map<String, Value> {
        let Some(map) = schema.as_object() else {
            return Map::new();
        };
        let mut out = Map::new();
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut absorb = |part: Map<String, Value>, out: &mut Map<String, Value>| {
            for (key, value) in part {
                match key.as_str() {
                    "properties" => {
                        if let Value::Object(p) = value {
                            properties.extend(p);
                        }
                    }
                    "required" => {
                        for r in value.as_array().into_iter().flatten() {
                            if !required.contains(r) {
                                required.push(r.clone());
                            }
                        }
                    }
                    _ => {
                        out.insert(key, value);
                    }
                }
            }
        };
        let mut own = map.clone();
        let branches = own.remove("allOf");
        let reference = own.remove("$ref");
        for branch in branches
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let part = self.flat(branch, true);
            absorb(part, &mut out);
        }
        if let Some(Value::String(r)) = &reference {
            if inline {
                if let Some(target) = self.schemas.get(self.ref_name(r)) {
                    let part = self.flat(target, true);
                    absorb(part, &mut out);
                }
            } else {
                out.insert("$ref".into(), json!(self.target(self.ref_name(r))));
            }
        }
        absorb(own, &mut out);
        if !properties.is_empty() {
            out.insert("properties".into(), Value::Object(properties));
            out.entry("type").or_insert(json!("object"));
        }
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
        out
    }

    pub(super) fn schema(&self, schema: &Value) -> Value {
        if !schema.is_object() {
            return schema.clone();
        }
        // A discovery `$ref` is a bare name; a bare reference stays a reference.
        if let Some(Value::String(r)) = schema.get("$ref")
            && schema.as_object().is_some_and(|m| m.len() == 1)
        {
            return json!({"$ref": self.target(self.ref_name(r))});
        }
        let mut map = self.flat(schema, false);
        for key in ["example", "xml", "externalDocs", "readOnly", "writeOnly"] {
            map.remove(key);
        }
        map.retain(|k, _| !k.starts_with("x-"));
        if self.flavour == Flavour::Google {
            // A discovery schema's `id` names it; in JSON Schema 2020-12 it would mean nothing,
            // in older drafts a base URI.
            map.remove("id");
        }
        if self.flavour == Flavour::Graph {
            // notes §2.7: the generator's `additionalProperties: {type: object}` rejects
            // declared properties of other `allOf` branches and every OData annotation.
            map.remove("additionalProperties");
        }
        let discriminator = map.remove("discriminator");
        let nullable = map.remove("nullable") == Some(Value::Bool(true));
        for key in ["properties", "patternProperties"] {
            if let Some(Value::Object(props)) = map.get_mut(key) {
                for value in props.values_mut() {
                    *value = self.schema(value);
                }
            }
        }
        for key in ["items", "not", "additionalProperties"] {
            if let Some(value) = map.get_mut(key)
                && value.is_object()
            {
                *value = self.schema(value);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = map.get_mut(key) {
                for value in list.iter_mut() {
                    *value = self.schema(value);
                }
            }
        }
        if let Some(d) = discriminator
            && let (Some(property), Some(mapping)) =
                (d["propertyName"].as_str(), d["mapping"].as_object())
        {
            let conditions: Vec<Value> = mapping
                .iter()
                .filter_map(|(value, target)| {
                    let target = self.target(self.ref_name(target.as_str()?));
                    Some(json!({
                        "if": {"properties": {property: {"const": value}}, "required": [property]},
                        "then": {"$ref": target}
                    }))
                })
                .collect();
            map.insert("allOf".into(), Value::Array(conditions));
        }
        if self.close && map.contains_key("properties") && !map.contains_key("additionalProperties")
        {
            map.insert("additionalProperties".into(), Value::Bool(false));
            if self.flavour == Flavour::Graph {
                map.insert("patternProperties".into(), json!({"^@odata\\.": {}}));
            }
        }
        if nullable {
            match map.get("type").cloned() {
                Some(Value::String(t)) => {
                    map.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(values)) = map.get_mut("enum") {
                        values.push(Value::Null);
                    }
                }
                _ => return json!({"anyOf": [{"type": "null"}, Value::Object(map)]}),
            }
        }
        Value::Object(map)
    }

    pub(super) fn all(&self) -> Value {
        Value::Object(
            self.schemas
                .iter()
                .map(|(name, schema)| (name.clone(), self.schema(schema)))
                .collect(),
        )
    }
}

pub(super) fn compile(root: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(root)
        .unwrap_or_else(|e| panic!("a schema of the identity contracts compiles: {e}"))
}

/// A validator of `target` (a converted schema) with the converted components beside it.
pub(super) fn validator(
    flavour: Flavour,
    components: &Value,
    target: Value,
) -> jsonschema::Validator {
    let root = match flavour {
        Flavour::Google => json!({"schemas": components, "allOf": [target]}),
        _ => json!({"components": {"schemas": components}, "allOf": [target]}),
    };
    compile(&root)
}

pub(super) fn schema_errors(
    validator: &jsonschema::Validator,
    body: &Value,
    at: &str,
) -> Vec<String> {
    validator
        .iter_errors(body)
        .take(MAX_ERRORS)
        .map(|e| format!("{at}: body{} {e}", e.instance_path()))
        .collect()
}

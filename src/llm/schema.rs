//! Tool argument schemas made acceptable to each provider. Our own tools write plain schemas,
//! but MCP servers send whatever their SDK generates (`$schema`, `$ref`/`$defs`, `anyOf` unions,
//! `const`, `format: uri`, `type: ["string", "null"]` …).
//!
//! - Claude and OpenAI take JSON Schema: [`for_json_schema`] only makes sure the top level is an
//!   object schema with `properties` and drops `$schema`.
//! - Gemini takes an OpenAPI 3.0 subset and rejects the rest of the request when a schema uses
//!   anything else, so [`for_gemini`] rebuilds each schema from the keywords it accepts:
//!   references are inlined (cycles and depth bounded), unions become their first non-null
//!   branch (nullable when one branch is `null`), `const` becomes a one-value `enum`, enums keep
//!   only string values, formats only those it knows, `required` only names that exist.

use serde_json::{Map, Value, json};

/// Deepest nesting converted; deeper parts become a plain string argument.
const MAX_DEPTH: usize = 12;
/// Formats Gemini accepts, by type.
const GEMINI_FORMATS: [(&str, &str); 6] = [
    ("string", "date-time"),
    ("string", "enum"),
    ("integer", "int32"),
    ("integer", "int64"),
    ("number", "float"),
    ("number", "double"),
];
/// Types Gemini knows.
const GEMINI_TYPES: [&str; 6] = ["string", "number", "integer", "boolean", "array", "object"];

/// A schema for Claude and OpenAI: an object schema at the top, without `$schema`.
pub fn for_json_schema(schema: &Value) -> Value {
    let mut out = match schema {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    out.remove("$schema");
    out.insert("type".into(), json!("object"));
    if !out.get("properties").is_some_and(Value::is_object) {
        out.insert("properties".into(), json!({}));
    }
    Value::Object(out)
}

/// A schema for Gemini: only the OpenAPI subset it accepts (see the module docs).
pub fn for_gemini(schema: &Value) -> Value {
    let defs = definitions(schema);
    let mut out = convert(schema, &defs, 0, &mut Vec::new());
    if let Value::Object(map) = &mut out {
        map.insert("type".into(), json!("object"));
    }
    out
}

/// `$defs` and `definitions` of the root, by reference string.
fn definitions(root: &Value) -> Map<String, Value> {
    let mut defs = Map::new();
    for (key, prefix) in [("$defs", "#/$defs/"), ("definitions", "#/definitions/")] {
        if let Some(map) = root.get(key).and_then(Value::as_object) {
            for (name, schema) in map {
                defs.insert(format!("{prefix}{name}"), schema.clone());
            }
        }
    }
    defs
}

fn convert(
    schema: &Value,
    defs: &Map<String, Value>,
    depth: usize,
    seen: &mut Vec<String>,
) -> Value {
    let Some(map) = schema.as_object() else {
        return json!({"type": "string"});
    };
    if depth > MAX_DEPTH {
        return json!({"type": "string", "description": "(nested too deeply to describe)"});
    }
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let target = defs
            .get(reference)
            .filter(|_| !seen.iter().any(|s| s == reference));
        let Some(target) = target else {
            return json!({"type": "object", "description": describe(map, "(a nested object)")});
        };
        seen.push(reference.to_string());
        let mut out = convert(target, defs, depth + 1, seen);
        seen.pop();
        if let (Value::Object(out), Some(d)) = (&mut out, map.get("description")) {
            out.insert("description".into(), d.clone());
        }
        return out;
    }
    if let Some(variants) = ["anyOf", "oneOf", "allOf"]
        .iter()
        .find_map(|k| map.get(*k).and_then(Value::as_array))
    {
        return union(map, variants, defs, depth, seen);
    }
    let (kind, nullable) = kind_of(map);
    let mut out = Map::new();
    out.insert("type".into(), json!(kind));
    if nullable || map.get("nullable") == Some(&Value::Bool(true)) {
        out.insert("nullable".into(), json!(true));
    }
    if let Some(d) = map.get("description").and_then(Value::as_str) {
        out.insert("description".into(), json!(d));
    }
    if let Some(e) = enum_values(map) {
        out.insert("type".into(), json!("string"));
        out.insert("enum".into(), e);
    }
    if let Some(f) = map.get("format").and_then(Value::as_str)
        && GEMINI_FORMATS.contains(&(kind, f))
    {
        out.insert("format".into(), json!(f));
    }
    for key in ["minimum", "maximum", "minItems", "maxItems"] {
        if let Some(n) = map.get(key).filter(|v| v.is_number()) {
            out.insert(key.into(), n.clone());
        }
    }
    match kind {
        "object" => object(map, &mut out, defs, depth, seen),
        "array" => {
            let items = map.get("items").map_or_else(
                || json!({"type": "string"}),
                |i| convert(i, defs, depth + 1, seen),
            );
            out.insert("items".into(), items);
        }
        _ => {}
    }
    Value::Object(out)
}

/// Properties and the `required` names that exist among them.
fn object(
    map: &Map<String, Value>,
    out: &mut Map<String, Value>,
    defs: &Map<String, Value>,
    depth: usize,
    seen: &mut Vec<String>,
) {
    let Some(properties) = map.get("properties").and_then(Value::as_object) else {
        return;
    };
    let converted: Map<String, Value> = properties
        .iter()
        .map(|(k, v)| (k.clone(), convert(v, defs, depth + 1, seen)))
        .collect();
    if let Some(required) = map.get("required").and_then(Value::as_array) {
        let names: Vec<Value> = required
            .iter()
            .filter(|r| r.as_str().is_some_and(|n| converted.contains_key(n)))
            .cloned()
            .collect();
        if !names.is_empty() {
            out.insert("required".into(), Value::Array(names));
        }
    }
    out.insert("properties".into(), Value::Object(converted));
}

/// A union as its first non-null branch; nullable when one branch is `null`.
fn union(
    map: &Map<String, Value>,
    variants: &[Value],
    defs: &Map<String, Value>,
    depth: usize,
    seen: &mut Vec<String>,
) -> Value {
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    let nullable = variants.iter().any(is_null);
    let first = variants.iter().find(|v| !is_null(v));
    let mut out = first.map_or_else(
        || json!({"type": "string"}),
        |v| convert(v, defs, depth + 1, seen),
    );
    if let Value::Object(out) = &mut out {
        if nullable {
            out.insert("nullable".into(), json!(true));
        }
        if let Some(d) = map.get("description") {
            out.insert("description".into(), d.clone());
        }
    }
    out
}

/// The schema's type (`type` as a string or a list with `null`, else guessed) and whether it
/// may be null.
fn kind_of(map: &Map<String, Value>) -> (&'static str, bool) {
    let known = |t: &str| GEMINI_TYPES.iter().copied().find(|k| *k == t);
    match map.get("type") {
        Some(Value::String(t)) => (known(t).unwrap_or("string"), false),
        Some(Value::Array(types)) => {
            let nullable = types.iter().any(|t| t == "null");
            let kind = types.iter().filter_map(Value::as_str).find_map(known);
            (kind.unwrap_or("string"), nullable)
        }
        _ if map.contains_key("properties") => ("object", false),
        _ if map.contains_key("items") => ("array", false),
        _ => ("string", false),
    }
}

/// String `enum` values (and `const` as a one-value enum); `None` when they are not all strings.
fn enum_values(map: &Map<String, Value>) -> Option<Value> {
    let values = match (map.get("enum"), map.get("const")) {
        (Some(Value::Array(values)), _) => values.clone(),
        (None, Some(value)) => vec![value.clone()],
        _ => return None,
    };
    let all_strings = !values.is_empty() && values.iter().all(Value::is_string);
    all_strings.then_some(Value::Array(values))
}

fn describe(map: &Map<String, Value>, fallback: &str) -> String {
    map.get("description")
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_string()
}

#[cfg(test)]
mod tests;

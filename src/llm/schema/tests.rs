//! Schema conversion on the real schemas of the two reference MCP servers (`mcp-server-time` and
//! `@modelcontextprotocol/server-everything`, saved from their `tools/list`) and on the
//! constructs other SDKs generate.

use serde_json::{Value, json};

use super::*;

/// Keywords Gemini's OpenAPI subset accepts (as produced here).
const GEMINI_KEYS: [&str; 12] = [
    "type",
    "nullable",
    "description",
    "enum",
    "format",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "items",
    "properties",
    "required",
];

fn reference_schemas() -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for text in [
        include_str!("../../mcp/testdata/time_schemas.json"),
        include_str!("../../mcp/testdata/everything_schemas.json"),
    ] {
        let map: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        all.extend(map);
    }
    assert!(all.len() >= 10, "both servers' tools are there");
    all
}

/// Panics with the path when `schema` uses anything Gemini rejects.
fn assert_gemini_subset(schema: &Value, path: &str) {
    let map = schema
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"));
    for key in map.keys() {
        assert!(
            GEMINI_KEYS.contains(&key.as_str()),
            "{path}: {key} in {schema}"
        );
    }
    let kind = map["type"]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: no type"));
    assert!(GEMINI_TYPES.contains(&kind), "{path}: type {kind}");
    if let Some(format) = map.get("format") {
        assert!(
            GEMINI_FORMATS.contains(&(kind, format.as_str().unwrap())),
            "{path}"
        );
    }
    if let Some(values) = map.get("enum") {
        assert_eq!(kind, "string", "{path}");
        assert!(
            values.as_array().unwrap().iter().all(Value::is_string),
            "{path}"
        );
    }
    if kind == "array" {
        assert_gemini_subset(&map["items"], &format!("{path}.items"));
    }
    if let Some(properties) = map.get("properties") {
        let properties = properties.as_object().unwrap();
        for (name, p) in properties {
            assert_gemini_subset(p, &format!("{path}.{name}"));
        }
        for r in map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert!(
                properties.contains_key(r.as_str().unwrap()),
                "{path}: required {r}"
            );
        }
    }
}

#[test]
fn every_reference_server_schema_becomes_gemini_s_subset() {
    for (name, schema) in reference_schemas() {
        let converted = for_gemini(&schema);
        assert_gemini_subset(&converted, &name);
        assert_eq!(converted["type"], "object", "{name}");
    }
}

#[test]
fn the_reference_schemas_keep_their_arguments_and_descriptions() {
    let schemas: std::collections::HashMap<_, _> = reference_schemas().into_iter().collect();
    assert_eq!(
        for_gemini(&schemas["get-sum"]),
        json!({"type": "object", "required": ["a", "b"], "properties": {
            "a": {"type": "number", "description": "First number"},
            "b": {"type": "number", "description": "Second number"}}})
    );
    let time = for_gemini(&schemas["get_current_time"]);
    assert_eq!(time["required"], json!(["timezone"]));
    assert_eq!(time["properties"]["timezone"]["type"], "string");
    assert!(time.get("title").is_none());
    let gzip = for_gemini(&schemas["gzip-file-as-resource"]);
    assert!(
        gzip["properties"]["data"].get("format").is_none(),
        "uri is not a Gemini format"
    );
    let annotated = for_gemini(&schemas["get-annotated-message"]);
    assert_eq!(
        annotated["properties"]["messageType"]["enum"],
        json!(["error", "success", "debug"])
    );
}

#[test]
fn references_unions_constants_and_type_lists_are_translated() {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": false,
        "$defs": {
            "Point": {"type": "object", "properties": {"x": {"type": "integer", "format": "int64"}}},
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
        },
        "properties": {
            "at": {"$ref": "#/$defs/Point", "description": "Where"},
            "node": {"$ref": "#/$defs/Node"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null},
            "mode": {"const": "fast"},
            "size": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "tags": {"type": ["array", "null"]},
            "level": {"enum": [1, 2, 3], "type": "integer"},
            "missing": {"$ref": "#/$defs/Nowhere"}
        },
        "required": ["at", "ghost"]
    });
    let out = for_gemini(&schema);
    assert_gemini_subset(&out, "root");
    let p = &out["properties"];
    assert_eq!(p["at"]["description"], "Where");
    assert_eq!(
        p["at"]["properties"]["x"],
        json!({"type": "integer", "format": "int64"})
    );
    assert_eq!(
        p["node"]["properties"]["next"]["type"], "object",
        "a cycle stops"
    );
    assert_eq!(p["note"], json!({"type": "string", "nullable": true}));
    assert_eq!(p["mode"], json!({"type": "string", "enum": ["fast"]}));
    assert_eq!(p["size"]["type"], "integer");
    assert_eq!(
        p["tags"],
        json!({"type": "array", "nullable": true, "items": {"type": "string"}})
    );
    assert_eq!(
        p["level"],
        json!({"type": "integer"}),
        "non-string enums are dropped"
    );
    assert_eq!(out["required"], json!(["at"]));
}

#[test]
fn hostile_schemas_stay_bounded() {
    let mut deep = json!({"type": "string"});
    for _ in 0..500 {
        deep = json!({"type": "object", "properties": {"a": deep}});
    }
    assert_gemini_subset(&for_gemini(&deep), "deep");
    assert_eq!(for_gemini(&json!("nonsense"))["type"], "object");
    assert_eq!(for_gemini(&json!({"type": 7}))["type"], "object");
}

#[test]
fn claude_and_openai_get_an_object_schema_without_dollar_schema() {
    let out = for_json_schema(&json!({"$schema": "x", "properties": {"a": {"type": "string"}}}));
    assert_eq!(
        out,
        json!({"type": "object", "properties": {"a": {"type": "string"}}})
    );
    assert_eq!(
        for_json_schema(&json!(null)),
        json!({"type": "object", "properties": {}})
    );
}

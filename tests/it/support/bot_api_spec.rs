//! The official Bot API description (`tests/fixtures/telegram-bot-api/api.json`) as a checker:
//! every call the fake receives is validated against it, so a wrong method name, a missing
//! required parameter, an unknown parameter or a value of the wrong JSON shape is caught.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The api.json text, compiled into the test binary.
const API_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/telegram-bot-api/api.json"
));

/// The parsed description, loaded once per test binary.
pub static SPEC: LazyLock<BotApiSpec> = LazyLock::new(|| {
    let raw: RawSpec = serde_json::from_str(API_JSON)
        .unwrap_or_else(|e| panic!("tests/fixtures/telegram-bot-api/api.json is not valid: {e}"));
    BotApiSpec::new(raw)
});

#[derive(Deserialize)]
struct RawSpec {
    methods: HashMap<String, Definition>,
    types: HashMap<String, Definition>,
}

/// A method or a type: its fields, or (for an abstract type) the concrete subtypes it stands for.
#[derive(Deserialize)]
pub struct Definition {
    /// camelCase method name or PascalCase type name, as the documentation spells it.
    pub name: String,
    /// Parameters (methods) or fields (types); absent when there are none.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Concrete types of an abstract type such as `BotCommandScope`.
    #[serde(default)]
    pub subtypes: Vec<String>,
}

/// One parameter or field.
#[derive(Deserialize)]
pub struct Field {
    /// Name on the wire (snake_case).
    pub name: String,
    /// Accepted types, e.g. `["Integer", "String"]` or `["Array of MessageEntity"]`.
    pub types: Vec<String>,
    /// Whether Telegram rejects a call (or never sends an object) without it.
    pub required: bool,
}

/// Methods (keyed by lowercase name, because teloxide sends `SendMessage`) and types.
pub struct BotApiSpec {
    methods: HashMap<String, Definition>,
    types: HashMap<String, Definition>,
}

impl BotApiSpec {
    fn new(raw: RawSpec) -> Self {
        let methods = raw
            .methods
            .into_values()
            .map(|m| (m.name.to_ascii_lowercase(), m))
            .collect();
        Self {
            methods,
            types: raw.types,
        }
    }

    /// The method whose name matches `name` case-insensitively (`SendMessage` → `sendMessage`).
    pub fn method(&self, name: &str) -> Option<&Definition> {
        self.methods.get(&name.to_ascii_lowercase())
    }

    /// Every problem with `params` as arguments of `method`, one sentence each.
    pub fn check_params(&self, method: &Definition, params: &Map<String, Value>) -> Vec<String> {
        self.check_fields(&method.name, "parameter", &method.fields, params)
    }

    fn check_fields(
        &self,
        path: &str,
        what: &str,
        fields: &[Field],
        object: &Map<String, Value>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for field in fields {
            let present = object.get(&field.name).is_some_and(|v| !v.is_null());
            if field.required && !present {
                problems.push(format!("{path}: missing required {what} `{}`", field.name));
            }
        }
        for (key, value) in object {
            let Some(field) = fields.iter().find(|f| &f.name == key) else {
                problems.push(format!("{path}: unknown {what} `{key}`"));
                continue;
            };
            if !value.is_null() {
                problems.extend(self.check_any(&format!("{path}.{key}"), &field.types, value));
            }
        }
        problems
    }

    /// Problems of `value` against a list of alternative types: none if any alternative fits.
    fn check_any(&self, path: &str, types: &[String], value: &Value) -> Vec<String> {
        let mut first_shape_match = None;
        for ty in types {
            match self.check_one(path, ty, value) {
                Some(problems) if problems.is_empty() => return problems,
                Some(problems) => {
                    first_shape_match.get_or_insert(problems);
                }
                None => {}
            }
        }
        first_shape_match.unwrap_or_else(|| {
            vec![format!(
                "{path}: expected {}, got {}",
                types.join(" or "),
                json_kind(value)
            )]
        })
    }

    /// `None` when the JSON kind is wrong; otherwise the nested problems (empty when it fits).
    fn check_one(&self, path: &str, ty: &str, value: &Value) -> Option<Vec<String>> {
        if let Some(item) = ty.strip_prefix("Array of ") {
            let items = value.as_array()?;
            let item_types = [item.to_owned()];
            let problems = items
                .iter()
                .enumerate()
                .flat_map(|(i, v)| self.check_any(&format!("{path}[{i}]"), &item_types, v))
                .collect();
            return Some(problems);
        }
        let fits = match ty {
            "Integer" => value.is_i64() || value.is_u64(),
            "Float" => value.is_number(),
            "String" => value.is_string(),
            "Boolean" => value.is_boolean(),
            // A file_id, an URL or `attach://name`; uploads would come as multipart.
            "InputFile" => value.is_string(),
            _ => return self.check_object(path, ty, value),
        };
        fits.then(Vec::new)
    }

    fn check_object(&self, path: &str, ty: &str, value: &Value) -> Option<Vec<String>> {
        let object = value.as_object()?;
        let Some(def) = self.types.get(ty) else {
            return Some(Vec::new());
        };
        if def.subtypes.is_empty() {
            return Some(self.check_fields(path, "field", &def.fields, object));
        }
        let problems = self.check_any(path, &def.subtypes, value);
        if problems.is_empty() {
            Some(problems)
        } else {
            Some(vec![format!(
                "{path}: matches none of the {ty} variants ({})",
                problems.join("; ")
            )])
        }
    }
}

/// A short name of a JSON value's kind for messages.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

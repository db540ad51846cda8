//! OpenAI chat completions streamed (`"stream": true`, `stream_options.include_usage`): chunks
//! with `choices[0].delta` (`content`, `tool_calls` in pieces keyed by `index`), a
//! `finish_reason`, a last chunk with `usage` and no choices, then `data: [DONE]`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    Assemble, Flow, MAX_PARTS, StreamObserver, cut_off, in_stream_error, parse_arguments,
    parse_event,
};
use crate::llm::error::LlmError;
use crate::llm::provider_core::generated_call_id;
use crate::llm::types::{LlmResponse, ToolCall, Usage};

/// The end marker.
const DONE: &str = "[DONE]";

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Assembles one streamed chat completion.
pub struct OpenAiStream {
    model: String,
    text: String,
    calls: BTreeMap<u64, PartialCall>,
    usage: Usage,
    finish_reason: Option<String>,
    done: bool,
}

impl OpenAiStream {
    /// An empty answer to a request for `asked_model`.
    pub fn new(asked_model: &str) -> Box<Self> {
        Box::new(Self {
            model: asked_model.to_string(),
            text: String::new(),
            calls: BTreeMap::new(),
            usage: Usage::default(),
            finish_reason: None,
            done: false,
        })
    }

    fn tool_deltas(&mut self, deltas: &[Value]) -> Result<(), LlmError> {
        for (position, delta) in deltas.iter().enumerate() {
            let index = delta["index"].as_u64().unwrap_or(position as u64);
            if !self.calls.contains_key(&index) && self.calls.len() >= MAX_PARTS {
                return Err(LlmError::Decode("too many tool calls".into()));
            }
            let call = self.calls.entry(index).or_default();
            if let Some(id) = delta["id"].as_str() {
                call.id = id.to_string();
            }
            let function = &delta["function"];
            if let Some(name) = function["name"].as_str() {
                call.name.push_str(name);
            }
            match &function["arguments"] {
                Value::String(piece) => call.arguments.push_str(piece),
                Value::Null => {}
                whole => call.arguments = whole.to_string(), // some servers send the object
            }
        }
        Ok(())
    }
}

impl Assemble for OpenAiStream {
    fn event(&mut self, data: &str, observer: &dyn StreamObserver) -> Result<Flow, LlmError> {
        if data.trim() == DONE {
            self.done = true;
            return Ok(Flow::Done);
        }
        let chunk = parse_event(data)?;
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            return Err(in_stream_error(&chunk["error"]));
        }
        if let Some(model) = chunk["model"].as_str().filter(|m| !m.is_empty()) {
            self.model = model.to_string();
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Usage {
                input_tokens: usage["prompt_tokens"].as_u64().unwrap_or(0),
                output_tokens: usage["completion_tokens"].as_u64().unwrap_or(0),
            };
        }
        let choice = &chunk["choices"][0];
        if let Some(piece) = choice["delta"]["content"].as_str() {
            observer.text(piece);
            self.text.push_str(piece);
        }
        if let Some(deltas) = choice["delta"]["tool_calls"].as_array() {
            self.tool_deltas(deltas)?;
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(Flow::More)
    }

    fn finish(self: Box<Self>) -> Result<LlmResponse, LlmError> {
        // Some compatible servers close after the finish reason without `[DONE]`; that answer
        // is complete. Without either, the stream was cut.
        if !self.done && self.finish_reason.is_none() {
            return Err(cut_off());
        }
        let tool_calls = self
            .calls
            .into_values()
            .map(|c| ToolCall {
                id: if c.id.is_empty() {
                    generated_call_id()
                } else {
                    c.id
                },
                name: c.name,
                arguments: parse_arguments(&c.arguments),
                provider_meta: None,
            })
            .collect();
        Ok(LlmResponse {
            text: self.text,
            tool_calls,
            usage: self.usage,
            model: self.model,
            stop_reason: self.finish_reason.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::stream::Unobserved;
    use serde_json::json;

    fn feed(events: &[&str]) -> Result<LlmResponse, LlmError> {
        let mut stream = OpenAiStream::new("asked");
        for e in events {
            if stream.event(e, &Unobserved)? == Flow::Done {
                break;
            }
        }
        stream.finish()
    }

    #[test]
    fn tool_call_pieces_by_index_and_the_final_usage_assemble() {
        let chunks = [
            json!({"model": "gpt-x", "choices": [{"index": 0, "delta": {"role": "assistant",
                "tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                "function": {"name": "web_fetch", "arguments": ""}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": "{\"url\":"}},
                {"index": 1, "id": "call_b", "function": {"name": "note", "arguments": "{}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": "\"example.com\"}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 12}}),
        ]
        .map(|c| c.to_string());
        let mut events: Vec<&str> = chunks.iter().map(String::as_str).collect();
        events.push("[DONE]");
        let response = feed(&events).unwrap();
        assert_eq!(response.tool_calls.len(), 2);
        assert_eq!(response.tool_calls[0].id, "call_a");
        assert_eq!(
            response.tool_calls[0].arguments,
            json!({"url": "example.com"})
        );
        assert_eq!(response.tool_calls[1].name, "note");
        assert_eq!(response.usage.input_tokens, 30);
        assert_eq!(response.usage.output_tokens, 12);
        assert_eq!(response.model, "gpt-x");
    }

    #[test]
    fn text_without_a_finish_reason_or_done_is_cut_off() {
        let chunk = json!({"choices": [{"index": 0, "delta": {"content": "half"}}]}).to_string();
        assert!(feed(&[&chunk]).unwrap_err().is_retryable());
    }
}

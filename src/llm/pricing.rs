//! The one price table: USD per million tokens by model. A model id matches the longest listed
//! prefix (`claude-haiku-4-5-20251001` → `claude-haiku-4-5`); unknown models cost 0 (local
//! servers are free, and a wrong guess is worse than none).

use super::types::Usage;

/// (model prefix, input USD per 1M tokens, output USD per 1M tokens).
const PRICES: &[(&str, f64, f64)] = &[
    ("claude-haiku-4-5", 1.0, 5.0),
    ("claude-3-5-haiku", 0.8, 4.0),
    ("claude-sonnet-4", 3.0, 15.0),
    ("claude-3-7-sonnet", 3.0, 15.0),
    ("claude-opus-4-5", 5.0, 25.0),
    ("claude-opus-4", 15.0, 75.0),
    ("gemini-2.5-flash-lite", 0.10, 0.40),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-pro", 1.25, 10.0),
    ("gemini-2.0-flash", 0.10, 0.40),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.0),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.0),
    ("gpt-5", 1.25, 10.0),
];

/// (input, output) USD per million tokens for `model`, if listed.
pub fn price(model: &str) -> Option<(f64, f64)> {
    PRICES
        .iter()
        .filter(|(prefix, _, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map(|&(_, input, output)| (input, output))
}

/// Cost of `usage` on `model` in USD; 0 for unknown models.
pub fn cost_usd(model: &str, usage: Usage) -> f64 {
    let (input, output) = price(model).unwrap_or((0.0, 0.0));
    (usage.input_tokens as f64 * input + usage.output_tokens as f64 * output) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_unknown_is_free() {
        assert_eq!(price("gpt-4.1-mini-2025-04-14"), Some((0.40, 1.60)));
        assert_eq!(price("gpt-4.1"), Some((2.0, 8.0)));
        assert_eq!(price("gemini-2.5-flash-lite"), Some((0.10, 0.40)));
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
        };
        assert!((cost_usd("claude-haiku-4-5-20251001", usage) - 6.0).abs() < 1e-9);
        assert_eq!(cost_usd("llama3.1", usage), 0.0);
    }
}

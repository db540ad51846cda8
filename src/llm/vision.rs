//! Which configured models can see images. Every Claude and Gemini model the APIs serve today
//! does; behind an OpenAI-compatible base URL anything may run, so only OpenAI's known vision
//! families count (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, gpt-4-turbo, o1, o3, o4 — not the text-only
//! `-mini` reasoning models o1-mini and o3-mini), also when named through a router as
//! `openai/gpt-4o`. `CLAUDE_VISION`, `GEMINI_VISION` and `OPENAI_VISION` override the guess.

use super::ProviderKind;

/// Model name starts that OpenAI documents as accepting image input.
const OPENAI_VISION_FAMILIES: &[&str] = &[
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "gpt-4-turbo",
    "o1",
    "o3",
    "o4",
];

/// Text-only models inside those families.
const OPENAI_TEXT_ONLY: &[&str] = &["o1-mini", "o3-mini", "gpt-4o-audio", "gpt-4o-realtime"];

/// Whether `model` of `kind` accepts images: `setting` when the owner set one, else the guess by
/// model family.
pub fn sees_images(kind: ProviderKind, model: &str, setting: Option<bool>) -> bool {
    setting.unwrap_or_else(|| match kind {
        ProviderKind::Claude | ProviderKind::Gemini => true,
        ProviderKind::OpenAi => openai_family_sees(model),
    })
}

fn openai_family_sees(model: &str) -> bool {
    let model = model.to_ascii_lowercase();
    let name = model.rsplit('/').next().unwrap_or_default();
    OPENAI_VISION_FAMILIES.iter().any(|f| name.starts_with(f))
        && !OPENAI_TEXT_ONLY.iter().any(|t| name.starts_with(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_families_see_and_settings_override_the_guess() {
        use ProviderKind::*;
        assert!(sees_images(Claude, "claude-haiku-4-5", None));
        assert!(sees_images(Gemini, "gemini-2.5-flash", None));
        assert!(sees_images(OpenAi, "gpt-4.1-mini", None));
        assert!(sees_images(OpenAi, "openai/gpt-4o", None));
        assert!(sees_images(OpenAi, "gpt-5", None));
        assert!(!sees_images(OpenAi, "o3-mini", None));
        assert!(!sees_images(OpenAi, "llama3.1", None));
        assert!(sees_images(OpenAi, "llava", Some(true)));
        assert!(!sees_images(Claude, "claude-haiku-4-5", Some(false)));
    }
}

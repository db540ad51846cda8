//! Fakes of the outside services the integration tests point the real clients at.

pub mod fake_llm;

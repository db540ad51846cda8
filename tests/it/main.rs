//! The one integration-test binary: real components against fakes on 127.0.0.1.

mod llm_router;
mod support;

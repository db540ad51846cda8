//! Test support shared by the integration tests: fakes of the outside services the real
//! clients talk to over HTTP on 127.0.0.1.

// Each test file uses a different part of the support API.
#![allow(dead_code)]

pub mod app;
pub mod bot_api_spec;
pub mod fake_google;
pub mod fake_google_calendar;
pub mod fake_llm;
pub mod fake_llm_stream;
pub mod fake_search;
pub mod fake_stt;
pub mod fake_telegram;
pub mod logs;
pub mod mcp_servers;
pub mod radicale;
pub mod servers;
pub mod sigterm;
pub mod voice_message;

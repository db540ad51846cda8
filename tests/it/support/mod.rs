//! Fakes of outside services for the integration tests, each on 127.0.0.1 port 0.

pub mod fake_google;

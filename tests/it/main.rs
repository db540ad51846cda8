//! The one integration-test binary: real minicrew parts against fakes on 127.0.0.1.

mod gmail;
mod support;

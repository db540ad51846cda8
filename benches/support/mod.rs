//! Helpers of the daemon benchmark: the fake Bot API it talks to and the child process handle.

pub mod daemon;
pub mod fake_api;

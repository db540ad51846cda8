//! Helpers of the daemon benchmarks: the fake Bot API they talk to, the child process handle and
//! its CPU time.

pub mod daemon;
pub mod fake_api;
#[allow(
    dead_code,
    reason = "CPU readings are used by the per_message bench only"
)]
pub mod proc_cpu;
pub mod users;

//! The user manager: who may talk to the bot. The owner comes from `.env`; anyone else asks with
//! `/start`, becomes `pending`, and the owner approves (active) or denies (disabled) them.

mod access;
mod rate_limit;

use crate::llm::Budget;

pub use crate::store::{User, UserStatus};
pub use access::register_start;
pub use rate_limit::{RateDecision, UserRateLimit};

/// The budget rule lives here, above both `llm` and `store`: the row type is the store's and
/// knows nothing of LLM budgets.
impl User {
    /// The AI allowance this user's model calls spend: `daily_limit` tokens per day in their
    /// timezone (`USER_DAILY_TOKEN_LIMIT`); the owner has no limit.
    pub fn llm_budget(&self, daily_limit: u64) -> Budget {
        Budget::daily(daily_limit, self.is_owner(), self.timezone)
    }
}

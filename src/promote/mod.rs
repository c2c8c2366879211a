//! Promotion: the step the whole pack exists for. Nothing moves before the
//! pack verifies and every precondition holds ([`preconditions`]); the plan
//! ([`plan`]) says which steps of traffic the release takes.

pub mod plan;
pub mod preconditions;

pub use plan::{Plan, PromotionConfig};
pub use preconditions::{Blocker, Cleared, Target};

//! Promotion: the step the whole pack exists for. Nothing moves before the
//! pack verifies and every precondition holds ([`preconditions`]); the plan
//! ([`plan`]) says which steps of traffic the release takes.

pub mod analysis;
pub mod driver;
pub mod flow;
pub mod incident;
pub mod mann_whitney;
pub mod plan;
pub mod preconditions;
pub mod prometheus;
pub mod rollout;

pub use plan::{Plan, PromotionConfig};
pub use preconditions::{Blocker, Cleared, Target};

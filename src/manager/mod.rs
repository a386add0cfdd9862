//! The manager: units' dependencies ([`graph`]), their Condition*=/Assert*= ([`condition`]),
//! the boot set with built-in standard targets and default dependencies ([`units`]), requests
//! turned into ordered transactions of
//! jobs ([`transaction`]), and the queue that runs them ([`jobs`]). Pure; driving services and
//! the event loop happen elsewhere.

pub mod condition;
pub mod engine;
pub mod graph;
pub mod jobs;
pub mod transaction;
pub mod units;

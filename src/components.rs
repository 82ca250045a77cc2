//! Reusable pieces of the pages.

pub mod relay_check;
mod role_card;
mod server_status;
pub mod soundness_chart;

pub use relay_check::RelayCheck;
pub use role_card::RoleCard;
pub use server_status::ServerStatus;
pub use soundness_chart::SoundnessChart;

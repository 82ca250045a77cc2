//! Reusable pieces of the pages.

pub mod fixed;
pub mod meter;
pub mod qr_code;
pub mod relay_check;
mod role_card;
pub mod round_steps;
mod server_status;
pub mod soundness_chart;

pub use meter::Meter;
pub use qr_code::QrCode;
pub use relay_check::RelayCheck;
pub use role_card::RoleCard;
pub use round_steps::RoundSteps;
pub use server_status::ServerStatus;
pub use soundness_chart::SoundnessChart;

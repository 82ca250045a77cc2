//! One page per route.

mod home;
mod identify;
mod not_found;
mod simulator;
mod transfer;

pub use home::HomePage;
pub use identify::{PeggyPage, VictorPage};
pub use not_found::NotFound;
pub use simulator::SimulatorPage;
pub use transfer::{ReceivePage, SendPage};

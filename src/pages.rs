//! One page per route.

mod home;
mod not_found;
mod roles;
mod transfer;

pub use home::HomePage;
pub use not_found::NotFound;
pub use roles::{PeggyPage, VictorPage};
pub use transfer::{ReceivePage, SendPage};

//! One page per route.

mod home;
mod not_found;
mod roles;

pub use home::HomePage;
pub use not_found::NotFound;
pub use roles::{PeggyPage, ReceivePage, SendPage, VictorPage};

//! What the browser and the server both compile: the one error type that crosses the network and
//! the server functions (thin: they check input and call into `server`).

mod error;
mod status;

pub use error::{ApiError, ErrorCode};
pub use status::{GetStatus, StatusReport, get_status};

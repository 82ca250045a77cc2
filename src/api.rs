//! What the browser and the server both compile: the one error type that crosses the network and
//! the server functions (thin: they check input and call into `server`).

pub(crate) mod error;
pub mod identify;
pub mod relay;
mod status;

pub use error::{ApiError, ErrorCode};
pub use identify::{
    DemoModulus, DrawModulus, DrawnModulus, ListPeggys, PeggySummary, RegisterPeggy, Registered,
    draw_modulus, list_peggys, register_peggy,
};
pub use status::{GetStatus, StatusReport, get_status};

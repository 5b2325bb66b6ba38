//! Tools: their arguments, the registry that lists them, and their execution.

pub mod args;
pub mod registry;

pub use registry::Registry;

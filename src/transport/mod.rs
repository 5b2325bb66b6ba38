//! Transports: how messages reach the engine and replies reach the client.

pub mod stdio;

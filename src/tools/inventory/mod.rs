//! Forklift's inventory service: the query language kubectl-mtv's `--query`
//! takes ([`query`]), applied to inventory items.

pub mod query;

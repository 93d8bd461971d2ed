//! The `carnet` binary's library half: configuration, running the services, the demo, the
//! landing page and the command line. `main.rs` only parses arguments and calls [`cli::run`];
//! the end-to-end tests in `tests/` build the same routers as the binary serves.

pub mod cli;
pub mod config;
pub mod demo;
pub mod server;
pub mod web;

//! aftercare: a Telegram bot that walks skin-clinic patients through their aftercare.
//!
//! `domain` is pure; `store` owns the SQL; `service` holds the use cases; `bot` and
//! `scheduler` are the two ways work enters; `app` wires them together.

pub mod catalog;
pub mod clock;
pub mod domain;
pub mod store;

//! aftercare: a Telegram bot that walks skin-clinic patients through their aftercare.
//!
//! `domain` is pure; `store` owns the SQL; `service` holds the use cases; `bot` and
//! `scheduler` are the two ways work enters; `app` wires them together.

pub mod app;
pub mod bot;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod course_file;
pub mod course_upload;
pub mod demo;
pub mod domain;
pub mod logs;
pub mod ops;
pub mod outbox;
pub mod qr;
pub mod render;
pub mod scheduler;
pub mod service;
pub mod standin;
pub mod store;

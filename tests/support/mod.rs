#![allow(dead_code)]

pub mod app;
pub mod chat;
pub mod exposition;
pub mod fake_telegram;
pub mod people;
pub mod process;
pub mod webdriver;

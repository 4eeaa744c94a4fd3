//! Pure rules: no clock, no database, no network. Everything takes `now` and the zone.

pub mod booking;
pub mod checkin;
pub mod enroll_args;
pub mod entities;
pub mod html;
pub mod link;
pub mod offset;
pub mod photos;
pub mod plan;
pub mod problems;
pub mod relay;
pub mod roles;
pub mod safety;
pub mod stats;
pub mod template;
pub mod throttle;
pub mod time;
pub mod timing;
pub mod words;

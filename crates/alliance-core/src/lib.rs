//! Alliance's domain core: the types and rules every other crate relies on.
//!
//! This crate does no IO: no files, no network, no database, no system clock and no
//! operating-system randomness. Time arrives as a [`jiff::Timestamp`] from a [`Clock`] the
//! caller passes in; randomness arrives as an argument. Anything that must decide who may see
//! what decides it here, so the rule can be tested without a server.

pub mod access;
pub mod agreements;
pub mod audit;
pub mod auth;
pub mod break_glass;
pub mod calendar;
pub mod cases;
pub mod checklist;
pub mod children;
pub mod clock;
pub mod concern_workflow;
pub mod consent;
pub mod contact_logs;
pub mod crypto;
pub mod directory;
pub mod disruptions;
pub mod emergency;
pub mod error;
pub mod explanations;
pub mod feed;
pub mod feedback;
pub mod frame;
pub mod goals;
pub mod identity;
pub mod incidents;
pub mod letters;
pub mod measures;
pub mod notify;
pub mod outbound;
pub mod paging;
pub mod policy;
pub mod process_notes;
pub mod random;
pub mod readability;
pub mod retention;
pub mod room_care;
pub mod safeguarding;
pub mod safety_plans;
pub mod schedule;
pub mod schedule_import;
pub mod service;
pub mod session_records;
pub mod site_emergency;
pub mod subject_access;
pub mod supervision;
pub mod tasks;
pub mod uk;
pub mod version;

pub use clock::{Clock, FixedClock};
pub use error::{FieldError, Invalid, Validator};
pub use paging::{Cursor, Page, PageRequest};
pub use service::{Nation, ServiceDetails, ServiceName, ServiceProfile};
pub use version::{StaleVersion, Version};

//! Alliance's use-cases: one function per thing a user (or the command line) does.
//!
//! Each use-case asks the core whether the actor may act, loads and saves through the
//! [`Store`] interface, and never sees SQL or HTTP. The storage crates implement [`Store`];
//! the web crate and the binary call the use-cases.

pub mod accounts;
pub mod agreements;
pub mod app;
pub mod audit;
pub mod audit_views;
pub mod auth;
pub mod bookings;
pub mod break_glass;
pub mod calendars;
pub mod carer_feedback;
pub mod children;
pub mod clock;
pub mod concern_workflow;
pub mod contact_logs;
pub mod demo;
pub mod directory;
pub mod disruptions;
pub mod emergency;
pub mod error;
pub mod explanations;
pub mod feedback;
pub mod feeds;
pub mod frame;
pub mod goals;
pub mod handouts;
pub mod incidents;
pub mod keys;
pub mod letters;
pub mod mail;
pub mod measures;
pub mod process_notes;
pub mod retention;
pub mod room_care;
pub mod safeguarding;
pub mod safety_plans;
pub mod session_records;
pub mod site_emergency;
pub mod store;
pub mod subject_access;
pub mod supervision;
pub mod tasks;
pub mod timetables;

pub use app::{Alliance, Settings};
pub use auth::{AccountRequest, Actor, NextStep, SessionState, Via};
pub use clock::{OsRandom, ShiftedClock, SystemClock};
pub use error::{AppError, AppResult};
pub use store::{
    AccountStore, AgreementStore, AuditBatch, AuditStore, Booked, BookingStore, CalendarStore,
    ChildDetailsUpdate, ChildListing, ChildLookups, ChildSelection, ChildStore, ColumnInventory,
    ConsentLinkRecord, Credentials, DatabaseKind, DirectoryStore, ExplanationStore,
    ExplanationVersion, FailureCounts, FeedRecord, FeedStore, ForeignKeyInventory, FrameChange,
    NewCase, NewExplanationVersion, NewFiring, NewSession, NewTask, NewUser, ReasonUpdate,
    RegularSlot, ResumeDraft, SchemaInventory, SchemaStatus, ServiceStore, SessionRecord,
    SessionStore, SettingsStore, Store, StoreError, StoredAgreement, StoredCalendar, StoredCarer,
    StoredCase, StoredChecklistItem, StoredChild, StoredComment, StoredConsentEntry, StoredHoliday,
    StoredSession, SystemStore, TableInventory, TaskFilter, TaskStore, TeamChange, TokenRecord,
    TokenStore, UserFilter,
};
pub use store::{AuditQuery, StoredGrant};
pub use store::{BreakGlassStore, RetentionStore, SubjectAccessStore};
pub use store::{
    ConcernLink, ConcernStore, SealedUnder, StoredConcern, StoredConcernAddendum,
    StoredConcernStep, StoredTransfer, TransferStatus, TransferStore,
};
pub use store::{
    ContactLogStore, ProcessNoteStore, SessionRecordStore, StoredAmendment, StoredContact,
    StoredProcessNote, StoredSessionRecord, StoredSupervision, SupervisionStore,
};
pub use store::{
    DestructionStatus, StoredDestructionRequest, StoredLegalHold, StoredRetentionFlag,
};
pub use store::{DisruptionStore, EmergencyStore, RoomCareStore, SiteEmergencyStore};
pub use store::{FeedbackStore, GoalStore, MeasureStore};
pub use store::{PauseChange, StoredSarItem, StoredSarPause, StoredSubjectAccess};
pub use store::{StoredMeasureDefinition, StoredMeasureWording};

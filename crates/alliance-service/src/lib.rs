//! Alliance's use-cases: one function per thing a user (or the command line) does.
//!
//! Each use-case asks the core whether the actor may act, loads and saves through the
//! [`Store`] interface, and never sees SQL or HTTP. The storage crates implement [`Store`];
//! the web crate and the binary call the use-cases.

pub mod app;
pub mod clock;
pub mod demo;
pub mod store;

pub use app::Alliance;
pub use clock::SystemClock;
pub use store::{
    AccountStore, ColumnInventory, Credentials, DatabaseKind, FailureCounts, ForeignKeyInventory,
    NewUser, ResumeDraft, SchemaInventory, SchemaStatus, ServiceStore, SessionRecord,
    SessionStore, Store, StoreError, SystemStore, TableInventory, TokenRecord, TokenStore,
    UserFilter,
};

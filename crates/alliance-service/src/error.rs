//! What a use-case answers when it does not do what was asked, in terms every front end can
//! render: the web as a page or a problem, the command line as a message.

use crate::store::StoreError;
use alliance_core::{Invalid, Version};
use jiff::SignedDuration;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the credentials were wrong (one message for every cause).
    #[error("sign in first")]
    Unauthenticated,
    /// Signed in, but not allowed; the reason is for the member of staff.
    #[error("not allowed: {0}")]
    Denied(&'static str),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the record has changed (now version {})", .0.get())]
    Stale(Version),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed attempts: wait this long.
    #[error("too many attempts")]
    Throttled(SignedDuration),
    /// The record class was destroyed under the retention policy (its key is gone): it can
    /// never be read again. `on` is the day, when the caller knows it.
    #[error("destroyed under the retention policy")]
    Destroyed { on: Option<jiff::civil::Date> },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Stale { current } => AppError::Stale(current),
            StoreError::Conflict(what) => AppError::Conflict(what),
            other => AppError::Store(other),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl From<crate::keys::KeyError> for AppError {
    /// A key that is missing or wrong is a storage fault to the caller: it is logged by the
    /// front end and answered without detail. A destroyed key is not a fault: what it sealed
    /// was destroyed under the retention policy, and the caller is told so.
    fn from(err: crate::keys::KeyError) -> Self {
        match err {
            // Not a fault: the class was destroyed under the retention policy on purpose.
            crate::keys::KeyError::Destroyed => AppError::Destroyed { on: None },
            other => AppError::Store(StoreError::Other(other.to_string())),
        }
    }
}

//! The application value every front end (web, command line) calls into.

use crate::keys::{KeyError, KeyRing};
use crate::store::{AuditBatch, Store, StoreError};
use alliance_core::audit::{ChainKey, Event, Origin};
use alliance_core::auth::{SessionPolicy, ThrottlePolicy};
use alliance_core::crypto::KeyOwner;
use alliance_core::random::Random;
use alliance_core::{Clock, ServiceProfile};
use std::sync::Arc;

/// The service's own data keys, kept in the key store like children's.
pub(crate) const AUDIT_CHAIN: &str = "audit-chain";
pub(crate) const TOTP: &str = "totp";
pub(crate) const KEPT_FORMS: &str = "kept-forms";
/// The key of the keyed hashes that find a child by NHS number or UPN.
pub(crate) const CHILD_LOOKUP: &str = "child-lookup";

/// Settings the use-cases follow (service configuration; the policy's defaults otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
}

/// Alliance's use-cases over one store, one clock, one source of randomness and the master
/// key. Cheap to clone; holds no state of its own, so any number of processes may serve the
/// same database.
#[derive(Clone)]
pub struct Alliance {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn Random>,
    pub(crate) keys: KeyRing,
    pub(crate) chain_key: Arc<ChainKey>,
    pub(crate) settings: Settings,
    /// Sends the staff nudge when a mail server is configured.
    pub(crate) mailer: Option<Arc<dyn crate::mail::Mailer>>,
}

impl Alliance {
    /// Alliance over its store and key ring. Fails when the service's own keys cannot be
    /// had (the wrong master key, say), before anything is served.
    pub async fn start(
        store: Arc<dyn Store>,
        keys: KeyRing,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        settings: Settings,
    ) -> Result<Self, KeyError> {
        let chain = keys
            .data_key(
                &KeyOwner::Service {
                    purpose: AUDIT_CHAIN.to_owned(),
                },
                clock.now(),
            )
            .await?;
        let chain_key = Arc::new(ChainKey(*chain.expose_bytes()));
        Ok(Self {
            store,
            clock,
            random,
            keys,
            chain_key,
            settings,
            mailer: None,
        })
    }

    /// A new record id: time-ordered (UUIDv7), so ids sort roughly by creation.
    pub(crate) fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }

    /// Today's date in Europe/London, where the service's days begin and end.
    pub fn today(&self) -> jiff::civil::Date {
        self.clock
            .now()
            .to_zoned_datetime(alliance_core::uk::london())
            .date()
    }

    /// Signs people out after `idle` without a request (policy default 30 minutes).
    #[must_use]
    pub fn with_idle_timeout(mut self, idle_minutes: u32) -> Self {
        self.settings.sessions.idle = jiff::SignedDuration::from_mins(i64::from(idle_minutes));
        self
    }

    /// Sends staff nudges through `mailer` (an SMTP server, or a test's sink).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn crate::mail::Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The key the audit chain is MACed with.
    pub fn chain_key(&self) -> &ChainKey {
        &self.chain_key
    }

    /// Audit entries for a change, to be written in the change's own transaction.
    pub(crate) fn audit_batch(&self, origin: &Origin, events: Vec<Event>) -> AuditBatch<'_> {
        AuditBatch {
            key: &self.chain_key,
            events,
            origin: origin.clone(),
            at: self.clock.now(),
            follow_ups: Vec::new(),
        }
    }

    /// Appends entries on their own (a refusal, a failed sign-in, a read). The caller answers
    /// only once they are durable.
    pub(crate) async fn record(
        &self,
        origin: &Origin,
        events: Vec<Event>,
    ) -> Result<(), StoreError> {
        self.store
            .append_audit(&self.audit_batch(origin, events))
            .await
            .map(|_| ())
    }

    /// A service settings document (`name`), decoded, with its version; `None` while the
    /// defaults stand. `what` names it in the error when the stored document does not decode.
    pub(crate) async fn settings_document<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        what: &str,
    ) -> crate::error::AppResult<Option<(T, alliance_core::Version)>> {
        match self.store.setting(name).await? {
            None => Ok(None),
            Some((document, version)) => {
                let value = serde_json::from_str(&document).map_err(|_| {
                    crate::error::AppError::Store(StoreError::Other(format!(
                        "the stored {what} is not valid"
                    )))
                })?;
                Ok(Some((value, version)))
            }
        }
    }

    /// Stores a settings document an administrator changed (the caller has checked who may,
    /// and the value), audited as a change to the service; a stale `expected` is refused.
    pub(crate) async fn put_settings_document<T: serde::Serialize>(
        &self,
        actor: &crate::auth::Actor,
        name: &str,
        value: &T,
        expected: Option<alliance_core::Version>,
    ) -> crate::error::AppResult<()> {
        let document = serde_json::to_string(value)
            .map_err(|e| crate::error::AppError::Store(StoreError::Other(e.to_string())))?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    alliance_core::audit::Action::ServiceUpdated,
                    Some(actor.user.id.to_string()),
                    "service",
                    Some("1".to_owned()),
                )
                .detail(name),
            ],
        );
        match self
            .store
            .put_setting(name, &document, expected, self.clock.now(), &audit)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Stale { current }) => Err(crate::error::AppError::Stale(current)),
            Err(other) => Err(other.into()),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The service's public profile (name, nation, whether it is a demo).
    pub async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError> {
        self.store.service_profile().await
    }
}

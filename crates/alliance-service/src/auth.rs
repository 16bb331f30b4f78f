//! Signing in and out, the second factor, sessions, API tokens, first-run setup, and the form
//! kept when a session expires mid-submit (policy section 6).

use crate::app::Alliance;
use crate::error::{AppError, AppResult};
use crate::store::{NewUser, ResumeDraft, SessionRecord, TokenRecord};
use alliance_core::audit::{self, Event, Origin};
use alliance_core::auth::{
    self, TokenScope, check_password_for, hex, new_secret, normalise_recovery_code, password,
    recovery_codes, secret_hash, totp,
};
use alliance_core::crypto::SealedAt;
use alliance_core::identity::{User, UserDetails, UserId, Username};
use alliance_core::random::random_bytes;
use alliance_core::service::ServiceDetails;
use alliance_core::{Invalid, Validator};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// Who is acting, and how they proved it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub via: Via,
    /// The request this actor is making, for the audit trail.
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session: state-changing requests must carry `csrf_token`.
    Session {
        token_hash: String,
        csrf_token: String,
    },
    /// An API token.
    Token { id: Uuid, scope: TokenScope },
}

impl Actor {
    /// Whether this credential may change anything (a read-only token may not).
    pub fn may_write(&self) -> bool {
        match &self.via {
            Via::Session { .. } => true,
            Via::Token { scope, .. } => scope.allows_writes(),
        }
    }

    pub fn ensure_may_write(&self) -> AppResult<()> {
        if self.may_write() {
            Ok(())
        } else {
            Err(AppError::Denied("this API token is read-only"))
        }
    }
}

/// What a session cookie amounts to.
#[derive(Debug, Clone)]
pub enum SessionState {
    /// Signed in completely.
    Active(Actor),
    /// The password was right; the second factor is still to come (or to be enrolled).
    AwaitingSecondFactor { user: User, session: SessionRecord },
    /// The session timed out (idle or absolute). Its owner is known, so a form submitted on it
    /// can be kept for them.
    Expired { user_id: UserId, token_hash: String },
    /// Unknown, signed out, or its account deactivated.
    Invalid,
}

/// Where a successful password check leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Signed in.
    Done,
    /// Enter a code from the authenticator app (or a recovery code).
    SecondFactor,
    /// The role needs a second factor that is not set up yet: set it up now.
    Enrol,
}

/// A session started: the cookie value (shown to nobody else) and what comes next.
#[derive(Debug)]
pub struct SessionStart {
    pub token: String,
    pub next: NextStep,
}

/// A second factor being set up: the secret (also in the QR code), shown to the user only.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub provisioning_uri: String,
}

/// An API token, shown once.
#[derive(Debug)]
pub struct IssuedToken {
    pub secret: String,
    pub record: TokenRecord,
}

/// Form fields kept from an expired session, returned to their author after signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptForm {
    pub path: String,
    pub fields: Vec<(String, String)>,
}

const SESSION_PREFIX: &str = "as_";
const TOKEN_PREFIX: &str = "at_";
const RESUME_PREFIX: &str = "ar_";
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);
const SETUP_CODE_LIFETIME: SignedDuration = SignedDuration::from_hours(1);
const KEPT_FORM_LIFETIME: SignedDuration = SignedDuration::from_hours(1);

fn service_key(purpose: &str) -> alliance_core::crypto::KeyOwner {
    alliance_core::crypto::KeyOwner::Service {
        purpose: purpose.to_owned(),
    }
}

fn key_error(e: crate::keys::KeyError) -> AppError {
    e.into()
}

fn sealed_totp_at(user: UserId) -> (String, &'static str, &'static str) {
    (user.to_string(), "users", "totp_secret")
}

impl Alliance {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn new_session(
        &self,
        user: UserId,
        done: bool,
        address: &str,
        user_agent: &str,
    ) -> (String, SessionRecord) {
        let token = new_secret(SESSION_PREFIX, random_bytes(self.random.as_ref()));
        let now = self.now();
        let record = SessionRecord {
            token_hash: secret_hash(&token),
            user_id: user,
            csrf_token: hex(&random_bytes::<32>(self.random.as_ref())),
            second_factor_done: done,
            created_at: now,
            last_seen_at: now,
            user_agent: user_agent.chars().take(200).collect(),
            address: address.chars().take(64).collect(),
            ended_at: None,
        };
        (token, record)
    }

    async fn second_factor_needed(&self, user: &User) -> AppResult<bool> {
        let required = self
            .store
            .service_profile()
            .await?
            .is_none_or(|s| s.second_factor_required);
        Ok(user.totp_enrolled || (required && user.needs_second_factor()))
    }

    /// Refuses the attempt at once when this account name or this address has failed too
    /// often lately.
    async fn ensure_not_throttled(&self, account_key: &str, address: &str) -> AppResult<()> {
        let policy = self.settings.throttle;
        let now = self.now();
        let since = now
            .checked_sub(policy.window)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let counts = self
            .store
            .login_failures(account_key, address, since)
            .await?;
        let wait = [
            policy.wait(counts.account, counts.account_latest, now),
            policy.wait(counts.address, counts.address_latest, now),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => Err(AppError::Throttled(wait)),
            None => Ok(()),
        }
    }

    /// Checks a username and password. One answer for an unknown user, a wrong password and a
    /// deactivated account, taking about as long for each.
    pub async fn sign_in(
        &self,
        username: &str,
        password_typed: &str,
        origin: &Origin,
        user_agent: &str,
    ) -> AppResult<SessionStart> {
        let address = origin.address.as_str();
        // Counted under a hash of the name as typed: a mistyped password in the username box
        // must not be stored.
        let account_key = secret_hash(&format!("password:{}", username.trim().to_lowercase()));
        if let Err(err) = self.ensure_not_throttled(&account_key, address).await {
            // Who it was is recorded only as an account id, never as what was typed.
            let known = match Username::parse(username) {
                Ok(name) => self
                    .store
                    .user_by_username(&name)
                    .await?
                    .map(|(u, _)| u.id.to_string()),
                Err(_) => None,
            };
            self.record(
                origin,
                vec![Event::new(
                    audit::Action::SignInThrottled,
                    None,
                    "user",
                    known,
                )],
            )
            .await?;
            return Err(err);
        }
        let found = match Username::parse(username) {
            Ok(name) => self.store.user_by_username(&name).await?,
            Err(_) => None,
        };
        let hash = found
            .as_ref()
            .map(|(_, c)| c.password_hash.clone())
            .unwrap_or_else(|| password::decoy().to_owned());
        let typed = password_typed.to_owned();
        let matches = tokio::task::spawn_blocking(move || password::verify(&typed, &hash))
            .await
            .unwrap_or(false);
        let user = match found {
            Some((user, _)) if matches && user.active => user,
            other => {
                self.store
                    .record_login_failure(&account_key, address, self.now())
                    .await?;
                let known = other.map(|(u, _)| u.id.to_string());
                self.record(
                    origin,
                    vec![Event::new(audit::Action::SignInFailed, None, "user", known)],
                )
                .await?;
                return Err(AppError::Unauthenticated);
            }
        };
        self.store.clear_login_failures(&account_key).await?;
        let next = if !self.second_factor_needed(&user).await? {
            NextStep::Done
        } else if user.totp_enrolled {
            NextStep::SecondFactor
        } else {
            NextStep::Enrol
        };
        let (token, record) =
            self.new_session(user.id, next == NextStep::Done, address, user_agent);
        let events = vec![
            Event::new(
                audit::Action::SignIn,
                Some(user.id.to_string()),
                "user",
                Some(user.id.to_string()),
            )
            .detail(match next {
                NextStep::Done => "password",
                NextStep::SecondFactor => "password; second factor next",
                NextStep::Enrol => "password; second factor to set up",
            }),
        ];
        self.store
            .create_session(&record, &self.audit_batch(origin, events))
            .await?;
        tracing::info!(user = %user.id, "signed in (password)");
        Ok(SessionStart { token, next })
    }

    /// What a session cookie amounts to now. An expired session is ended on the way.
    pub async fn session_state(&self, token: &str, origin: &Origin) -> AppResult<SessionState> {
        if !token.starts_with(SESSION_PREFIX) {
            return Ok(SessionState::Invalid);
        }
        let token_hash = secret_hash(token);
        let Some(session) = self.store.session(&token_hash).await? else {
            return Ok(SessionState::Invalid);
        };
        if session.ended_at.is_some() {
            return Ok(SessionState::Invalid);
        }
        let now = self.now();
        if let Err(end) =
            self.settings
                .sessions
                .check(session.created_at, session.last_seen_at, now)
        {
            let reason = match end {
                auth::SessionEnd::Idle => "idle",
                auth::SessionEnd::Absolute => "absolute",
            };
            let events = vec![
                Event::new(
                    audit::Action::SessionExpired,
                    Some(session.user_id.to_string()),
                    "user",
                    Some(session.user_id.to_string()),
                )
                .detail(reason),
            ];
            self.store
                .end_session(&token_hash, reason, now, &self.audit_batch(origin, events))
                .await?;
            return Ok(SessionState::Expired {
                user_id: session.user_id,
                token_hash,
            });
        }
        let Some(user) = self.store.user(session.user_id).await? else {
            return Ok(SessionState::Invalid);
        };
        if !user.active {
            return Ok(SessionState::Invalid);
        }
        if !session.second_factor_done {
            return Ok(SessionState::AwaitingSecondFactor { user, session });
        }
        if now.duration_since(session.last_seen_at) >= TOUCH_EVERY {
            self.store.touch_session(&token_hash, now).await?;
        }
        Ok(SessionState::Active(Actor {
            user,
            via: Via::Session {
                token_hash,
                csrf_token: session.csrf_token,
            },
            origin: origin.clone(),
        }))
    }

    /// Completes a sign-in with a TOTP code or a recovery code. The session gets a new token
    /// (its privilege changed), returned for the cookie.
    pub async fn complete_second_factor(
        &self,
        user: &User,
        session: &SessionRecord,
        code: &str,
        origin: &Origin,
    ) -> AppResult<String> {
        let account_key = format!("second-factor:{}", user.id);
        let id = Some(user.id.to_string());
        if let Err(err) = self
            .ensure_not_throttled(&account_key, &origin.address)
            .await
        {
            self.record(
                origin,
                vec![Event::new(
                    audit::Action::SignInThrottled,
                    id.clone(),
                    "user",
                    id,
                )],
            )
            .await?;
            return Err(err);
        }
        let accepted = self.check_second_factor(user, code).await?;
        if !accepted {
            self.store
                .record_login_failure(&account_key, &origin.address, self.now())
                .await?;
            self.record(
                origin,
                vec![Event::new(
                    audit::Action::SecondFactorFailed,
                    id.clone(),
                    "user",
                    id,
                )],
            )
            .await?;
            return Err(AppError::Unauthenticated);
        }
        self.store.clear_login_failures(&account_key).await?;
        let events = vec![Event::new(
            audit::Action::SecondFactorPassed,
            id.clone(),
            "user",
            id,
        )];
        self.rotate(user.id, session, origin, events).await
    }

    async fn check_second_factor(&self, user: &User, code: &str) -> AppResult<bool> {
        let Some(credentials) = self.store.credentials(user.id).await? else {
            return Ok(false);
        };
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
            let Some(sealed) = credentials.totp_secret else {
                return Ok(false);
            };
            let (row, table, column) = sealed_totp_at(user.id);
            let secret = self
                .keys
                .open(
                    &service_key(crate::app::TOTP),
                    &sealed,
                    SealedAt {
                        table,
                        column,
                        row: &row,
                    },
                    self.now(),
                )
                .await
                .map_err(key_error)?;
            let Some(step) = totp::verify(&secret, &digits, self.now(), credentials.totp_last_step)
            else {
                return Ok(false);
            };
            // Spent in the database, so no other process accepts the same code either.
            return Ok(self.store.accept_totp_step(user.id, step).await?);
        }
        let recovery = normalise_recovery_code(code);
        Ok(self
            .store
            .use_recovery_code(user.id, &secret_hash(&recovery), self.now())
            .await?)
    }

    async fn rotate(
        &self,
        user: UserId,
        old: &SessionRecord,
        origin: &Origin,
        events: Vec<Event>,
    ) -> AppResult<String> {
        let (token, record) = self.new_session(user, true, &old.address, &old.user_agent);
        self.store
            .rotate_session(
                &old.token_hash,
                &record,
                self.now(),
                &self.audit_batch(origin, events),
            )
            .await?;
        Ok(token)
    }

    /// A new TOTP secret to show as a QR code; nothing is stored until it is confirmed.
    pub fn begin_enrolment(&self, user: &User) -> AppResult<Enrolment> {
        let secret: [u8; 20] = random_bytes(self.random.as_ref());
        let issuer = "Alliance";
        let uri = totp::provisioning_uri(&secret, user.username.as_str(), issuer)
            .map_err(|e| AppError::Store(crate::StoreError::Other(e)))?;
        Ok(Enrolment {
            secret_base32: totp::secret_base32(&secret),
            provisioning_uri: uri,
        })
    }

    /// Stores the second factor once a code from it is right, and returns the recovery codes
    /// (shown once, stored hashed) and, for a session that was waiting on it, the new token.
    pub async fn confirm_enrolment(
        &self,
        user: &User,
        session: Option<&SessionRecord>,
        secret_base32: &str,
        code: &str,
        origin: &Origin,
    ) -> AppResult<(Vec<String>, Option<String>)> {
        let secret = totp::decode_base32(secret_base32)
            .ok_or_else(|| Invalid::field("secret", "The set-up key is not valid; start again"))?;
        let Some(step) = totp::verify(&secret, code, self.now(), None) else {
            return Err(Invalid::field(
                "code",
                "That code is not right. Check the time on your phone and try the newest code.",
            )
            .into());
        };
        let (row, table, column) = sealed_totp_at(user.id);
        let sealed = self
            .keys
            .seal(
                &service_key(crate::app::TOTP),
                &secret,
                SealedAt {
                    table,
                    column,
                    row: &row,
                },
                self.now(),
            )
            .await
            .map_err(key_error)?;
        let codes = recovery_codes(&random_bytes::<100>(self.random.as_ref()));
        let hashes: Vec<String> = codes.iter().map(|c| secret_hash(c)).collect();
        let id = Some(user.id.to_string());
        let enrolled = vec![Event::new(
            audit::Action::SecondFactorEnrolled,
            id.clone(),
            "user",
            id.clone(),
        )];
        self.store
            .set_second_factor(
                user.id,
                Some(&sealed),
                &hashes,
                self.now(),
                &self.audit_batch(origin, enrolled),
            )
            .await?;
        self.store.accept_totp_step(user.id, step).await?;
        let token = match session {
            Some(s) if !s.second_factor_done => {
                let passed = vec![Event::new(
                    audit::Action::SecondFactorPassed,
                    id.clone(),
                    "user",
                    id,
                )];
                Some(self.rotate(user.id, s, origin, passed).await?)
            }
            _ => None,
        };
        Ok((codes, token))
    }

    pub async fn sign_out(&self, token_hash: &str, user: UserId, origin: &Origin) -> AppResult<()> {
        let id = Some(user.to_string());
        let events = vec![Event::new(audit::Action::SignOut, id.clone(), "user", id)];
        Ok(self
            .store
            .end_session(
                token_hash,
                "signed out",
                self.now(),
                &self.audit_batch(origin, events),
            )
            .await?)
    }

    /// Ends every session of the actor, this one included.
    pub async fn sign_out_everywhere(&self, actor: &Actor) -> AppResult<u64> {
        let id = Some(actor.user.id.to_string());
        let events = vec![Event::new(
            audit::Action::SignOutEverywhere,
            id.clone(),
            "user",
            id,
        )];
        Ok(self
            .store
            .end_user_sessions(
                actor.user.id,
                "signed out everywhere",
                self.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    pub async fn own_sessions(&self, actor: &Actor) -> AppResult<Vec<SessionRecord>> {
        Ok(self.store.user_sessions(actor.user.id).await?)
    }

    /// Changes the actor's own password; every session and token of theirs ends.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        actor.ensure_may_write()?;
        let credentials = self
            .store
            .credentials(actor.user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut v = Validator::new();
        let typed = current.to_owned();
        let hash = credentials.password_hash;
        let current_ok = tokio::task::spawn_blocking(move || password::verify(&typed, &hash))
            .await
            .unwrap_or(false);
        v.check::<()>(
            "current_password",
            if current_ok {
                Ok(())
            } else {
                Err("Your current password is not right".to_owned())
            },
        );
        v.check(
            "new_password",
            check_password_for(new, actor.user.username.as_str(), &actor.user.display_name),
        );
        v.finish()?;
        let hash = self.hash_password(new).await?;
        let id = Some(actor.user.id.to_string());
        let events = vec![Event::new(
            audit::Action::PasswordChanged,
            id.clone(),
            "user",
            id,
        )];
        self.store
            .set_password(
                actor.user.id,
                &hash,
                self.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn hash_password(&self, password_typed: &str) -> AppResult<String> {
        let typed = password_typed.to_owned();
        let salt: [u8; 16] = random_bytes(self.random.as_ref());
        tokio::task::spawn_blocking(move || password::hash(&typed, salt))
            .await
            .map_err(|e| AppError::Store(crate::StoreError::Other(e.to_string())))?
            .map_err(|e| AppError::Store(crate::StoreError::Other(e)))
    }

    /// Authenticates an API token (`Authorization: Bearer at_…`).
    pub async fn authenticate_token(&self, secret: &str, origin: &Origin) -> AppResult<Actor> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(AppError::Unauthenticated);
        }
        let Some(record) = self.store.token(&secret_hash(secret)).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.now();
        if record.revoked_at.is_some() || record.expires_at <= now {
            return Err(AppError::Unauthenticated);
        }
        let user = self
            .store
            .user(record.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(AppError::Unauthenticated)?;
        if record
            .last_used_at
            .is_none_or(|at| now.duration_since(at) >= TOUCH_EVERY)
        {
            self.store.touch_token(record.id, now).await?;
        }
        Ok(Actor {
            user,
            via: Via::Token {
                id: record.id,
                scope: record.scope,
            },
            origin: origin.clone(),
        })
    }

    /// Issues an API token for `user` (the actor themselves, or from the command line).
    pub async fn issue_token(
        &self,
        user: &User,
        name: &str,
        scope: TokenScope,
        days: Option<i64>,
        origin: &Origin,
    ) -> AppResult<IssuedToken> {
        let mut v = Validator::new();
        let name = v.check("name", alliance_core::error::parse_line(name, 1, 80));
        let lifetime = v.check("expires_in_days", auth::token_lifetime(days));
        v.finish()?;
        if !user.active {
            return Err(AppError::Denied("the account is deactivated"));
        }
        let secret = new_secret(TOKEN_PREFIX, random_bytes(self.random.as_ref()));
        let now = self.now();
        let record = TokenRecord {
            id: Uuid::now_v7(),
            user_id: user.id,
            name: name.unwrap_or_default(),
            token_hash: secret_hash(&secret),
            scope,
            created_at: now,
            expires_at: now
                .checked_add(lifetime.unwrap_or(SignedDuration::from_hours(24)))
                .unwrap_or(now),
            last_used_at: None,
            revoked_at: None,
        };
        let events = vec![
            Event::new(
                audit::Action::TokenCreated,
                Some(user.id.to_string()),
                "token",
                Some(record.id.to_string()),
            )
            .detail(scope.code()),
        ];
        self.store
            .create_token(&record, &self.audit_batch(origin, events))
            .await?;
        Ok(IssuedToken { secret, record })
    }

    pub async fn own_tokens(&self, actor: &Actor) -> AppResult<Vec<TokenRecord>> {
        Ok(self.store.user_tokens(actor.user.id, self.now()).await?)
    }

    pub async fn revoke_own_token(&self, actor: &Actor, id: Uuid) -> AppResult<()> {
        actor.ensure_may_write()?;
        let events = vec![Event::new(
            audit::Action::TokenRevoked,
            Some(actor.user.id.to_string()),
            "token",
            Some(id.to_string()),
        )];
        if self
            .store
            .revoke_token(
                actor.user.id,
                id,
                self.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// While no user exists: a new one-time code for the setup page (replacing any earlier
    /// one), valid for an hour. `None` once a user exists.
    pub async fn issue_setup_code(&self) -> AppResult<Option<String>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let raw = recovery_codes(&random_bytes::<10>(self.random.as_ref()));
        let code = raw.into_iter().next().unwrap_or_default();
        let now = self.now();
        self.store
            .replace_setup_code(
                &secret_hash(&code),
                now,
                now.checked_add(SETUP_CODE_LIFETIME).unwrap_or(now),
            )
            .await?;
        Ok(Some(code))
    }

    pub async fn setup_needed(&self) -> AppResult<bool> {
        Ok(self.store.count_users().await? == 0)
    }

    /// Creates the first administrator (and the service, if there is none yet) with the code
    /// printed on the console.
    pub async fn complete_setup(
        &self,
        code: &str,
        account: AccountRequest<'_>,
        service: Option<ServiceDetails>,
        origin: &Origin,
    ) -> AppResult<User> {
        let new_user = self.validate_new_account(&account).await?;
        let code_hash = secret_hash(&normalise_recovery_code(code));
        let id = Some(new_user.id.to_string());
        let mut events = vec![
            Event::new(
                audit::Action::SetupCompleted,
                id.clone(),
                "user",
                id.clone(),
            ),
            Event::new(audit::Action::UserCreated, id.clone(), "user", id),
        ];
        if service.is_some() {
            events.push(Event::new(
                audit::Action::ServiceCreated,
                None,
                "service",
                Some("1".to_owned()),
            ));
        }
        match self
            .store
            .create_first_user(
                &new_user,
                &code_hash,
                service.as_ref(),
                self.now(),
                &self.audit_batch(origin, events),
            )
            .await
        {
            Ok(user) => Ok(user),
            Err(crate::StoreError::NotFound) => Err(Invalid::field(
                "code",
                "That set-up code is not right or has expired. Restart Alliance for a new one.",
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a new account's every field (without hashing the password).
    pub async fn check_account_fields(&self, account: AccountRequest<'_>) -> AppResult<()> {
        parse_account(&account).map(|_| ()).map_err(AppError::from)
    }

    /// Validates a new account's every field and hashes its password.
    pub(crate) async fn validate_new_account(
        &self,
        account: &AccountRequest<'_>,
    ) -> AppResult<NewUser> {
        let (username, details) = parse_account(account)?;
        Ok(NewUser {
            id: UserId(Uuid::now_v7()),
            username,
            details,
            password_hash: self.hash_password(account.password).await?,
        })
    }

    /// Keeps the fields of a form submitted on an expired session, sealed, for an hour.
    /// Returns the token that brings it back after signing in.
    pub async fn keep_form(
        &self,
        user_id: UserId,
        path: &str,
        fields: &[(String, String)],
    ) -> AppResult<String> {
        let token = new_secret(RESUME_PREFIX, random_bytes(self.random.as_ref()));
        let token_hash = secret_hash(&token);
        let plain = serde_json::to_vec(&(path, fields))
            .map_err(|e| AppError::Store(crate::StoreError::Other(e.to_string())))?;
        let sealed = self
            .keys
            .seal(
                &service_key(crate::app::KEPT_FORMS),
                &plain,
                SealedAt {
                    table: "resume_drafts",
                    column: "sealed_form",
                    row: &token_hash,
                },
                self.now(),
            )
            .await
            .map_err(key_error)?;
        let now = self.now();
        self.store
            .save_resume_draft(&ResumeDraft {
                token_hash,
                user_id,
                path: path.to_owned(),
                sealed_form: sealed,
                created_at: now,
                expires_at: now.checked_add(KEPT_FORM_LIFETIME).unwrap_or(now),
            })
            .await?;
        Ok(token)
    }

    /// The kept form, for its author only, once. Anyone else is told there is none.
    pub async fn take_kept_form(&self, actor: &Actor, token: &str) -> AppResult<KeptForm> {
        let token_hash = secret_hash(token);
        let draft = self
            .store
            .resume_draft(&token_hash)
            .await?
            .filter(|d| d.user_id == actor.user.id && d.expires_at > self.now())
            .ok_or(AppError::NotFound)?;
        let plain = self
            .keys
            .open(
                &service_key(crate::app::KEPT_FORMS),
                &draft.sealed_form,
                SealedAt {
                    table: "resume_drafts",
                    column: "sealed_form",
                    row: &token_hash,
                },
                self.now(),
            )
            .await
            .map_err(key_error)?;
        let (path, fields): (String, Vec<(String, String)>) = serde_json::from_slice(&plain)
            .map_err(|e| AppError::Store(crate::StoreError::Other(e.to_string())))?;
        self.store.delete_resume_draft(&token_hash).await?;
        Ok(KeptForm { path, fields })
    }
}

/// What is needed to open an account.
#[derive(Debug, Clone, Copy)]
pub struct AccountRequest<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub roles: &'a [String],
    pub registration: &'a str,
    pub registration_number: Option<&'a str>,
    pub email: Option<&'a str>,
}

fn parse_account(account: &AccountRequest<'_>) -> Result<(Username, UserDetails), Invalid> {
    let mut errors = Vec::new();
    let username = Username::parse(account.username)
        .map_err(|m| errors.push(alliance_core::FieldError::new("username", m)))
        .ok();
    let details = UserDetails::parse(
        account.display_name,
        account.roles,
        account.registration,
        account.registration_number,
        account.email,
    )
    .map_err(|e| errors.extend(e.errors))
    .ok();
    if let Err(m) = check_password_for(account.password, account.username, account.display_name) {
        errors.push(alliance_core::FieldError::new("password", m));
    }
    match (username, details) {
        (Some(username), Some(details)) if errors.is_empty() => Ok((username, details)),
        _ => Err(Invalid { errors }),
    }
}

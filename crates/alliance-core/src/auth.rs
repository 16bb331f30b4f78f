//! The rules of signing in (policy section 6): passwords, throttling, sessions, second
//! factors, API tokens. Pure: the caller passes in the time, the randomness and the counts.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The password rules: at least 12 characters, not a common or easily guessed password, paste
/// allowed (nothing here stops it), no other composition rules.
pub fn check_password(password: &str, context: &[&str]) -> Result<(), String> {
    let length = password.chars().count();
    if length < 12 {
        return Err(
            "Use at least 12 characters. A few unrelated words make a good password.".to_owned(),
        );
    }
    if length > 256 {
        return Err("Use 256 characters or fewer".to_owned());
    }
    // zxcvbn knows the common-password lists and the usual disguises of them
    // ("Password1234!", keyboard runs, repeated words, the user's own name).
    let score = zxcvbn::zxcvbn(password, context).score();
    if (score as u8) < 2 {
        return Err(
            "This password is too common or too easy to guess. Try a few unrelated words."
                .to_owned(),
        );
    }
    Ok(())
}

/// How long sessions last (service configuration; these are the policy's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: SignedDuration,
    /// Signed out this long after signing in, however active.
    pub absolute: SignedDuration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: SignedDuration::from_mins(30),
            absolute: SignedDuration::from_hours(12),
        }
    }
}

/// Why a session can no longer be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Idle,
    Absolute,
}

impl SessionPolicy {
    pub fn check(
        &self,
        created_at: Timestamp,
        last_seen_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), SessionEnd> {
        if now.duration_since(created_at) >= self.absolute {
            Err(SessionEnd::Absolute)
        } else if now.duration_since(last_seen_at) >= self.idle {
            Err(SessionEnd::Idle)
        } else {
            Ok(())
        }
    }
}

/// Sign-in throttling: per account and per address, failures in the last 15 minutes are
/// counted; after 5, each further attempt must wait longer (1 s, 2 s, 4 s, … up to 15 min)
/// after the latest failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub window: SignedDuration,
    pub free_failures: u32,
    pub max_delay: SignedDuration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_mins(15),
            free_failures: 5,
            max_delay: SignedDuration::from_mins(15),
        }
    }
}

impl ThrottlePolicy {
    /// How long after the latest failure the next attempt must wait.
    pub fn delay(&self, failures: u32) -> SignedDuration {
        if failures < self.free_failures {
            return SignedDuration::ZERO;
        }
        let doublings = (failures - self.free_failures).min(20);
        let seconds = 1_i64 << doublings;
        SignedDuration::from_secs(seconds).min(self.max_delay)
    }

    /// `Some(wait)` when an attempt now must be refused without even checking the password.
    pub fn wait(
        &self,
        failures: u32,
        latest_failure: Option<Timestamp>,
        now: Timestamp,
    ) -> Option<SignedDuration> {
        let latest = latest_failure?;
        let until = latest.checked_add(self.delay(failures)).ok()?;
        (until > now).then(|| until.duration_since(now))
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenScope {
    Read,
    ReadWrite,
}

impl TokenScope {
    pub fn code(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read-write",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "read" => Ok(Self::Read),
            "read-write" => Ok(Self::ReadWrite),
            _ => Err("Choose read or read-write".to_owned()),
        }
    }

    pub fn allows_writes(self) -> bool {
        self == TokenScope::ReadWrite
    }
}

/// API tokens last 90 days unless the creator chooses otherwise (at most a year).
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
pub const MAX_TOKEN_DAYS: i64 = 366;

pub fn token_lifetime(days: Option<i64>) -> Result<SignedDuration, String> {
    let days = days.unwrap_or(DEFAULT_TOKEN_DAYS);
    if (1..=MAX_TOKEN_DAYS).contains(&days) {
        Ok(SignedDuration::from_hours(days * 24))
    } else {
        Err(format!("Choose from 1 to {MAX_TOKEN_DAYS} days"))
    }
}

/// A secret handed to a client (session cookie, API token, recovery code, single-use link).
/// Only its SHA-256 is stored, so a copy of the database opens no session.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes as URL-safe text, with a prefix that says what it is (`as_` session,
/// `at_` API token); the prefix lets secret scanners recognise a leaked token.
pub fn new_secret(prefix: &str, random: [u8; 32]) -> String {
    format!("{prefix}{}", hex(&random))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of [`hex`]'s text; `None` for anything that is not whole hexadecimal bytes.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    // Checked first: `from_str_radix` alone would also take a sign ("+1").
    if !text.len().is_multiple_of(2) || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The password rules for one person: their username and name count as guessable too.
pub fn check_password_for(
    password: &str,
    username: &str,
    display_name: &str,
) -> Result<(), String> {
    let name = display_name.to_lowercase();
    let mut context: Vec<&str> = vec![username, "alliance", "therapy"];
    context.extend(name.split_whitespace());
    check_password(password, &context)
}

/// Ten recovery codes, each 10 characters in two groups (`k7m2p-9xq4t`), from an alphabet
/// without look-alike characters.
pub fn recovery_codes(random: &[u8]) -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    random
        .chunks(10)
        .take(10)
        .map(|chunk| {
            let chars: String = chunk
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed: spaces and case forgiven.
pub fn normalise_recovery_code(typed: &str) -> String {
    let plain: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    if plain.len() == 10 {
        format!("{}-{}", &plain[..5], &plain[5..])
    } else {
        plain
    }
}

/// TOTP (RFC 6238, SHA-1, 6 digits, 30-second steps, as every authenticator app supports).
pub mod totp {
    use jiff::Timestamp;
    use totp_rs::{Algorithm, Builder, Totp};

    pub const STEP_SECONDS: u64 = 30;

    fn build(secret: &[u8], account: &str, issuer: &str) -> Result<Totp, String> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(secret.to_vec())
            .with_account_name(account)
            .with_issuer(Some(issuer))
            .build()
            .map_err(|e| e.to_string())
    }

    /// The `otpauth://` address an authenticator app reads from the QR code.
    pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> Result<String, String> {
        build(secret, account, issuer)?
            .to_url()
            .map_err(|e| e.to_string())
    }

    /// The secret in base32, for typing into an app by hand.
    pub fn secret_base32(secret: &[u8]) -> String {
        totp_rs::Secret::from(secret.to_vec()).to_base32()
    }

    /// The time step a code is valid for, if it is valid now (one step either side is allowed
    /// for clock drift), and later than `last_used_step`: a code can be used once only.
    pub fn verify(
        secret: &[u8],
        code: &str,
        now: Timestamp,
        last_used_step: Option<i64>,
    ) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let totp = build(secret, "alliance", "Alliance").ok()?;
        let now_secs = u64::try_from(now.as_second()).ok()?;
        let current = i64::try_from(now_secs / STEP_SECONDS).ok()?;
        for step in [current - 1, current, current + 1] {
            if last_used_step.is_some_and(|used| step <= used) {
                continue;
            }
            let at = u64::try_from(step).ok()?.checked_mul(STEP_SECONDS)?;
            let expected = totp.generate(at).to_string();
            if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
                return Some(step);
            }
        }
        None
    }

    /// The secret from its base32 form (as shown for typing into an app).
    pub fn decode_base32(text: &str) -> Option<Vec<u8>> {
        let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = totp_rs::Secret::try_from_base32(cleaned.to_uppercase()).ok()?;
        let bytes = bytes.as_ref().to_vec();
        (bytes.len() >= 16).then_some(bytes)
    }

    /// The code for a moment; for tests.
    pub fn code_at(secret: &[u8], at: Timestamp) -> Option<String> {
        let totp = build(secret, "alliance", "Alliance").ok()?;
        Some(
            totp.generate(u64::try_from(at.as_second()).ok()?)
                .to_string(),
        )
    }

    fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert!(check_password("short", &[]).is_err());
        for common in [
            "password1234",
            "Password1234!",
            "qwertyuiop123",
            "111111111111",
            "iloveyou1234",
        ] {
            assert!(
                check_password(common, &[]).is_err(),
                "{common} was accepted"
            );
        }
        assert!(check_password("samokafor2026", &["samokafor"]).is_err());
        assert!(check_password_for("okaforsamuel1", "sam", "Samuel Okafor").is_err());
        assert!(check_password("lantern orchard pebble", &[]).is_ok());
        assert!(check_password(&"x".repeat(300), &[]).is_err());
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let p = SessionPolicy::default();
        let start = at(1_800_000_000);
        assert_eq!(p.check(start, start, at(1_800_000_000 + 29 * 60)), Ok(()));
        assert_eq!(
            p.check(start, start, at(1_800_000_000 + 30 * 60)),
            Err(SessionEnd::Idle)
        );
        let active = at(1_800_000_000 + 12 * 3600 - 60);
        assert_eq!(
            p.check(start, active, at(1_800_000_000 + 12 * 3600)),
            Err(SessionEnd::Absolute)
        );
    }

    #[test]
    fn throttling_starts_after_five_failures_and_grows() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.delay(4), SignedDuration::ZERO);
        assert_eq!(p.delay(5), SignedDuration::from_secs(1));
        assert_eq!(p.delay(6), SignedDuration::from_secs(2));
        assert_eq!(p.delay(9), SignedDuration::from_secs(16));
        assert_eq!(p.delay(60), SignedDuration::from_mins(15));
        let latest = at(1_800_000_000);
        assert_eq!(p.wait(4, Some(latest), latest), None);
        assert_eq!(
            p.wait(7, Some(latest), at(1_800_000_001)),
            Some(SignedDuration::from_secs(3))
        );
        assert_eq!(p.wait(7, Some(latest), at(1_800_000_004)), None);
        assert_eq!(p.wait(7, None, latest), None);
    }

    #[test]
    fn totp_codes_work_once_and_only_near_their_time() {
        let secret = [7u8; 20];
        let now = at(1_800_000_000);
        let code = totp::code_at(&secret, now).unwrap_or_default();
        let step = totp::verify(&secret, &code, now, None);
        assert_eq!(step, Some(1_800_000_000 / 30));
        // The same code again is refused: it is not replayable.
        assert_eq!(totp::verify(&secret, &code, now, step), None);
        // A code from ten minutes ago is refused.
        let old = totp::code_at(&secret, at(1_800_000_000 - 600)).unwrap_or_default();
        assert_eq!(totp::verify(&secret, &old, now, None), None);
        // Thirty seconds of drift is forgiven.
        let drift = totp::code_at(&secret, at(1_800_000_000 - 30)).unwrap_or_default();
        assert!(totp::verify(&secret, &drift, now, None).is_some());
        assert_eq!(totp::verify(&secret, "12345", now, None), None);
        assert_eq!(totp::verify(&secret, "abcdef", now, None), None);
        let uri = totp::provisioning_uri(&secret, "sam", "Alliance").unwrap_or_default();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    }

    #[test]
    fn secrets_are_stored_only_as_hashes_and_codes_are_readable() {
        let token = new_secret("at_", [1u8; 32]);
        assert!(token.starts_with("at_") && token.len() == 67);
        assert_eq!(secret_hash(&token).len(), 64);
        assert_ne!(secret_hash(&token), token);
        let codes = recovery_codes(&[200u8; 100]);
        assert_eq!(codes.len(), 10);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
        assert_eq!(normalise_recovery_code(" K7M2P 9XQ4T "), "k7m2p-9xq4t");
        assert_eq!(from_hex(&hex(&[0, 171, 255])), Some(vec![0, 171, 255]));
        for bad in ["abc", "zz", "+1", "é1"] {
            assert_eq!(from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn token_lifetimes_are_bounded() {
        assert_eq!(
            token_lifetime(None),
            Ok(SignedDuration::from_hours(90 * 24))
        );
        assert!(token_lifetime(Some(0)).is_err());
        assert!(token_lifetime(Some(400)).is_err());
        assert_eq!(TokenScope::parse("read"), Ok(TokenScope::Read));
        assert!(!TokenScope::Read.allows_writes());
    }
}

/// Argon2id password hashing with OWASP's parameters for a small server (19 MiB, 2 passes,
/// 1 lane). Slow on purpose: call it off the async runtime.
pub mod password {
    use argon2::password_hash::phc::PasswordHash;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    use argon2::{Algorithm, Argon2, Params, Version};

    fn hasher() -> Argon2<'static> {
        let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`); `salt` is 16 random bytes.
    pub fn hash(password: &str, salt: [u8; 16]) -> Result<String, String> {
        hasher()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    pub fn verify(password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }

    /// A hash of nothing anyone knows, verified against when the username does not exist, so
    /// an unknown user takes as long as a wrong password.
    pub fn decoy() -> &'static str {
        static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DECOY.get_or_init(|| hash("no one knows this decoy", [0x5a; 16]).unwrap_or_default())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn hashes_verify_the_right_password_only() {
            let phc = hash("lantern orchard pebble", [3; 16]).unwrap_or_default();
            assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
            assert!(verify("lantern orchard pebble", &phc));
            assert!(!verify("lantern orchard pebbles", &phc));
            assert!(!verify("anything", "not a hash"));
            assert!(
                decoy().starts_with("$argon2id$"),
                "the decoy must cost a real verification"
            );
            assert!(!verify("anything", decoy()));
        }
    }
}

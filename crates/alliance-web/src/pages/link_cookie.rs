//! The cookie a single-use link's token moves into on its first load (policy section 6):
//! consent links, the child's kiosk and carers' feedback links each have one, `HttpOnly`,
//! `SameSite=Strict` and scoped to its own path, so no other page ever receives it.

use axum::http::{HeaderMap, HeaderValue};

pub(crate) struct LinkCookie {
    name: &'static str,
    path: &'static str,
}

impl LinkCookie {
    pub(crate) const fn new(name: &'static str, path: &'static str) -> Self {
        Self { name, path }
    }

    /// Sets the token for `max_age_seconds` (the link's remaining life).
    pub(crate) fn set(
        &self,
        secure: bool,
        token: &str,
        max_age_seconds: i64,
    ) -> Option<HeaderValue> {
        HeaderValue::from_str(&self.line(secure, token, max_age_seconds)).ok()
    }

    pub(crate) fn clear(&self, secure: bool) -> HeaderValue {
        HeaderValue::from_str(&self.line(secure, "", 0))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The token this browser sent, if any (an empty value counts as none).
    pub(crate) fn token(&self, headers: &HeaderMap) -> Option<String> {
        crate::auth::read_cookie(headers, self.name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    fn line(&self, secure: bool, value: &str, max_age_seconds: i64) -> String {
        let attributes = if secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path={}; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{attributes}",
            self.name, self.path
        )
    }
}

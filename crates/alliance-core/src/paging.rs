//! Pagination rules shared by every list: keyset cursors, so a page never skips or repeats a
//! row when records are added between requests, and a bounded page size.

use crate::error::Invalid;
use serde::Serialize;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// An opaque position in a list: the sort key of the last item already seen. Clients only hand
/// back what they were given; anything else is refused as invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Cursors are short strings of letters, digits and `-_.:`; nothing else can be a key.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= 200
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("This is not a cursor this list gave out".to_owned())
        }
    }

    pub fn from_key(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated request for one page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, after: Option<&str>) -> Result<Self, Invalid> {
        let mut errors = Vec::new();
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&n) => {
                u32::try_from(n).unwrap_or(DEFAULT_PAGE_SIZE)
            }
            Some(_) => {
                errors.push(crate::FieldError::new(
                    "limit",
                    format!("Choose a page size from 1 to {MAX_PAGE_SIZE}"),
                ));
                DEFAULT_PAGE_SIZE
            }
        };
        let after = match after.map(Cursor::parse).transpose() {
            Ok(after) => after,
            Err(message) => {
                errors.push(crate::FieldError::new("after", message));
                None
            }
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(Invalid { errors })
        }
    }

    /// Storage asks for one row more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of a list and where the next one starts, if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `fetch_limit` rows sorted by key; `key` gives each row's cursor.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let limit = request.limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Self { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_bounded_and_defaulted() {
        assert_eq!(PageRequest::parse(None, None).map(|p| p.limit), Ok(50));
        assert_eq!(
            PageRequest::parse(Some(200), None).map(|p| p.limit),
            Ok(200)
        );
        for bad in [0, -1, 201, i64::MAX] {
            let err = PageRequest::parse(Some(bad), None).err();
            assert_eq!(
                err.map(|e| e.errors[0].field.clone()).as_deref(),
                Some("limit")
            );
        }
    }

    #[test]
    fn cursors_are_checked_and_both_errors_are_reported() {
        assert!(PageRequest::parse(None, Some("0190a-bc_d.e:f")).is_ok());
        let err = PageRequest::parse(Some(0), Some("' OR 1=1 --")).err();
        let fields: Vec<String> = err
            .map(|e| e.errors.into_iter().map(|f| f.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["limit", "after"]);
        assert!(Cursor::parse("").is_err());
        assert!(Cursor::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn a_full_fetch_yields_a_next_cursor_and_a_short_one_does_not() {
        let request = PageRequest::parse(Some(2), None).unwrap_or_default();
        let page = Page::from_rows(vec![1, 2, 3], &request, |n| n.to_string());
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next.as_deref(), Some("2"));
        let last = Page::from_rows(vec![3], &request, |n| n.to_string());
        assert_eq!(last.next, None);
    }
}

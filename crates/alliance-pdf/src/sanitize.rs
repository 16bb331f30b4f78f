//! Make untrusted text printable before typst sees it.
//!
//! Escaping is not the concern here: data reaches the template as JSON
//! strings, which typst inserts as text and never parses as markup. This module
//! deals with what would still go wrong with *literal* text:
//!
//! - PDF/UA-1 forbids `.notdef` glyphs, so a character none of our fonts can
//!   draw (an emoji, say) would make the export fail. Such characters become
//!   U+FFFD (a visible "�"), and invisible format characters are dropped.
//! - Bidi overrides and isolates could reorder neighbouring fields that share
//!   a paragraph, so they are removed (the bidi algorithm still lays out
//!   Hebrew and Arabic text correctly without them).
//! - Control characters (newlines, tabs, NUL) become spaces or are dropped:
//!   every field is one line or one paragraph.
//! - A very long run without a break opportunity would overflow the margin,
//!   so [`breakable`] puts zero-width spaces into it.

use crate::world::is_covered;

/// What we print for a character no embedded font can draw.
const REPLACEMENT: char = '\u{FFFD}';

/// A zero-width space: an invisible line-break opportunity.
const ZWSP: char = '\u{200B}';

/// The longest run of characters without a break opportunity that we leave
/// alone; about a third of the text width at 11 pt, so table cells can wrap too.
const MAX_RUN: usize = 30;

/// Map one string to text our fonts can print (see the module docs).
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        ) {
            out.push(' ');
        } else if c.is_control() || is_bidi_control(c) {
            // Dropped.
        } else if is_covered(c) {
            out.push(c);
        } else if is_invisible_format(c) {
            // Dropped: zero-width joiners, variation selectors, tags and the like.
        } else {
            out.push(REPLACEMENT);
        }
    }
    // A joiner between two replaced characters (as in emoji sequences) joins nothing.
    if out.contains(REPLACEMENT) {
        out = out.replace("\u{FFFD}\u{200D}", "\u{FFFD}");
    }
    out
}

/// Insert zero-width spaces into runs longer than [`MAX_RUN`] characters that
/// have no whitespace, so that a 10 000-character "word" wraps instead of
/// running off the page. Never splits before a combining mark.
pub(crate) fn breakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = 0usize;
    for c in text.chars() {
        if c.is_whitespace() || c == ZWSP || c == '-' || c == '/' {
            run = 0;
        } else if run >= MAX_RUN && !is_combining(c) {
            out.push(ZWSP);
            run = 0;
        }
        if !c.is_whitespace() && c != ZWSP {
            run += 1;
        }
        out.push(c);
    }
    out
}

/// Explicit bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO,
/// RLO, LRI, RLI, FSI, PDI).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Default-ignorable format characters that are safe to drop when no font has them.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Combining marks in the scripts our fonts cover (a break must not separate
/// a mark from its base letter).
fn is_combining(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{0483}'..='\u{0489}'
            | '\u{0591}'..='\u{05C7}'
            | '\u{0610}'..='\u{061A}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{06D6}'..='\u{06ED}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{200C}'..='\u{200D}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// Apply [`printable`] to every string value in `value`, in place (object keys
/// are the template's own and are left alone).
pub(crate) fn printable_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let clean = printable(s);
            if clean != *s {
                *s = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(printable_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(printable_json),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ordinary_text() {
        let s = "Dear Ms O'Brien-Łukasiewicz, £25 — “quoted” café naïve";
        assert_eq!(printable(s), s);
    }

    #[test]
    fn keeps_hebrew_and_arabic() {
        let s = "שלום עולם مرحبا بالعالم";
        assert_eq!(printable(s), s);
    }

    #[test]
    fn replaces_uncovered_and_drops_invisible() {
        assert_eq!(printable("a😀b"), "a\u{FFFD}b");
        // Family emoji with zero-width joiners and a variation selector.
        assert_eq!(printable("👨\u{200D}👩\u{FE0F}"), "\u{FFFD}\u{FFFD}");
        assert_eq!(printable("x\u{202E}y\u{2066}z"), "xyz");
        assert_eq!(printable("a\nb\tc\0d"), "a b cd");
    }

    #[test]
    fn breaks_long_runs_only() {
        assert_eq!(breakable("short words stay"), "short words stay");
        let long = "a".repeat(100);
        let broken = breakable(&long);
        assert_eq!(broken.replace(ZWSP, ""), long);
        assert_eq!(broken.matches(ZWSP).count(), 3);
        // A combining mark stays with its letter.
        let marked = format!("{}e\u{0301}", "a".repeat(29));
        assert!(!breakable(&marked).contains(&format!("{ZWSP}\u{0301}")));
    }
}

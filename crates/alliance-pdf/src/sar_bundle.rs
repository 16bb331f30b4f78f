//! The subject access bundle (policy section 5): a cover letter and the disclosed items of a
//! child's record, passages removed already ("[redacted]"), nothing withheld.

use serde::Serialize;

use crate::{PdfError, render, sanitize};

/// The bundle template (A4, a confidential band on every page).
pub(crate) const SAR_BUNDLE_TEMPLATE: &str = include_str!("../templates/sar_bundle.typ");

/// The bundle's heading and PDF title: it names no one (titles show in window bars and
/// recent-file lists).
pub(crate) const SAR_BUNDLE_TITLE: &str = "Subject access bundle";

/// A subject access bundle. All fields are plain text, already formatted (dates
/// "31/12/2026") and already redacted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubjectAccessBundle {
    /// E.g. "SAR-1A2B3C4D". Printed in the band on every page.
    pub reference: String,
    /// The service's name, printed in the footer of every page.
    pub service: String,
    /// E.g. "Sam Clarke (Father)".
    pub requester: String,
    pub child_name: String,
    pub date_of_birth: String,
    pub received_on: String,
    pub released_on: String,
    /// The cover letter's paragraphs.
    pub letter: Vec<String>,
    /// What was withheld, in general terms, one line each (e.g. "Information about other
    /// people: 2 items").
    pub withheld: Vec<String>,
    pub items: Vec<BundleEntry>,
}

/// One disclosed item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BundleEntry {
    /// E.g. "Session record".
    pub kind: String,
    pub title: String,
    /// E.g. "14/10/2026 15:30" (may be empty).
    pub when: String,
    /// Passages were removed.
    pub redacted: bool,
    /// Labelled parts, in order. An empty label prints the text alone; a part with neither is
    /// dropped.
    pub parts: Vec<(String, String)>,
}

#[derive(Serialize)]
struct LabelledView {
    label: String,
    text: String,
}

#[derive(Serialize)]
struct EntryView {
    title: String,
    about: String,
    parts: Vec<LabelledView>,
}

/// The bundle as the template sees it: every string printable and breakable, empty parts
/// dropped.
#[derive(Serialize)]
pub(crate) struct BundleView {
    marking: &'static str,
    title: &'static str,
    handling: &'static str,
    band: String,
    details: Vec<LabelledView>,
    letter_heading: &'static str,
    salutation: String,
    letter: Vec<String>,
    withheld_intro: &'static str,
    withheld: Vec<String>,
    items_heading: &'static str,
    no_items: &'static str,
    items: Vec<EntryView>,
    footer: String,
}

impl BundleView {
    pub(crate) fn new(doc: &SubjectAccessBundle) -> Self {
        let text = |s: &str| sanitize::breakable(&sanitize::printable(s.trim()));
        let reference = text(&doc.reference);
        let details = [
            ("Reference", reference.clone()),
            ("To", text(&doc.requester)),
            ("About", text(&doc.child_name)),
            ("Date of birth", text(&doc.date_of_birth)),
            ("Request received", text(&doc.received_on)),
            ("Released", text(&doc.released_on)),
            ("From", text(&doc.service)),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(label, text)| LabelledView {
            label: label.to_owned(),
            text,
        })
        .collect();
        let requester = text(&doc.requester);
        Self {
            marking: "CONFIDENTIAL: PERSONAL DATA",
            title: SAR_BUNDLE_TITLE,
            handling: "Confidential: personal data released in answer to a subject access \
                       request. Keep it safe.",
            band: if reference.is_empty() {
                SAR_BUNDLE_TITLE.to_owned()
            } else {
                format!("{SAR_BUNDLE_TITLE} {reference}")
            },
            details,
            letter_heading: "Our answer",
            salutation: if requester.is_empty() {
                "Dear requester,".to_owned()
            } else {
                format!("Dear {requester},")
            },
            letter: doc
                .letter
                .iter()
                .map(|p| text(p))
                .filter(|p| !p.trim().is_empty())
                .collect(),
            withheld_intro: "What we have withheld, in general terms:",
            withheld: doc
                .withheld
                .iter()
                .map(|w| text(w))
                .filter(|w| !w.trim().is_empty())
                .collect(),
            items_heading: "The records",
            no_items: "No records are disclosed.",
            items: doc
                .items
                .iter()
                .map(|e| {
                    let mut about = vec![text(&e.kind), text(&e.when)];
                    if e.redacted {
                        about.push("passages removed are shown as [redacted]".to_owned());
                    }
                    about.retain(|a| !a.trim().is_empty());
                    EntryView {
                        title: text(&e.title),
                        about: about.join(" · "),
                        parts: e
                            .parts
                            .iter()
                            .map(|(label, body)| LabelledView {
                                label: text(label),
                                text: text(body),
                            })
                            .filter(|l| !(l.label.trim().is_empty() && l.text.trim().is_empty()))
                            .collect(),
                    }
                })
                .collect(),
            footer: text(&doc.service),
        }
    }
}

/// Render a [`SubjectAccessBundle`] to the bytes of a PDF/UA-1 file, titled "Subject access
/// bundle".
pub fn render_subject_access_bundle(doc: &SubjectAccessBundle) -> Result<Vec<u8>, PdfError> {
    let view = BundleView::new(doc);
    let data = serde_json::to_value(&view).map_err(|_| PdfError::Data)?;
    render(SAR_BUNDLE_TEMPLATE, &data, SAR_BUNDLE_TITLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use typst::layout::{Frame, FrameItem};
    use typst::model::Document as _;

    fn typical() -> SubjectAccessBundle {
        let part = |l: &str, t: &str| (l.to_owned(), t.to_owned());
        SubjectAccessBundle {
            reference: "SAR-1A2B3C4D".into(),
            service: "Riverside Play Therapy".into(),
            requester: "Sam Clarke (Father)".into(),
            child_name: "Amelia Rose Clarke".into(),
            date_of_birth: "14/03/2016".into(),
            received_on: "02/11/2026".into(),
            released_on: "30/11/2026".into(),
            letter: vec![
                "You asked on 02/11/2026 for a copy of the personal data we hold.".into(),
                "This bundle holds 2 items from the record.".into(),
            ],
            withheld: vec!["Information about other people: 1 item".into()],
            items: vec![
                BundleEntry {
                    kind: "Session record".into(),
                    title: "Session record (C00001)".into(),
                    when: "14/10/2026 15:30".into(),
                    redacted: true,
                    parts: vec![
                        part("Own words", "I told [redacted] about the dog."),
                        part("", "  "),
                    ],
                },
                BundleEntry {
                    kind: "Case".into(),
                    title: "Case C00001".into(),
                    when: String::new(),
                    redacted: false,
                    parts: vec![part("Referral from", "School"), part("", "Unlabelled note")],
                },
            ],
        }
    }

    fn text_of(doc: &SubjectAccessBundle) -> (String, Option<String>) {
        fn walk(frame: &Frame, out: &mut String) {
            for (_, item) in frame.items() {
                match item {
                    FrameItem::Group(group) => walk(&group.frame, out),
                    FrameItem::Text(text) => out.push_str(&text.text),
                    _ => {}
                }
            }
        }
        let data = serde_json::to_value(BundleView::new(doc)).unwrap();
        let compiled = crate::compile(SAR_BUNDLE_TEMPLATE, &data, SAR_BUNDLE_TITLE).unwrap();
        assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
        let mut text = String::new();
        for page in compiled.document.pages() {
            walk(&page.frame, &mut text);
        }
        let squashed = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{200B}')
            .collect();
        (
            squashed,
            compiled
                .document
                .info()
                .title
                .as_ref()
                .map(|t| t.to_string()),
        )
    }

    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn a_bundle_renders_as_tagged_pdf_ua_with_every_field() {
        let doc = typical();
        let bytes = render_subject_access_bundle(&doc).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"/StructTreeRoot") && has(b"pdfuaid:part") && has(b"/Lang"));
        let (text, title) = text_of(&doc);
        for expected in [
            "CONFIDENTIAL: PERSONAL DATA",
            "Subject access bundle SAR-1A2B3C4D",
            "To Sam Clarke (Father)",
            "About Amelia Rose Clarke",
            "Request received 02/11/2026",
            "Dear Sam Clarke (Father),",
            "This bundle holds 2 items from the record.",
            "What we have withheld, in general terms:",
            "Information about other people: 1 item",
            "Session record (C00001)",
            "passages removed are shown as [redacted]",
            "Own words: I told [redacted] about the dog.",
            "Referral from: School",
            "Unlabelled note",
            "Page 1 of 1",
        ] {
            assert!(
                text.contains(&squash(expected)),
                "{expected:?} missing from {text:?}"
            );
        }
        assert!(!text.contains(":Unlabelled"));
        // The title names no one.
        assert_eq!(title.as_deref(), Some("Subject access bundle"));
        assert!(!has(b"Clarke") || !String::from_utf8_lossy(&bytes).contains("/Title (Amelia"));
    }

    #[test]
    fn hostile_text_prints_literally_and_an_empty_bundle_renders() {
        let mut doc = typical();
        doc.items[0].parts = vec![("#panic(\"x\")".into(), "*bold* $math$ <label> @ref".into())];
        let (text, _) = text_of(&doc);
        assert!(
            text.contains("#panic(\"x\"):*bold*$math$<label>@ref"),
            "{text}"
        );
        doc.items.clear();
        doc.withheld.clear();
        let (text, _) = text_of(&doc);
        assert!(text.contains("Norecordsaredisclosed."));
        assert!(!text.contains("Whatwehavewithheld"));
        assert!(
            render_subject_access_bundle(&doc)
                .unwrap()
                .starts_with(b"%PDF-")
        );
    }
}

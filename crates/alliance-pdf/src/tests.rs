//! The renderer's tests. Text is checked on the typeset document (frames of
//! shaped text), not by parsing the compressed PDF, so a test fails if data
//! were dropped by the template.

use typst::layout::{Frame, FrameItem};
use typst::model::Document as _;

use super::*;

fn typical_letter() -> Letter {
    Letter {
        service_name: "Riverside Children's Therapy Service".into(),
        sender_lines: vec![
            "Unit 4, Mill Lane".into(),
            "Northtown NT1 2AB".into(),
            "01234 567890".into(),
            "therapy@riverside.example".into(),
        ],
        recipient_lines: vec![
            "Ms Jane Clarke".into(),
            "12 Orchard Road".into(),
            "Northtown".into(),
            "NT3 4CD".into(),
        ],
        date: "30/11/2026".into(),
        reference: "Case C-0042".into(),
        subject: "Your child's therapy sessions this term".into(),
        salutation: "Dear Ms Clarke,".into(),
        paragraphs: vec![
            "Thank you for meeting us last week to talk about Sam's progress. As agreed, Sam \
             will have weekly sessions with our speech and language therapist this term."
                .into(),
            "The dates are below. If a date does not suit you, please call us at least two days \
             before so that we can offer the time to another family."
                .into(),
            "We look forward to seeing you both.".into(),
        ],
        table: Some(LetterTable {
            caption: "Session dates".into(),
            headers: vec!["Date".into(), "Time".into(), "Where".into()],
            rows: vec![
                vec![
                    "Tuesday 6 January 2027".into(),
                    "10:00".into(),
                    "Room 2".into(),
                ],
                vec![
                    "Tuesday 13 January 2027".into(),
                    "10:00".into(),
                    "Room 2".into(),
                ],
                vec![
                    "Tuesday 20 January 2027".into(),
                    "10:00".into(),
                    "Home visit".into(),
                ],
            ],
        }),
        sign_off: "Yours sincerely,".into(),
        signatory_lines: vec!["Alex Morgan".into(), "Speech and Language Therapist".into()],
        footer: "Confidential: for the addressee only".into(),
    }
}

/// The text of every page, in layout order, without whitespace (line breaks
/// and zero-width spaces may fall anywhere).
fn page_texts(document: &PagedDocument) -> Vec<String> {
    fn walk(frame: &Frame, out: &mut String) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(group) => walk(&group.frame, out),
                FrameItem::Text(text) => out.push_str(&text.text),
                _ => {}
            }
        }
    }
    document
        .pages()
        .iter()
        .map(|page| {
            let mut text = String::new();
            walk(&page.frame, &mut text);
            squash(&text)
        })
        .collect()
}

fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{200B}')
        .collect()
}

fn compile_letter(letter: &Letter) -> Compiled {
    let data = serde_json::to_value(LetterView::new(letter)).unwrap();
    let compiled = compile(LETTER_TEMPLATE, &data, &letter_title(letter)).unwrap();
    assert!(
        compiled.warnings.is_empty(),
        "typst warnings: {:?}",
        compiled.warnings
    );
    compiled
}

fn assert_is_pdf(bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF-"), "no PDF header");
    assert!(
        bytes.trim_ascii_end().ends_with(b"%%EOF"),
        "no %%EOF trailer"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn letter_renders_to_a_tagged_pdf_ua_file() {
    let bytes = render_letter(&typical_letter()).unwrap();
    assert_is_pdf(&bytes);
    // Tagged, and declared PDF/UA-1 in the XMP metadata.
    assert!(contains(&bytes, b"/StructTreeRoot"));
    assert!(contains(&bytes, b"pdfuaid:part"));
    assert!(contains(&bytes, b"/Lang"));
}

#[test]
fn every_field_of_the_letter_is_typeset() {
    let letter = typical_letter();
    let compiled = compile_letter(&letter);
    assert_eq!(compiled.document.pages().len(), 1);
    let text = page_texts(&compiled.document).concat();
    let table = letter.table.clone().unwrap();
    let mut expected = vec![
        letter.service_name.clone(),
        letter.date.clone(),
        format!("Our reference: {}", letter.reference),
        letter.subject.clone(),
        letter.salutation.clone(),
        letter.sign_off.clone(),
        letter.footer.clone(),
        "Page 1 of 1".into(),
        table.caption.clone(),
    ];
    expected.extend(letter.sender_lines.iter().cloned());
    expected.extend(letter.recipient_lines.iter().cloned());
    expected.extend(letter.paragraphs.iter().cloned());
    expected.extend(letter.signatory_lines.iter().cloned());
    expected.extend(table.headers.iter().cloned());
    expected.extend(table.rows.iter().flatten().cloned());
    for field in expected {
        assert!(
            text.contains(&squash(&field)),
            "missing from the letter: {field:?}"
        );
    }
    let info = compiled.document.info();
    assert_eq!(info.title.as_deref(), Some(letter.subject.as_str()));
}

#[test]
fn reading_order_follows_the_letter() {
    let compiled = compile_letter(&typical_letter());
    let text = page_texts(&compiled.document).concat();
    let order = [
        "Riverside",
        "MsJaneClarke",
        "30/11/2026",
        "Yourchild's",
        "DearMs",
        "Thankyou",
        "Sessiondates",
        "Yourssincerely",
        "AlexMorgan",
    ];
    let positions: Vec<usize> = order.iter().map(|s| text.find(s).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order: {positions:?}"
    );
}

#[test]
fn a_long_address_pushes_the_date_down_instead_of_overlapping() {
    let mut letter = typical_letter();
    letter.recipient_lines = (1..=9).map(|i| format!("Address line {i}")).collect();
    let compiled = compile_letter(&letter);
    // The baseline of each text run, in page order, by its text.
    fn runs(frame: &Frame, y0: f64, out: &mut Vec<(f64, String)>) {
        for (pos, item) in frame.items() {
            match item {
                FrameItem::Group(group) => runs(&group.frame, y0 + pos.y.to_pt(), out),
                FrameItem::Text(text) => out.push((y0 + pos.y.to_pt(), text.text.to_string())),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    runs(&compiled.document.pages()[0].frame, 0.0, &mut found);
    let y = |needle: &str| found.iter().find(|(_, t)| t.contains(needle)).unwrap().0;
    assert!(y("Address line 9") + 11.0 < y("Our reference"), "{found:?}");
    assert!(y("Address line 9") + 11.0 < y("30/11/2026"));
}

#[test]
fn hostile_text_renders_literally() {
    // 'j' occurs nowhere else in this letter, so all 10 000 can be counted.
    let long_word = "j".repeat(10_000);
    let hostile = [
        "#panic(\"x\")",
        "] #strong[oops",
        "$x^2$",
        "*not bold* _nor italic_",
        "<script>alert(1)</script>",
        "back\\slash \\ and `raw` and // comment /* block",
        "#let data = none",
        "@label <label> = heading - list + enum / term: def",
        "#import \"@preview/cetz:0.3.0\": *",
        "#read(\"/etc/passwd\")",
        "שלום, Ms כהן",
        "السيدة فاطمة",
    ];
    let mut letter = typical_letter();
    letter.paragraphs = hostile.iter().map(|s| s.to_string()).collect();
    letter.paragraphs.push(long_word.clone());
    letter.paragraphs.push("Smile 😀 and family 👨‍👩‍👧 end".into());
    letter.salutation = "#panic(\"in salutation\")".into();
    letter.recipient_lines = vec!["]\u{202E}reversed".into(), "line\ttwo\nthree".into()];
    letter.subject = "= Not a heading * $".into();
    letter.footer = "#counter(page).update(9)".into();

    let compiled = compile_letter(&letter);
    let text = page_texts(&compiled.document).concat();
    for s in hostile {
        // Right-to-left runs are laid out in visual order, so check them word by word.
        let rtl = s.chars().any(|c| ('\u{0590}'..='\u{06FF}').contains(&c));
        let parts: Vec<&str> = if rtl {
            s.split_whitespace().collect()
        } else {
            vec![s]
        };
        for part in parts {
            assert!(
                text.contains(&squash(part)),
                "not literal: {part:?} of {s:?} in {text}"
            );
        }
    }
    // The word spans pages (with footers between), so count its letters.
    assert_eq!(text.matches('j').count(), 10_000, "the long word was cut");
    assert!(text.contains(&squash("#panic(\"in salutation\")")));
    assert!(text.contains("]reversed"));
    assert!(text.contains("linetwothree"));
    assert!(text.contains(&squash("= Not a heading * $")));
    assert!(text.contains(&squash("#counter(page).update(9)")));
    assert!(text.contains("Smile\u{FFFD}andfamily\u{FFFD}\u{FFFD}\u{FFFD}end"));
    // The footer's markup did not run: numbering is intact.
    let last = compiled.document.pages().len();
    assert!(text.contains(&format!("Page1of{last}")));

    // And the export (with PDF/UA-1's checks) succeeds.
    let bytes = render_letter(&letter).unwrap();
    assert_is_pdf(&bytes);
}

#[test]
fn a_long_word_wraps_inside_the_page() {
    let mut letter = typical_letter();
    letter.paragraphs = vec!["y".repeat(10_000)];
    let compiled = compile_letter(&letter);
    let width = compiled.document.pages()[0].frame.width();
    fn widest(frame: &Frame, x0: f64, max: &mut f64) {
        for (pos, item) in frame.items() {
            match item {
                FrameItem::Group(group) => widest(&group.frame, x0 + pos.x.to_pt(), max),
                FrameItem::Text(text) => {
                    *max = max.max(x0 + pos.x.to_pt() + text.width().to_pt());
                }
                _ => {}
            }
        }
    }
    for page in compiled.document.pages() {
        let mut max = 0.0;
        widest(&page.frame, 0.0, &mut max);
        assert!(
            max <= width.to_pt(),
            "text runs off the page: {max} > {}",
            width.to_pt()
        );
    }
    assert!(compiled.document.pages().len() > 1);
}

#[test]
fn a_long_table_spans_pages_and_repeats_its_header() {
    let mut letter = typical_letter();
    let table = letter.table.as_mut().unwrap();
    table.rows = (1..=60)
        .map(|i| vec![format!("Session {i}"), "10:00".into(), format!("Room {i}")])
        .collect();
    let compiled = compile_letter(&letter);
    let pages = page_texts(&compiled.document);
    assert!(pages.len() > 1, "60 rows fit on one page?");
    let all = pages.concat();
    for i in 1..=60 {
        assert!(
            all.contains(&format!("Session{i}Room")) || all.contains(&format!("Session{i}10:00"))
        );
    }
    // The header row is repeated at the top of the table's later pages.
    let continued = pages
        .iter()
        .skip(1)
        .find(|p| p.contains("Session60"))
        .unwrap();
    assert!(
        continued.contains("DateTimeWhere"),
        "header not repeated: {continued}"
    );
    let last = pages.len();
    assert!(pages[last - 1].contains(&format!("Page{last}of{last}")));
    assert!(pages[0].contains(&format!("Page1of{last}")));
    assert_is_pdf(&render_letter(&letter).unwrap());
}

#[test]
fn empty_and_missing_optional_fields_render() {
    let empty = Letter {
        service_name: String::new(),
        sender_lines: vec![],
        recipient_lines: vec![],
        date: String::new(),
        reference: String::new(),
        subject: String::new(),
        salutation: String::new(),
        paragraphs: vec![],
        table: Some(LetterTable {
            caption: String::new(),
            headers: vec![],
            rows: vec![],
        }),
        sign_off: String::new(),
        signatory_lines: vec![],
        footer: String::new(),
    };
    assert_is_pdf(&render_letter(&empty).unwrap());
    let compiled = compile_letter(&empty);
    assert_eq!(compiled.document.info().title.as_deref(), Some("Letter"));

    let mut letter = typical_letter();
    letter.table = None;
    letter.reference = String::new();
    letter.sender_lines = vec!["   ".into()];
    assert_is_pdf(&render_letter(&letter).unwrap());

    // A table without a header row or caption, with ragged rows.
    letter.table = Some(LetterTable {
        caption: String::new(),
        headers: vec![],
        rows: vec![vec!["one".into()], vec!["two".into(), "three".into()]],
    });
    let text = page_texts(&compile_letter(&letter).document).concat();
    assert!(text.contains("one") && text.contains("three"));
    assert!(!text.contains("Ourreference"));
    assert_is_pdf(&render_letter(&letter).unwrap());
}

#[test]
fn rendering_is_deterministic_and_thread_safe() {
    let letter = typical_letter();
    let first = render_letter(&letter).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let mut letter = letter.clone();
            std::thread::spawn(move || {
                if i % 2 == 1 {
                    letter.salutation = format!("Dear parent {i},");
                }
                render_letter(&letter).unwrap()
            })
        })
        .collect();
    let outputs: Vec<Vec<u8>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outputs[0], first);
    assert_eq!(outputs[2], first);
    assert_ne!(outputs[1], first);
}

#[test]
fn templates_cannot_reach_files_packages_or_the_clock() {
    let data = serde_json::json!({});
    for source in [
        "#read(\"/etc/passwd\")",
        "#import \"@preview/example:0.1.0\": *",
        "#datetime.today().display()",
        "#image(\"/logo.png\")",
    ] {
        let err = render(source, &data, "t").unwrap_err();
        assert!(matches!(err, PdfError::Compile(_)), "{source}: {err}");
    }
}

#[test]
fn errors_do_not_leak_the_data() {
    let data = serde_json::json!({ "secret": "Sam Smith, date of birth 01/02/2019" });
    let err = render(
        "#let d = json(\"/data.json\")\n#panic(d.secret)",
        &data,
        "t",
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(!message.contains("Sam"), "{message}");
    assert!(message.contains("template line 2"), "{message}");

    let err = render("#let d = json(\"/data.json\")\n#(d.secret + 1)", &data, "t").unwrap_err();
    assert!(!err.to_string().contains("Sam"), "{err}");
    let err = render("#let d = json(\"/data.json\")\n#int(d.secret)", &data, "t").unwrap_err();
    assert!(!err.to_string().contains("Sam"), "{err}");
    let err = render(
        "#let d = json(\"/data.json\")\n#assert(false, message: d.secret)",
        &data,
        "t",
    )
    .unwrap_err();
    assert!(!err.to_string().contains("Sam"), "{err}");
    println!("a redacted error: {err}");
}

#[test]
fn generic_render_sanitises_data_and_sets_the_title() {
    let data = serde_json::json!({ "items": ["a😀", { "x": "b\u{202E}c" }], "n": 3 });
    let template = "#let d = json(\"/data.json\")\n#d.items.at(0) #d.items.at(1).x #d.n";
    let compiled = compile(template, &data, "  A handout 😀 ").unwrap();
    assert_eq!(
        compiled.document.info().title.as_deref(),
        Some("A handout \u{FFFD}")
    );
    assert_eq!(page_texts(&compiled.document).concat(), "a\u{FFFD}bc3");
    assert_is_pdf(&render(template, &data, "").unwrap());
}

#[test]
fn redaction_hides_quoted_text() {
    let words = data_words(&serde_json::json!({ "a": ["Sam O'Neill-Smith", "born 2019"] }));
    assert_eq!(words, ["Neill", "Smith", "2019", "born", "Sam"]);
    assert_eq!(redact("panicked with: Sam", &words), "panicked with: …");
    assert_eq!(
        redact("the text `Sam` could not", &[]),
        "the text `…` could not"
    );
    assert_eq!(redact("unterminated \"Sam", &[]), "unterminated \"…");
    assert_eq!(
        redact("unknown variable: foo", &words),
        "unknown variable: foo"
    );
    assert_eq!(
        redact("invalid number: 2019-x, Smith", &words),
        "invalid number: …-x, …"
    );
}

fn handout(large: bool) -> Handout {
    Handout {
        service_name: "Riverside Children's Therapy Service".into(),
        service_lines: vec!["01234 567890".into()],
        title: "When I have to tell".into(),
        for_name: "For Millie".into(),
        audience: "For children aged 3 to 7, to read aloud".into(),
        paragraphs: vec![
            "I want you to be safe.".into(),
            "I will tell a grown-up whose job is to keep children safe. #panic(\"x\")".into(),
        ],
        pictures: vec!["A child and a grown-up sitting on the floor with a box of toys.".into()],
        large,
    }
}

#[test]
fn handouts_render_each_on_its_own_page_with_every_field() {
    let set = [handout(true), handout(false)];
    let bytes = match render_handouts(
        &set,
        "Handouts for Millie",
        "Draft until reviewed by a named clinician",
    ) {
        Ok(bytes) => bytes,
        Err(e) => panic!("{e}"),
    };
    assert_is_pdf(&bytes);
    let text = |h: &[Handout]| {
        let view = serde_json::json!({
            "footer": "Draft until reviewed by a named clinician",
            "handouts": h.iter().map(|h| serde_json::to_value(h).unwrap_or_default()).collect::<Vec<_>>(),
        });
        match compile(HANDOUT_TEMPLATE, &view, "t") {
            Ok(c) => page_texts(&c.document),
            Err(e) => panic!("{e}"),
        }
    };
    let pages = text(&set);
    assert_eq!(pages.len(), 2, "each handout on its own page");
    for page in &pages {
        let page = squash(page);
        for expected in [
            "Riverside Children's Therapy Service",
            "When I have to tell",
            "For Millie",
            "I want you to be safe.",
            "#panic(\"x\")",
            "Picture: A child and a grown-up",
            "Draft until reviewed by a named clinician",
        ] {
            assert!(
                page.contains(&squash(expected)),
                "{expected:?} missing from {page:?}"
            );
        }
    }
}

fn typical_agreement() -> Agreement {
    Agreement {
        service_name: "Riverside Children's Therapy Service".into(),
        title: "Our agreement".into(),
        for_name: "For Millie".into(),
        status_line: "Version 2, agreed 02/11/2026".into(),
        rules: vec![
            "No hurting me (Millie)".into(),
            "I won't hurt you, and you won't hurt me.".into(),
            "We look after the room and the things in it.".into(),
            "Shoes off on the rug #panic(\"x\")".into(),
            "  ".into(),
        ],
        time_and_place: "Every Tuesday, 10:00 to 10:50, in the Blue Room at Oakfield Primary, in term time"
            .into(),
        confidentiality: "What you say here stays here.\n\nIf someone is hurting you, I have to tell someone whose job is to keep you safe."
            .into(),
        footer: "Printed 02/11/2026".into(),
    }
}

#[test]
fn agreements_render_as_tagged_pdf_ua_with_the_rules_and_confidentiality() {
    let agreement = typical_agreement();
    let bytes = match render_agreement(&agreement) {
        Ok(bytes) => bytes,
        Err(e) => panic!("{e}"),
    };
    assert_is_pdf(&bytes);
    assert!(contains(&bytes, b"/StructTreeRoot"));
    assert!(contains(&bytes, b"pdfuaid:part"));
    assert!(contains(&bytes, b"/Lang"));

    let data = match serde_json::to_value(AgreementView::new(&agreement)) {
        Ok(data) => data,
        Err(e) => panic!("{e}"),
    };
    let compiled = match compile(AGREEMENT_TEMPLATE, &data, "Our agreement") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert!(
        compiled.warnings.is_empty(),
        "typst warnings: {:?}",
        compiled.warnings
    );
    let text = page_texts(&compiled.document).concat();
    for expected in [
        "Riverside Children's Therapy Service",
        "Our agreement",
        "For Millie",
        "Version 2, agreed 02/11/2026",
        "Our rules",
        "No hurting me (Millie)",
        "I won't hurt you, and you won't hurt me.",
        "We look after the room and the things in it.",
        "Shoes off on the rug #panic(\"x\")",
        "When and where we meet",
        "Every Tuesday, 10:00 to 10:50, in the Blue Room",
        "What you say here stays here.",
        "If someone is hurting you, I have to tell someone whose job is to keep you safe.",
        "Printed 02/11/2026",
    ] {
        assert!(
            text.contains(&squash(expected)),
            "{expected:?} missing from {text:?}"
        );
    }
    // The rules in order, the blank one dropped, numbered 1 to 4.
    let first = text.find(&squash("No hurting me")).unwrap_or(usize::MAX);
    let last = text.find(&squash("Shoes off")).unwrap_or(0);
    assert!(first < last, "the rules keep their order");
    assert!(text.contains("4."), "the rules are numbered");
    assert!(!text.contains("5."), "a blank rule is not printed");
}

fn typical_chronology() -> Chronology {
    let line = |label: &str, text: &str| (label.to_owned(), text.to_owned());
    Chronology {
        child_name: "Amira Khan".into(),
        date_of_birth: "14/03/2015".into(),
        prepared_by: "Dana Lee (DSL)".into(),
        prepared_at: "30/11/2026 14:05".into(),
        purpose: "For a strategy meeting".into(),
        service: "Riverside Children's Therapy Service".into(),
        entries: vec![
            ChronologyLine {
                when: "27/11/2026 15:40".into(),
                reference: "SG-1A2B3C4D".into(),
                what: "Concern raised".into(),
                by: "Sam Patel".into(),
                lines: vec![
                    line(
                        "Child's words",
                        "\"My uncle said I mustn't tell anyone about the shed.\"",
                    ),
                    line("Seen", "Bruise on the left forearm, about 3 cm."),
                ],
            },
            ChronologyLine {
                when: "28/11/2026 10:15".into(),
                reference: "SG-1A2B3C4D".into(),
                what: "Referral made".into(),
                by: "Dana Lee".into(),
                lines: vec![
                    line("Agency", "Children's social care"),
                    line("Outcome", "Strategy meeting called for 02/12/2026"),
                ],
            },
            ChronologyLine {
                when: "29/11/2026".into(),
                reference: String::new(),
                what: "Parent informed".into(),
                by: "Dana Lee".into(),
                lines: vec![line("", "Agreed with social care first."), line(" ", "  ")],
            },
        ],
    }
}

fn compile_chronology(doc: &Chronology) -> Compiled {
    let data = serde_json::to_value(ChronologyView::new(doc)).unwrap();
    let compiled = compile(CHRONOLOGY_TEMPLATE, &data, CHRONOLOGY_TITLE).unwrap();
    assert!(
        compiled.warnings.is_empty(),
        "typst warnings: {:?}",
        compiled.warnings
    );
    compiled
}

#[test]
fn chronology_renders_to_a_tagged_pdf_ua_file() {
    let bytes = render_chronology(&typical_chronology()).unwrap();
    assert_is_pdf(&bytes);
    assert!(contains(&bytes, b"/StructTreeRoot"));
    assert!(contains(&bytes, b"pdfuaid:part"));
    assert!(contains(&bytes, b"/Lang"));
}

#[test]
fn every_field_of_the_chronology_is_typeset() {
    let doc = typical_chronology();
    let compiled = compile_chronology(&doc);
    assert_eq!(compiled.document.pages().len(), 1);
    let text = page_texts(&compiled.document).concat();
    for expected in [
        "CONFIDENTIAL: SAFEGUARDING",
        "Amira Khan, born 14/03/2015",
        "Safeguarding chronology",
        "Child Amira Khan",
        "Date of birth 14/03/2015",
        "Purpose For a strategy meeting",
        "Prepared by Dana Lee (DSL)",
        "Prepared on 30/11/2026 14:05",
        "Service Riverside Children's Therapy Service",
        "When Reference What By",
        "27/11/2026 15:40 SG-1A2B3C4D Concern raised Sam Patel",
        "Child's words: \"My uncle said I mustn't tell anyone about the shed.\"",
        "Seen: Bruise on the left forearm, about 3 cm.",
        "28/11/2026 10:15 SG-1A2B3C4D Referral made Dana Lee",
        "Agency: Children's social care",
        "Outcome: Strategy meeting called for 02/12/2026",
        "29/11/2026 Parent informed Dana Lee",
        "Agreed with social care first.",
        "Page 1 of 1",
    ] {
        assert!(
            text.contains(&squash(expected)),
            "{expected:?} missing from {text:?}"
        );
    }
    // The empty part is dropped, and an unlabelled one has no colon.
    assert!(!text.contains(":Agreed"));
    assert_eq!(
        compiled.document.info().title.as_deref(),
        Some("Safeguarding chronology")
    );
}

#[test]
fn chronology_entries_are_printed_oldest_first() {
    let mut doc = typical_chronology();
    doc.entries.reverse();
    let text = page_texts(&compile_chronology(&doc).document).concat();
    let at = |s: &str| text.find(&squash(s)).unwrap();
    assert!(at("Concern raised") < at("Referral made"));
    assert!(at("Referral made") < at("Parent informed"));
    // The labelled parts stay beneath their own entry.
    assert!(at("Referral made") < at("Agency:") && at("Agency:") < at("Parent informed"));

    // An entry whose time cannot be read: the order given is kept.
    doc.entries[0].when = "Late November".into();
    let text = page_texts(&compile_chronology(&doc).document).concat();
    let at = |s: &str| text.find(&squash(s)).unwrap();
    assert!(at("Parent informed") < at("Referral made"));
    assert!(at("Referral made") < at("Concern raised"));
}

#[test]
fn chronology_times_sort_by_date_then_time() {
    assert_eq!(when_key("28/11/2026 10:15"), Some((2026, 11, 28, 10, 15)));
    assert_eq!(when_key(" 01/02/2027 "), Some((2027, 2, 1, 0, 0)));
    assert!(when_key("31/12/2026 23:59") < when_key("01/01/2027"));
    assert!(when_key("28/11/2026") < when_key("28/11/2026 00:01"));
    for bad in [
        "",
        "2026-11-28",
        "28/11/26",
        "1/11/2026",
        "32/11/2026",
        "28/13/2026",
        "28/11/2026 24:00",
        "28/11/2026 10.15",
        "28/11/2026/1",
    ] {
        assert_eq!(when_key(bad), None, "{bad:?}");
    }
}

#[test]
fn hostile_chronology_text_renders_literally() {
    let hostile = [
        "#set page(paper: \"a5\")",
        "] #strong[oops",
        "back\\slash \\ and `raw`",
        "<script>alert(1)</script>",
        "#panic(\"x\")",
        "$x^2$ *not bold* _nor italic_ @label <label>",
        "#import \"@preview/cetz:0.3.0\": *",
        "שלום, Ms כהן",
    ];
    let mut doc = typical_chronology();
    doc.child_name = "#set text(size: 1pt)".into();
    doc.purpose = "Transfer to ] Hillside \\ Academy <script>".into();
    doc.entries.push(ChronologyLine {
        when: "30/11/2026 09:00".into(),
        reference: "#set".into(),
        what: "#set text(fill: white) ] \\ <script>".into(),
        by: "]\\".into(),
        lines: hostile
            .iter()
            .map(|s| ("#set".to_owned(), s.to_string()))
            .chain([("<script>".to_owned(), "]".to_owned())])
            .collect(),
    });
    let compiled = compile_chronology(&doc);
    let text = page_texts(&compiled.document).concat();
    for s in hostile {
        let rtl = s.chars().any(|c| ('\u{0590}'..='\u{06FF}').contains(&c));
        let parts: Vec<&str> = if rtl {
            s.split_whitespace().collect()
        } else {
            vec![s]
        };
        for part in parts {
            assert!(
                text.contains(&squash(part)),
                "not literal: {part:?} of {s:?} in {text}"
            );
        }
    }
    for s in [
        "#set:#set page(paper: \"a5\")",
        "<script>:]",
        "30/11/2026 09:00 #set #set text(fill: white) ] \\ <script> ]\\",
        "#set text(size: 1pt), born 14/03/2015",
        "Purpose Transfer to ] Hillside \\ Academy <script>",
    ] {
        assert!(text.contains(&squash(s)), "not literal: {s:?} in {text}");
    }
    // The markup did not run: still A4.
    for page in compiled.document.pages() {
        assert!((page.frame.width().to_pt() - 595.28).abs() < 0.5);
    }
    assert_is_pdf(&render_chronology(&doc).unwrap());
}

#[test]
fn a_long_chronology_repeats_the_band_and_the_header_row() {
    let mut doc = typical_chronology();
    doc.entries = (1..=60)
        .map(|i| ChronologyLine {
            when: format!("{:02}/10/2026 09:{:02}", i % 28 + 1, i % 60),
            reference: format!("SG-{i:08X}"),
            what: format!("Entry number {i}"),
            by: "Dana Lee".into(),
            lines: vec![("Note".into(), format!("Detail of entry {i}."))],
        })
        .collect();
    let compiled = compile_chronology(&doc);
    let pages = page_texts(&compiled.document);
    let last = pages.len();
    assert!(last > 1, "60 entries fit on one page?");
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains("CONFIDENTIAL:SAFEGUARDING"), "page {}", i + 1);
        assert!(page.contains("AmiraKhan,born14/03/2015"), "page {}", i + 1);
        assert!(page.contains("WhenReferenceWhatBy"), "page {}", i + 1);
        assert!(page.contains(&format!("Page{}of{last}", i + 1)));
        assert!(page.contains("Riverside"), "the footer on page {}", i + 1);
    }
    let all = pages.concat();
    for i in 1..=60 {
        assert!(all.contains(&format!("Entrynumber{i}Dana")), "entry {i}");
        assert!(
            all.contains(&format!("Note:Detailofentry{i}.")),
            "entry {i}"
        );
    }
    assert_is_pdf(&render_chronology(&doc).unwrap());
}

#[test]
fn long_values_stay_inside_their_columns() {
    let mut doc = typical_chronology();
    // W is the widest letter.
    doc.entries[0].reference = "SG-".to_owned() + &"W".repeat(60);
    doc.entries[0].by = "Bartholomew-Featherstonehaugh Wolstenholme".into();
    doc.entries[0].what = "y".repeat(400);
    let compiled = compile_chronology(&doc);
    // Every text run with its left and right edge, on every page.
    fn runs(frame: &Frame, x0: f64, out: &mut Vec<(f64, f64, String)>) {
        for (pos, item) in frame.items() {
            match item {
                FrameItem::Group(group) => runs(&group.frame, x0 + pos.x.to_pt(), out),
                FrameItem::Text(text) => {
                    let x = x0 + pos.x.to_pt();
                    out.push((x, x + text.width().to_pt(), text.text.to_string()));
                }
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    for page in compiled.document.pages() {
        runs(&page.frame, 0.0, &mut found);
    }
    let left_of = |needle: &str| {
        found
            .iter()
            .find(|(_, _, t)| t.trim() == needle)
            .map(|(x, _, _)| *x)
            .unwrap()
    };
    let (what_x, by_x) = (left_of("What"), left_of("By"));
    // Right margin 18 mm: no text may go past it.
    let right = compiled.document.pages()[0].frame.width().to_pt() - 18.0 / 25.4 * 72.0;
    for (x, end, text) in &found {
        assert!(*end <= right + 0.5, "{text:?} runs past the margin");
        if text.contains("WWW") {
            assert!(*end <= what_x, "{text:?} runs into the What column");
        }
        if text.contains("yyy") {
            assert!(
                *x >= what_x && *end <= by_x,
                "{text:?} leaves the What column"
            );
        }
    }
    let text = page_texts(&compiled.document).concat();
    // Nothing was cut.
    assert!(text.contains(&format!("SG-{}", "W".repeat(60))));
    assert!(text.contains(&"y".repeat(400)));
    // Ordinary references are left whole (they copy intact); long runs break.
    assert_eq!(breakable_ascii("SG-1A2B3C4D", 12, 6), "SG-1A2B3C4D");
    assert_eq!(
        breakable_ascii("SG-1A2B3C4D5E6F 27/11/2026", 12, 6),
        "SG-1A2\u{200B}B3C4D5\u{200B}E6F 27/11/2026"
    );
    // Never before a combining mark.
    assert_eq!(
        breakable_ascii("ab\u{0301}\u{0301}\u{0301}cd", 2, 2),
        "ab\u{0301}\u{0301}\u{0301}\u{200B}cd"
    );
}

#[test]
fn an_empty_chronology_renders() {
    let doc = Chronology {
        child_name: String::new(),
        date_of_birth: String::new(),
        prepared_by: String::new(),
        prepared_at: String::new(),
        purpose: String::new(),
        service: String::new(),
        entries: vec![],
    };
    let text = page_texts(&compile_chronology(&doc).document).concat();
    assert!(text.contains("Noentries."));
    assert!(text.contains("Page1of1"));
    assert!(!text.contains("Purpose"));
    assert_is_pdf(&render_chronology(&doc).unwrap());

    let mut doc = typical_chronology();
    doc.entries.iter_mut().for_each(|e| e.lines.clear());
    doc.date_of_birth = String::new();
    let text = page_texts(&compile_chronology(&doc).document).concat();
    assert!(text.contains("AmiraKhan"));
    assert!(!text.contains("born"));
    assert_is_pdf(&render_chronology(&doc).unwrap());
}

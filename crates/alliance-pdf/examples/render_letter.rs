//! Render a typical letter to /tmp/letter.pdf (or the path given) and print
//! how long the first (cold) and later (warm) renders take.
//!
//! `cargo run --release -p alliance-pdf --example render_letter [-- OUT.pdf [ROWS]]`

use std::time::Instant;

use alliance_pdf::{Letter, LetterTable, render_letter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "/tmp/letter.pdf".to_owned());
    let rows: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(6);
    let letter = letter(rows);

    let start = Instant::now();
    let bytes = render_letter(&letter)?;
    let cold = start.elapsed();

    let mut warm = Vec::new();
    for i in 0..10 {
        let mut letter = letter.clone();
        // Vary the data so that typst's cache cannot reuse the whole layout.
        letter.salutation = format!("Dear Ms Clarke {i},");
        let start = Instant::now();
        render_letter(&letter)?;
        warm.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    warm.sort_by(f64::total_cmp);

    std::fs::write(&out, &bytes)?;
    println!("wrote {out} ({} bytes)", bytes.len());
    println!("cold render: {:.1} ms", cold.as_secs_f64() * 1000.0);
    println!(
        "warm render: median {:.1} ms, min {:.1} ms, max {:.1} ms (10 renders, varied data)",
        warm[warm.len() / 2],
        warm[0],
        warm[warm.len() - 1]
    );
    Ok(())
}

fn letter(rows: usize) -> Letter {
    Letter {
        service_name: "Riverside Children's Therapy Service".into(),
        sender_lines: vec![
            "Unit 4, Mill Lane".into(),
            "Northtown NT1 2AB".into(),
            "Telephone 01234 567890".into(),
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
            "Thank you for meeting us last week to talk about Sam's progress. As we agreed, Sam \
             will have weekly sessions with our speech and language therapist this term, \
             focusing on the goals we set together."
                .into(),
            "The dates are below. If a date does not suit you, please call us at least two days \
             before, so that we can offer the time to another family. Sessions last about \
             45 minutes, and you are welcome to stay."
                .into(),
            "We look forward to seeing you both.".into(),
        ],
        table: Some(LetterTable {
            caption: "Session dates".into(),
            headers: vec!["Date".into(), "Time".into(), "Where".into()],
            rows: (0..rows)
                .map(|i| {
                    vec![
                        format!("Tuesday {} January 2027", 6 + 7 * (i % 4)),
                        "10:00 to 10:45".into(),
                        if i % 3 == 2 {
                            "Home visit".into()
                        } else {
                            "Room 2, Mill Lane".into()
                        },
                    ]
                })
                .collect(),
        }),
        sign_off: "Yours sincerely,".into(),
        signatory_lines: vec!["Alex Morgan".into(), "Speech and Language Therapist".into()],
        footer: "Confidential: for the addressee only".into(),
    }
}

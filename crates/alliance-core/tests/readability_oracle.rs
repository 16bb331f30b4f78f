//! `alliance_core::readability` against PyPI textstat 0.7.3 (syllables by pyphen), an
//! independent implementation, on the texts in `tests/readability_corpus/` (original prose
//! of very different difficulty, each of 100 words or more).
//!
//! textstat runs through `tools/readability_oracle.py` with the Python of the test tools'
//! virtualenv (scripts/bootstrap makes it). Missing is a failure, never a skip.
//!
//! Asserted for every text: the same words and sentences as textstat, syllables within 3%,
//! and the Flesch–Kincaid grade within 1.0 of textstat's (which rounds its averages; the
//! difference from textstat's unrounded grade is printed too, with every count).

use alliance_core::readability::{DEFAULT_READING_AGE_OFFSET, Readability, measure};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const GRADE_TOLERANCE: f64 = 1.0;
const SYLLABLE_TOLERANCE: f64 = 0.03;
const MIN_TEXTS: usize = 24;
const MIN_WORDS: u64 = 100;

type TestResult = Result<(), String>;

/// The Python of the test tools' virtualenv: the path in `ALLIANCE_TOOLS_PYTHON`, else
/// `venv/bin/python` under `ALLIANCE_TOOLS_CACHE`, else under `~/.cache/alliance-tools`.
fn tools_python() -> Result<PathBuf, String> {
    let python = match std::env::var_os("ALLIANCE_TOOLS_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => {
            let cache = match std::env::var_os("ALLIANCE_TOOLS_CACHE") {
                Some(cache) => PathBuf::from(cache),
                None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/alliance-tools"),
            };
            cache.join("venv/bin/python")
        }
    };
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "the test tools' Python is not at {}: run scripts/bootstrap (it installs textstat \
             0.7.3 and pyphen, pinned in tools/requirements-test.txt), or set \
             ALLIANCE_TOOLS_PYTHON",
            python.display()
        ))
    }
}

/// The corpus, sorted by file name: (name, text).
fn corpus() -> Result<Vec<(String, String)>, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readability_corpus");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut texts = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "txt") {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            texts.push((name, text));
        }
    }
    texts.sort();
    Ok(texts)
}

/// textstat's figures for each text, in order.
fn textstat(texts: &[(String, String)]) -> Result<Vec<Value>, String> {
    let python = tools_python()?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tools/readability_oracle.py"
    );
    let input: Vec<Value> = texts
        .iter()
        .map(|(name, text)| json!({"name": name, "text": text}))
        .collect();
    let input = serde_json::to_vec(&input).map_err(|e| e.to_string())?;

    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    // The script reads all its input before it writes anything.
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&input)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "tools/readability_oracle.py failed (if textstat is missing, run scripts/bootstrap): {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    if results.len() != texts.len() {
        return Err(format!(
            "{} results for {} texts",
            results.len(),
            texts.len()
        ));
    }
    Ok(results)
}

fn number(v: &Value, key: &str) -> Result<f64, String> {
    v[key]
        .as_f64()
        .ok_or_else(|| format!("no number {key} in {v}"))
}

fn count(v: &Value, key: &str) -> Result<u64, String> {
    v[key]
        .as_u64()
        .ok_or_else(|| format!("no count {key} in {v}"))
}

#[test]
fn readability_matches_textstat_on_the_corpus() -> TestResult {
    let texts = corpus()?;
    if texts.len() < MIN_TEXTS {
        return Err(format!(
            "{} texts in the corpus; want {MIN_TEXTS}",
            texts.len()
        ));
    }
    let oracle = textstat(&texts)?;

    let mut failures = Vec::new();
    let (mut max_grade, mut max_grade_unrounded, mut max_ease) = (0.0_f64, 0.0_f64, 0.0_f64);
    println!(
        "{:<34} {:>11} {:>9} {:>11} {:>15} {:>15} {:>7} {:>7}",
        "text", "words", "sentences", "syllables", "FK ours/ts", "FK ts unround", "ΔFK", "ΔFKraw"
    );
    for ((name, text), ts) in texts.iter().zip(&oracle) {
        let ours: Readability =
            measure(text, DEFAULT_READING_AGE_OFFSET).ok_or_else(|| format!("{name}: no words"))?;
        let (ts_words, ts_sentences, ts_syllables) = (
            count(ts, "words")?,
            count(ts, "sentences")?,
            count(ts, "syllables")?,
        );
        let ts_grade = number(ts, "flesch_kincaid_grade")?;
        let ts_grade_unrounded = number(ts, "flesch_kincaid_grade_unrounded")?;
        let ts_ease_unrounded = number(ts, "flesch_reading_ease_unrounded")?;
        let d_grade = ours.flesch_kincaid_grade - ts_grade;
        let d_grade_unrounded = ours.flesch_kincaid_grade - ts_grade_unrounded;
        let d_ease = ours.flesch_reading_ease - ts_ease_unrounded;
        max_grade = max_grade.max(d_grade.abs());
        max_grade_unrounded = max_grade_unrounded.max(d_grade_unrounded.abs());
        max_ease = max_ease.max(d_ease.abs());
        println!(
            "{name:<34} {:>5}/{:<5} {:>4}/{:<4} {:>5}/{:<5} {:>7.2}/{:<7.1} {:>15.2} {:>+7.2} {:>+7.2}",
            ours.words,
            ts_words,
            ours.sentences,
            ts_sentences,
            ours.syllables,
            ts_syllables,
            ours.flesch_kincaid_grade,
            ts_grade,
            ts_grade_unrounded,
            d_grade,
            d_grade_unrounded,
        );

        if ts_words < MIN_WORDS {
            failures.push(format!(
                "{name}: {ts_words} words; the corpus wants {MIN_WORDS} or more"
            ));
        }
        if u64::from(ours.words) != ts_words {
            failures.push(format!("{name}: {} words, textstat {ts_words}", ours.words));
        }
        if u64::from(ours.sentences) != ts_sentences {
            failures.push(format!(
                "{name}: {} sentences, textstat {ts_sentences}",
                ours.sentences
            ));
        }
        let ts_syllables_f = ts_syllables as f64;
        if (f64::from(ours.syllables) - ts_syllables_f).abs() > SYLLABLE_TOLERANCE * ts_syllables_f
        {
            failures.push(format!(
                "{name}: {} syllables, textstat {ts_syllables}",
                ours.syllables
            ));
        }
        if d_grade.abs() > GRADE_TOLERANCE {
            failures.push(format!(
                "{name}: Flesch-Kincaid grade {:.2}, textstat {ts_grade}",
                ours.flesch_kincaid_grade
            ));
        }
    }
    println!(
        "max |ΔFK| against textstat: {max_grade:.3} (its rounded grade), \
         {max_grade_unrounded:.3} (unrounded); max |ΔFRE| unrounded: {max_ease:.3}"
    );

    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Short texts that probe the counting rules one at a time: the same words and sentences as
/// textstat, exactly (syllables are printed).
#[test]
fn readability_counting_rules_match_textstat_on_edge_cases() -> TestResult {
    let cases = [
        "Mr. Patel and Dr. Jones will meet you at the gate.",
        "Mr. Patel will meet you at the gate.",
        "Bring something to draw with, e.g. pencils or crayons, i.e. anything.",
        "It costs £3.50 on 12/06/2026 at 9.30am! That's 50% off, #1 deal: 1,000,000 sold.",
        "Hello... World?! Yes. No. Maybe so, then?!?",
        "\"Come in,\" she said. (Then we sat down together.) 'Right,' he said.",
        "Dear parents\nWe are writing to you about the trip\n\nThanks very much\nMrs Smith",
        "A well-known, self-care plan for eleven- to fourteen-year-olds — yes – no—maybe.",
        "snake_case words and CamelCase too, with under_scores here.",
        "Zoë’s café: a naïve coördinator’s crêpes « bienvenue » don’t ‘matter’.",
        "tab\tseparated\u{1c}field\u{1f}unit text is here now.",
        "word\u{200b}joined by a zero width space, and non\u{2011}breaking hyphens.",
        "3.14159 is pi. 2+2=4 and x=y. The end of it all.",
        "Bullets:\n• one thing here\n• two things here\n- three things here\n1. four things here",
        "   ",
        "...!!!???",
        "",
    ];
    let texts: Vec<(String, String)> = cases
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("edge {i}"), (*t).to_owned()))
        .collect();
    let oracle = textstat(&texts)?;

    let mut failures = Vec::new();
    for ((_, text), ts) in texts.iter().zip(&oracle) {
        let (ts_words, ts_sentences, ts_syllables) = (
            count(ts, "words")?,
            count(ts, "sentences")?,
            count(ts, "syllables")?,
        );
        let Some(ours) = measure(text, DEFAULT_READING_AGE_OFFSET) else {
            println!("{text:?}: no words; textstat {ts_words} words");
            if ts_words != 0 {
                failures.push(format!("{text:?}: no words, textstat {ts_words}"));
            }
            continue;
        };
        println!(
            "{text:?}: words {}/{ts_words}, sentences {}/{ts_sentences}, syllables {}/{ts_syllables}",
            ours.words, ours.sentences, ours.syllables
        );
        if (u64::from(ours.words), u64::from(ours.sentences)) != (ts_words, ts_sentences) {
            failures.push(format!(
                "{text:?}: {} words and {} sentences, textstat {ts_words} and {ts_sentences}",
                ours.words, ours.sentences
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

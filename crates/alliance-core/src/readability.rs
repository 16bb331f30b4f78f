//! How hard a piece of English text is to read: Flesch Reading Ease, Flesch–Kincaid grade and
//! a UK reading age, with the longest sentences and the hardest words to point at.
//!
//! The counting follows PyPI `textstat` 0.7.3 (with `pyphen`), the independent implementation
//! the tests compare against (`tests/readability_oracle.rs`):
//!
//! * **Words.** Every character that is neither a word character (a letter, a digit or `_`)
//!   nor white space is deleted, then the text is split on white space. So `don't` and
//!   `don’t` are one word (`dont`), `well-known` is one word (`wellknown`), `£3.50` is one
//!   word (`350`) and a number is a word.
//! * **Sentences.** A sentence starts at a word character and runs to the next `.`, `!` or
//!   `?` and any more of them that follow (textstat's `\b[^.!?]+[.!?]*`); a line break does
//!   not end one. "Sentences" of two words or fewer are not counted, which is how `Mr.` or
//!   `e.g.` are kept from splitting a sentence in three (a longer fragment still counts).
//!   There is always at least one sentence.
//! * **Syllables.** Each word, lowercased, gets one syllable more than its hyphenation points
//!   under the TeX en-US Knuth–Liang patterns (embedded at build time by the `hyphenation`
//!   crate; at least two letters each side of a point, as pyphen allows), so a word with no
//!   hyphenation point has one syllable. The crate's patterns (hyph-utf8's en-US) are not
//!   quite pyphen's (hyphen.tex with the TUGboat exceptions folded in): about one dictionary
//!   word in a hundred differs, by a syllable or so either way (`every`, `teacher` one fewer
//!   here; `academic` two more), which moves a grade by 0.3 at most on the test corpus.
//!
//! textstat rounds its averages to one decimal before applying the formulas (which can move
//! the grade by up to 0.6); this module does not round. The formulas were made for American
//! school grades and English prose, so a score is guidance, not a verdict, and a text of under
//! 100 words gives an unreliable one ([`Readability::reliable`]).

use hyphenation::{Hyphenator, Language, Load, Standard};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// UK reading age = US grade + this. Sources conflict (+5 or +6; see the design notes), so
/// callers may pass their own.
pub const DEFAULT_READING_AGE_OFFSET: f64 = 5.0;

/// Under this many words the formulas are not reliable.
pub const RELIABLE_MIN_WORDS: u32 = 100;

const LONGEST_SENTENCES: usize = 3;
const HARDEST_WORDS: usize = 5;

/// The readability of a text, from [`measure`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readability {
    pub words: u32,
    pub sentences: u32,
    pub syllables: u32,
    /// 206.835 − 1.015 × (words/sentence) − 84.6 × (syllables/word): 90–100 very easy,
    /// 60–70 plain English, under 30 very hard.
    pub flesch_reading_ease: f64,
    /// 0.39 × (words/sentence) + 11.8 × (syllables/word) − 15.59, a US school grade.
    pub flesch_kincaid_grade: f64,
    /// The grade plus the reading-age offset, in years (UK).
    pub reading_age: f64,
    /// Up to three sentences with their word counts, longest first (white space inside a
    /// sentence shown as single spaces).
    pub longest_sentences: Vec<(String, u32)>,
    /// Up to five distinct words, lowercase and without punctuation, with their syllables:
    /// the most syllables first, then the longer word, then the earlier in the text.
    pub hardest_words: Vec<(String, u32)>,
    /// False under [`RELIABLE_MIN_WORDS`] words.
    pub reliable: bool,
}

/// Measures `text`, with the reading age as grade + `reading_age_offset` (normally
/// [`DEFAULT_READING_AGE_OFFSET`]). `None` when the text has no words.
pub fn measure(text: &str, reading_age_offset: f64) -> Option<Readability> {
    let words = count(word_count(text));
    if words == 0 {
        return None;
    }

    let spans = sentence_spans(text);
    let counted = spans.iter().filter(|s| word_count(s) > 2).count();
    let sentences = count(counted).max(1);

    let lowercase = text.to_lowercase();
    let mut syllables: u32 = 0;
    // Distinct words: (syllables, first position).
    let mut distinct: HashMap<String, (u32, usize)> = HashMap::new();
    for (position, word) in words_of(&lowercase).enumerate() {
        let n = word_syllables(&word);
        syllables = syllables.saturating_add(n);
        distinct.entry(word).or_insert((n, position));
    }

    let words_per_sentence = f64::from(words) / f64::from(sentences);
    let syllables_per_word = f64::from(syllables) / f64::from(words);
    let flesch_reading_ease = 206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word;
    let flesch_kincaid_grade = 0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59;

    let mut longest: Vec<(String, u32)> = spans
        .iter()
        .map(|s| {
            (
                s.split(is_space)
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
                count(word_count(s)),
            )
        })
        .collect();
    // Stable: among equals, the earlier sentence first.
    longest.sort_by_key(|s| std::cmp::Reverse(s.1));
    longest.truncate(LONGEST_SENTENCES);

    let mut hardest: Vec<(String, (u32, usize))> = distinct.into_iter().collect();
    hardest.sort_by(|(wa, (sa, pa)), (wb, (sb, pb))| {
        sb.cmp(sa)
            .then_with(|| wb.chars().count().cmp(&wa.chars().count()))
            .then_with(|| pa.cmp(pb))
    });
    let hardest_words = hardest
        .into_iter()
        .take(HARDEST_WORDS)
        .map(|(w, (n, _))| (w, n))
        .collect();

    Some(Readability {
        words,
        sentences,
        syllables,
        flesch_reading_ease,
        flesch_kincaid_grade,
        reading_age: flesch_kincaid_grade + reading_age_offset,
        longest_sentences: longest,
        hardest_words,
        reliable: words >= RELIABLE_MIN_WORDS,
    })
}

/// The syllables in `word` as textstat counts them: lowercased, punctuation deleted (so
/// `well-known` is hyphenated as `wellknown`), then one more than the hyphenation points of
/// each remaining word. A word with no hyphenation point (`cat`, `2024`) has one syllable;
/// nothing but punctuation has none.
pub fn syllables(word: &str) -> u32 {
    words_of(&word.to_lowercase())
        .map(|w| word_syllables(&w))
        .fold(0, u32::saturating_add)
}

/// The en-US patterns, loaded once from the bytes embedded in the binary. Breaks need two
/// letters on each side, as pyphen's defaults (the crate's own en-US minima are 2 and 3).
static EN_US: LazyLock<Option<Standard>> = LazyLock::new(|| {
    let mut dictionary = Standard::from_embedded(Language::EnglishUS).ok()?;
    dictionary.minima = (2, 2);
    Some(dictionary)
});

/// One lowercase word without punctuation.
fn word_syllables(word: &str) -> u32 {
    let points = match EN_US.as_ref() {
        Some(dictionary) => dictionary.hyphenate(word).breaks.len(),
        // The embedded dictionary always loads (a unit test checks it); if it ever did not,
        // vowel groups are a fair guess.
        None => vowel_groups(word).saturating_sub(1),
    };
    count(points).saturating_add(1)
}

fn vowel_groups(word: &str) -> usize {
    let mut groups = 0;
    let mut in_group = false;
    for c in word.chars() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
        if vowel && !in_group {
            groups += 1;
        }
        in_group = vowel;
    }
    groups
}

/// Python's `\w` for the text this module sees: letters, digits and `_`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python's `str.isspace`: Unicode white space and the four information separators.
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

/// The words of `text`: punctuation deleted (joining what it stood between), then split on
/// white space.
fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(is_space).filter_map(|chunk| {
        let word: String = chunk.chars().filter(|&c| is_word_char(c)).collect();
        (!word.is_empty()).then_some(word)
    })
}

fn word_count(text: &str) -> usize {
    text.split(is_space)
        .filter(|chunk| chunk.chars().any(is_word_char))
        .count()
}

/// The matches of textstat's `\b[^.!?]+[.!?]*`: each starts at the first word character after
/// the previous one ended, and runs through the next run of `.`, `!` and `?` (or to the end).
fn sentence_spans(text: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(is_word_char) {
        let from_start = &rest[start..];
        let end = match from_start.find(is_sentence_end) {
            Some(stop) => {
                let after = &from_start[stop..];
                stop + after.find(|c| !is_sentence_end(c)).unwrap_or(after.len())
            }
            None => from_start.len(),
        };
        spans.push(&from_start[..end]);
        rest = &from_start[end..];
    }
    spans
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn measured(text: &str) -> Readability {
        match measure(text, DEFAULT_READING_AGE_OFFSET) {
            Some(r) => r,
            None => panic!("no words in {text:?}"),
        }
    }

    #[test]
    fn the_embedded_dictionary_loads() {
        assert!(EN_US.is_some());
    }

    #[test]
    fn formulas_on_a_hand_computed_example() {
        // 6 one-syllable words in one sentence:
        // FK = 0.39 × 6 + 11.8 × 1 − 15.59 = −1.45; FRE = 206.835 − 6.09 − 84.6 = 116.145.
        let r = measured("The cat sat on the mat.");
        assert_eq!((r.words, r.sentences, r.syllables), (6, 1, 6));
        assert!(
            close(r.flesch_kincaid_grade, -1.45),
            "{}",
            r.flesch_kincaid_grade
        );
        assert!(
            close(r.flesch_reading_ease, 116.145),
            "{}",
            r.flesch_reading_ease
        );
        assert!(close(r.reading_age, -1.45 + 5.0));
    }

    #[test]
    fn formulas_with_several_sentences_and_longer_words() {
        // "Children remember stories." = chil-dren re-mem-ber sto-ries: 3 words, 7 syllables.
        // "Please come and play today." = please come and play to-day: 5 words, 6.
        // 8 words, 2 sentences, 13 syllables: 4 words/sentence, 1.625 syllables/word.
        let r = measured("Children remember stories. Please come and play today.");
        assert_eq!((r.words, r.sentences, r.syllables), (8, 2, 13));
        let (wps, spw) = (4.0, 1.625);
        assert!(close(
            r.flesch_kincaid_grade,
            0.39 * wps + 11.8 * spw - 15.59
        ));
        assert!(close(
            r.flesch_reading_ease,
            206.835 - 1.015 * wps - 84.6 * spw
        ));
    }

    #[test]
    fn syllables_come_from_the_hyphenation_patterns() {
        assert_eq!(syllables("cat"), 1);
        assert_eq!(syllables("Remember"), 3); // re-mem-ber
        assert_eq!(syllables("computer"), 3); // com-put-er
        assert_eq!(syllables("therapeutic"), 4);
        assert_eq!(syllables("2024"), 1);
        assert_eq!(syllables("..."), 0);
        assert_eq!(syllables(""), 0);
        // Punctuation is deleted first, so a hyphenated word is hyphenated whole.
        assert_eq!(syllables("well-known"), syllables("wellknown"));
        assert_eq!(syllables("don’t"), syllables("dont"));
        // Two words, counted separately.
        assert_eq!(syllables("big cat"), 2);
    }

    #[test]
    fn words_drop_punctuation_and_keep_numbers() {
        assert_eq!(word_count("It's a well-known fact — isn’t it?"), 6);
        assert_eq!(word_count("The trip costs £3.50 on 12/06/2026."), 6);
        assert_eq!(word_count(" \n\t "), 0);
        assert_eq!(word_count("... — !"), 0);
        let words: Vec<String> = words_of("Don’t “quote” me—please").collect();
        assert_eq!(words, ["Dont", "quote", "meplease"]);
    }

    #[test]
    fn sentences_follow_textstat() {
        assert_eq!(
            sentence_spans("One two three. Four five six! Seven?"),
            ["One two three.", "Four five six!", "Seven?"]
        );
        // A line break does not end a sentence; a run of stops ends it once.
        assert_eq!(
            sentence_spans("Dear parents\nWe are writing... Really?!"),
            ["Dear parents\nWe are writing...", "Really?!"]
        );
        // It starts at a word character, so opening quotes and brackets are left out.
        assert_eq!(
            sentence_spans("\"Come in,\" she said. (Then we sat.)"),
            ["Come in,\" she said.", "Then we sat."]
        );
        assert!(sentence_spans("?! ...").is_empty());
    }

    #[test]
    fn abbreviations_leave_short_fragments_that_are_not_counted() {
        // "Mr." is a one-word fragment: not a sentence.
        assert_eq!(
            measured("Mr. Patel will meet you at the school gate.").sentences,
            1
        );
        // "Patel and Dr." has three words, so it counts, as textstat counts it.
        assert_eq!(
            measured("Mr. Patel and Dr. Jones will meet you at the gate.").sentences,
            2
        );
        // "e.g." leaves "g." (not counted), but the words before it make a fragment long
        // enough to count, as textstat counts it.
        let r = measured("Bring something to draw with, e.g. pencils or crayons.");
        assert_eq!(
            sentence_spans("Bring something to draw with, e.g. pencils or crayons."),
            [
                "Bring something to draw with, e.",
                "g.",
                "pencils or crayons."
            ]
        );
        assert_eq!(r.sentences, 2);
        // Short sentences are not counted, but there is always one.
        assert_eq!(measured("Hello. Yes! No?").sentences, 1);
        assert_eq!(measured("Hello.").sentences, 1);
    }

    #[test]
    fn no_words_means_no_measure() {
        assert_eq!(measure("", DEFAULT_READING_AGE_OFFSET), None);
        assert_eq!(measure("  \n ", DEFAULT_READING_AGE_OFFSET), None);
        assert_eq!(measure("?! — … •", DEFAULT_READING_AGE_OFFSET), None);
    }

    #[test]
    fn under_a_hundred_words_is_unreliable() {
        let short = "We meet on Tuesdays. ".repeat(24); // 96 words
        let r = measured(&short);
        assert_eq!(r.words, 96);
        assert!(!r.reliable);
        let long = "We meet on Tuesdays. ".repeat(25); // 100 words
        let r = measured(&long);
        assert_eq!((r.words, r.sentences), (100, 25));
        assert!(r.reliable);
    }

    #[test]
    fn the_reading_age_is_the_grade_plus_the_offset() {
        let text = "Your child is welcome to bring a favourite toy to the first session.";
        let five = measure(text, DEFAULT_READING_AGE_OFFSET);
        let six = measure(text, 6.0);
        match (five, six) {
            (Some(five), Some(six)) => {
                assert!(close(five.reading_age, five.flesch_kincaid_grade + 5.0));
                assert!(close(six.reading_age, six.flesch_kincaid_grade + 6.0));
                assert!(close(six.reading_age - five.reading_age, 1.0));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn longest_sentences_and_hardest_words() {
        let text = "We play. We play with the big red ball in the park. \
                    Then we go home for tea. Everybody was extraordinarily hungry afterwards!";
        let r = measured(text);
        assert_eq!(
            r.longest_sentences,
            [
                ("We play with the big red ball in the park.".to_owned(), 10),
                ("Then we go home for tea.".to_owned(), 6),
                (
                    "Everybody was extraordinarily hungry afterwards!".to_owned(),
                    5
                ),
            ]
        );
        assert_eq!(r.hardest_words.len(), 5);
        assert_eq!(r.hardest_words[0].0, "extraordinarily");
        // Most syllables first, then the longer word.
        for pair in r.hardest_words.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.1 > b.1 || (a.1 == b.1 && a.0.chars().count() >= b.0.chars().count()));
        }
        // Lowercase and distinct.
        let r = measured("Tomorrow tomorrow TOMORROW cat.");
        assert_eq!(
            r.hardest_words,
            [
                ("tomorrow".to_owned(), syllables("tomorrow")),
                ("cat".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn curly_and_straight_apostrophes_count_alike() {
        let straight = measured("I don't know. It's fine, isn't it? We'll see what they've said.");
        let curly = measured("I don’t know. It’s fine, isn’t it? We’ll see what they’ve said.");
        assert_eq!(
            (straight.words, straight.sentences, straight.syllables),
            (curly.words, curly.sentences, curly.syllables)
        );
        assert_eq!((straight.words, straight.sentences), (12, 3));
        assert_eq!(straight.hardest_words, curly.hardest_words);
        assert_eq!(straight.hardest_words[0], ("isnt".to_owned(), 2));
    }
}

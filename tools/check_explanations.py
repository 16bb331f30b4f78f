#!/usr/bin/env python3
"""Checks the default explanation library (crates/alliance-core/data/explanations/*.toml).

Run with the Python of the test tools' virtualenv (scripts/bootstrap installs textstat 0.7.3
and pyphen, pinned in tools/requirements-test.txt):

    ~/.cache/alliance-tools/venv/bin/python tools/check_explanations.py [folder]

For every file it checks:
  - the shape the Rust loader expects (keys exactly as documented, nothing extra), and that
    `code` is the file name without `.toml`;
  - all ten topics, each with a text for each of the five audiences, once;
  - 2-4 ideas per topic, each with a non-empty `any_of`; the ideas the library requires;
  - a non-empty `never` list (confidentiality and limits-of-confidentiality carry
    "stays secret", "between us" and "always ask you first");
  - per text: at least 100 words (and at most about 350; 100-180 for "3-7"); the
    Flesch-Kincaid grade from textstat, and the UK reading age (grade + 5), within the
    audience's target; every idea of the topic conveyed (an `any_of` phrase present,
    case-insensitive, whitespace collapsed); no `never` phrase; no "secret" in child texts;
    "safeguarding" only in the parents' and 16-25 texts; `pictures` present, and only, for
    "3-7"; a few phrases no text may use ("in trouble", named services).

It prints a table (topic, audience, words, sentences, FRE, FK, reading age, target, OK) and
exits non-zero when anything fails. FK is textstat's grade (it rounds words/sentence and
syllables/word to one decimal first); FKu is the same without that rounding, as alliance-core
computes it, and must be within target too. The column FK* is a second opinion, for
information: the same formula with a simple vowel-group syllable counter, every sentence
counted and no rounding, so a text that passes only because of textstat's quirks shows up.
"""

import re
import sys
import tomllib
from pathlib import Path

import warnings

with warnings.catch_warnings():
    # textstat 0.7.3 imports pkg_resources, which warns that it is deprecated.
    warnings.simplefilter("ignore")
    import textstat
    from textstat.textstat import textstatistics

# The same formulas on the same counts without textstat's rounding of the averages, which is
# what alliance-core's readability module computes (tools/readability_oracle.py).
UNROUNDED = textstatistics()
UNROUNDED.set_rounding(False)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "crates" / "alliance-core" / "data" / "explanations"

TOPICS = [
    "what-therapy-is",
    "in-the-room",
    "confidentiality",
    "limits-of-confidentiality",
    "ground-rules",
    "when-and-where",
    "breaks-and-endings",
    "missing-a-session",
    "who-else-knows",
    "records-and-your-rights",
]
AUDIENCES = ["3-7", "8-11", "12-15", "16-25", "parents"]
CHILD_AUDIENCES = {"3-7", "8-11", "12-15"}
# UK reading age target per audience; FK grade limit = target - 5.
TARGET_READING_AGE = {"3-7": 6, "8-11": 8, "12-15": 12, "16-25": 12, "parents": 9}
MARGIN = 0.5  # aim this far under the target; falling short of the margin is a warning

REQUIRED_IDEAS = {
    "limits-of-confidentiality": {"tell-to-keep-safe", "talk-first"},
    "confidentiality": {"private", "supervisor"},
    "ground-rules": {"not-hurt-yourself", "not-hurt-therapist", "not-damage-room"},
    "breaks-and-endings": {"told-before-breaks", "ending-counted-down"},
    "records-and-your-rights": {"who-sees", "kept-safe", "right-to-see"},
}
REQUIRED_NEVER = {
    "limits-of-confidentiality": {"stays secret", "between us", "always ask you first"},
    "confidentiality": {"stays secret", "between us", "always ask you first"},
}
# Never in any text, whatever the topic's own list says.
GLOBAL_NEVER = [
    "in trouble",
    "nspcc",
    "childline",
    "camhs",
    "nhs ",
    "999",
]

# Words too technical for the youngest readers (explain them, or use plain words).
CHILD_JARGON = {
    "3-7": ["confidential", "supervisor", "encrypt", "subject access", "record"],
    "8-11": ["confidential", "encrypt", "subject access"],
    "12-15": ["confidential", "subject access"],
}

TOP_KEYS = {"code", "title", "summary", "ideas", "never", "texts"}
IDEA_KEYS = {"id", "idea", "any_of"}
TEXT_KEYS = {"audience", "title", "body", "pictures"}


def norm(text):
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip().lower()


def naive_syllables(word):
    """A simple vowel-group counter, for the second opinion."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 1
    groups = re.findall(r"[aeiouy]+", w)
    n = len(groups)
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and n > 1:
        n -= 1
    if w.endswith("es") and not w.endswith(("ses", "ces", "zes", "ges", "xes", "shes", "ches")) and n > 1:
        n -= 1
    if w.endswith("ed") and not w.endswith(("ted", "ded")) and n > 1:
        n -= 1
    return max(1, n)


def second_opinion_fk(text):
    sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
    words = re.findall(r"[A-Za-z0-9'\u2019-]+", text)
    if not words or not sentences:
        return 0.0
    syll = sum(naive_syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syll / len(words) - 15.59


def main():
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    problems = []
    warnings = []
    rows = []

    files = sorted(folder.glob("*.toml"))
    found = {f.stem: f for f in files}
    for code in TOPICS:
        if code not in found:
            problems.append(f"missing topic file {code}.toml")
    for stem in found:
        if stem not in TOPICS:
            problems.append(f"unexpected file {stem}.toml")

    for code in TOPICS:
        path = found.get(code)
        if path is None:
            continue
        where = path.name
        try:
            with path.open("rb") as fh:
                doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as e:
            problems.append(f"{where}: does not parse: {e}")
            continue

        extra = set(doc) - TOP_KEYS
        missing = TOP_KEYS - set(doc)
        if extra:
            problems.append(f"{where}: unexpected keys {sorted(extra)}")
        if missing:
            problems.append(f"{where}: missing keys {sorted(missing)}")
        if doc.get("code") != code:
            problems.append(f"{where}: code is {doc.get('code')!r}, expected {code!r}")
        for key in ("title", "summary"):
            if not isinstance(doc.get(key), str) or not doc.get(key, "").strip():
                problems.append(f"{where}: {key} must be a non-empty string")
        if "\n" in doc.get("summary", ""):
            problems.append(f"{where}: summary must be one line")

        ideas = doc.get("ideas", [])
        if not (2 <= len(ideas) <= 4):
            problems.append(f"{where}: {len(ideas)} ideas (want 2-4)")
        ids = set()
        for idea in ideas:
            if set(idea) != IDEA_KEYS:
                problems.append(f"{where}: idea {idea.get('id')!r} keys {sorted(idea)}")
            if idea.get("id") in ids:
                problems.append(f"{where}: idea id {idea.get('id')!r} repeated")
            ids.add(idea.get("id"))
            if not idea.get("any_of") or not all(isinstance(p, str) and p.strip() for p in idea["any_of"]):
                problems.append(f"{where}: idea {idea.get('id')!r} needs a non-empty any_of")
        for req in sorted(REQUIRED_IDEAS.get(code, set()) - ids):
            problems.append(f"{where}: required idea {req!r} missing")

        never = [norm(p) for p in doc.get("never", [])]
        if not never:
            problems.append(f"{where}: never list is empty")
        for req in sorted(REQUIRED_NEVER.get(code, set()) - set(never)):
            problems.append(f"{where}: never list lacks {req!r}")

        texts = doc.get("texts", [])
        seen = {}
        for t in texts:
            aud = t.get("audience")
            tw = f"{where} [{aud}]"
            if set(t) - TEXT_KEYS:
                problems.append(f"{tw}: unexpected keys {sorted(set(t) - TEXT_KEYS)}")
            if aud not in AUDIENCES:
                problems.append(f"{tw}: unknown audience")
                continue
            if aud in seen:
                problems.append(f"{tw}: audience repeated")
            seen[aud] = t
            if not isinstance(t.get("title"), str) or not t["title"].strip():
                problems.append(f"{tw}: title missing")
            if not isinstance(t.get("body"), str) or not t["body"].strip():
                problems.append(f"{tw}: body missing")
                continue
            if aud == "3-7":
                pics = t.get("pictures")
                if not pics or not all(isinstance(p, str) and p.strip() for p in pics):
                    problems.append(f"{tw}: pictures (non-empty strings) required")
            elif "pictures" in t:
                problems.append(f"{tw}: pictures only belong to 3-7 texts")

            # The body as measured: paragraphs joined with a blank line.
            paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", t["body"].strip())]
            body = "\n\n".join(p for p in paragraphs if p)
            nbody = norm(body)
            ntitle = norm(t.get("title", ""))

            words = textstat.lexicon_count(body)
            sentences = textstat.sentence_count(body)
            fre = textstat.flesch_reading_ease(body)
            fk = textstat.flesch_kincaid_grade(body)
            age = fk + 5
            target = TARGET_READING_AGE[aud]
            fku = UNROUNDED.flesch_kincaid_grade(body)
            fk2 = second_opinion_fk(body)
            ok = True

            if words < 100:
                problems.append(f"{tw}: {words} words (< 100)")
                ok = False
            if aud == "3-7" and words > 180:
                problems.append(f"{tw}: {words} words (> 180 for 3-7)")
                ok = False
            elif words > 350:
                warnings.append(f"{tw}: {words} words (> about 350)")
            if age > target:
                problems.append(f"{tw}: reading age {age:.1f} above target {target}")
                ok = False
            elif age > target - MARGIN:
                warnings.append(f"{tw}: reading age {age:.1f} within {MARGIN} of target {target}")
            if fku + 5 > target:
                problems.append(f"{tw}: unrounded reading age {fku + 5:.2f} above target {target}")
                ok = False
            elif fku + 5 > target - MARGIN:
                warnings.append(f"{tw}: unrounded reading age {fku + 5:.2f} within {MARGIN} of target {target}")
            if fk2 + 5 > target:
                warnings.append(f"{tw}: second-opinion reading age {fk2 + 5:.1f} above target {target}")

            for idea in ideas:
                if not any(norm(p) in nbody for p in idea.get("any_of", [])):
                    problems.append(f"{tw}: does not convey idea {idea.get('id')!r}")
                    ok = False
            for phrase in never + GLOBAL_NEVER:
                if phrase in nbody or phrase in ntitle:
                    problems.append(f"{tw}: says never-phrase {phrase!r}")
                    ok = False
            if aud in CHILD_AUDIENCES and ("secret" in nbody or "secret" in ntitle):
                problems.append(f"{tw}: uses 'secret' in a child text")
                ok = False
            if aud not in ("parents", "16-25") and "safeguard" in nbody:
                problems.append(f"{tw}: 'safeguarding' outside the parents' and 16-25 texts")
                ok = False
            for word in CHILD_JARGON.get(aud, []):
                if word in nbody:
                    problems.append(f"{tw}: jargon {word!r} in a child text")
                    ok = False
            rows.append((code, aud, words, sentences, fre, fk, fku, age, target, fk2, ok))

        for aud in AUDIENCES:
            if aud not in seen:
                problems.append(f"{where}: no text for audience {aud}")

    header = ("topic", "audience", "words", "sent", "FRE", "FK", "FKu", "age", "target", "FK*", "OK")
    fmt = "{:<26} {:<8} {:>5} {:>4} {:>6} {:>5} {:>5} {:>5} {:>6} {:>5}  {}"
    print(fmt.format(*header))
    print("-" * 90)
    for code, aud, words, sentences, fre, fk, fku, age, target, fk2, ok in rows:
        print(fmt.format(code, aud, words, sentences, f"{fre:.1f}", f"{fk:.1f}", f"{fku:.2f}",
                         f"{age:.1f}", target, f"{fk2:.1f}", "OK" if ok else "FAIL"))
    print("-" * 90)
    print(f"{len(rows)} texts, {sum(1 for r in rows if r[-1])} OK")
    for w in warnings:
        print("warning:", w)
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Measures texts with PyPI textstat 0.7.3 (syllables by pyphen 0.17.2), an independent
implementation of the readability formulas, and prints its figures as JSON.

Standard input: a JSON list of {"name": str, "text": str}.
Standard output: a JSON list, in the same order, of

    {"name", "words", "sentences", "syllables",   # textstat's lexicon/sentence/syllable counts
     "flesch_kincaid_grade", "flesch_reading_ease",  # as textstat reports them (rounded)
     "flesch_kincaid_grade_unrounded", "flesch_reading_ease_unrounded"}

textstat rounds words/sentence and syllables/word to one decimal before the formulas, and the
results after; the "_unrounded" figures are the same formulas on the same counts with no
rounding (textstat's own set_rounding(False)), which is what alliance-core computes.

Exits non-zero, with the reason on standard error, when textstat or pyphen is not the pinned
version (textstat 0.7.13 and later download a dictionary at run time).

Run by crates/alliance-core/tests/readability_oracle.rs with the Python of the test tools'
virtualenv (scripts/bootstrap installs it, pinned in tools/requirements-test.txt).
"""

import importlib.metadata
import json
import sys
import warnings

PINNED = {"textstat": "0.7.3", "pyphen": "0.17.2"}


def main():
    for package, version in PINNED.items():
        try:
            found = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found = None
        if found != version:
            sys.exit(
                f"readability_oracle: need {package}=={version}, found {found}: "
                "run scripts/bootstrap"
            )

    with warnings.catch_warnings():
        # textstat 0.7.3 imports pkg_resources, which warns that it is deprecated.
        warnings.simplefilter("ignore")
        from textstat.textstat import textstatistics

    rounded = textstatistics()
    unrounded = textstatistics()
    unrounded.set_rounding(False)

    results = []
    for item in json.load(sys.stdin):
        text = item["text"]
        results.append(
            {
                "name": item["name"],
                "words": rounded.lexicon_count(text),
                "sentences": rounded.sentence_count(text),
                "syllables": rounded.syllable_count(text),
                "flesch_kincaid_grade": rounded.flesch_kincaid_grade(text),
                "flesch_reading_ease": rounded.flesch_reading_ease(text),
                "flesch_kincaid_grade_unrounded": unrounded.flesch_kincaid_grade(text),
                "flesch_reading_ease_unrounded": unrounded.flesch_reading_ease(text),
            }
        )
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

//! Loading and scoring tests for every shipped definition, lookup tables, and malformed files.

use super::*;

fn def(id: &str) -> &'static Definition {
    shipped_definition(id, 1).unwrap_or_else(|| panic!("{id} is shipped"))
}

fn answers(pairs: &[(&str, i32)]) -> Answers {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// Every item of `d` answered `v`, except those named in `skip`.
fn all(d: &Definition, v: i32, skip: &[&str]) -> Answers {
    d.items
        .iter()
        .filter(|i| !skip.contains(&i.id.as_str()))
        .map(|i| (i.id.clone(), v))
        .collect()
}

fn paths(errors: &[LoadError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

fn load_err(text: &str) -> Vec<LoadError> {
    match parse_definition(text, Format::Toml) {
        Ok(_) => panic!("should have been refused"),
        Err(e) => e,
    }
}

#[test]
fn every_shipped_file_loads() {
    for (name, text) in SHIPPED_FILES {
        if let Err(errors) = parse_definition(text, Format::Toml) {
            panic!("{name}: {errors:?}");
        }
    }
    assert_eq!(shipped().len(), SHIPPED_FILES.len());
    let mut keys: Vec<String> = shipped().iter().map(Definition::key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        SHIPPED_FILES.len(),
        "no two shipped files share an id and version"
    );
}

#[test]
fn licensed_wording_is_never_shipped() {
    for id in ["srs", "csrs", "ors", "cors", "tasc-r", "wai-sr", "yp-core"] {
        let d = def(id);
        assert!(!d.licence.wording_shipped, "{id}");
        assert!(
            d.items.iter().all(|i| i.text.is_none()),
            "{id}: no item text"
        );
        assert!(!d.has_wording(), "{id}: cannot be given until loaded");
        for scale in d.scales.values() {
            match scale {
                ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => {
                    assert!(
                        choices.iter().all(|c| c.label.is_empty()),
                        "{id}: no labels"
                    );
                }
                ResponseScale::Line { low, high, .. } => {
                    assert!(low.is_empty() && high.is_empty(), "{id}: no line labels");
                }
            }
        }
    }
}

#[test]
fn alliance_own_measures_are_not_validated_and_carry_no_cutoff() {
    for id in [
        "alliance-checkin-young",
        "alliance-checkin-teen",
        "alliance-checkin-carer",
        "alliance-therapist-rating",
    ] {
        let d = def(id);
        assert!(!d.validated, "{id}");
        assert!(d.cutoffs.is_empty() && d.reliable_change.is_empty(), "{id}");
        assert!(d.has_wording(), "{id}");
        assert!(
            d.note.contains("checked against") && d.note.contains("TASC"),
            "{id}: the note says how it was checked"
        );
    }
    // Item count, format and labels differ from SRS (4, line), CSRS (4, line) and TASC-r (12, 4 points).
    let young = def("alliance-checkin-young");
    assert_eq!(young.items.len(), 3);
    assert!(
        matches!(young.scales["faces"], ResponseScale::Faces { ref choices } if choices.len() == 3)
    );
    let teen = def("alliance-checkin-teen");
    assert_eq!(teen.items.len(), 5);
    assert!(
        matches!(teen.scales["points"], ResponseScale::Likert { ref choices } if choices.len() == 5)
    );
    assert_eq!(def("alliance-checkin-carer").respondent, Respondent::Carer);
    assert_eq!(
        def("alliance-therapist-rating").respondent,
        Respondent::Therapist
    );
}

#[test]
fn young_checkin_scores_faces_and_refuses_any_missing() {
    let d = def("alliance-checkin-young");
    let s = score(d, &all(d, 2, &[])).unwrap();
    assert_eq!(s.total, 6.0);
    assert_eq!(s.subscales["bond"], 2.0);
    assert_eq!(score(d, &all(d, 0, &[])).unwrap().total, 0.0);
    assert_eq!(
        score(d, &all(d, 2, &["helps"])),
        Err(NotScored::TooManyMissing {
            missing: 1,
            allowed: 0
        })
    );
    assert_eq!(
        score(d, &answers(&[])),
        Err(NotScored::TooManyMissing {
            missing: 3,
            allowed: 0
        }),
        "nothing answered is never a 0"
    );
    assert_eq!(
        score(d, &answers(&[("together", 3), ("helps", 1), ("liked", 1)])),
        Err(NotScored::OutOfRange {
            item: "together".into(),
            value: 3
        })
    );
    assert_eq!(
        score(
            d,
            &answers(&[("together", 1), ("helps", 1), ("liked", 1), ("extra", 1)])
        ),
        Err(NotScored::UnknownItem("extra".into()))
    );
    assert!(d.cutoff_for(Some(6), None).is_none());
    assert!(
        d.suits_age(Some(4)) && d.suits_age(Some(9)) && !d.suits_age(Some(10)) && d.suits_age(None)
    );
    assert_eq!(d.self_report_caution_under, Some(11));
}

#[test]
fn teen_checkin_prorates_one_missing_and_refuses_two() {
    let d = def("alliance-checkin-teen");
    assert_eq!(score(d, &all(d, 4, &[])).unwrap().total, 20.0);
    let s = score(d, &all(d, 3, &["say"])).unwrap();
    assert_eq!(s.total, 15.0, "the mean of the answered items times 5");
    assert!(s.prorated);
    assert_eq!((s.answered, s.missing), (4, 1));
    let s = score(
        d,
        &answers(&[("myself", 4), ("honest", 2), ("matters", 1), ("suited", 0)]),
    )
    .unwrap();
    assert!((s.total - 8.75).abs() < 1e-9);
    assert_eq!(
        score(d, &all(d, 3, &["say", "suited"])),
        Err(NotScored::TooManyMissing {
            missing: 2,
            allowed: 1
        })
    );
    assert_eq!(
        score(d, &all(d, 5, &[])),
        Err(NotScored::OutOfRange {
            item: "honest".into(),
            value: 5
        })
    );
}

#[test]
fn carer_checkin_and_therapist_rating_score() {
    let d = def("alliance-checkin-carer");
    assert_eq!(score(d, &all(d, 4, &[])).unwrap().total, 24.0);
    assert_eq!(score(d, &all(d, 2, &["home"])).unwrap().total, 12.0);
    assert!(score(d, &all(d, 2, &["home", "part"])).is_err());
    let t = def("alliance-therapist-rating");
    let s = score(t, &all(t, 3, &[])).unwrap();
    assert_eq!(s.total, 12.0);
    assert_eq!(s.subscales.len(), 3);
    assert!(matches!(
        score(t, &all(t, 3, &["repair"])),
        Err(NotScored::TooManyMissing { .. })
    ));
}

#[test]
fn gbo_rates_the_childs_goals_as_a_mean() {
    let d = def("gbo");
    assert!(d.goal_based && d.items.is_empty() && d.has_wording());
    assert_eq!(
        d.licence.attribution.as_deref(),
        Some("Goal Based Outcomes (GBO) (c) Duncan Law, CC BY-NC-SA 4.0")
    );
    let s = score(d, &answers(&[("goal-a", 2), ("goal-b", 7), ("goal-c", 9)])).unwrap();
    assert!((s.total - 6.0).abs() < 1e-9);
    assert_eq!(s.answered, 3);
    assert_eq!(score(d, &answers(&[("g", 10)])).unwrap().total, 10.0);
    assert_eq!(score(d, &answers(&[("g", 0)])).unwrap().total, 0.0);
    assert_eq!(
        score(d, &answers(&[("g", 11)])),
        Err(NotScored::OutOfRange {
            item: "g".into(),
            value: 11
        })
    );
    assert!(matches!(
        score(d, &answers(&[])),
        Err(NotScored::TooManyMissing { .. })
    ));
    let rc = d.reliable_change_for(Some(12), None).unwrap();
    assert_eq!(rc.value, 2.45);
    assert!(!rc.confirmed);
    assert!(rc.is_reliable(3.0, 5.45) && !rc.is_reliable(3.0, 5.0));
    // Each goal is one tap on a 0-10 line.
    let scale = d.goal_scale().unwrap();
    assert_eq!(scale.values(), (0..=10).collect::<Vec<_>>());
}

#[test]
fn yp_core_prorates_one_missing_and_has_no_unsourced_cutoff() {
    let d = def("yp-core");
    assert_eq!(d.items.len(), 10);
    // Not to be given until a version marks its reversed items.
    assert!(d.withheld.is_some());
    assert!(
        shipped()
            .iter()
            .filter(|m| m.id != "yp-core")
            .all(|m| m.withheld.is_none())
    );
    assert_eq!(score(d, &all(d, 4, &[])).unwrap().total, 40.0);
    assert_eq!(score(d, &all(d, 0, &[])).unwrap().total, 0.0);
    let mut a = all(d, 2, &["item-10"]);
    a.insert("item-01".into(), 4);
    // (4 + 8 * 2) / 9 * 10
    let s = score(d, &a).unwrap();
    assert!((s.total - 200.0 / 9.0).abs() < 1e-9);
    assert!(s.prorated);
    assert_eq!(
        score(d, &all(d, 2, &["item-09", "item-10"])),
        Err(NotScored::TooManyMissing {
            missing: 2,
            allowed: 1
        })
    );
    assert_eq!(d.scoring.higher_is, HigherIs::Worse);
    assert!(
        d.cutoffs.is_empty(),
        "its figures are unconfirmed: a rule that needs one is off"
    );
    assert!(d.cutoff_for(Some(14), Some(Sex::Female)).is_none());
}

#[test]
fn srs_cutoff_flags_below_36_only() {
    let d = def("srs");
    let c = d.cutoff_for(Some(15), None).unwrap();
    assert_eq!(c.value, 36.0);
    assert!(!c.confirmed);
    assert!(c.flags(35.0) && c.flags(35.99));
    assert!(!c.flags(36.0) && !c.flags(40.0));
    let s = score(
        d,
        &answers(&[
            ("relationship", 9),
            ("goals", 9),
            ("approach", 9),
            ("overall", 8),
        ]),
    )
    .unwrap();
    assert_eq!(s.total, 35.0);
    assert!(c.flags(s.total));
    let s = score(
        d,
        &answers(&[
            ("relationship", 9),
            ("goals", 9),
            ("approach", 9),
            ("overall", 9),
        ]),
    )
    .unwrap();
    assert!(!c.flags(s.total));
    assert!(matches!(
        score(
            d,
            &answers(&[("relationship", 9), ("goals", 9), ("approach", 9)])
        ),
        Err(NotScored::TooManyMissing {
            missing: 1,
            allowed: 0
        })
    ));
    assert_eq!(
        score(d, &answers(&[("relationship", 11)])),
        Err(NotScored::OutOfRange {
            item: "relationship".into(),
            value: 11
        })
    );
    assert_eq!(d.rupture.as_ref().and_then(|r| r.drop), Some(1.0));
    // A line's points are all targets.
    let item = &d.items[0];
    let choices = d.choices(item);
    assert_eq!(choices.len(), 11);
    assert_eq!(choices[0].label, "0");
}

#[test]
fn csrs_uses_the_srs_figure_unconfirmed_and_cautions_under_11() {
    let d = def("csrs");
    let c = d.cutoff_for(Some(8), None).unwrap();
    assert!(c.flags(35.0) && !c.flags(36.0));
    assert!(!c.confirmed);
    assert_eq!(d.self_report_caution_under, Some(11));
    assert!(d.suits_age(Some(6)) && d.suits_age(Some(12)) && !d.suits_age(Some(13)));
}

#[test]
fn ors_cutoffs_are_a_lookup_table_by_age_band() {
    let d = def("ors");
    let teen = d.cutoff_for(Some(15), None).unwrap();
    assert_eq!(teen.value, 28.0);
    assert!(!teen.confirmed);
    assert!(teen.flags(27.0) && !teen.flags(28.0));
    let teen17 = d.cutoff_for(Some(17), Some(Sex::Male)).unwrap();
    assert_eq!(teen17.value, 28.0);
    let adult = d.cutoff_for(Some(18), None).unwrap();
    assert_eq!(adult.value, 25.0);
    assert!(adult.flags(24.0) && !adult.flags(25.0));
    assert!(d.cutoff_for(Some(12), None).is_none(), "no band for 12");
    assert!(
        d.cutoff_for(None, None).is_none(),
        "an unknown age has no cut-off"
    );
    let rc = d.reliable_change_for(Some(30), None).unwrap();
    assert_eq!(rc.value, 5.0);
    let s = score(
        d,
        &answers(&[
            ("individual", 5),
            ("interpersonal", 6),
            ("social", 7),
            ("overall", 9),
        ]),
    )
    .unwrap();
    assert_eq!(s.total, 27.0);
    assert!(teen.flags(s.total) && !adult.flags(s.total));
}

#[test]
fn cors_cutoff_32_and_reliable_change_6_unconfirmed() {
    let d = def("cors");
    let c = d.cutoff_for(Some(9), None).unwrap();
    assert_eq!(c.value, 32.0);
    assert!(c.flags(31.0) && !c.flags(32.0));
    let rc = d.reliable_change_for(Some(9), None).unwrap();
    assert_eq!(rc.value, 6.0);
    assert!(!rc.confirmed);
    assert_eq!(
        score(
            d,
            &answers(&[
                ("individual", 8),
                ("interpersonal", 8),
                ("social", 8),
                ("overall", 8)
            ])
        )
        .unwrap()
        .total,
        32.0
    );
}

#[test]
fn tasc_r_reverses_items_2_5_7_8_11() {
    let d = def("tasc-r");
    let reversed: Vec<&str> = d
        .items
        .iter()
        .filter(|i| i.reversed)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        reversed,
        ["item-02", "item-05", "item-07", "item-08", "item-11"]
    );
    // All 4s: seven items count 4, five reversed items count 1.
    assert_eq!(score(d, &all(d, 4, &[])).unwrap().total, 33.0);
    // All 1s: seven count 1, five count 4.
    assert_eq!(score(d, &all(d, 1, &[])).unwrap().total, 27.0);
    // The strongest alliance: 4 on the others, 1 on the reversed.
    let mut best = all(d, 4, &[]);
    for id in &reversed {
        best.insert((*id).to_owned(), 1);
    }
    assert_eq!(score(d, &best).unwrap().total, 48.0);
    assert!(d.cutoffs.is_empty());
    assert!(
        score(d, &all(d, 0, &[])).is_err(),
        "0 is not on a 1-4 scale"
    );
}

#[test]
fn wai_sr_scores_its_three_subscales() {
    let d = def("wai-sr");
    let mut a = all(d, 3, &[]);
    for id in ["item-03", "item-05", "item-07", "item-09"] {
        a.insert(id.into(), 5);
    }
    let s = score(d, &a).unwrap();
    assert_eq!(s.total, 44.0);
    assert_eq!(s.subscales["bond"], 20.0);
    assert_eq!(s.subscales["task"], 12.0);
    assert_eq!(s.subscales["goal"], 12.0);
    assert_eq!(score(d, &all(d, 1, &[])).unwrap().total, 12.0);
}

const LOOKUP: &str = r#"
id = "test-lookup"
version = 1
name = "A test measure with a table by age band and sex"
respondent = "child"
given = "any-time"
validated = true
scoring = { method = "mean", max_missing = 1, total_min = 0, total_max = 4, higher_is = "worse" }

[scales.s]
kind = "likert"
choices = [{ value = 0, label = "a" }, { value = 1, label = "b" }, { value = 2, label = "c" }, { value = 3, label = "d" }, { value = 4, label = "e" }]

[[items]]
id = "one"
text = "One"
scale = "s"

[[items]]
id = "two"
text = "Two"
scale = "s"
reversed = true

[[items]]
id = "three"
text = "Three"
scale = "s"

[[cutoffs]]
min_age = 11
max_age = 13
sex = "female"
value = 1.5
flag_when = "at-or-above"
source = "test"

[[cutoffs]]
min_age = 11
max_age = 13
sex = "male"
value = 1.25
flag_when = "at-or-above"
source = "test"

[[cutoffs]]
min_age = 14
max_age = 16
value = 2
flag_when = "above"
source = "test"

[[cutoffs]]
value = 3
flag_when = "at-or-above"
source = "test, everyone else"

[[reliable_change]]
sex = "female"
value = 0.5
source = "test"

[[reliable_change]]
value = 0.75
source = "test"
"#;

#[test]
fn lookup_tables_by_age_band_and_sex() {
    let d = parse_definition(&lookup_with_licence(), Format::Toml).unwrap();
    assert_eq!(
        d.cutoff_for(Some(12), Some(Sex::Female)).unwrap().value,
        1.5
    );
    assert_eq!(d.cutoff_for(Some(12), Some(Sex::Male)).unwrap().value, 1.25);
    // Sex unknown at 12: no sex-specific row applies, so the row for everyone does.
    assert_eq!(d.cutoff_for(Some(12), None).unwrap().value, 3.0);
    assert_eq!(
        d.cutoff_for(Some(15), Some(Sex::Female)).unwrap().value,
        2.0
    );
    assert_eq!(d.cutoff_for(Some(40), None).unwrap().value, 3.0);
    assert_eq!(d.cutoff_for(None, None).unwrap().value, 3.0);
    let girl = d.cutoff_for(Some(13), Some(Sex::Female)).unwrap();
    assert!(girl.flags(1.5) && !girl.flags(1.49));
    let band = d.cutoff_for(Some(14), None).unwrap();
    assert!(band.flags(2.01) && !band.flags(2.0));
    assert_eq!(
        d.reliable_change_for(Some(12), Some(Sex::Female))
            .unwrap()
            .value,
        0.5
    );
    assert_eq!(
        d.reliable_change_for(Some(12), Some(Sex::Male))
            .unwrap()
            .value,
        0.75
    );
    // Mean with the reversed item: (4 + (4 - 0) + 4) / 3 = 4; one missing uses the mean of two.
    let s = score(&d, &answers(&[("one", 4), ("two", 0), ("three", 4)])).unwrap();
    assert_eq!(s.total, 4.0);
    let s = score(&d, &answers(&[("one", 1), ("two", 4)])).unwrap();
    assert_eq!(s.total, 0.5);
    assert!(s.prorated);
    assert!(score(&d, &answers(&[("one", 1)])).is_err());
    assert_eq!(
        Band {
            min_age: Some(11),
            max_age: Some(13),
            sex: Some(Sex::Female)
        }
        .describe(),
        "Ages 11 to 13, female"
    );
}

#[test]
fn json_definitions_load_too() {
    let d = def("srs");
    let json = d.to_json();
    assert_eq!(&parse_definition(&json, Format::Json).unwrap(), d);
    assert_eq!(Format::sniff(&json), Format::Json);
    assert_eq!(Format::sniff(SHIPPED_FILES[0].1), Format::Toml);
}

fn with(replace: &str, by: &str) -> String {
    assert!(LOOKUP.contains(replace), "{replace}");
    LOOKUP.replacen(replace, by, 1)
}

#[test]
fn syntax_errors_are_refused_with_where() {
    let e = load_err("id = \"x\"\nversion = [");
    assert_eq!(e.len(), 1);
    assert!(e[0].message.starts_with("not valid TOML"), "{e:?}");
    let e = parse_definition("{\"id\": ", Format::Json).unwrap_err();
    assert!(e[0].message.contains("not valid JSON"));
    assert_eq!(load_err("   ")[0].message, "the file is empty");
    let big = format!("note = \"{}\"", "x".repeat(MAX_FILE_BYTES));
    assert!(load_err(&big)[0].message.contains("the most accepted"));
}

#[test]
fn a_wrong_type_names_its_path() {
    let e = load_err(&with("reversed = true", "reversed = \"yes\""));
    assert_eq!(paths(&e), ["items[1].reversed"]);
    let e = load_err(&with("version = 1", "version = -1"));
    assert_eq!(paths(&e), ["version"]);
    let e = load_err(&with("respondent = \"child\"", "respondent = \"parent\""));
    assert_eq!(paths(&e), ["respondent"]);
    let e = load_err(&with("kind = \"likert\"", "kind = \"slider\""));
    assert!(paths(&e)[0].starts_with("scales"), "{e:?}");
}

#[test]
fn every_problem_is_collected_with_its_path() {
    let text = with("id = \"two\"", "id = \"one\"")
        .replacen("scale = \"s\"\nreversed", "scale = \"nope\"\nreversed", 1)
        .replacen("value = 2\n", "value = 9\n", 1)
        .replacen(
            "min_age = 14\nmax_age = 16",
            "min_age = 16\nmax_age = 14",
            1,
        )
        .replacen("reversed = true", "reversed = true\nrevresed = true", 1)
        + "\n[licence]\nname = \"x\"\nholder = \"y\"\nwording_shipped = true\n";
    let e = load_err(&text);
    let p = paths(&e);
    assert!(p.contains(&"items[1].id"), "duplicate id: {e:?}");
    assert!(p.contains(&"items[1].scale"), "unknown scale: {e:?}");
    assert!(
        p.contains(&"cutoffs[2].value"),
        "outside the total range: {e:?}"
    );
    assert!(p.contains(&"cutoffs[2].min_age"), "min above max: {e:?}");
    assert!(p.contains(&"items[1].revresed"), "unknown key: {e:?}");
    assert!(
        e.iter()
            .any(|x| x.message.contains("outside the total range"))
    );
}

#[test]
fn licence_rules_are_enforced() {
    // Wording not shipped, yet an item carries text and a choice its label.
    let text = with("validated = true", "validated = true\n").replacen(
        "[scales.s]",
        "[licence]\nname = \"x\"\nholder = \"y\"\nwording_shipped = false\n\n[scales.s]",
        1,
    );
    let e = load_err(&text);
    let p = paths(&e);
    assert!(p.contains(&"items[0].text"), "{e:?}");
    assert!(p.contains(&"scales.s.choices[0].label"), "{e:?}");
    // Wording shipped, yet an item has none.
    let mut text = with("text = \"Two\"\n", "");
    text.push_str("\n[licence]\nname = \"x\"\nholder = \"y\"\nwording_shipped = true\n");
    let e = load_err(&text);
    assert!(paths(&e).contains(&"items[1].text"), "{e:?}");
    // Not validated without a note.
    let mut text = with("validated = true", "validated = false");
    text.push_str("\n[licence]\nname = \"x\"\nholder = \"y\"\nwording_shipped = true\n");
    let e = load_err(&text);
    assert_eq!(paths(&e), ["note"]);
}

#[test]
fn missing_licence_is_named() {
    let e = load_err(LOOKUP);
    assert_eq!(paths(&e), ["licence"], "{e:?}");
}

fn lookup_with_licence() -> String {
    format!("{LOOKUP}\n[licence]\nname = \"x\"\nholder = \"y\"\nwording_shipped = true\n")
}

#[test]
fn scoring_rules_are_checked() {
    let base = lookup_with_licence();
    assert!(parse_definition(&base, Format::Toml).is_ok());
    let e = load_err(&base.replacen("total_max = 4", "total_max = 5", 1));
    assert_eq!(
        paths(&e),
        ["scoring.total_min"],
        "the items give 0 to 4: {e:?}"
    );
    let e = load_err(&base.replacen("max_missing = 1", "max_missing = 3", 1));
    assert_eq!(paths(&e), ["scoring.max_missing"]);
    let sum = base
        .replacen("method = \"mean\"", "method = \"sum\"", 1)
        .replacen("total_max = 4", "total_max = 12", 1)
        .replacen("value = 3\n", "value = 10\n", 1);
    let e = load_err(&sum);
    assert_eq!(
        paths(&e),
        ["scoring.prorate"],
        "a sum with missing items must prorate: {e:?}"
    );
    let e = load_err(&base.replacen("value = 0.5", "value = 0", 1));
    assert_eq!(paths(&e), ["reliable_change[0].value"]);
    let e = load_err(&base.replacen("value = 3\n", "value = nan\n", 1));
    assert_eq!(paths(&e), ["cutoffs[3].value"]);
    let e = load_err(
        &base
            .replacen("value = 1.25", "value = 1.25\nsex = \"female\"", 1)
            .replacen("sex = \"male\"\n", "", 1),
    );
    assert!(e.iter().any(|x| x.message.contains("overlaps")), "{e:?}");
    let e = load_err(&base.replacen(
        "{ value = 1, label = \"b\" }",
        "{ value = 0, label = \"b\" }",
        1,
    ));
    assert!(paths(&e).contains(&"scales.s.choices[1].value"), "{e:?}");
}

#[test]
fn limits_hold_against_a_hostile_file() {
    let mut text = lookup_with_licence();
    for i in 0..=MAX_ITEMS {
        text.push_str(&format!(
            "\n[[items]]\nid = \"x{i}\"\ntext = \"t\"\nscale = \"s\"\n"
        ));
    }
    let e = load_err(&text);
    assert!(
        e.iter()
            .any(|x| x.path == "items" && x.message.contains("the most")),
        "{e:?}"
    );
    let long = "y".repeat(MAX_TEXT_CHARS + 1);
    let e = load_err(&lookup_with_licence().replacen(
        "text = \"One\"",
        &format!("text = \"{long}\""),
        1,
    ));
    assert_eq!(paths(&e), ["items[0].text"]);
    let e = load_err(&lookup_with_licence().replacen("id = \"test-lookup\"", "id = \"Bad Id\"", 1));
    assert_eq!(paths(&e), ["id"]);
    let e = load_err(&lookup_with_licence().replacen("id = \"one\"", "id = \"one\\u0007\"", 1));
    assert_eq!(paths(&e), ["items[0].id"]);
    let e = load_err(&lookup_with_licence().replacen(
        "[scales.s]",
        "[scales.l]\nkind = \"line\"\nmin = 0\nmax = 100\n\n[scales.s]",
        1,
    ));
    assert_eq!(paths(&e), ["scales.l.max", "scales.l"]);
    // The extreme integers are refused by name, never wrapped round into a huge line.
    let e = load_err(&lookup_with_licence().replacen(
        "[scales.s]",
        "[scales.l]\nkind = \"line\"\nmin = -2147483648\nmax = 2147483647\n\n[scales.s]",
        1,
    ));
    assert!(e.iter().any(|x| x.path == "scales.l.min"), "{e:?}");
    let e = load_err(&lookup_with_licence().replacen("value = 1", "value = -2147483648", 1));
    assert!(
        e.iter()
            .any(|x| x.path.ends_with(".value") && x.message.contains("must be from")),
        "{e:?}"
    );
}

#[test]
fn wording_is_checked_against_its_definition() {
    let d = def("srs");
    let good = r#"
measure = "srs"
version = 1
[items]
relationship = "W1"
goals = "W2"
approach = "W3"
overall = "W4"
[choices]
line = ["Low end", "High end"]
"#;
    let w = parse_wording(good, Format::Toml, d).unwrap();
    let full = d.with_wording(&w);
    assert!(full.has_wording());
    assert_eq!(full.items[0].text.as_deref(), Some("W1"));
    assert_eq!(full.choices(&full.items[0])[0].label, "0: Low end");
    assert_eq!(full.choices(&full.items[0])[10].label, "10: High end");
    let bad = good
        .replace("overall = \"W4\"\n", "other = \"W5\"\n")
        .replace("version = 1", "version = 2")
        .replace("[\"Low end\", \"High end\"]", "[\"Only one\"]");
    let e = parse_wording(&bad, Format::Toml, d).unwrap_err();
    let p = paths(&e);
    assert!(p.contains(&"version"), "{e:?}");
    assert!(p.contains(&"items.overall"), "{e:?}");
    assert!(p.contains(&"items.other"), "{e:?}");
    assert!(p.contains(&"choices.line"), "{e:?}");
    // A measure that ships its wording takes none.
    let e = parse_wording(good, Format::Toml, def("alliance-checkin-teen")).unwrap_err();
    assert!(
        e.iter()
            .any(|x| x.message.contains("ships its own wording"))
    );
    // A Likert scale needs every label.
    let y = def("yp-core");
    let mut text = String::from("measure = \"yp-core\"\nversion = 1\n[items]\n");
    for i in &y.items {
        text.push_str(&format!("{} = \"words\"\n", i.id));
    }
    let e = parse_wording(&text, Format::Toml, y).unwrap_err();
    assert_eq!(paths(&e), ["choices.frequency"]);
    text.push_str("[choices]\nfrequency = [\"a\", \"b\", \"c\", \"d\", \"e\"]\n");
    let w = parse_wording(&text, Format::Toml, y).unwrap();
    assert!(y.with_wording(&w).has_wording());
}

#[test]
fn deeply_nested_or_unused_parts_are_refused_not_a_crash() {
    for (text, format) in [
        (format!("a = {}", "[".repeat(20_000)), Format::Toml),
        (format!("{{\"a\": {}", "[".repeat(20_000)), Format::Json),
    ] {
        assert!(parse_definition(&text, format).is_err());
    }
    let e = load_err(&lookup_with_licence().replacen(
        "[scales.s]",
        "[scales.spare]\nkind = \"faces\"\nchoices = [{ value = 0, label = \"a\" }, { value = 1, label = \"b\" }]\n\n[scales.s]",
        1,
    ));
    assert_eq!(paths(&e), ["scales.spare"]);
}

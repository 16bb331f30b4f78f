//! Therapy agreements, consent and assent, consent links and the first-session checklist
//! (issue 11), through the real server on both engines: activation refused or allowed exactly
//! as `consent::assess` says for every combination of age, competence judgement, consents and
//! the child's word; an objection pausing the start until the service lead decides; a
//! withdrawal stopping the work and keeping the record; single-use consent links over HTTP (a
//! scanner spends nothing, the answer spends it, a used, withdrawn or expired link answers
//! 404, and the token never reaches the server's log); versions and re-agreement when the
//! regular slot changes; carer-facing outputs waiting for an active agreement; the access
//! rules from the denied side; and what was said never on disk in plaintext.

use crate::children::World;
use crate::frame::scheduler;
use crate::{alliance_binary, count_as_owner, execute_as_owner};
use alliance_core::Nation;
use alliance_core::children::CarerId;
use alliance_core::consent::{self, CarerStanding, ConsentRules, Entry, EntryKind, Via};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Long enough for every rule set's `reasoning_min_chars`.
const REASONING: &str =
    "Understands what therapy is, that it is voluntary, and what happens to what is said here.";

fn today() -> Date {
    alliance_core::uk::london()
        .to_datetime(jiff::Timestamp::now())
        .date()
}

fn at(case: &str, rest: &str) -> String {
    format!("/api/v1/cases/{case}/agreement{rest}")
}

fn agreement_body(confidentiality: &str) -> Value {
    json!({"not_hurting_yourself": "I keep myself safe in here",
        "not_hurting_the_therapist": "We don't hurt each other",
        "not_damaging_the_room": "We look after the toys",
        "added_rules": "We tidy up together\nShoes off on the rug",
        "confidentiality": confidentiality})
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_owned()
}

fn first_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

fn first_message(problem: &Value) -> &str {
    problem["errors"][0]["message"].as_str().unwrap_or_default()
}

/// Writes a draft version of `case`'s agreement as the lead; returns its id.
async fn draft(world: &World, case: &str, confidentiality: &str) -> anyhow::Result<String> {
    let (status, body) = world
        .api(
            "lead",
            Method::POST,
            &at(case, "/versions"),
            Some(agreement_body(confidentiality)),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "draft", "{body}");
    Ok(id_of(&body))
}

async fn record(
    world: &World,
    who: &str,
    case: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(who, Method::POST, &at(case, "/consent"), Some(body))
        .await
}

/// Records an entry that must be accepted; returns its id.
async fn recorded(world: &World, who: &str, case: &str, body: Value) -> anyhow::Result<String> {
    let (status, answer) = record(world, who, case, body.clone()).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}: {answer}");
    Ok(id_of(&answer))
}

async fn activate(
    world: &World,
    who: &str,
    case: &str,
    version: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &at(case, &format!("/versions/{version}/activate")),
            None,
        )
        .await
}

async fn agreement(world: &World, who: &str, case: &str) -> anyhow::Result<(StatusCode, Value)> {
    world.api(who, Method::GET, &at(case, ""), None).await
}

/// The agreement as the lead reads it.
async fn read(world: &World, case: &str) -> anyhow::Result<Value> {
    let (status, body) = agreement(world, "lead", case).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    Ok(body)
}

/// Makes the World's case's agreement active the usual way for a child under 16: a draft,
/// consent in person from the father (who holds parental responsibility), the child's assent.
/// Returns the version's id.
pub(crate) async fn make_active(world: &World) -> anyhow::Result<String> {
    let version = draft(
        world,
        &world.case,
        "What you say stays in this room, unless someone is not safe.",
    )
    .await?;
    recorded(
        world,
        "lead",
        &world.case,
        json!({"kind": "parental-consent", "carer": world.carer}),
    )
    .await?;
    recorded(
        world,
        "lead",
        &world.case,
        json!({"kind": "assent", "words": "OK, I will come"}),
    )
    .await?;
    let (status, body) = activate(world, "lead", &world.case, &version).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    Ok(version)
}

/// Adds a carer to a child as the administrator; returns their id.
async fn add_carer(world: &World, child: &str, body: Value) -> anyhow::Result<String> {
    let (status, carer) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/children/{child}/carers"),
            Some(body),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{carer}");
    Ok(id_of(&carer))
}

/// The mother: parental responsibility, no restriction, an address for letters.
async fn add_mother(world: &World, child: &str) -> anyhow::Result<String> {
    add_carer(
        world,
        child,
        json!({"name": "Dana Clarke", "relationship": "Mother",
            "parental_responsibility": "parent", "may_contact": true,
            "address": "12 Larch Close\nLeeds\nLS1 1AA"}),
    )
    .await
}

/// A child of `age` today, their mother, and an open case led by the World's lead.
struct Kid {
    case: String,
    mother: String,
}

async fn kid(world: &World, age: i16) -> anyhow::Result<Kid> {
    let born = today()
        .checked_sub(i64::from(age).years())?
        .checked_sub(40.days())?;
    let (status, child) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/children",
            Some(
                json!({"legal_name": "Robin Ashdown", "date_of_birth": born.to_string(),
                "sex": "not-known"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    let child = id_of(&child);
    let mother = add_mother(world, &child).await?;
    let (status, record) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/children/{child}/cases"),
            Some(json!({"referral_source": "school",
                "referral_received": today().to_string(), "lead": world.ids["lead"]})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    let case = record["cases"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(Kid { case, mother })
}

async fn tasks_of(world: &World, who: &str) -> anyhow::Result<Vec<Value>> {
    let (status, tasks) = world.api(who, Method::GET, "/api/v1/tasks", None).await?;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    Ok(tasks["items"].as_array().cloned().unwrap_or_default())
}

fn has_task(tasks: &[Value], rule: &str, case: &str) -> bool {
    tasks
        .iter()
        .any(|t| t["rule"] == rule && t["subject_id"] == case)
}

// ----- the consent rules, combination by combination ----------------------------------------

#[derive(Debug, Clone, Copy)]
enum Judgement {
    None,
    Competent,
    NotCompetent,
}

#[derive(Debug, Clone, Copy)]
enum Consents {
    None,
    Parental,
    Own,
    Both,
}

#[derive(Debug, Clone, Copy)]
enum Word {
    None,
    Assent,
    Dissent,
    DissentDiscussed,
}

/// What policy section 3 says, written out independently of the core: the child's word must
/// be assent or a discussed dissent; a competent child (judged so under 16, presumed from 16
/// unless judged otherwise) consents for themselves, anyone else needs a person with parental
/// responsibility.
fn policy_allows(age: i16, judgement: Judgement, consents: Consents, word: Word) -> bool {
    let presumed = age >= 16;
    let competent = match judgement {
        Judgement::Competent => true,
        Judgement::NotCompetent => false,
        Judgement::None => presumed,
    };
    let consented = if competent {
        matches!(consents, Consents::Own | Consents::Both)
    } else {
        matches!(consents, Consents::Parental | Consents::Both)
    };
    let word_ok = matches!(word, Word::Assent | Word::DissentDiscussed);
    consented && word_ok
}

/// Every combination for children of `age`, each on a case of its own: what the API says
/// (status, basis, what is missing) and whether activation is allowed match
/// `consent::assess` on the same entries, and the policy as written above.
async fn every_combination_at(age: i16) -> anyhow::Result<()> {
    let rules = ConsentRules::for_nation(Nation::England).map_err(anyhow::Error::msg)?;
    for backend in backends() {
        let world = World::build(backend).await?;
        let mut allowed = 0;
        let mut refused = 0;
        for judgement in [
            Judgement::None,
            Judgement::Competent,
            Judgement::NotCompetent,
        ] {
            for consents in [
                Consents::None,
                Consents::Parental,
                Consents::Own,
                Consents::Both,
            ] {
                for word in [
                    Word::None,
                    Word::Assent,
                    Word::Dissent,
                    Word::DissentDiscussed,
                ] {
                    let what =
                        format!("{backend:?} age {age}: {judgement:?}, {consents:?}, {word:?}");
                    let kid = kid(&world, age).await?;
                    let version = draft(&world, &kid.case, "What you say stays here").await?;
                    let version_id = Uuid::parse_str(&version)?;
                    let mother = CarerId(Uuid::parse_str(&kid.mother)?);
                    let mut entries: Vec<Entry> = Vec::new();
                    let mut note = |kind: EntryKind, carer: Option<CarerId>| {
                        let n = entries.len() as i64;
                        entries.push(Entry {
                            id: Uuid::from_u128(n as u128 + 1),
                            kind,
                            carer,
                            agreement: kind.about_agreement().then_some(version_id),
                            via: Via::InPerson,
                            given_on: today(),
                            recorded_at: jiff::Timestamp::from_second(1_800_000_000 + n)
                                .unwrap_or_default(),
                        });
                    };
                    match judgement {
                        Judgement::None => {}
                        Judgement::Competent => {
                            let (status, body) = record(
                                &world,
                                "lead",
                                &kid.case,
                                json!({"kind": "judged-competent", "reasoning": REASONING}),
                            )
                            .await?;
                            if age >= rules.presumed_capable_from {
                                // Nothing to judge: capacity is presumed.
                                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
                                assert_eq!(first_field(&body), "kind", "{what}: {body}");
                            } else {
                                assert_eq!(status, StatusCode::CREATED, "{what}: {body}");
                                note(EntryKind::JudgedCompetent, None);
                            }
                        }
                        Judgement::NotCompetent => {
                            recorded(
                                &world,
                                "lead",
                                &kid.case,
                                json!({"kind": "judged-not-competent", "reasoning": REASONING}),
                            )
                            .await?;
                            note(EntryKind::JudgedNotCompetent, None);
                        }
                    }
                    if matches!(consents, Consents::Parental | Consents::Both) {
                        recorded(
                            &world,
                            "lead",
                            &kid.case,
                            json!({"kind": "parental-consent", "carer": kid.mother}),
                        )
                        .await?;
                        note(EntryKind::ParentalConsent, Some(mother));
                    }
                    if matches!(consents, Consents::Own | Consents::Both) {
                        recorded(
                            &world,
                            "lead",
                            &kid.case,
                            json!({"kind": "own-consent", "words": "I want to come",
                                "carers_may_be_told": ["attendance", "paperwork"]}),
                        )
                        .await?;
                        note(EntryKind::OwnConsent, None);
                    }
                    if matches!(word, Word::Dissent | Word::DissentDiscussed) {
                        recorded(
                            &world,
                            "lead",
                            &kid.case,
                            json!({"kind": "dissent", "words": "I don't want to"}),
                        )
                        .await?;
                        note(EntryKind::Dissent, None);
                    }
                    match word {
                        Word::Assent => {
                            recorded(
                                &world,
                                "lead",
                                &kid.case,
                                json!({"kind": "assent", "words": "Yes"}),
                            )
                            .await?;
                            note(EntryKind::Assent, None);
                        }
                        Word::DissentDiscussed => {
                            recorded(
                                &world,
                                "lead",
                                &kid.case,
                                json!({"kind": "dissent-discussed", "reasoning": REASONING}),
                            )
                            .await?;
                            note(EntryKind::DissentDiscussed, None);
                        }
                        Word::None | Word::Dissent => {}
                    }
                    let standings = [CarerStanding {
                        id: mother,
                        parental_responsibility: true,
                    }];
                    let no_topics = |_: Uuid| BTreeSet::new();
                    let expected = consent::assess(
                        &rules,
                        age,
                        &entries,
                        &standings,
                        Some(version_id),
                        &no_topics,
                    );
                    assert_eq!(
                        expected.may_activate(),
                        policy_allows(age, judgement, consents, word),
                        "{what}: the core and the policy disagree: {expected:?}"
                    );
                    let view = read(&world, &kid.case).await?;
                    assert_eq!(view["age_years"], age, "{what}");
                    // The oracle's rules are the ones the service applies.
                    assert_eq!(view["rules"]["code"], rules.code.as_str(), "{what}");
                    assert_eq!(
                        view["rules"]["presumed_capable_from"], rules.presumed_capable_from,
                        "{what}"
                    );
                    assert_eq!(
                        view["status"],
                        serde_json::to_value(expected.status)?,
                        "{what}: {view}"
                    );
                    assert_eq!(
                        view["basis"],
                        serde_json::to_value(expected.basis)?,
                        "{what}"
                    );
                    assert_eq!(view["missing"], json!(expected.missing), "{what}");
                    assert_eq!(view["notes"], json!(expected.notes), "{what}");
                    assert_eq!(view["assessed"], version.as_str(), "{what}");
                    let (status, problem) = activate(&world, "lead", &kid.case, &version).await?;
                    if expected.may_activate() {
                        assert_eq!(status, StatusCode::NO_CONTENT, "{what}: {problem}");
                        let view = read(&world, &kid.case).await?;
                        assert_eq!(view["active"], version.as_str(), "{what}");
                        assert_eq!(view["versions"][0]["status"], "active", "{what}");
                        allowed += 1;
                    } else {
                        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
                        assert_eq!(first_field(&problem), "agreement", "{what}: {problem}");
                        let message = first_message(&problem);
                        assert!(!expected.missing.is_empty() || expected.reason.is_some());
                        for missing in &expected.missing {
                            assert!(message.contains(missing.as_str()), "{what}: {message}");
                        }
                        let view = read(&world, &kid.case).await?;
                        assert!(view["active"].is_null(), "{what}");
                        assert_eq!(view["versions"][0]["status"], "draft", "{what}");
                        refused += 1;
                    }
                }
            }
        }
        assert!(
            allowed > 0 && refused > 0,
            "{allowed} allowed, {refused} refused"
        );
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn at_three_a_parent_consents_and_the_child_assents() -> anyhow::Result<()> {
    every_combination_at(3).await
}

#[tokio::test]
async fn at_twelve_a_child_judged_competent_consents_for_themselves() -> anyhow::Result<()> {
    every_combination_at(12).await
}

#[tokio::test]
async fn at_fifteen_a_child_judged_competent_consents_for_themselves() -> anyhow::Result<()> {
    every_combination_at(15).await
}

#[tokio::test]
async fn at_sixteen_capacity_is_presumed() -> anyhow::Result<()> {
    every_combination_at(16).await
}

#[tokio::test]
async fn at_seventeen_capacity_is_presumed() -> anyhow::Result<()> {
    every_combination_at(17).await
}

// ----- objections, the service lead's decision, withdrawal ------------------------------------

#[tokio::test]
async fn an_objection_pauses_until_the_service_lead_decides_and_withdrawal_keeps_the_record()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        let mother = add_mother(&world, &world.child).await?;
        let version = draft(&world, &case, "What you say stays here").await?;
        recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "parental-consent", "carer": mother}),
        )
        .await?;
        // The father, who also holds parental responsibility, objects.
        recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "parental-objection", "carer": world.carer,
                "words": "I do not want my child in therapy"}),
        )
        .await?;
        recorded(&world, "lead", &case, json!({"kind": "assent"})).await?;
        let view = read(&world, &case).await?;
        assert_eq!(view["status"], "paused", "{view}");
        assert!(
            view["reason"]
                .as_str()
                .is_some_and(|r| r.contains("objected")),
            "{view}"
        );
        assert_eq!(view["may_decide"], false);
        let (status, problem) = activate(&world, "lead", &case, &version).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "agreement");
        assert!(first_message(&problem).contains("objected"), "{problem}");

        // Only the service lead decides: not the lead therapist, not the parent-worker.
        let decision = json!({"kind": "lead-proceeds", "reasoning": REASONING});
        for who in ["lead", "parent-worker"] {
            let (status, problem) = record(&world, who, &case, decision.clone()).await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {problem}");
        }
        // Not a writer of the agreement either.
        let (status, _) = record(&world, "service-lead", &case, json!({"kind": "assent"})).await?;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The task reaches the service lead's inbox, and nobody else's.
        scheduler(&world).await?;
        let inbox = tasks_of(&world, "service-lead").await?;
        assert!(
            has_task(&inbox, "case.decide-on-objection", &case),
            "{inbox:?}"
        );
        let text = json!(inbox).to_string();
        assert!(
            !text.contains("Amelia") && !text.contains("Millie"),
            "{text}"
        );
        for who in ["lead", "other-therapist", "staff"] {
            let theirs = tasks_of(&world, who).await?;
            assert!(
                theirs
                    .iter()
                    .all(|t| t["rule"] != "case.decide-on-objection"),
                "{who}: {theirs:?}"
            );
        }

        let (status, lead_view) = agreement(&world, "service-lead", &case).await?;
        assert_eq!(status, StatusCode::OK, "{lead_view}");
        assert_eq!(lead_view["may_decide"], true);
        assert_eq!(lead_view["may_write"], false);
        // The reasoning is needed, and named as sent.
        let (status, problem) = record(
            &world,
            "service-lead",
            &case,
            json!({"kind": "lead-proceeds", "reasoning": "fine"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "reasoning", "{problem}");
        recorded(&world, "service-lead", &case, decision).await?;
        let view = read(&world, &case).await?;
        assert_eq!(view["status"], "ready", "{view}");
        assert!(
            view["notes"].as_array().is_some_and(|n| n
                .iter()
                .any(|x| x.as_str().is_some_and(|x| x.contains("objected")))),
            "{view}"
        );
        let (status, problem) = activate(&world, "lead", &case, &version).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");

        // A carer's handouts may go now the agreement is active.
        let handouts = format!(
            "/api/v1/children/{}/handouts/pdf?topics=what-therapy-is&audience=parents&copy_for={mother}",
            world.child
        );
        let response = world
            .service
            .server
            .client
            .get(world.service.server.url(&handouts))
            .bearer_auth(&world.tokens["lead"])
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK);

        // Withdrawal: the work stops, and every entry is kept.
        let before = read(&world, &case).await?;
        let kept: Vec<String> = before["entries"]
            .as_array()
            .map(|e| e.iter().map(id_of).collect())
            .unwrap_or_default();
        assert_eq!(kept.len(), 4, "{before}");
        let withdrawal = recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "withdrawal", "words": "We have decided to stop"}),
        )
        .await?;
        let after = read(&world, &case).await?;
        assert_eq!(after["status"], "stopped", "{after}");
        assert!(
            after["reason"]
                .as_str()
                .is_some_and(|r| r.contains("record is kept")),
            "{after}"
        );
        let now: Vec<String> = after["entries"]
            .as_array()
            .map(|e| e.iter().map(id_of).collect())
            .unwrap_or_default();
        for id in kept.iter().chain([&withdrawal]) {
            assert!(now.contains(id), "{id} kept: {after}");
        }
        assert_eq!(after["versions"].as_array().map(Vec::len), Some(1));
        // Nothing more goes to carers, and no new version can be made active.
        let response = world
            .service
            .server
            .client
            .get(world.service.server.url(&handouts))
            .bearer_auth(&world.tokens["lead"])
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = response.json().await?;
        assert!(problem.to_string().contains("withdrawn"), "{problem}");
        let next = draft(&world, &case, "What you say stays here").await?;
        recorded(&world, "lead", &case, json!({"kind": "assent"})).await?;
        let (status, problem) = activate(&world, "lead", &case, &next).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(first_message(&problem).contains("withdrawn"), "{problem}");
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- consent links ------------------------------------------------------------------------

/// A second `alliance serve` on the same database whose standard output and error are kept,
/// at the most talkative log level, to show what its log holds.
struct LoggedServer {
    base: String,
    child: tokio::process::Child,
    log: Arc<Mutex<Vec<u8>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

/// Copies everything `from` writes into `log`, byte for byte.
fn keep_all(
    mut from: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<Vec<u8>>>,
) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncReadExt;
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            if let Ok(mut log) = log.lock() {
                log.extend_from_slice(&buffer[..n]);
            }
        }
    })
}

impl LoggedServer {
    async fn start(db: &TestDatabase) -> anyhow::Result<Self> {
        use std::process::Stdio;
        let data = db.data_path().display().to_string();
        let mut child = tokio::process::Command::new(alliance_binary())
            .args([
                "--data",
                &data,
                "--database",
                &db.app_url,
                "serve",
                "--bind",
                "127.0.0.1:0",
            ])
            .env_remove("ALLIANCE_DATA")
            .env_remove("ALLIANCE_DATABASE_URL")
            .env_remove("ALLIANCE_BIND")
            .env("ALLIANCE_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let readers = vec![keep_all(stderr, log.clone()), keep_all(stdout, log.clone())];
        // The address, from the line that says the server is listening.
        let base = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            loop {
                let text = log
                    .lock()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                if let Some(rest) = text.split("Alliance is listening on ").nth(1) {
                    return rest.split(' ').next().unwrap_or("").to_owned();
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
        .await?;
        Ok(Self {
            base,
            child,
            log,
            readers,
        })
    }

    /// Stops the server; everything it wrote.
    async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        for reader in self.readers {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), reader).await;
        }
        let raw = self
            .log
            .lock()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        without_colours(&raw)
    }
}

/// The text without terminal colour codes (`ESC [ … letter`), which the log may carry.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A page of the consent link, fetched as a carer's browser would (no account; the link's
/// cookie only when given).
struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
}

impl Answer {
    /// The link's first page sends the browser on to the form at `/consent` (a redirect, or
    /// a page that continues there so the `SameSite=Strict` cookie goes with it).
    fn continues(&self) -> bool {
        match self.status {
            StatusCode::SEE_OTHER => self.location.as_deref() == Some("/consent"),
            StatusCode::OK => self.body.contains("href=\"/consent\""),
            _ => false,
        }
    }
}

async fn carer_fetch(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
    origin: &str,
) -> anyhow::Result<Answer> {
    let mut request = client.request(method, url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(fields) = form {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .header(
                "sec-fetch-site",
                if origin == "null" {
                    "same-origin"
                } else {
                    "cross-site"
                },
            )
            .body(body);
    }
    let response = request.send().await?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (location, cookie) = (header("location"), header("set-cookie"));
    Ok(Answer {
        status: response.status(),
        location,
        cookie,
        body: response.text().await?,
    })
}

async fn api_on(
    server: &LoggedServer,
    client: &reqwest::Client,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut request = client
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn link_state(view: &Value, link: &str) -> String {
    view["links"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == link))
        .and_then(|x| x["state"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_consent_link_is_spent_only_by_its_answer_and_never_logged() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        let mother = add_mother(&world, &world.child).await?;
        let barred = add_carer(
            &world,
            &world.child,
            json!({"name": "Lee Clarke", "relationship": "Uncle",
                "parental_responsibility": "parent", "may_contact": true,
                "restrictions": [{"kind": "no-contact", "source": "court-order",
                    "dated": "2025-05-12", "reference": "Non-molestation order"}]}),
        )
        .await?;
        let foster = add_carer(
            &world,
            &world.child,
            json!({"name": "Jo Marsh", "relationship": "Foster carer",
                "day_to_day_care": true, "may_contact": true}),
        )
        .await?;
        // Everything about links goes through a second server whose log is kept.
        let server = LoggedServer::start(&world.service.db).await?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let lead = world.tokens["lead"].clone();
        let api = |method: Method, path: String, body: Option<Value>| {
            let (server, client, lead) = (&server, &client, &lead);
            async move { api_on(server, client, lead, method, &path, body).await }
        };
        let mut tokens: Vec<String> = Vec::new();
        let links = at(&case, "/links");

        // Who may receive one, as the agreement lists them.
        let (status, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        let refusal = |id: &str| {
            view["carers"]
                .as_array()
                .and_then(|c| c.iter().find(|x| x["id"] == id))
                .map(|x| x["link_refused"].clone())
                .unwrap_or_default()
        };
        assert!(refusal(&mother).is_null(), "{view}");
        assert!(
            refusal(&world.carer).is_null(),
            "a restriction on times only: {view}"
        );
        assert!(
            refusal(&barred)
                .as_str()
                .is_some_and(|r| r.contains("no contact")),
            "{view}"
        );
        assert!(
            refusal(&foster)
                .as_str()
                .is_some_and(|r| r.contains("parental responsibility")),
            "{view}"
        );
        // A carer under a no-contact restriction is refused, with the reason; so is a foster
        // carer without parental responsibility, and they cannot consent in person either.
        let (status, problem) =
            api(Method::POST, links.clone(), Some(json!({"carer": barred}))).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "carer");
        assert!(first_message(&problem).contains("no contact"), "{problem}");
        let (status, problem) =
            api(Method::POST, links.clone(), Some(json!({"carer": foster}))).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "carer");
        assert!(
            first_message(&problem).contains("parental responsibility"),
            "{problem}"
        );
        let (status, problem) = record(
            &world,
            "lead",
            &case,
            json!({"kind": "parental-consent", "carer": foster}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "carer", "{problem}");
        let (status, problem) = api(
            Method::POST,
            links.clone(),
            Some(json!({"carer": mother, "days": 60})),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "days");
        let reader = world.service.token_for("lead", "read").await?;
        let (status, _) = api_on(
            &server,
            &client,
            &reader,
            Method::POST,
            &links,
            Some(json!({"carer": mother})),
        )
        .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "a read-only token");
        assert_eq!(
            count_as_owner(
                &world.service.db,
                &format!("SELECT COUNT(*) AS n FROM consent_links WHERE case_id = '{case}'")
            )
            .await?,
            0,
            "nothing made by a refusal"
        );

        // A link for the mother: its address shown once, only its hash kept.
        let (status, issued) =
            api(Method::POST, links.clone(), Some(json!({"carer": mother}))).await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let link = id_of(&issued);
        let url = issued["url"].as_str().unwrap_or_default().to_owned();
        assert!(
            url.starts_with(&format!("{}/consent/ac_", server.base)),
            "{url}"
        );
        let token = url.rsplit('/').next().unwrap_or_default().to_owned();
        tokens.push(token.clone());
        let expires: jiff::Timestamp = issued["expires_at"].as_str().unwrap_or_default().parse()?;
        let days = expires.duration_since(jiff::Timestamp::now()).as_hours() / 24;
        assert!((13..=14).contains(&days), "{issued}");
        let hashed = |hash: &str| {
            format!("SELECT COUNT(*) AS n FROM consent_links WHERE token_hash = '{hash}'")
        };
        let db = &world.service.db;
        assert_eq!(count_as_owner(db, &hashed(&token)).await?, 0);
        assert_eq!(
            count_as_owner(db, &hashed(&alliance_core::auth::secret_hash(&token))).await?,
            1
        );
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(link_state(&view, &link), "Waiting", "{view}");
        assert!(
            !view.to_string().contains(&token[3..]),
            "the token is shown once"
        );

        // A link scanner opens it twice: nothing is spent; the token moves into a cookie.
        let mut cookie = String::new();
        for _ in 0..2 {
            let opened = carer_fetch(&client, Method::GET, &url, None, None, "null").await?;
            assert!(opened.continues(), "{:?}: {}", opened.status, opened.body);
            let set = opened.cookie.unwrap_or_default();
            assert!(
                set.starts_with(&format!("alliance_consent={token};")),
                "{set}"
            );
            for attribute in ["Path=/consent", "HttpOnly", "SameSite=Strict"] {
                assert!(set.contains(attribute), "{attribute}: {set}");
            }
            cookie = set.split(';').next().unwrap_or_default().to_owned();
        }
        let form_url = format!("{}/consent", server.base);
        let form =
            carer_fetch(&client, Method::GET, &form_url, Some(&cookie), None, "null").await?;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("name=\"decision\""), "{}", form.body);
        assert!(!form.body.contains("Clarke"), "no surname on the form");
        let bare = carer_fetch(&client, Method::GET, &form_url, None, None, "null").await?;
        assert_eq!(bare.status, StatusCode::NOT_FOUND);
        assert!(bare.body.contains("This link cannot be used"));
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(link_state(&view, &link), "Waiting", "{view}");
        assert_eq!(view["entries"], json!([]), "opening records nothing");

        // A cross-site post is refused and spends nothing.
        let answer = [
            ("decision", "consent"),
            ("signed_name", "Dana Clarke"),
            ("comment", "Happy for Millie to come"),
        ];
        let forged = carer_fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&cookie),
            Some(&answer),
            "https://evil.example",
        )
        .await?;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        // An answer without a signature is shown again, and spends nothing.
        let unsigned = carer_fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&cookie),
            Some(&[("decision", "consent"), ("signed_name", "")]),
            "null",
        )
        .await?;
        assert_eq!(
            unsigned.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            unsigned.body
        );
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(link_state(&view, &link), "Waiting", "{view}");

        // The answer spends it and records the consent, through the link.
        let sent = carer_fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&cookie),
            Some(&answer),
            "null",
        )
        .await?;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(link_state(&view, &link), "Used", "{view}");
        let entries = view["entries"].as_array().cloned().unwrap_or_default();
        assert_eq!(entries.len(), 1, "{view}");
        assert_eq!(entries[0]["kind"], "parental-consent");
        assert_eq!(entries[0]["via"], "link");
        assert_eq!(entries[0]["carer"], mother.as_str());
        assert_eq!(entries[0]["signed_name"], "Dana Clarke");
        assert_eq!(entries[0]["given_on"], today().to_string());
        assert!(entries[0]["recorded_by"].is_null(), "{view}");
        // A second answer, and a later visit, find nothing.
        let again = carer_fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&cookie),
            Some(&answer),
            "null",
        )
        .await?;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert!(again.body.contains("This link cannot be used"));
        let later = carer_fetch(&client, Method::GET, &url, None, None, "null").await?;
        assert_eq!(later.status, StatusCode::NOT_FOUND);
        assert!(later.body.contains("This link cannot be used"));
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(view["entries"].as_array().map(Vec::len), Some(1));
        let (status, _) = api(
            Method::POST,
            at(&case, &format!("/links/{link}/revoke")),
            None,
        )
        .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a used link stays used"
        );

        // A withdrawn link.
        let (status, issued) = api(
            Method::POST,
            links.clone(),
            Some(json!({"carer": world.carer, "days": 3})),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let withdrawn = id_of(&issued);
        let withdrawn_url = issued["url"].as_str().unwrap_or_default().to_owned();
        tokens.push(
            withdrawn_url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
        let (status, _) = api(
            Method::POST,
            at(&case, &format!("/links/{withdrawn}/revoke")),
            None,
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let gone = carer_fetch(&client, Method::GET, &withdrawn_url, None, None, "null").await?;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        let (status, _) = api(
            Method::POST,
            at(&case, &format!("/links/{withdrawn}/revoke")),
            None,
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = api(
            Method::POST,
            at(&case, &format!("/links/{}/revoke", Uuid::new_v4())),
            None,
        )
        .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // An expired link: its expiry written into the past in the database.
        let (status, issued) =
            api(Method::POST, links.clone(), Some(json!({"carer": mother}))).await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let expired = id_of(&issued);
        let expired_url = issued["url"].as_str().unwrap_or_default().to_owned();
        let expired_token = expired_url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        tokens.push(expired_token.clone());
        // Still usable: opened, and its cookie kept, before it expires.
        let opened = carer_fetch(&client, Method::GET, &expired_url, None, None, "null").await?;
        assert!(opened.continues(), "{:?}", opened.status);
        let now = jiff::Timestamp::now().as_microsecond();
        execute_as_owner(
            db,
            &format!(
                "UPDATE consent_links SET created_at = {}, expires_at = {} WHERE id = '{expired}'",
                now - 3 * 86_400_000_000,
                now - 3_600_000_000
            ),
        )
        .await?;
        let late = carer_fetch(&client, Method::GET, &expired_url, None, None, "null").await?;
        assert_eq!(late.status, StatusCode::NOT_FOUND);
        let expired_cookie = format!("alliance_consent={expired_token}");
        let late = carer_fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&expired_cookie),
            Some(&answer),
            "null",
        )
        .await?;
        assert_eq!(late.status, StatusCode::NOT_FOUND);
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(link_state(&view, &expired), "Expired", "{view}");
        assert_eq!(link_state(&view, &withdrawn), "Withdrawn", "{view}");
        assert_eq!(view["entries"].as_array().map(Vec::len), Some(1));

        // The father objects through his link: the start is paused, and the service lead told.
        let (status, issued) = api(
            Method::POST,
            links.clone(),
            Some(json!({"carer": world.carer})),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let father_url = issued["url"].as_str().unwrap_or_default().to_owned();
        let father_token = father_url.rsplit('/').next().unwrap_or_default().to_owned();
        tokens.push(father_token.clone());
        let father_cookie = format!("alliance_consent={father_token}");
        let objected = carer_fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&father_cookie),
            Some(&[("decision", "object"), ("signed_name", "Sam Clarke")]),
            "null",
        )
        .await?;
        assert_eq!(objected.status, StatusCode::OK, "{}", objected.body);
        let (_, view) = api(Method::GET, at(&case, ""), None).await?;
        assert_eq!(view["status"], "paused", "{view}");
        scheduler(&world).await?;
        assert!(has_task(
            &tasks_of(&world, "service-lead").await?,
            "case.decide-on-objection",
            &case
        ));

        // The log was kept (the request lines are there) and holds none of the tokens.
        let log = server.stop().await;
        assert!(log.contains("status=404"), "the log was captured: {log}");
        for token in &tokens {
            let digits = token.trim_start_matches("ac_");
            assert_eq!(digits.len(), 64, "{token}");
            assert!(
                !log.contains(digits),
                "a consent link's token is in the log"
            );
        }
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- versions, re-agreement and carer-facing outputs -----------------------------------------

#[tokio::test]
async fn a_new_version_needs_assent_again_and_a_changed_slot_asks_for_re_agreement()
-> anyhow::Result<()> {
    let monday = today().nth_weekday(1, Weekday::Monday)?;
    let start = alliance_core::uk::date(today().checked_sub(30.days())?);
    let end = alliance_core::uk::date(monday.checked_add(70.days())?);
    let rows = format!("kind,name,starts,ends,reason\nterm,Test term,{start},{end},\n");
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        let mother = add_mother(&world, &world.child).await?;
        let (status, calendar) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/calendars",
                Some(json!({"name": "Test calendar", "rows": rows})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{calendar}");
        let (_, sites) = world
            .api("admin", Method::GET, "/api/v1/sites", None)
            .await?;
        let site = sites["items"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (status, room) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/sites/{site}/rooms"),
                Some(json!({"name": "Willow Room", "capacity": 4, "step_free": true})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        let slot = format!("/api/v1/cases/{case}/slot");
        let (status, schedule) = world
            .api(
                "lead",
                Method::PUT,
                &slot,
                Some(json!({"calendar": calendar["id"], "room": room["id"],
                    "weekday": "monday", "start": "15:30", "minutes": 50,
                    "from": monday.to_string()})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{schedule}");
        // Sessions can be booked before the agreement is active, with a warning.
        assert!(
            schedule["warning"]
                .as_str()
                .is_some_and(|w| w.contains("not active")),
            "{schedule}"
        );

        // Carer-facing outputs wait for an active agreement.
        let letter = format!("/api/v1/cases/{case}/letters/regular-time/{mother}");
        let (status, problem) = world.api("lead", Method::GET, &letter, None).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "carer");
        assert!(first_message(&problem).contains("not active"), "{problem}");

        let first = draft(
            &world,
            &case,
            "What you say stays here, unless someone is not safe",
        )
        .await?;
        let document = |version: &str, copy: &str| {
            at(&case, &format!("/versions/{version}/document?for={copy}"))
        };
        let (status, printed) = world
            .api("lead", Method::GET, &document(&first, "child"), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{printed}");
        assert!(
            printed["status_line"]
                .as_str()
                .is_some_and(|s| s.contains("draft")),
            "{printed}"
        );
        assert_eq!(printed["for_name"], "Millie");
        assert!(
            printed["time_and_place"]
                .as_str()
                .is_some_and(|t| t.contains("15:30") && t.contains("Willow Room")),
            "{printed}"
        );
        assert_eq!(
            printed["rules"].as_array().map(Vec::len),
            Some(5),
            "{printed}"
        );
        let (status, problem) = world
            .api(
                "lead",
                Method::GET,
                &document(&first, &format!("carer:{mother}")),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, problem) = world
            .api("lead", Method::GET, &document(&first, "grandma"), None)
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(first_field(&problem), "for");

        recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "parental-consent", "carer": mother}),
        )
        .await?;
        let assent = recorded(&world, "lead", &case, json!({"kind": "assent"})).await?;
        let (status, problem) = activate(&world, "lead", &case, &first).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        let view = read(&world, &case).await?;
        assert_eq!(view["active"], first.as_str());
        assert_eq!(view["versions"][0]["slot_changed"], false, "{view}");
        let assent_entry = view["entries"]
            .as_array()
            .and_then(|e| e.iter().find(|x| x["id"] == assent.as_str()))
            .cloned()
            .unwrap_or_default();
        assert_eq!(assent_entry["agreement"], first.as_str(), "{view}");
        // Now they may go.
        let (status, body) = world.api("lead", Method::GET, &letter, None).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, printed) = world
            .api(
                "lead",
                Method::GET,
                &document(&first, &format!("carer:{mother}")),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{printed}");

        // A second version: the first stays active until it is; the child's assent belongs to
        // one version, so the draft needs it again.
        let second = draft(
            &world,
            &case,
            "What you say stays here; I tell someone if you are not safe",
        )
        .await?;
        let view = read(&world, &case).await?;
        assert_eq!(view["active"], first.as_str(), "{view}");
        assert_eq!(view["assessed"], second.as_str(), "{view}");
        assert_eq!(view["versions"][0]["id"], second.as_str());
        assert_eq!(view["versions"][0]["status"], "draft");
        assert_eq!(view["versions"][0]["number"], 2);
        assert_eq!(view["versions"][1]["status"], "active");
        assert_eq!(
            view["missing"],
            json!(["The child's assent to this agreement"]),
            "{view}"
        );
        let (status, problem) = activate(&world, "lead", &case, &second).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(first_message(&problem).contains("assent"), "{problem}");
        let (status, _) = world.api("lead", Method::GET, &letter, None).await?;
        assert_eq!(status, StatusCode::OK, "the first version is still active");
        recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "assent", "words": "Yes"}),
        )
        .await?;
        let (status, problem) = activate(&world, "lead", &case, &second).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        let view = read(&world, &case).await?;
        assert_eq!(view["active"], second.as_str());
        assert_eq!(view["versions"][0]["status"], "active");
        assert_eq!(view["versions"][1]["status"], "superseded", "{view}");
        assert!(view["versions"][1]["superseded_at"].is_string(), "{view}");
        let (status, problem) = activate(&world, "lead", &case, &first).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, _) = activate(&world, "lead", &case, &Uuid::new_v4().to_string()).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The regular time changes: the active version is marked, and the lead asked to agree
        // it again with the child.
        let (status, schedule) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/cases/{case}/sessions"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        let (status, schedule) = world
            .api(
                "lead",
                Method::PUT,
                &slot,
                Some(json!({"calendar": calendar["id"], "room": room["id"],
                    "weekday": "monday", "start": "10:00", "minutes": 50,
                    "from": monday.to_string(), "reason": "The school asked for mornings",
                    "version": schedule["slot"]["version"]})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{schedule}");
        assert!(schedule.get("warning").is_none(), "{schedule}");
        let view = read(&world, &case).await?;
        assert_eq!(view["versions"][0]["id"], second.as_str());
        assert_eq!(view["versions"][0]["slot_changed"], true, "{view}");
        assert!(
            view["time_and_place"]
                .as_str()
                .is_some_and(|t| t.contains("10:00")),
            "{view}"
        );
        scheduler(&world).await?;
        assert!(
            has_task(&tasks_of(&world, "lead").await?, "case.re-agree", &case),
            "the lead is asked to agree it again"
        );
        assert!(
            tasks_of(&world, "other-therapist")
                .await?
                .iter()
                .all(|t| t["rule"] != "case.re-agree")
        );
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- who may see and do what; the checklist; nothing in plaintext ----------------------------

#[tokio::test]
async fn the_agreement_and_checklist_are_the_childs_clinical_record() -> anyhow::Result<()> {
    const CONFIDENTIALITY: &str = "MARKER-c0nf-what-you-say-stays-here";
    const WORDS: &str = "MARKER-w0rds-i-like-the-sand-tray";
    const SAID: &str = "MARKER-s4id-you-tell-if-i-am-hurt";
    const REVISIT: &str = "MARKER-rev1sit-the-secret-box";
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        let version = draft(&world, &case, CONFIDENTIALITY).await?;
        recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "parental-consent", "carer": world.carer,
                "reference": "Signed form, scanned"}),
        )
        .await?;
        recorded(
            &world,
            "lead",
            &case,
            json!({"kind": "assent", "words": WORDS}),
        )
        .await?;

        // The checklist: an item recorded, and bad ones refused field by field.
        let checklist = format!("/api/v1/cases/{case}/checklist");
        let (status, empty) = world.api("lead", Method::GET, &checklist, None).await?;
        assert_eq!(status, StatusCode::OK, "{empty}");
        assert_eq!(empty["items"], json!([]));
        assert!(
            empty["topics"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x["code"] == "limits-of-confidentiality")),
            "{empty}"
        );
        assert_eq!(empty["may_write"], true);
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &checklist,
                Some(json!({"topic": "stay-secret", "explained_on": "2099-01-01",
                    "methods": [], "to_whom": "neighbour"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            fields,
            ["topic", "explained_on", "methods", "to_whom"],
            "{problem}"
        );
        let explained_on = today().checked_sub(2.days())?;
        let (status, item) = world
            .api(
                "lead",
                Method::POST,
                &checklist,
                Some(json!({"topic": "limits-of-confidentiality",
                    "explained_on": explained_on.to_string(),
                    "methods": ["spoken", "drawing"], "to_whom": "both",
                    "child_said": SAID, "revisit": REVISIT})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        let (_, list) = world.api("lead", Method::GET, &checklist, None).await?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(items[0]["id"], item["id"]);
        assert_eq!(items[0]["topic"], "limits-of-confidentiality");
        assert_eq!(items[0]["explained_on"], explained_on.to_string());
        assert_eq!(items[0]["methods"], json!(["spoken", "drawing"]));
        assert_eq!(items[0]["to_whom"], "both");
        assert_eq!(items[0]["child_said"], SAID);
        assert_eq!(items[0]["revisit"], REVISIT);
        assert_eq!(items[0]["case_id"], case.as_str());
        assert_eq!(items[0]["band"], list["band"]);

        let view = read(&world, &case).await?;
        let text = view.to_string();
        assert!(
            text.contains(CONFIDENTIALITY) && text.contains(WORDS),
            "{text}"
        );
        assert_eq!(view["may_write"], true);
        assert_eq!(view["may_read_checklist"], true);

        // Nobody else: not found, every way in, and audited.
        let denied = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}'",
            world.child
        );
        let before = count_as_owner(&world.service.db, &denied).await?;
        let reads = [
            at(&case, ""),
            checklist.clone(),
            at(&case, &format!("/versions/{version}/document?for=child")),
        ];
        let writes = [
            (at(&case, "/versions"), agreement_body("x")),
            (at(&case, "/consent"), json!({"kind": "assent"})),
            (at(&case, "/links"), json!({"carer": world.carer})),
            (
                at(&case, &format!("/versions/{version}/activate")),
                Value::Null,
            ),
            (
                checklist.clone(),
                json!({"topic": "what-therapy-is", "explained_on": today().to_string(),
                    "methods": ["spoken"], "to_whom": "child"}),
            ),
        ];
        for who in [
            "other-therapist",
            "other-supervisor",
            "admin",
            "staff",
            "dsl",
        ] {
            for path in &reads {
                let (status, body) = world.api(who, Method::GET, path, None).await?;
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{backend:?} {who} {path}: {body}"
                );
                assert!(!body.to_string().contains("MARKER"), "{who}");
            }
            for (path, body) in &writes {
                let body = (!body.is_null()).then(|| body.clone());
                let (status, answer) = world.api(who, Method::POST, path, body).await?;
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{backend:?} {who} {path}: {answer}"
                );
            }
        }
        assert!(
            count_as_owner(&world.service.db, &denied).await? >= before + 5 * 8,
            "every refusal is audited"
        );

        // The parent-worker reads the agreement, not the checklist, and writes neither.
        let (status, seen) = agreement(&world, "parent-worker", &case).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["may_write"], false);
        assert_eq!(seen["may_read_checklist"], false);
        assert!(seen.to_string().contains(CONFIDENTIALITY), "{seen}");
        let (status, _) = world
            .api("parent-worker", Method::GET, &checklist, None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for (path, body) in &writes {
            let body = (!body.is_null()).then(|| body.clone());
            let (status, answer) = world.api("parent-worker", Method::POST, path, body).await?;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "parent-worker {path}: {answer}"
            );
        }
        let (status, _) = record(&world, "parent-worker", &case, json!({"kind": "assent"})).await?;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The supervisor reads both, pseudonymised: no name of the child's or a carer's.
        for path in [at(&case, ""), checklist.clone()] {
            let (status, seen) = world.api("supervisor", Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::OK, "{path}: {seen}");
            let text = seen.to_string();
            for name in ["Amelia", "Rose", "Millie", "Clarke", "Sam"] {
                assert!(
                    !text.contains(name),
                    "{name} in the supervisor's {path}: {text}"
                );
            }
            assert!(
                seen["child_label"]
                    .as_str()
                    .is_some_and(|l| l.contains("ARC")),
                "{seen}"
            );
            assert_eq!(seen["may_write"], false);
        }
        let (status, _) = world
            .api("supervisor", Method::GET, &reads[2], None)
            .await?;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the supervisor prints nothing"
        );
        let (status, _) = record(&world, "supervisor", &case, json!({"kind": "assent"})).await?;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The service lead reads consent to decide on objections, not the clinical record.
        let (status, seen) = agreement(&world, "service-lead", &case).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let text = seen.to_string();
        assert!(
            !text.contains(CONFIDENTIALITY) && !text.contains(WORDS),
            "{text}"
        );
        let (status, _) = world
            .api("service-lead", Method::GET, &checklist, None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A read-only token reads, and writes nothing.
        let reader = world.service.token_for("lead", "read").await?;
        let (status, _) = world
            .service
            .api(Method::GET, &at(&case, ""), &reader, None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        for (path, body) in &writes {
            let body = (!body.is_null()).then(|| body.clone());
            let (status, answer) = world.service.api(Method::POST, path, &reader, body).await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "read-only {path}: {answer}");
        }
        let (status, _) = activate(&world, "lead", &case, &version).await?;
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "nothing was half-written by the refusals"
        );

        // What was said is sealed: no marker anywhere in the SQLite files.
        world.service.server.stop().await;
        if backend == Backend::Sqlite {
            let file = world.service.db.data_path().join("alliance.sqlite3");
            let mut looked = 0;
            for path in [
                file.clone(),
                file.with_extension("sqlite3-wal"),
                file.with_extension("sqlite3-shm"),
            ] {
                let bytes = std::fs::read(&path).unwrap_or_default();
                looked += bytes.len();
                for marker in [CONFIDENTIALITY, WORDS, SAID, REVISIT] {
                    assert!(
                        !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                        "{marker} in plaintext in {}",
                        path.display()
                    );
                }
            }
            assert!(looked > 0, "the database files were read");
        }
    }
    Ok(())
}

//! The demo service: entirely synthetic data, generated from a seed so the same seed always
//! gives the same service. Demo data never goes into a database that already holds a service
//! (policy section 6), and a demo database says so on every page.
//!
//! Each capability adds its own step to [`generate`] as it lands; the scales below are the
//! shapes those steps fill (issue 20 sets the large one).

use crate::app::Alliance;
use crate::auth::{Actor, Via};
use crate::children::{ChildRecord, TeamRequest};
use crate::error::AppError;
use crate::store::{NewUser, StoreError};
use alliance_core::audit::{Action, Event};
use alliance_core::auth::TokenScope;
use alliance_core::cases::{
    CaseId, CaseInput, ClosureInput, ClosureReason, ReferralSource, TeamRole,
};
use alliance_core::children::{
    CarerInput, ChildId, ChildInput, ParentalResponsibility, RestrictionInput, RestrictionKind,
    RestrictionSource, Sex, YearGroup, age_on,
};
use alliance_core::directory::{RoomId, RoomInput, SiteId, SiteInput, SiteKind};
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::schedule::SlotInput;
use alliance_core::{Nation, ServiceName, Version, service::ServiceDetails};
use jiff::civil::Date;
use jiff::{SignedDuration, Span};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::collections::{HashMap, HashSet};

/// How big a synthetic service to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoScale {
    /// A small team a newcomer can look around: a handful of therapists and children.
    Small,
    /// A large service, for performance work.
    Large,
    /// Several large services' worth, for finding the limits.
    Xlarge,
}

/// The number of people of each kind a scale calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoShape {
    pub therapists: u32,
    pub supervisors: u32,
    pub dsls: u32,
    pub children: u32,
}

impl DemoScale {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "small" => Ok(Self::Small),
            "large" => Ok(Self::Large),
            "xlarge" => Ok(Self::Xlarge),
            _ => Err("Choose small, large or xlarge".to_owned()),
        }
    }

    pub fn shape(self) -> DemoShape {
        match self {
            DemoScale::Small => DemoShape {
                therapists: 6,
                supervisors: 1,
                dsls: 1,
                children: 100,
            },
            DemoScale::Large => DemoShape {
                therapists: 150,
                supervisors: 10,
                dsls: 4,
                children: 6_000,
            },
            DemoScale::Xlarge => DemoShape {
                therapists: 600,
                supervisors: 40,
                dsls: 12,
                children: 24_000,
            },
        }
    }
}

/// Told how far generation has gone, so a long run can show a progress bar.
pub trait Progress {
    fn step(&self, name: &str, total: u64);
    fn advance(&self, done: u64);
    fn finish(&self);
}

/// Progress that goes nowhere, for tests and quiet runs.
pub struct NoProgress;

impl Progress for NoProgress {
    fn step(&self, _name: &str, _total: u64) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("this database already holds a service; demo data only goes into an empty database")]
    NotEmpty,
    #[error("the generated data was not valid: {0}")]
    Generated(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What was generated, for the command line to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub service_name: String,
    pub shape: DemoShape,
    /// The password every demo account shares (demo data is made up; nothing real is behind it).
    pub password: String,
    /// The accounts to try, as (username, what they do).
    pub accounts: Vec<(String, String)>,
}

const PLACES: [&str; 12] = [
    "Riverside",
    "Oakfield",
    "Meadowbank",
    "Hollybrook",
    "Kingsmere",
    "Ashdown",
    "Willowford",
    "Brambleton",
    "Fernhill",
    "Larkspur",
    "Elmstead",
    "Thornbury",
];

const KINDS: [&str; 4] = [
    "Children's Therapy Service",
    "Play Therapy Practice",
    "School Counselling Service",
    "Child and Family Therapy Team",
];

/// The demo service's name for a seed: always marked as a demo, so nobody mistakes it.
pub fn demo_service_name(seed: u64) -> Result<ServiceName, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let place = PLACES[rng.random_range(0..PLACES.len())];
    let kind = KINDS[rng.random_range(0..KINDS.len())];
    ServiceName::parse(&format!("{place} {kind} (demo)"))
}

const FIRST_NAMES: [&str; 24] = [
    "Amara", "Ben", "Chloe", "Dev", "Eilidh", "Farah", "Gareth", "Hana", "Idris", "Jade", "Kofi",
    "Leah", "Marek", "Niamh", "Owen", "Priya", "Quinn", "Rhys", "Saoirse", "Tomasz", "Uma", "Wyn",
    "Yusuf", "Zara",
];

const SURNAMES: [&str; 24] = [
    "Adeyemi",
    "Brennan",
    "Chowdhury",
    "Davies",
    "Evans",
    "Fraser",
    "Gallagher",
    "Hughes",
    "Iqbal",
    "Jones",
    "Kowalski",
    "Lloyd",
    "Morgan",
    "Nwosu",
    "O'Neill",
    "Patel",
    "Quinlan",
    "Roberts",
    "Singh",
    "Thomas",
    "Usman",
    "Vaughan",
    "Williams",
    "Young",
];

const WORDS: [&str; 32] = [
    "harbour", "lantern", "meadow", "pebble", "orchard", "kestrel", "willow", "copper", "thistle",
    "marble", "saffron", "beacon", "juniper", "otter", "quartz", "ember", "bramble", "falcon",
    "heather", "lagoon", "nutmeg", "puffin", "raven", "sorrel", "tundra", "umber", "velvet",
    "walnut", "yarrow", "zephyr", "acorn", "cobble",
];

/// Fills an empty database with a synthetic service: its staff accounts, then its sites and
/// rooms, children, carers and cases. Everything after the accounts goes through the same
/// use-cases staff use (as the demo administrator and the lead therapists), so it is
/// validated, sealed and audited exactly as a real record would be.
pub async fn generate(
    alliance: &Alliance,
    scale: DemoScale,
    seed: u64,
    progress: &dyn Progress,
) -> Result<DemoSummary, DemoError> {
    let store = alliance.store();
    if !store.is_empty().await? {
        return Err(DemoError::NotEmpty);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let shape = scale.shape();
    progress.step("service", 1);
    let details = ServiceDetails {
        name: demo_service_name(seed).map_err(DemoError::Generated)?,
        nation: Nation::England,
    };
    let origin = crate::accounts::command_line_origin();
    let created = vec![
        Event::new(
            Action::ServiceCreated,
            None,
            "service",
            Some("1".to_owned()),
        ),
        Event::new(Action::DemoGenerated, None, "service", Some("1".to_owned())),
    ];
    let profile = match store
        .create_service_profile(
            &details,
            true,
            alliance.clock().now(),
            &alliance.audit_batch(&origin, created),
        )
        .await
    {
        Ok(profile) => profile,
        // Another process created a service between the check and the write.
        Err(StoreError::Conflict(_)) => return Err(DemoError::NotEmpty),
        Err(other) => return Err(other.into()),
    };
    progress.advance(1);

    let password: Vec<&str> = WORDS.choose_multiple(&mut rng, 4).copied().collect();
    let password = password.join(" ");
    // One hash for every demo account: hashing thousands of times would only slow the demo.
    let password_hash = alliance
        .hash_password(&password)
        .await
        .map_err(|e| DemoError::Generated(e.to_string()))?;

    let named: [(&str, Role, &str); 5] = [
        ("demo-admin", Role::Administrator, "administrator"),
        ("demo-lead", Role::ServiceLead, "service lead"),
        ("demo-dsl", Role::Dsl, "Designated Safeguarding Lead"),
        ("demo-supervisor", Role::Supervisor, "supervisor"),
        ("demo-staff", Role::Staff, "school staff"),
    ];
    let total = u64::from(shape.therapists) + named.len() as u64;
    progress.step("staff", total);
    let mut accounts = Vec::new();
    let mut people = Vec::new();
    for (username, role, what) in named {
        people.push((username.to_owned(), role));
        accounts.push((username.to_owned(), what.to_owned()));
    }
    for n in 1..=shape.therapists {
        people.push((format!("demo-therapist-{n}"), Role::Therapist));
    }
    accounts.push(("demo-therapist-1".to_owned(), "therapist".to_owned()));
    let now = alliance.clock().now();
    let mut supervisor = None;
    let mut administrator = None;
    let mut therapists = Vec::new();
    for (username, role) in people {
        let first = FIRST_NAMES.choose(&mut rng).copied().unwrap_or("Sam");
        let last = SURNAMES.choose(&mut rng).copied().unwrap_or("Jones");
        let registration = match role {
            Role::Therapist => *[
                RegistrationBody::Bapt,
                RegistrationBody::Bacp,
                RegistrationBody::Hcpc,
            ]
            .choose(&mut rng)
            .unwrap_or(&RegistrationBody::Bacp),
            Role::Staff => RegistrationBody::Teacher,
            _ => RegistrationBody::Ukcp,
        };
        let mut roles = vec![role];
        if role == Role::Supervisor {
            roles.push(Role::Therapist);
        }
        let user = NewUser {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse(&username).map_err(DemoError::Generated)?,
            details: UserDetails {
                display_name: format!("{first} {last}"),
                roles,
                registration,
                registration_number: None,
                email: None,
            },
            password_hash: password_hash.clone(),
        };
        let created = vec![Event::new(
            Action::UserCreated,
            None,
            "user",
            Some(user.id.to_string()),
        )];
        store
            .create_user(&user, now, &alliance.audit_batch(&origin, created))
            .await?;
        match role {
            Role::Supervisor => supervisor = Some(user.id),
            Role::Administrator => administrator = Some(user.id),
            Role::Therapist => therapists.push(user.id),
            _ => {}
        }
        progress.advance(1);
    }
    if let Some(supervisor) = supervisor {
        let supervised: Vec<(UserId, bool)> =
            therapists.iter().take(8).map(|id| (*id, false)).collect();
        let changed = vec![Event::new(
            Action::SuperviseesChanged,
            None,
            "user",
            Some(supervisor.to_string()),
        )];
        store
            .set_supervisees(
                supervisor,
                &supervised,
                now,
                &alliance.audit_batch(&origin, changed),
            )
            .await?;
    }

    let administrator = administrator
        .ok_or_else(|| DemoError::Generated("no demo administrator was made".to_owned()))?;
    let administrator = actor_for(alliance, administrator).await?;
    let mut team = Vec::with_capacity(therapists.len());
    for id in &therapists {
        team.push(actor_for(alliance, *id).await?);
    }
    let filled = fill(alliance, &mut rng, shape, &administrator, &team, progress).await?;
    // Practical considerations (issue 16): rooms described with their materials and checklist,
    // each site's emergency procedures and cover, and a young person's safety plan.
    progress.step("rooms and emergencies", 3);
    crate::room_care::demo_fill(alliance, &administrator, &team).await?;
    progress.advance(1);
    crate::site_emergency::demo_fill(alliance, &administrator).await?;
    progress.advance(1);
    crate::emergency::demo_fill(alliance, &administrator, &team).await?;
    progress.advance(1);
    // The alliance over time (issue 17): feedback from children, carers and therapists, and
    // the children's own goals with their ratings.
    crate::feedback::demo_fill(alliance, &administrator, &team).await?;
    crate::goals::demo_fill(alliance, &administrator, &team).await?;
    if let Some((_, what)) = accounts.iter_mut().find(|(u, _)| u == "demo-therapist-1") {
        *what = format!(
            "therapist: lead on {} open cases, and covering one",
            filled.led_by_first
        );
    }
    progress.finish();
    Ok(DemoSummary {
        service_name: profile.name.as_str().to_owned(),
        shape,
        password,
        accounts,
    })
}

// ---------------------------------------------------------------------------------------------
// Sites, rooms, children, carers and cases.
//
// The plans below are pure (a seeded generator and today's date in, form inputs out), so the
// tests can check that every one of them validates; `fill` then submits them through the
// use-cases. Phone numbers are from Ofcom's ranges for drama (0113 496 0xxx, 07700 900xxx),
// emails at example.com/.org, postcodes in the non-existent ZZ area and NHS numbers in the
// 999 range the NHS never issues, so nothing here can reach or name a real person.
// ---------------------------------------------------------------------------------------------

/// An actor for a demo account, as if it held a read-write API token, acting from the
/// command line.
async fn actor_for(alliance: &Alliance, id: UserId) -> Result<Actor, DemoError> {
    let user = alliance
        .store()
        .user(id)
        .await?
        .ok_or_else(|| DemoError::Generated(format!("the demo account {id} was not found")))?;
    Ok(Actor {
        user,
        via: Via::Token {
            id: uuid::Uuid::nil(),
            scope: TokenScope::ReadWrite,
        },
        origin: crate::accounts::command_line_origin(),
    })
}

/// Turns a use-case's refusal into the demo's error, naming what was being made and every
/// field at fault (a refusal means the generator is wrong, so say exactly how).
fn refused(what: &'static str) -> impl Fn(AppError) -> DemoError {
    move |err| match err {
        AppError::Store(store) => DemoError::Store(store),
        AppError::Invalid(invalid) => DemoError::Generated(format!(
            "{what}: {}",
            invalid
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        other => DemoError::Generated(format!("{what}: {other}")),
    }
}

/// What the directory and children steps made.
#[derive(Debug, Clone, Copy, Default)]
struct Filled {
    /// Open cases demo-therapist-1 leads.
    led_by_first: usize,
}

async fn fill(
    alliance: &Alliance,
    rng: &mut StdRng,
    shape: DemoShape,
    admin: &Actor,
    therapists: &[Actor],
    progress: &dyn Progress,
) -> Result<Filled, DemoError> {
    if therapists.is_empty() {
        return Err(DemoError::Generated(
            "no demo therapists were made".to_owned(),
        ));
    }
    let today = alliance.today();
    let site_plans = plan_sites(rng, school_count(shape));
    progress.step("sites", site_plans.len() as u64);
    let mut schools = Vec::new();
    let mut rooms_of: HashMap<SiteId, Vec<RoomId>> = HashMap::new();
    for plan in &site_plans {
        let site = alliance
            .create_site(admin, &plan.site)
            .await
            .map_err(refused("a demo site"))?;
        for room in &plan.rooms {
            let made = alliance
                .create_room(admin, site.id, room)
                .await
                .map_err(refused("a demo room"))?;
            rooms_of.entry(site.id).or_default().push(made.id);
        }
        if plan.phase.is_some() {
            // Each school's term calendar for this school year and the next.
            alliance
                .create_calendar(
                    admin,
                    &format!("{} school year", plan.site.name),
                    Some(site.id),
                    &demo_term_rows(today),
                )
                .await
                .map_err(refused("a demo term calendar"))?;
        }
        if let Some(phase) = plan.phase {
            schools.push(School {
                id: site.id,
                phase,
                establishment: plan.establishment,
            });
        }
        progress.advance(1);
    }

    // The out-of-hours contacts every raiser is shown (made up; the numbers are Ofcom's
    // drama numbers, which never connect), with each school's own DSL. The rota is left
    // empty: an administrator or the DSL fills it in.
    let mut contacts = alliance_core::safeguarding::Contacts {
        emergency_duty_team: demo_contact("Demo County emergency duty team", "020 7946 0000"),
        designated_officer: demo_contact("Demo County designated officer (LADO)", "020 7946 0001"),
        out_of_hours_note: "Out of hours, call the emergency duty team; if a child is in immediate danger, call 999.".to_owned(),
        ..Default::default()
    };
    for (n, school) in schools.iter().enumerate() {
        contacts.sites.insert(
            school.id.to_string(),
            alliance_core::safeguarding::SiteContacts {
                school_dsl: demo_contact(
                    &format!("School DSL {}", n + 1),
                    &format!("020 7946 {:04}", 100 + n),
                ),
                ..Default::default()
            },
        );
    }
    alliance
        .set_safeguarding_contacts(admin, &contacts, None)
        .await
        .map_err(refused("the demo safeguarding contacts"))?;

    let mut planner = ChildPlanner::new(today, schools, therapists.len());
    let mut open_cases: Vec<(CaseId, usize, SiteId)> = Vec::new();
    progress.step("children", u64::from(shape.children));
    for i in 0..shape.children as usize {
        let plan = planner.child(rng, i);
        let record = alliance
            .create_child(admin, &plan.child)
            .await
            .map_err(refused("a demo child"))?;
        for carer in &plan.carers {
            alliance
                .add_carer(admin, record.id, carer)
                .await
                .map_err(refused("a demo carer"))?;
        }
        for case in &plan.cases {
            if let Some(open) =
                run_case(alliance, admin, therapists, today, record.id, case).await?
            {
                let school = SiteId::parse(&plan.child.school_site).ok();
                if let Some(school) = school {
                    open_cases.push((open, case.lead, school));
                }
            }
        }
        progress.advance(1);
    }
    book_demo_sessions(
        alliance,
        therapists,
        today,
        &open_cases,
        &rooms_of,
        progress,
    )
    .await?;
    Ok(Filled {
        led_by_first: planner.caseloads.first().copied().unwrap_or(0),
    })
}

fn therapist(therapists: &[Actor], index: usize) -> Result<&Actor, DemoError> {
    therapists
        .get(index)
        .ok_or_else(|| DemoError::Generated(format!("no demo therapist {index}")))
}

fn case_version(record: &ChildRecord, id: CaseId) -> Result<Version, DemoError> {
    record
        .cases
        .iter()
        .find(|c| c.case.id == id)
        .map(|c| c.case.version)
        .ok_or_else(|| DemoError::Generated(format!("the demo case {id} went missing")))
}

/// A case as staff make one: the administrator opens it with its lead, the lead writes the
/// referral reason, the administrator adds the rest of the team, and (for a case that has
/// ended) the lead closes it.
async fn run_case(
    alliance: &Alliance,
    admin: &Actor,
    therapists: &[Actor],
    today: Date,
    child: ChildId,
    plan: &CasePlan,
) -> Result<Option<CaseId>, DemoError> {
    let lead = therapist(therapists, plan.lead)?;
    let opened = alliance
        .open_case(admin, child, &plan.details, Some(lead.user.id))
        .await
        .map_err(refused("opening a demo case"))?;
    let (id, version) = opened
        .cases
        .iter()
        .find(|c| c.case.is_open())
        .map(|c| (c.case.id, c.case.version))
        .ok_or_else(|| DemoError::Generated("the demo case did not open".to_owned()))?;
    let with_reason = CaseInput {
        referral_reason: Some(plan.reason.clone()),
        ..plan.details.clone()
    };
    let updated = alliance
        .update_case(lead, id, &with_reason, version)
        .await
        .map_err(refused("a demo referral reason"))?;
    let mut version = case_version(&updated, id)?;
    for member in &plan.team {
        let request = TeamRequest::Add {
            user: therapist(therapists, member.therapist)?.user.id,
            role: member.role,
            starts_on: today,
            ends_on: member.ends_after_days.map(|days| days_after(today, days)),
        };
        let changed = alliance
            .change_team(admin, id, &request, version)
            .await
            .map_err(refused("a demo case team"))?;
        version = case_version(&changed, id)?;
    }
    if let Some(closure) = &plan.closure {
        alliance
            .close_case(lead, id, closure, version)
            .await
            .map_err(refused("closing a demo case"))?;
        return Ok(None);
    }
    Ok(Some(id))
}

/// How many open cases get a regular time in the demo: enough to fill the timetables.
const DEMO_SLOTS: usize = 40;

/// Gives open cases a regular weekly time in a room at the child's school, as their leads
/// would: each therapist's cases on different days and times, a room that is free, and a
/// planned ending for every third case (so countdowns show). A time that clashes is refused
/// by the booking rules like any other, and the next one is tried.
async fn book_demo_sessions(
    alliance: &Alliance,
    therapists: &[Actor],
    today: Date,
    open_cases: &[(CaseId, usize, SiteId)],
    rooms_of: &HashMap<SiteId, Vec<RoomId>>,
    progress: &dyn Progress,
) -> Result<(), DemoError> {
    const DAYS: [&str; 5] = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    const TIMES: [&str; 4] = ["09:30", "10:45", "13:15", "14:30"];
    let chosen: Vec<_> = open_cases.iter().take(DEMO_SLOTS).collect();
    progress.step("sessions", chosen.len() as u64);
    let mut next_for: HashMap<usize, usize> = HashMap::new();
    for (i, (case, lead, school)) in chosen.into_iter().enumerate() {
        let Some(rooms) = rooms_of.get(school).filter(|r| !r.is_empty()) else {
            progress.advance(1);
            continue;
        };
        let actor = therapist(therapists, *lead)?;
        let until = if i % 3 == 0 {
            alliance_core::uk::date(days_after(today, 56))
        } else {
            String::new()
        };
        for _ in 0..DAYS.len() * TIMES.len() {
            let k = next_for.entry(*lead).or_default();
            let at = *k;
            *k += 1;
            let input = SlotInput {
                weekday: DAYS[at % DAYS.len()].to_owned(),
                start: TIMES[(at / DAYS.len()) % TIMES.len()].to_owned(),
                minutes: "50".to_owned(),
                from: alliance_core::uk::date(today),
                until: until.clone(),
            };
            let room = rooms[at % rooms.len()];
            match alliance
                .set_regular_slot(actor, *case, None, room, &input, "", None)
                .await
            {
                Ok(_) => {
                    agree_demo_case(alliance, actor, *case, i, today).await?;
                    break;
                }
                // Taken, or no calendar term to follow: try the next time.
                Err(AppError::Invalid(_)) => continue,
                Err(other) => return Err(refused("a demo regular time")(other)),
            }
        }
        progress.advance(1);
    }
    Ok(())
}

/// The first session's paperwork as a therapist records it: the limits of confidentiality
/// explained, an agreement in the child's words, consent from whoever gives it and the
/// child's assent, then the agreement marked active. Every fifth case is left with its
/// agreement still a draft awaiting the child's assent, as real caseloads have some.
async fn agree_demo_case(
    alliance: &Alliance,
    actor: &Actor,
    case: CaseId,
    index: usize,
    today: Date,
) -> Result<(), DemoError> {
    use crate::agreements::ConsentInput;
    use alliance_core::agreements::AgreementInput;
    use alliance_core::checklist::{ChecklistInput, LIMITS_OF_CONFIDENTIALITY};
    let explained_on = alliance_core::uk::date(days_before(today, 7));
    alliance
        .record_checklist_item(
            actor,
            case,
            &ChecklistInput {
                topic: LIMITS_OF_CONFIDENTIALITY.to_owned(),
                explained_on: explained_on.clone(),
                methods: vec!["spoken".to_owned(), "handout".to_owned()],
                to_whom: "both".to_owned(),
                library_version: String::new(),
                child_said: "If someone is hurting me you have to tell someone".to_owned(),
                revisit: String::new(),
            },
        )
        .await
        .map_err(refused("a demo checklist item"))?;
    let mut input = AgreementInput::starting_point(
        "What I say here stays here, unless someone might get hurt. Then you tell me first who you will tell.",
    );
    input.added_rules = "We tidy up together at the end".to_owned();
    let version = alliance
        .draft_agreement(actor, case, &input)
        .await
        .map_err(refused("a demo agreement"))?;
    let view = alliance
        .case_agreement(actor, case)
        .await
        .map_err(refused("reading a demo agreement"))?;
    let consent = |kind: &str, carer: String| ConsentInput {
        kind: kind.to_owned(),
        carer,
        given_on: explained_on.clone(),
        ..ConsentInput::default()
    };
    let own = view.assessment.basis != alliance_core::consent::Basis::ParentalResponsibility;
    let first = if own {
        Some(ConsentInput {
            // What the demo's young people have agreed their carers may be told.
            carers_may_be_told: vec!["attendance".to_owned()],
            ..consent("own-consent", String::new())
        })
    } else {
        view.carers
            .iter()
            .find(|c| c.parental_responsibility)
            .map(|c| consent("parental-consent", c.id.to_string()))
    };
    let Some(first) = first else {
        return Ok(());
    };
    alliance
        .record_consent(actor, case, &first)
        .await
        .map_err(refused("a demo consent"))?;
    if index % 5 == 4 {
        return Ok(());
    }
    alliance
        .record_consent(
            actor,
            case,
            &ConsentInput {
                words: "OK. I like the sand tray.".to_owned(),
                ..consent("assent", String::new())
            },
        )
        .await
        .map_err(refused("a demo assent"))?;
    match alliance.activate_agreement(actor, case, version.id).await {
        // A child whose carers cannot consent (none holds parental responsibility) keeps a
        // draft, as a real one would until the local authority answers.
        Ok(()) | Err(AppError::Invalid(_)) => Ok(()),
        Err(other) => Err(refused("a demo agreement made active")(other)),
    }
}

fn days_before(date: Date, days: i64) -> Date {
    date.saturating_sub(SignedDuration::from_hours(24 * days))
}

fn days_after(date: Date, days: i64) -> Date {
    date.saturating_add(SignedDuration::from_hours(24 * days))
}

/// One of a list that is never empty.
fn one<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// One of a list of weighted choices.
fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> Option<T> {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut roll = rng.random_range(0..total);
    for &(item, weight) in items {
        if roll < weight {
            return Some(item);
        }
        roll -= weight;
    }
    None
}

/// A landline in Ofcom's drama range for Leeds.
fn landline(rng: &mut StdRng) -> String {
    format!("0113 496 0{:03}", rng.random_range(0..1000))
}

/// A mobile in Ofcom's drama range.
fn mobile(rng: &mut StdRng) -> String {
    format!("07700 900{:03}", rng.random_range(0..1000))
}

/// A postcode in the ZZ area, which does not exist.
fn postcode(rng: &mut StdRng) -> String {
    const INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let letter = |rng: &mut StdRng| char::from(INWARD[rng.random_range(0..INWARD.len())]);
    format!(
        "ZZ{} {}{}{}",
        rng.random_range(1..10),
        rng.random_range(0..10),
        letter(rng),
        letter(rng)
    )
}

const STREETS: [&str; 20] = [
    "Larch Close",
    "Beech Grove",
    "Station Road",
    "Mill Lane",
    "Church Street",
    "Chapel Row",
    "Victoria Terrace",
    "Park Avenue",
    "Meadow Way",
    "Orchard Rise",
    "Hawthorn Drive",
    "Cedar Court",
    "Queen's Road",
    "Bridge Street",
    "Elm Bank",
    "Foundry Walk",
    "Heol y Nant",
    "Tannery Yard",
    "Rowan Crescent",
    "Canal Side",
];

fn street_address(rng: &mut StdRng) -> String {
    format!(
        "{} {}, {} {}",
        rng.random_range(1..160),
        one(rng, &STREETS),
        one(rng, &PLACES),
        postcode(rng)
    )
}

/// Letters and digits only, lower case and without accents, for made-up email addresses.
fn ascii_slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let plain = match c {
                'ą' | 'á' | 'â' | 'Ą' | 'Á' => 'a',
                'ć' | 'Ć' => 'c',
                'ę' | 'é' | 'ê' | 'É' => 'e',
                'í' | 'î' | 'Í' => 'i',
                'ł' | 'Ł' => 'l',
                'ń' | 'Ń' => 'n',
                'ó' | 'ô' | 'Ó' => 'o',
                'ś' | 'Ś' => 's',
                'ź' | 'ż' | 'Ź' | 'Ż' => 'z',
                'ŵ' => 'w',
                'ŷ' => 'y',
                c => c,
            };
            plain
                .is_ascii_alphanumeric()
                .then(|| plain.to_ascii_lowercase())
        })
        .collect()
}

// --- Identifiers -------------------------------------------------------------------------

/// The modulus-11 check digit for an NHS number's first nine digits, or `None` when the
/// check value is 10 (such numbers are never issued).
fn nhs_check_digit(digits: &[u32; 9]) -> Option<u32> {
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        n => Some(n),
    }
}

/// A valid NHS number in the 999 range, which the NHS keeps for testing and never issues.
fn nhs_number(rng: &mut StdRng) -> String {
    loop {
        let mut digits = [9, 9, 9, 0, 0, 0, 0, 0, 0];
        for d in digits.iter_mut().skip(3) {
            *d = rng.random_range(0..10);
        }
        if let Some(check) = nhs_check_digit(&digits) {
            return digits
                .iter()
                .chain(std::iter::once(&check))
                .filter_map(|d| char::from_digit(*d, 10))
                .collect();
        }
    }
}

const UPN_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// A UPN's check letter for the 12 digits after it: weights 2 to 13, modulo 23.
fn upn_check_letter(body: &str) -> char {
    let sum: usize = body
        .bytes()
        .zip(2..)
        .map(|(b, w)| usize::from(b.saturating_sub(b'0')) * w)
        .sum();
    char::from(UPN_LETTERS[sum % 23])
}

/// The local authority number in the demo's UPNs.
const UPN_AUTHORITY: u16 = 383;

/// A UPN: the check letter, the local authority, the school's establishment number, the
/// two-digit year it was allocated and a serial.
fn upn(rng: &mut StdRng, establishment: u16, year: i16) -> String {
    let body = format!(
        "{UPN_AUTHORITY:03}{:04}{:02}{:03}",
        establishment % 10_000,
        year.rem_euclid(100),
        rng.random_range(0..1000)
    );
    format!("{}{body}", upn_check_letter(&body))
}

// --- Sites ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Primary,
    Secondary,
}

/// A school site, for placing children.
#[derive(Debug, Clone, Copy)]
struct School {
    id: SiteId,
    phase: Phase,
    establishment: u16,
}

#[derive(Debug, Clone)]
struct SitePlan {
    site: SiteInput,
    rooms: Vec<RoomInput>,
    /// For a school: primary or secondary.
    phase: Option<Phase>,
    establishment: u16,
}

/// Three schools for a small service, growing gently with a large one.
fn school_count(shape: DemoShape) -> usize {
    (shape.children as usize / 300).clamp(3, 40)
}

const PRIMARY_SUFFIXES: [&str; 5] = [
    "Primary School",
    "CE Primary School",
    "Community Primary School",
    "Junior and Infant School",
    "Primary Academy",
];

const SECONDARY_SUFFIXES: [&str; 4] = [
    "High School",
    "Academy",
    "School and Sixth Form",
    "Catholic High School",
];

const SCHOOL_ROOMS: [&str; 8] = [
    "Willow Room",
    "Nurture room",
    "Quiet room",
    "Wellbeing hub",
    "Library office",
    "Rainbow Room",
    "Old music room",
    "SENCo's office",
];

const CLINIC_ROOMS: [&str; 6] = [
    "Sand tray room",
    "Play therapy room 1",
    "Play therapy room 2",
    "Family room",
    "Art room",
    "Sensory room",
];

const COMMUNITY_ROOMS: [&str; 5] = [
    "Sunflower Room",
    "Meeting room 2",
    "Family room",
    "Garden room",
    "Craft room",
];

const STEP_FREE_NOTES: [&str; 4] = [
    "Ramp at the side entrance; accessible toilet next door",
    "Ground floor; wide door",
    "Lift to the first floor; accessible toilet on the same floor",
    "",
];

const STAIRS_NOTES: [&str; 3] = [
    "Up one flight of stairs; no lift",
    "Two steps at the door; ask reception for the portable ramp",
    "",
];

fn rooms(rng: &mut StdRng, names: &[&str]) -> Vec<RoomInput> {
    let count = rng.random_range(2..=3);
    names
        .choose_multiple(rng, count)
        .copied()
        .collect::<Vec<_>>()
        .into_iter()
        .map(|name| {
            let step_free = rng.random_bool(0.6);
            let notes = if step_free {
                one(rng, &STEP_FREE_NOTES)
            } else {
                one(rng, &STAIRS_NOTES)
            };
            RoomInput {
                name: name.to_owned(),
                capacity: rng.random_range(2..=8).to_string(),
                step_free,
                accessibility_notes: notes.to_owned(),
            }
        })
        .collect()
}

fn out_of_hours(rng: &mut StdRng) -> String {
    format!("Emergency duty team: {}; police: 999", landline(rng))
}

fn demo_contact(name: &str, phone: &str) -> alliance_core::safeguarding::Contact {
    alliance_core::safeguarding::Contact {
        name: name.to_owned(),
        phone: phone.to_owned(),
        email: String::new(),
    }
}

/// The service's sites: `schools` schools (the first two primary, the third secondary, then
/// mostly primary), one clinic and one community base, each with two or three rooms.
fn plan_sites(rng: &mut StdRng, schools: usize) -> Vec<SitePlan> {
    let mut names = HashSet::new();
    let mut plans = Vec::with_capacity(schools + 2);
    let dsl_offset = rng.random_range(0..ALL_SURNAMES.len());
    for i in 0..schools {
        let phase = match i {
            0 | 1 => Phase::Primary,
            2 => Phase::Secondary,
            _ if rng.random_bool(0.7) => Phase::Primary,
            _ => Phase::Secondary,
        };
        let suffixes: &[&str] = match phase {
            Phase::Primary => &PRIMARY_SUFFIXES,
            Phase::Secondary => &SECONDARY_SUFFIXES,
        };
        let mut name = String::new();
        for _ in 0..30 {
            name = format!("{} {}", one(rng, &PLACES), one(rng, suffixes));
            if !names.contains(&name) {
                break;
            }
        }
        if names.contains(&name) {
            name = format!("{name} ({})", i + 1);
        }
        names.insert(name.clone());
        let slug: String = name
            .split_whitespace()
            .take(2)
            .map(ascii_slug)
            .collect::<Vec<_>>()
            .join("-");
        let dsl_surname = ALL_SURNAMES
            .get((dsl_offset + i) % ALL_SURNAMES.len())
            .copied()
            .unwrap_or("Okafor");
        let dsl_contact = if rng.random_bool(0.5) {
            format!("{}, dsl@{slug}.example.org", landline(rng))
        } else {
            landline(rng)
        };
        let establishment = match phase {
            Phase::Primary => rng.random_range(2000..3000),
            Phase::Secondary => rng.random_range(4000..5000),
        };
        plans.push(SitePlan {
            site: SiteInput {
                name,
                kind: SiteKind::School.code().to_owned(),
                address: street_address(rng),
                phone: landline(rng),
                out_of_hours: out_of_hours(rng),
                school_dsl_name: dsl_name(rng, dsl_surname),
                school_dsl_contact: dsl_contact,
            },
            rooms: rooms(rng, &SCHOOL_ROOMS),
            phase: Some(phase),
            establishment,
        });
    }
    for (kind, suffix, room_names) in [
        (
            SiteKind::Clinic,
            "Child and Family Clinic",
            &CLINIC_ROOMS[..],
        ),
        (SiteKind::Community, "Family Hub", &COMMUNITY_ROOMS[..]),
    ] {
        let mut name = format!("{} {suffix}", one(rng, &PLACES));
        if names.contains(&name) {
            name = format!("{name} (main)");
        }
        names.insert(name.clone());
        plans.push(SitePlan {
            site: SiteInput {
                name,
                kind: kind.code().to_owned(),
                address: street_address(rng),
                phone: landline(rng),
                out_of_hours: out_of_hours(rng),
                school_dsl_name: String::new(),
                school_dsl_contact: String::new(),
            },
            rooms: rooms(rng, room_names),
            phase: None,
            establishment: 0,
        });
    }
    plans
}

// --- People ------------------------------------------------------------------------------

/// Where a family's names come from: the children of a West Yorkshire-ish city.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Background {
    English,
    Welsh,
    Polish,
    SouthAsian,
    WestAfrican,
    Somali,
    IrishScottish,
}

const BACKGROUNDS: [(Background, u32); 7] = [
    (Background::English, 50),
    (Background::Welsh, 8),
    (Background::Polish, 8),
    (Background::SouthAsian, 16),
    (Background::WestAfrican, 8),
    (Background::Somali, 4),
    (Background::IrishScottish, 6),
];

impl Background {
    fn girls(self) -> &'static [&'static str] {
        match self {
            Background::English => &[
                "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Poppy", "Ella",
                "Lily", "Evie", "Sophie", "Chloe", "Jessica", "Ruby", "Harriet", "Daisy", "Imogen",
                "Holly", "Phoebe",
            ],
            Background::Welsh => &[
                "Cerys", "Ffion", "Seren", "Carys", "Nia", "Mali", "Eira", "Megan", "Lowri",
                "Elin", "Catrin", "Gwen",
            ],
            Background::Polish => &[
                "Zofia",
                "Zuzanna",
                "Maja",
                "Natalia",
                "Oliwia",
                "Wiktoria",
                "Julia",
                "Aleksandra",
                "Hanna",
                "Lena",
            ],
            Background::SouthAsian => &[
                "Aisha", "Priya", "Anaya", "Zara", "Maryam", "Fatima", "Simran", "Inaya", "Hafsa",
                "Riya", "Amira", "Noor", "Jasleen", "Khadija",
            ],
            Background::WestAfrican => &[
                "Amara",
                "Chiamaka",
                "Adaeze",
                "Ngozi",
                "Abena",
                "Efua",
                "Temitope",
                "Folake",
                "Ama",
                "Oluwadamilola",
            ],
            Background::Somali => &["Hodan", "Ayaan", "Sagal", "Hibo", "Idil", "Ubah", "Nasra"],
            Background::IrishScottish => &[
                "Niamh", "Saoirse", "Aoife", "Eilidh", "Siobhan", "Caoimhe", "Orla", "Isla",
            ],
        }
    }

    fn boys(self) -> &'static [&'static str] {
        match self {
            Background::English => &[
                "Oliver",
                "George",
                "Harry",
                "Noah",
                "Jack",
                "Leo",
                "Oscar",
                "Charlie",
                "Jacob",
                "Alfie",
                "Thomas",
                "Freddie",
                "Archie",
                "Theo",
                "Joshua",
                "Ethan",
                "Alexander",
                "Samuel",
                "Reuben",
                "Finley",
            ],
            Background::Welsh => &[
                "Rhys", "Dylan", "Osian", "Gethin", "Ioan", "Cai", "Iwan", "Tomos", "Emyr",
                "Gruffydd", "Owain", "Dafydd",
            ],
            Background::Polish => &[
                "Jakub", "Szymon", "Kacper", "Filip", "Mikołaj", "Łukasz", "Antoni", "Wojciech",
                "Marek", "Tomasz",
            ],
            Background::SouthAsian => &[
                "Mohammed", "Ayaan", "Arjun", "Rayyan", "Ibrahim", "Zain", "Aarav", "Hamza",
                "Rohan", "Yusuf", "Harpreet", "Bilal", "Dev", "Idris",
            ],
            Background::WestAfrican => &[
                "Kwame",
                "Kofi",
                "Chidi",
                "Oluwaseun",
                "Emeka",
                "Tunde",
                "Kwabena",
                "Obinna",
                "Femi",
                "Kojo",
            ],
            Background::Somali => &["Abdirahman", "Mohamed", "Liban", "Abdi", "Hassan", "Guled"],
            Background::IrishScottish => &[
                "Cian", "Oisín", "Fionn", "Callum", "Ruaridh", "Seán", "Euan", "Declan",
            ],
        }
    }

    fn surnames(self) -> &'static [&'static str] {
        match self {
            Background::English => &[
                "Smith",
                "Taylor",
                "Brown",
                "Wilson",
                "Walker",
                "Wright",
                "Robinson",
                "Thompson",
                "Hall",
                "Green",
                "Clarke",
                "Harrison",
                "Cooper",
                "Ward",
                "Turner",
                "Shaw",
                "Whitfield",
                "Barraclough",
                "Sutcliffe",
                "Ackroyd",
            ],
            Background::Welsh => &[
                "Jones",
                "Davies",
                "Evans",
                "Williams",
                "Roberts",
                "Lloyd",
                "Morgan",
                "Hughes",
                "Pritchard",
                "Griffiths",
                "ap Rhys",
                "Vaughan",
            ],
            Background::Polish => &[
                "Kowalski",
                "Nowak",
                "Wiśniewski",
                "Wójcik",
                "Kamiński",
                "Lewandowski",
                "Zieliński",
                "Szymański",
                "Mazur",
                "Krawczyk",
            ],
            Background::SouthAsian => &[
                "Patel",
                "Khan",
                "Hussain",
                "Ahmed",
                "Iqbal",
                "Chowdhury",
                "Singh",
                "Shah",
                "Rahman",
                "Akhtar",
                "Mistry",
                "Sharma",
                "Bibi",
                "Sandhu",
            ],
            Background::WestAfrican => &[
                "Adeyemi", "Okafor", "Mensah", "Boateng", "Nwosu", "Okonkwo", "Adebayo", "Asante",
                "Owusu", "Eze",
            ],
            Background::Somali => &["Abdi", "Warsame", "Farah", "Hassan", "Osman", "Jama", "Ali"],
            Background::IrishScottish => &[
                "O'Neill",
                "Gallagher",
                "Murphy",
                "Byrne",
                "Fraser",
                "MacLeod",
                "Campbell",
                "Brennan",
            ],
        }
    }

    /// First languages other than English, with how often a child of this background has
    /// one (out of 100).
    fn languages(self) -> &'static [(&'static str, u32)] {
        match self {
            Background::English | Background::IrishScottish => &[],
            Background::Welsh => &[("Welsh", 30)],
            Background::Polish => &[("Polish", 45)],
            Background::SouthAsian => &[("Urdu", 20), ("Punjabi", 10), ("Bengali", 6)],
            Background::WestAfrican => &[("Yoruba", 8), ("Twi", 6)],
            Background::Somali => &[("Somali", 50)],
        }
    }
}

const ALL_SURNAMES: [&str; 16] = [
    "Okafor",
    "Hughes",
    "Kowalski",
    "Begum",
    "Davies",
    "Fraser",
    "Mensah",
    "Patel",
    "Ackroyd",
    "Sutcliffe",
    "Warsame",
    "Brennan",
    "Lloyd",
    "Nowak",
    "Chowdhury",
    "Thompson",
];

/// A Polish surname in its feminine form (Kowalski, Kowalska).
fn feminine(surname: &str) -> String {
    match surname.strip_suffix("ski") {
        Some(stem) => format!("{stem}ska"),
        None => surname.to_owned(),
    }
}

/// A school DSL's name as the school gives it: a title and a surname.
fn dsl_name(rng: &mut StdRng, surname: &str) -> String {
    let title = weighted(
        rng,
        &[("Mrs", 35), ("Mr", 30), ("Ms", 25), ("Miss", 6), ("Dr", 4)],
    )
    .unwrap_or("Ms");
    let surname = if title == "Mr" || (title == "Dr" && rng.random_bool(0.5)) {
        surname.to_owned()
    } else {
        feminine(surname)
    };
    format!("{title} {surname}")
}

/// Short forms children are known by.
const KNOWN_AS: [(&str, &str); 16] = [
    ("Olivia", "Liv"),
    ("Alexander", "Alex"),
    ("Thomas", "Tom"),
    ("Oluwaseun", "Seun"),
    ("Abdirahman", "Abdi"),
    ("Wojciech", "Wojtek"),
    ("Mohammed", "Mo"),
    ("Zuzanna", "Zuzia"),
    ("Oliver", "Ollie"),
    ("Harriet", "Hattie"),
    ("Temitope", "Temi"),
    ("Jakub", "Kuba"),
    ("Aleksandra", "Ola"),
    ("Oluwadamilola", "Dami"),
    ("Gruffydd", "Gruff"),
    ("Samuel", "Sam"),
];

const GP_PRACTICES: [&str; 8] = [
    "Oakfield Medical Practice",
    "Kingsmere Surgery",
    "Riverside Health Centre",
    "Ashdown Family Practice",
    "Hollybrook Medical Centre",
    "Park Lane Surgery",
    "Meadowbank Group Practice",
    "Canal Side Health Centre",
];

const OTHER_PRIMARIES: [&str; 5] = [
    "St Mary's Catholic Primary School",
    "Ysgol Gynradd Bro Dewi",
    "Greenbank Infant School",
    "Moorside Junior School",
    "Cherry Tree Primary School",
];

const OTHER_SECONDARIES: [&str; 4] = [
    "Highcliffe Academy",
    "St Bede's Catholic High School",
    "Moorside High School",
    "Greenbank Sixth Form College",
];

const COMMUNICATION_NEEDS: [&str; 8] = [
    "Uses Makaton alongside speech",
    "Autistic: prefers a visual timetable and notice of any change",
    "Hearing aids in both ears; sit face to face, no background noise",
    "Selective mutism at school; talks freely at home",
    "Stammer: give time, do not finish sentences",
    "Dyslexic: read written material aloud",
    "Speech and language delay; short sentences and pictures help",
    "ADHD: short activities, movement breaks",
];

// --- Cases ---------------------------------------------------------------------------------

/// Why a child was referred (the referral reason the lead writes): for any age, for children
/// up to 11, and for those from 11.
const REASONS_ANY_AGE: [&str; 11] = [
    "Angry outbursts at home and school since parents separated",
    "Low mood and withdrawal after the death of a grandparent",
    "Struggling with friendships; isolated at break times",
    "Worries about dad's illness; trouble getting to sleep",
    "Frequent meltdowns after school since an autism diagnosis",
    "Grief after the sudden death of dad",
    "Unsettled and tearful after a house fire",
    "Recently arrived in the UK; withdrawn and not speaking in class",
    "Pulls hair out when anxious",
    "Young carer for mum, who has severe depression",
    "Feels caught between two homes after a contested separation",
];

const REASONS_YOUNGER: [&str; 8] = [
    "Anxiety about school and difficulty separating from mum",
    "Nightmares and clinginess after witnessing domestic abuse",
    "Selective mutism at school; speaks freely at home",
    "Bedwetting and regression since a baby brother was born",
    "Difficulty managing feelings; hitting out at younger siblings",
    "Soiling and anxiety since moving house",
    "Stomach aches with no medical cause; worries about everything",
    "Very low confidence; says 'I'm stupid' many times a day",
];

const REASONS_OLDER: [&str; 7] = [
    "Self-harm (superficial cutting) disclosed to the school nurse",
    "School refusal since starting secondary school",
    "Bullied online; very low self-esteem",
    "Exam stress and panic attacks",
    "Worries about body image; skipping lunch, noticed by school",
    "Questions about identity; feels different from everyone",
    "Stomach aches every morning since starting secondary school",
];

const LAC_REASONS: [&str; 2] = [
    "Rages after contact with birth family",
    "Struggling to settle after a move from a previous foster placement",
];

const SOURCES: [(ReferralSource, u32); 7] = [
    (ReferralSource::School, 36),
    (ReferralSource::Gp, 18),
    (ReferralSource::ParentOrCarer, 20),
    (ReferralSource::SocialCare, 10),
    (ReferralSource::Camhs, 9),
    (ReferralSource::SelfReferral, 4),
    (ReferralSource::Other, 3),
];

const CLOSURES: [(ClosureReason, u32); 6] = [
    (ClosureReason::PlannedEnding, 58),
    (ClosureReason::PlannedTransfer, 10),
    (ClosureReason::Disengaged, 15),
    (ClosureReason::ConsentWithdrawn, 5),
    (ClosureReason::MovedAway, 9),
    (ClosureReason::OtherUnplanned, 3),
];

const PROGRESS: [&str; 8] = [
    "separating much more easily and in school full days",
    "far fewer outbursts; can name feelings and ask for help",
    "sleeping better and talking about the loss at home",
    "friendships steadier; plays with others at break",
    "no self-harm for three months; knows who to tell",
    "confident enough to speak in small groups in class",
    "settled in the placement; contact visits calmer",
    "less worried; uses a worry box at home",
];

fn closing_summary(rng: &mut StdRng, reason: ClosureReason) -> String {
    let sessions = rng.random_range(6..=30);
    match reason {
        ClosureReason::PlannedEnding => format!(
            "{sessions} sessions. {}. Ending prepared over the last four sessions; the family know how to re-refer.",
            capitalised(one(rng, &PROGRESS))
        ),
        ClosureReason::PlannedTransfer => format!(
            "Moved on to CAMHS for assessment after {sessions} sessions; handover meeting held with the family and the new worker."
        ),
        ClosureReason::Disengaged => format!(
            "Attended {} of {sessions} offered sessions, then stopped coming; no reply to two letters and three calls. School told; re-referral welcome.",
            sessions / 3
        ),
        ClosureReason::ConsentWithdrawn => format!(
            "Consent withdrawn by the family after {sessions} sessions, saying things were better at home. Record kept; re-referral welcome."
        ),
        ClosureReason::MovedAway => format!(
            "Family moved out of the area after {sessions} sessions; local services' details given, and the school passed the referral on."
        ),
        ClosureReason::OtherUnplanned => format!(
            "Closed after {sessions} sessions when the placement ended at short notice; new social worker told."
        ),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Debug, Clone)]
struct MemberPlan {
    therapist: usize,
    role: TeamRole,
    /// Cover ends this many days after today.
    ends_after_days: Option<i64>,
}

#[derive(Debug, Clone)]
struct CasePlan {
    /// The case as the administrator opens it (no referral reason: that is clinical).
    details: CaseInput,
    /// What the lead writes.
    reason: String,
    /// Index into the therapists.
    lead: usize,
    /// Added by the administrator after the lead has written the reason.
    team: Vec<MemberPlan>,
    /// Closed by the lead.
    closure: Option<ClosureInput>,
}

#[derive(Debug, Clone)]
struct ChildPlan {
    child: ChildInput,
    carers: Vec<CarerInput>,
    /// Oldest first: at most one open, and it is the last.
    cases: Vec<CasePlan>,
}

/// The children the demo must have, whatever the seed, so every rule has someone to show
/// it on. Each is on demo-therapist-1's caseload, apart from the one they cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    /// A parent with a court order: nothing about where or when, nothing about school.
    RestrictedCarer,
    /// A 16- or 17-year-old who consents for themselves and lets carers know only that they
    /// attend.
    SelfConsenting,
    /// A parent the service must not contact (a safeguarding decision).
    NoContactCarer,
    /// In care: the local authority and a foster carer.
    LookedAfter,
    /// Led by another therapist, with demo-therapist-1 covering.
    Covered,
}

impl Special {
    fn of(index: usize) -> Self {
        match index {
            0 => Special::RestrictedCarer,
            1 => Special::SelfConsenting,
            2 => Special::NoContactCarer,
            3 => Special::LookedAfter,
            4 => Special::Covered,
            _ => Special::None,
        }
    }
}

/// What kind of case history a child has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum History {
    /// Registered, with no case yet.
    NoCase,
    /// One open case.
    Open,
    /// A closed case, then the open one (a re-referral).
    ReReferred,
    /// Only a closed case.
    Closed,
}

/// Plans children one at a time, keeping identifiers unique and making sure
/// demo-therapist-1 has a caseload.
struct ChildPlanner {
    today: Date,
    schools: Vec<School>,
    therapists: usize,
    nhs_numbers: HashSet<String>,
    upns: HashSet<String>,
    /// Open cases each therapist leads.
    caseloads: Vec<usize>,
}

/// The open cases demo-therapist-1 leads before leads are shared out.
const FIRST_CASELOAD: usize = 8;

impl ChildPlanner {
    fn new(today: Date, schools: Vec<School>, therapists: usize) -> Self {
        Self {
            today,
            schools,
            therapists: therapists.max(1),
            nhs_numbers: HashSet::new(),
            upns: HashSet::new(),
            caseloads: vec![0; therapists.max(1)],
        }
    }

    fn child(&mut self, rng: &mut StdRng, index: usize) -> ChildPlan {
        let special = Special::of(index);
        let today = self.today;
        let background = weighted(rng, &BACKGROUNDS).unwrap_or(Background::English);
        let sex = weighted(
            rng,
            &[
                (Sex::Female, 490),
                (Sex::Male, 495),
                (Sex::NotKnown, 10),
                (Sex::Indeterminate, 5),
            ],
        )
        .unwrap_or(Sex::NotKnown);
        let names = match sex {
            Sex::Female => background.girls(),
            Sex::Male => background.boys(),
            _ if rng.random_bool(0.5) => background.girls(),
            _ => background.boys(),
        };
        let age: i16 = match special {
            Special::SelfConsenting => rng.random_range(16..=17),
            _ => rng.random_range(4..=17),
        };
        let date_of_birth = date_of_birth(rng, today, age);
        let first = one(rng, names);
        let middle = rng
            .random_bool(0.4)
            .then(|| one(rng, names))
            .filter(|m| *m != first);
        let family_name = one(rng, background.surnames());
        let surname = if sex == Sex::Female {
            feminine(family_name)
        } else {
            family_name.to_owned()
        };
        let legal_name = match middle {
            Some(middle) => format!("{first} {middle} {surname}"),
            None => format!("{first} {surname}"),
        };

        // Preferred names, pronouns, gender identity.
        let mut preferred_name = String::new();
        let mut pronouns = String::new();
        let mut gender_identity = String::new();
        if age >= 12 && rng.random_bool(0.03) {
            let choices: &[(&str, &str, &str)] = match sex {
                Sex::Female => &[
                    ("Alex", "Non-binary", "they/them"),
                    ("Kai", "Trans boy", "he/him"),
                ],
                Sex::Male => &[
                    ("Sam", "Non-binary", "they/them"),
                    ("Jess", "Trans girl", "she/her"),
                ],
                _ => &[("Rowan", "Non-binary", "they/them")],
            };
            let (name, identity, words) =
                choices
                    .choose(rng)
                    .copied()
                    .unwrap_or(("Alex", "Non-binary", "they/them"));
            preferred_name = name.to_owned();
            gender_identity = identity.to_owned();
            pronouns = words.to_owned();
        } else {
            if let Some((_, short)) = KNOWN_AS.iter().find(|(full, _)| *full == first)
                && rng.random_bool(0.6)
            {
                preferred_name = (*short).to_owned();
            } else if let Some(middle) = middle
                && rng.random_bool(0.08)
            {
                preferred_name = middle.to_owned();
            }
            if rng.random_bool(0.1) {
                pronouns = match sex {
                    Sex::Female => "she/her",
                    Sex::Male => "he/him",
                    _ => "they/them",
                }
                .to_owned();
            }
        }

        // School.
        let year = if age >= 5 && rng.random_bool(0.02) {
            YearGroup::NotInSchool
        } else {
            YearGroup::expected(date_of_birth, today)
        };
        let phase = match year {
            YearGroup::Nursery | YearGroup::Reception => Some(Phase::Primary),
            YearGroup::Year(n) if n <= 6 => Some(Phase::Primary),
            YearGroup::Year(_) => Some(Phase::Secondary),
            YearGroup::NotInSchool => None,
        };
        let mut school_site = String::new();
        let mut school_name = String::new();
        let mut upn = String::new();
        if let Some(phase) = phase {
            let sites: Vec<School> = self
                .schools
                .iter()
                .filter(|s| s.phase == phase)
                .copied()
                .collect();
            let at_site =
                !sites.is_empty() && (special == Special::RestrictedCarer || rng.random_bool(0.75));
            let establishment = match sites.choose(rng) {
                Some(site) if at_site => {
                    school_site = site.id.to_string();
                    site.establishment
                }
                _ => {
                    school_name = match phase {
                        Phase::Primary => one(rng, &OTHER_PRIMARIES),
                        Phase::Secondary => one(rng, &OTHER_SECONDARIES),
                    }
                    .to_owned();
                    rng.random_range(2000..5000)
                }
            };
            if rng.random_bool(0.88) {
                let allocated = date_of_birth.year() + 4;
                for _ in 0..20 {
                    let candidate = self::upn(rng, establishment, allocated);
                    if self.upns.insert(candidate.clone()) {
                        upn = candidate;
                        break;
                    }
                }
            }
        }
        let mut nhs = String::new();
        if rng.random_bool(0.9) {
            for _ in 0..20 {
                let candidate = nhs_number(rng);
                if self.nhs_numbers.insert(candidate.clone()) {
                    nhs = candidate;
                    break;
                }
            }
        }

        // Language, needs, statuses.
        let first_language = if rng.random_bool(0.97) {
            let mut choices: Vec<(&str, u32)> = background.languages().to_vec();
            let others: u32 = choices.iter().map(|(_, w)| w).sum();
            choices.push(("English", 100u32.saturating_sub(others)));
            weighted(rng, &choices).unwrap_or("English").to_owned()
        } else {
            String::new()
        };
        let communication_needs = if rng.random_bool(0.1) {
            one(rng, &COMMUNICATION_NEEDS).to_owned()
        } else if first_language != "English" && !first_language.is_empty() && rng.random_bool(0.4)
        {
            format!("{first_language} at home; parents would like an interpreter for meetings")
        } else {
            String::new()
        };
        let looked_after = match special {
            Special::LookedAfter => true,
            Special::None => rng.random_bool(0.08),
            _ => false,
        };
        let child_protection_plan =
            special == Special::NoContactCarer || (!looked_after && rng.random_bool(0.04));
        let child_in_need = !looked_after && !child_protection_plan && rng.random_bool(0.11);
        let ehcp = rng.random_bool(if communication_needs.is_empty() {
            0.07
        } else {
            0.35
        });
        let (social_worker, social_worker_contact) =
            if looked_after || child_protection_plan || child_in_need {
                let bg = weighted(rng, &BACKGROUNDS).unwrap_or(Background::English);
                let names = if rng.random_bool(0.7) {
                    bg.girls()
                } else {
                    bg.boys()
                };
                let contact = if rng.random_bool(0.5) {
                    landline(rng)
                } else {
                    format!("{}, {}", mobile(rng), "childrens.social.care@example.org")
                };
                (
                    format!("{} {}", one(rng, names), one(rng, bg.surnames())),
                    contact,
                )
            } else {
                (String::new(), String::new())
            };
        let address = if rng.random_bool(0.97) {
            street_address(rng)
        } else {
            String::new()
        };
        let (consents_for_self, carers_may_be_told) = match special {
            Special::SelfConsenting => (true, vec!["attendance".to_owned()]),
            _ if age >= 16 && rng.random_bool(0.3) => {
                let topics: &[&str] = [
                    &["attendance", "paperwork"][..],
                    &["attendance", "paperwork", "progress"][..],
                    &["attendance"][..],
                    &[][..],
                ]
                .choose(rng)
                .copied()
                .unwrap_or(&[]);
                (true, topics.iter().map(|t| (*t).to_owned()).collect())
            }
            _ => (false, Vec::new()),
        };

        let child = ChildInput {
            legal_name,
            preferred_name,
            date_of_birth: alliance_core::uk::date(date_of_birth),
            sex: sex.code().to_owned(),
            gender_identity,
            pronouns,
            nhs_number: nhs,
            school_site,
            school_name,
            year_group: year.code(),
            upn,
            gp_practice: if rng.random_bool(0.95) {
                one(rng, &GP_PRACTICES).to_owned()
            } else {
                String::new()
            },
            first_language,
            communication_needs,
            looked_after,
            child_in_need,
            child_protection_plan,
            ehcp,
            social_worker,
            social_worker_contact,
            address,
            date_of_death: String::new(),
            consents_for_self,
            carers_may_be_told,
        };
        let carers = carers(rng, today, special, background, family_name, looked_after);
        let cases = self.cases(rng, special, date_of_birth, age, looked_after);
        ChildPlan {
            child,
            carers,
            cases,
        }
    }

    fn cases(
        &mut self,
        rng: &mut StdRng,
        special: Special,
        date_of_birth: Date,
        age: i16,
        looked_after: bool,
    ) -> Vec<CasePlan> {
        let today = self.today;
        // Nobody is referred before they are three.
        let earliest = date_of_birth.saturating_add(Span::new().years(3));
        let mut history = match special {
            Special::None => {
                let roll = rng.random_range(0..1000);
                if roll < 50 {
                    History::Closed
                } else if roll < 900 {
                    if rng.random_bool(0.176) {
                        History::ReReferred
                    } else {
                        History::Open
                    }
                } else {
                    History::NoCase
                }
            }
            _ => History::Open,
        };
        let mut cases = Vec::new();
        if history == History::Closed {
            match self.closed_case(rng, earliest, days_before(today, 7), age, looked_after) {
                Some(case) => return vec![case],
                None => history = History::Open,
            }
        }
        if history == History::NoCase {
            return cases;
        }
        // The open case: referred in the last two months and not yet seen, or seen.
        let seen = match special {
            Special::None => rng.random_bool(0.88),
            _ => true,
        };
        let received = if seen {
            days_before(today, rng.random_range(21..=420))
        } else {
            days_before(today, rng.random_range(0..=60))
        }
        .max(earliest)
        .min(today);
        let first_seen = seen.then(|| days_after(received, rng.random_range(7..=56)).min(today));
        if history == History::ReReferred
            && let Some(earlier) =
                self.closed_case(rng, earliest, days_before(received, 14), age, looked_after)
        {
            cases.push(earlier);
        }
        let lead = self.open_lead(rng, special);
        let mut team = Vec::new();
        if seen {
            if special == Special::Covered && lead != 0 {
                team.push(MemberPlan {
                    therapist: 0,
                    role: TeamRole::Cover,
                    ends_after_days: Some(rng.random_range(14..=28)),
                });
            }
            if rng.random_bool(0.08)
                && let Some(other) = self.other_therapist(rng, &[lead])
            {
                team.push(MemberPlan {
                    therapist: other,
                    role: TeamRole::CoWorker,
                    ends_after_days: None,
                });
            }
            if rng.random_bool(0.1)
                && let Some(other) = self.other_therapist(rng, &[lead])
            {
                team.push(MemberPlan {
                    therapist: other,
                    role: TeamRole::ParentWorker,
                    ends_after_days: None,
                });
            }
            if special == Special::None
                && rng.random_bool(0.02)
                && let Some(other) = self.other_therapist(rng, &[0, lead])
            {
                team.push(MemberPlan {
                    therapist: other,
                    role: TeamRole::Cover,
                    ends_after_days: Some(rng.random_range(7..=35)),
                });
            }
        }
        cases.push(CasePlan {
            details: CaseInput {
                referral_source: self::referral_source(rng, age, looked_after)
                    .code()
                    .to_owned(),
                referral_received: alliance_core::uk::date(received),
                first_seen: first_seen.map(alliance_core::uk::date).unwrap_or_default(),
                referral_reason: None,
            },
            reason: reason(rng, age, looked_after),
            lead,
            team,
            closure: None,
        });
        cases
    }

    /// A case that closed on or before `latest_close`, or none when the child is too young
    /// for one to fit.
    fn closed_case(
        &self,
        rng: &mut StdRng,
        earliest: Date,
        latest_close: Date,
        age: i16,
        looked_after: bool,
    ) -> Option<CasePlan> {
        let closed_on = days_before(latest_close, rng.random_range(0..=400));
        let received = days_before(closed_on, rng.random_range(56..=360));
        if received < earliest || closed_on > self.today {
            return None;
        }
        let first_seen = days_after(received, rng.random_range(7..=42)).min(closed_on);
        let closure = weighted(rng, &CLOSURES).unwrap_or(ClosureReason::PlannedEnding);
        // The age they were then, for the reason to fit.
        let then = age - i16::try_from((self.today - received).get_days() / 365).unwrap_or(0);
        Some(CasePlan {
            details: CaseInput {
                referral_source: self::referral_source(rng, then, looked_after)
                    .code()
                    .to_owned(),
                referral_received: alliance_core::uk::date(received),
                first_seen: alliance_core::uk::date(first_seen),
                referral_reason: None,
            },
            reason: reason(rng, then.max(4), looked_after),
            lead: rng.random_range(0..self.therapists),
            team: Vec::new(),
            closure: Some(ClosureInput {
                closed_on: alliance_core::uk::date(closed_on),
                reason: closure.code().to_owned(),
                summary: closing_summary(rng, closure),
            }),
        })
    }

    /// The lead of an open case: demo-therapist-1 for the first few (the special children
    /// among them), then anyone.
    fn open_lead(&mut self, rng: &mut StdRng, special: Special) -> usize {
        let lead = if special == Special::Covered && self.therapists > 1 {
            rng.random_range(1..self.therapists)
        } else if self.caseloads.first().is_some_and(|&n| n < FIRST_CASELOAD) {
            0
        } else {
            // The less busy of two: caseloads stay even without being uniform.
            let a = rng.random_range(0..self.therapists);
            let b = rng.random_range(0..self.therapists);
            let load = |t: usize| self.caseloads.get(t).copied().unwrap_or(0);
            if load(b) < load(a) { b } else { a }
        };
        if let Some(n) = self.caseloads.get_mut(lead) {
            *n += 1;
        }
        lead
    }

    fn other_therapist(&self, rng: &mut StdRng, not: &[usize]) -> Option<usize> {
        if self.therapists <= not.len() {
            return None;
        }
        (0..20)
            .map(|_| rng.random_range(0..self.therapists))
            .find(|t| !not.contains(t))
    }
}

fn date_of_birth(rng: &mut StdRng, today: Date, age: i16) -> Date {
    let birthday = today.saturating_sub(Span::new().years(i64::from(age)));
    let born = days_before(birthday, rng.random_range(0..365));
    if age_on(born, today) == age {
        born
    } else {
        birthday
    }
}

fn referral_source(rng: &mut StdRng, age: i16, looked_after: bool) -> ReferralSource {
    if looked_after && rng.random_bool(0.6) {
        return ReferralSource::SocialCare;
    }
    loop {
        let source = weighted(rng, &SOURCES).unwrap_or(ReferralSource::School);
        if source != ReferralSource::SelfReferral || age >= 13 {
            return source;
        }
    }
}

fn reason(rng: &mut StdRng, age: i16, looked_after: bool) -> String {
    if looked_after && rng.random_bool(0.5) {
        return one(rng, &LAC_REASONS).to_owned();
    }
    let mut fitting: Vec<&str> = REASONS_ANY_AGE.to_vec();
    if age <= 11 {
        fitting.extend(REASONS_YOUNGER);
    }
    if age >= 11 {
        fitting.extend(REASONS_OLDER);
    }
    fitting
        .choose(rng)
        .copied()
        .unwrap_or("Worries at home and at school")
        .to_owned()
}

// --- Carers --------------------------------------------------------------------------------

fn carer(
    rng: &mut StdRng,
    name: String,
    relationship: &str,
    responsibility: Option<ParentalResponsibility>,
    day_to_day_care: bool,
) -> CarerInput {
    let email = if rng.random_bool(0.55) {
        let mut parts = name.split_whitespace();
        let first = parts.next().map(ascii_slug).unwrap_or_default();
        let last = parts.last().map(ascii_slug).unwrap_or_default();
        let domain = one(rng, &["example.com", "example.org", "example.net"]);
        format!("{first}.{last}@{domain}")
    } else {
        String::new()
    };
    CarerInput {
        name,
        relationship: relationship.to_owned(),
        parental_responsibility: responsibility
            .map(|p| p.code().to_owned())
            .unwrap_or_default(),
        day_to_day_care,
        phone: if rng.random_bool(0.93) {
            mobile(rng)
        } else {
            String::new()
        },
        email,
        address: String::new(),
        may_contact: true,
        restrictions: Vec::new(),
        // Who may collect is filled in by `emergency::demo_fill`.
        may_collect: String::new(),
    }
}

fn restriction(
    kind: RestrictionKind,
    source: RestrictionSource,
    dated: Date,
    reference: &str,
) -> RestrictionInput {
    RestrictionInput {
        kind: kind.code().to_owned(),
        source: source.code().to_owned(),
        dated: alliance_core::uk::date(dated),
        reference: reference.to_owned(),
    }
}

/// A child's carers: one or two, as families are.
fn carers(
    rng: &mut StdRng,
    today: Date,
    special: Special,
    background: Background,
    family_name: &str,
    looked_after: bool,
) -> Vec<CarerInput> {
    let mother_name = |rng: &mut StdRng| {
        let surname = if rng.random_bool(0.75) {
            feminine(family_name)
        } else {
            feminine(one(rng, background.surnames()))
        };
        format!("{} {surname}", one(rng, background.girls()))
    };
    let father_name = |rng: &mut StdRng| format!("{} {family_name}", one(rng, background.boys()));
    let parent = Some(ParentalResponsibility::Parent);
    if looked_after {
        let place = one(rng, &PLACES);
        let mut authority = carer(
            rng,
            format!("{place} Council children's social care"),
            "Local authority (care order)",
            Some(ParentalResponsibility::LocalAuthority),
            false,
        );
        authority.phone = landline(rng);
        authority.email = format!("childrens.services@{}.example.org", ascii_slug(place));
        authority.address = format!("Civic Centre, {place} {}", postcode(rng));
        let foster_bg = weighted(rng, &BACKGROUNDS).unwrap_or(Background::English);
        let foster_name = format!(
            "{} {}",
            one(rng, foster_bg.girls()),
            one(rng, foster_bg.surnames())
        );
        let foster = carer(rng, foster_name, "Foster carer", None, true);
        return vec![authority, foster];
    }
    let name = mother_name(rng);
    let mother = carer(rng, name, "Mother", parent, true);
    let name = father_name(rng);
    let father = carer(rng, name, "Father", parent, false);
    match special {
        Special::RestrictedCarer => {
            let dated = days_before(today, rng.random_range(120..=500));
            let order = "Prohibited steps order, Family Court (ZZ24P00317)";
            let mut father = father;
            father.restrictions = vec![
                restriction(
                    RestrictionKind::NoLocationOrTimes,
                    RestrictionSource::CourtOrder,
                    dated,
                    order,
                ),
                restriction(
                    RestrictionKind::NoSchool,
                    RestrictionSource::CourtOrder,
                    dated,
                    order,
                ),
            ];
            vec![mother, father]
        }
        Special::NoContactCarer => {
            let dated = days_before(today, rng.random_range(20..=90));
            let mut father = father;
            father.may_contact = false;
            father.restrictions = vec![restriction(
                RestrictionKind::NoContact,
                RestrictionSource::SafeguardingDecision,
                dated,
                "Strategy discussion: no contact while section 47 enquiries continue",
            )];
            vec![mother, father]
        }
        _ => {
            let roll = rng.random_range(0..100);
            if roll < 5 {
                // Raised by grandparents under a special guardianship order.
                let name = format!("{} {family_name}", one(rng, background.girls()));
                let grandmother = carer(
                    rng,
                    name,
                    "Grandmother",
                    Some(ParentalResponsibility::SpecialGuardian),
                    true,
                );
                if rng.random_bool(0.5) {
                    let name = format!("{} {family_name}", one(rng, background.boys()));
                    let grandfather = carer(
                        rng,
                        name,
                        "Grandfather",
                        Some(ParentalResponsibility::SpecialGuardian),
                        true,
                    );
                    vec![grandmother, grandfather]
                } else {
                    let mut mother = mother;
                    mother.day_to_day_care = false;
                    vec![grandmother, mother]
                }
            } else if roll < 32 {
                vec![mother]
            } else if roll < 37 {
                let mut father = father;
                father.day_to_day_care = true;
                vec![father]
            } else if roll < 44 {
                let name = format!(
                    "{} {}",
                    one(rng, background.boys()),
                    one(rng, background.surnames())
                );
                let stepfather = carer(rng, name, "Stepfather", None, true);
                vec![mother, stepfather]
            } else if roll < 50 {
                let name = format!("{} {family_name}", one(rng, background.girls()));
                let grandmother = carer(rng, name, "Grandmother", None, false);
                vec![mother, grandmother]
            } else {
                let mut father = father;
                father.day_to_day_care = rng.random_bool(0.75);
                if !father.day_to_day_care && rng.random_bool(0.04) {
                    father.restrictions = vec![restriction(
                        RestrictionKind::NoLocationOrTimes,
                        RestrictionSource::CourtOrder,
                        days_before(today, rng.random_range(60..=900)),
                        "Child arrangements order",
                    )];
                }
                vec![mother, father]
            }
        }
    }
}

/// Term rows (the calendar import's CSV) for the school year containing `today` and the next,
/// in the usual English shape: autumn from early September with a late-October half-term,
/// spring from early January with a mid-February half-term, summer from mid-April with a
/// late-May half-term, and an INSET day opening each year.
pub fn demo_term_rows(today: jiff::civil::Date) -> String {
    use jiff::civil::{Date, Weekday};
    let first_year = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let date = |y: i16, m: i8, d: i8| Date::new(y, m, d).unwrap_or(today);
    // The weekday on or after a date, and the Monday and Friday of a date's week.
    let on_or_after_weekday = |d: Date| match d.weekday() {
        Weekday::Saturday => d.saturating_add(jiff::Span::new().days(2)),
        Weekday::Sunday => d.saturating_add(jiff::Span::new().days(1)),
        _ => d,
    };
    let on_or_before_friday = |d: Date| match d.weekday() {
        Weekday::Saturday => d.saturating_sub(jiff::Span::new().days(1)),
        Weekday::Sunday => d.saturating_sub(jiff::Span::new().days(2)),
        _ => d,
    };
    let monday_of = |d: Date| {
        d.saturating_sub(jiff::Span::new().days(i64::from(d.weekday().to_monday_zero_offset())))
    };
    let friday_of = |d: Date| monday_of(d).saturating_add(jiff::Span::new().days(4));
    let uk = alliance_core::uk::date;
    let mut rows = String::from("kind,name,starts,ends,reason\n");
    for y in [first_year, first_year + 1] {
        let autumn = format!("Autumn term {y}");
        let spring = format!("Spring term {}", y + 1);
        let summer = format!("Summer term {}", y + 1);
        let autumn_start = on_or_after_weekday(date(y, 9, 2));
        let terms = [
            (
                &autumn,
                autumn_start,
                on_or_before_friday(date(y, 12, 18)),
                date(y, 10, 27),
            ),
            (
                &spring,
                on_or_after_weekday(date(y + 1, 1, 5)),
                on_or_before_friday(date(y + 1, 3, 26)),
                date(y + 1, 2, 16),
            ),
            (
                &summer,
                on_or_after_weekday(date(y + 1, 4, 12)),
                on_or_before_friday(date(y + 1, 7, 21)),
                date(y + 1, 6, 1),
            ),
        ];
        for (name, starts, ends, half) in terms {
            rows.push_str(&format!("term,{name},{},{},\n", uk(starts), uk(ends)));
            rows.push_str(&format!(
                "half-term,{name},{},{},\n",
                uk(monday_of(half)),
                uk(friday_of(half))
            ));
        }
        rows.push_str(&format!(
            "inset,Training day,{},,Training day\n",
            uk(autumn_start)
        ));
    }
    rows
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_demo_term_calendar_reads_for_any_day_of_the_year() {
        for (y, m, d) in [
            (2026, 11, 30),
            (2027, 1, 1),
            (2027, 8, 31),
            (2027, 9, 1),
            (2031, 6, 15),
        ] {
            let rows = demo_term_rows(jiff::civil::date(y, m, d));
            let preview = alliance_core::schedule_import::preview("Demo", &rows);
            assert!(
                preview.errors.is_empty(),
                "{y}-{m}-{d}: {:?}\n{rows}",
                preview.errors
            );
            assert_eq!(preview.calendar.map(|c| c.terms().len()), Some(6));
        }
    }
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_name_and_names_vary() {
        assert_eq!(demo_service_name(7), demo_service_name(7));
        let names: std::collections::HashSet<String> = (0..50)
            .filter_map(|s| demo_service_name(s).ok())
            .map(|n| n.as_str().to_owned())
            .collect();
        assert!(names.len() > 10, "only {} distinct names", names.len());
        assert!(names.iter().all(|n| n.ends_with("(demo)")));
    }

    #[test]
    fn scales_parse_and_grow() {
        assert_eq!(DemoScale::parse("large"), Ok(DemoScale::Large));
        assert!(DemoScale::parse("huge").is_err());
        let small = DemoScale::Small.shape();
        let large = DemoScale::Large.shape();
        assert_eq!(large.therapists, 150);
        assert_eq!(large.children, 6_000);
        assert!(small.children < large.children);
        assert!(large.children < DemoScale::Xlarge.shape().children);
    }

    use alliance_core::cases::{CaseDetails, Closure};
    use alliance_core::children::{CarerDetails, ChildDetails, NhsNumber, Upn};
    use alliance_core::directory::{RoomDetails, SiteDetails};
    use jiff::civil::date;

    #[test]
    fn nhs_numbers_are_valid_and_in_the_range_never_issued() {
        for seed in 0..200 {
            let mut rng = StdRng::seed_from_u64(seed);
            for _ in 0..50 {
                let n = nhs_number(&mut rng);
                assert!(n.starts_with("999"), "{n}");
                assert_eq!(NhsNumber::parse(&n).map(|p| p.as_str().to_owned()), Ok(n));
            }
        }
        // The NHS's published example: 943 476 591, check digit 9.
        assert_eq!(nhs_check_digit(&[9, 4, 3, 4, 7, 6, 5, 9, 1]), Some(9));
        // A check value of 10 is never issued.
        assert_eq!(nhs_check_digit(&[1, 0, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn upns_have_the_right_check_letter() {
        for seed in 0..200 {
            let mut rng = StdRng::seed_from_u64(seed);
            for _ in 0..50 {
                let establishment = rng.random_range(0..10_000);
                let year = rng.random_range(2005..2030);
                let u = upn(&mut rng, establishment, year);
                assert_eq!(Upn::parse(&u).map(|p| p.as_str().to_owned()), Ok(u));
            }
        }
        // Worked by hand in the core's tests.
        assert_eq!(upn_check_letter("801200001001"), 'H');
    }

    #[test]
    fn sites_and_rooms_validate_and_scale_gently() {
        assert_eq!(school_count(DemoScale::Small.shape()), 3);
        assert_eq!(school_count(DemoScale::Large.shape()), 20);
        assert_eq!(school_count(DemoScale::Xlarge.shape()), 40);
        for seed in 0..30 {
            let mut rng = StdRng::seed_from_u64(seed);
            for schools in [3, 40] {
                let plans = plan_sites(&mut rng, schools);
                assert_eq!(plans.len(), schools + 2);
                let names: HashSet<&str> = plans.iter().map(|p| p.site.name.as_str()).collect();
                assert_eq!(names.len(), plans.len(), "site names are unique");
                for plan in &plans {
                    let site = SiteDetails::parse(&plan.site);
                    assert!(site.is_ok(), "{:?}: {site:?}", plan.site);
                    assert_eq!(
                        plan.phase.is_some(),
                        site.as_ref().is_ok_and(|s| s.kind == SiteKind::School)
                    );
                    assert!((2..=3).contains(&plan.rooms.len()));
                    let rooms: HashSet<&str> = plan.rooms.iter().map(|r| r.name.as_str()).collect();
                    assert_eq!(
                        rooms.len(),
                        plan.rooms.len(),
                        "room names are unique per site"
                    );
                    for room in &plan.rooms {
                        let parsed = RoomDetails::parse(room);
                        assert!(parsed.as_ref().is_ok_and(|r| (2..=8).contains(&r.capacity)));
                    }
                }
                let phases: Vec<Option<Phase>> = plans.iter().take(3).map(|p| p.phase).collect();
                assert_eq!(
                    phases,
                    vec![
                        Some(Phase::Primary),
                        Some(Phase::Primary),
                        Some(Phase::Secondary)
                    ]
                );
            }
        }
    }

    fn planner(today: Date, therapists: usize) -> ChildPlanner {
        let schools = (0..3u16)
            .map(|i| School {
                id: SiteId(uuid::Uuid::from_u128(u128::from(i) + 1)),
                phase: if i == 2 {
                    Phase::Secondary
                } else {
                    Phase::Primary
                },
                establishment: 2000 + i,
            })
            .collect();
        ChildPlanner::new(today, schools, therapists)
    }

    #[test]
    fn every_planned_child_carer_and_case_validates() {
        for (seed, today) in (0..12).zip(
            [date(2026, 11, 30), date(2027, 3, 1), date(2027, 8, 31)]
                .into_iter()
                .cycle(),
        ) {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut planner = planner(today, 6);
            let mut nhs = HashSet::new();
            let mut upns = HashSet::new();
            for i in 0..300 {
                let plan = planner.child(&mut rng, i);
                let child = ChildDetails::parse(&plan.child, today);
                assert!(
                    child.is_ok(),
                    "seed {seed}, child {i}: {:?}: {child:?}",
                    plan.child
                );
                let Ok(child) = child else { continue };
                let age = child.age_on(today);
                assert!((4..=17).contains(&age), "age {age}");
                assert!(
                    child
                        .nhs_number
                        .as_ref()
                        .is_none_or(|n| nhs.insert(n.clone()))
                );
                assert!(child.upn.as_ref().is_none_or(|u| upns.insert(u.clone())));
                assert!((1..=2).contains(&plan.carers.len()));
                for carer in &plan.carers {
                    let parsed = CarerDetails::parse(carer, today);
                    assert!(parsed.is_ok(), "{carer:?}: {parsed:?}");
                }
                let mut previous_close = None;
                for (n, case) in plan.cases.iter().enumerate() {
                    let with_reason = CaseInput {
                        referral_reason: Some(case.reason.clone()),
                        ..case.details.clone()
                    };
                    let details = CaseDetails::parse(&with_reason, today);
                    assert!(details.is_ok(), "{with_reason:?}: {details:?}");
                    let Ok((details, reason)) = details else {
                        continue;
                    };
                    assert!(reason.is_some());
                    assert!(details.referral_received >= child.date_of_birth);
                    if let Some(closed) = previous_close {
                        assert!(closed < details.referral_received, "cases overlap");
                    }
                    assert_eq!(
                        case.closure.is_none(),
                        n + 1 == plan.cases.len() && case.closure.is_none()
                    );
                    if let Some(closure) = &case.closure {
                        let closed = Closure::parse(closure, details.referral_received, today);
                        assert!(closed.is_ok(), "{closure:?}: {closed:?}");
                        previous_close = closed.ok().map(|(c, _)| c.closed_on);
                    } else {
                        assert_eq!(n + 1, plan.cases.len(), "only the newest case is open");
                    }
                    assert!(case.lead < 6);
                    for member in &case.team {
                        assert_ne!(member.therapist, case.lead);
                        assert_eq!(
                            member.role == TeamRole::Cover,
                            member.ends_after_days.is_some()
                        );
                    }
                }
            }
            assert!(planner.caseloads[0] >= FIRST_CASELOAD);
            let (least, most) = (
                planner.caseloads.iter().min().copied().unwrap_or(0),
                planner.caseloads.iter().max().copied().unwrap_or(0),
            );
            assert!(
                most - least <= 12,
                "uneven caseloads: {:?}",
                planner.caseloads
            );
        }
    }

    #[test]
    fn the_children_every_rule_needs_are_there_whatever_the_seed() {
        let today = date(2026, 11, 30);
        for seed in 0..20 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut planner = planner(today, 6);
            let plans: Vec<ChildPlan> = (0..100).map(|i| planner.child(&mut rng, i)).collect();
            let open_lead = |plan: &ChildPlan| {
                plan.cases
                    .last()
                    .filter(|c| c.closure.is_none())
                    .map(|c| c.lead)
            };
            // A parent under a court order, on demo-therapist-1's caseload.
            let restricted = &plans[0];
            assert_eq!(open_lead(restricted), Some(0));
            assert!(restricted.carers.iter().any(|c| {
                let kinds: Vec<&str> = c.restrictions.iter().map(|r| r.kind.as_str()).collect();
                kinds.contains(&"no-location-or-times")
                    && kinds.contains(&"no-school")
                    && c.restrictions.iter().all(|r| r.source == "court-order")
            }));
            assert!(!restricted.child.school_site.is_empty());
            // A young person who consents for themselves.
            let young = &plans[1];
            assert_eq!(open_lead(young), Some(0));
            assert!(young.child.consents_for_self);
            assert_eq!(
                young.child.carers_may_be_told,
                vec!["attendance".to_owned()]
            );
            let age = ChildDetails::parse(&young.child, today).map(|c| c.age_on(today));
            assert!(matches!(age, Ok(16 | 17)), "{age:?}");
            // A parent the service must not contact.
            assert!(plans[2].carers.iter().any(|c| {
                !c.may_contact
                    && c.restrictions
                        .iter()
                        .any(|r| r.kind == "no-contact" && r.source == "safeguarding-decision")
            }));
            // A child in care.
            assert!(plans[3].child.looked_after);
            assert!(
                plans[3]
                    .carers
                    .iter()
                    .any(|c| c.parental_responsibility == "local-authority")
            );
            assert!(
                plans[3]
                    .carers
                    .iter()
                    .any(|c| c.relationship == "Foster carer"
                        && c.day_to_day_care
                        && c.parental_responsibility.is_empty())
            );
            // Cover by demo-therapist-1 on someone else's case.
            let covered = plans[4].cases.last();
            assert!(covered.is_some_and(|c| {
                c.lead != 0
                    && c.team
                        .iter()
                        .any(|m| m.therapist == 0 && m.role == TeamRole::Cover)
            }));

            let with_open = plans.iter().filter(|p| open_lead(p).is_some()).count();
            let only_closed = plans
                .iter()
                .filter(|p| !p.cases.is_empty() && open_lead(p).is_none())
                .count();
            let re_referred = plans.iter().filter(|p| p.cases.len() == 2).count();
            let not_seen = plans
                .iter()
                .filter(|p| {
                    p.cases
                        .last()
                        .is_some_and(|c| c.closure.is_none() && c.details.first_seen.is_empty())
                })
                .count();
            let looked_after = plans.iter().filter(|p| p.child.looked_after).count();
            assert!((70..=97).contains(&with_open), "{with_open} open");
            assert!(only_closed <= 15, "{only_closed} only closed");
            assert!((3..=30).contains(&re_referred), "{re_referred} re-referred");
            assert!((2..=25).contains(&not_seen), "{not_seen} not yet seen");
            assert!(
                (1..=20).contains(&looked_after),
                "{looked_after} looked after"
            );
            assert!(plans.iter().filter(|p| open_lead(p) == Some(0)).count() >= 8);
        }
    }

    #[test]
    fn plans_are_the_same_for_the_same_seed() {
        let today = date(2026, 11, 30);
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut planner = planner(today, 6);
            (0..50)
                .map(|i| {
                    let p = planner.child(&mut rng, i);
                    (p.child.legal_name, p.child.nhs_number, p.cases.len())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}

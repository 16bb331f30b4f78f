//! The demo service: entirely synthetic data, generated from a seed so the same seed always
//! gives the same service. Demo data never goes into a database that already holds a service
//! (policy section 6), and a demo database says so on every page.
//!
//! Each capability adds its own step to [`generate`] as it lands; the scales below are the
//! shapes those steps fill (issue 20 sets the large one).

use crate::app::Alliance;
use crate::store::{NewUser, StoreError};
use alliance_core::audit::{Action, Event};
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::{Nation, ServiceName, service::ServiceDetails};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};

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
                therapists: 4,
                supervisors: 1,
                dsls: 1,
                children: 24,
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

/// Fills an empty database with a synthetic service and its staff accounts.
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
            Role::Therapist => therapists.push(user.id),
            _ => {}
        }
        progress.advance(1);
    }
    if let Some(supervisor) = supervisor {
        let supervised: Vec<UserId> = therapists.iter().take(8).copied().collect();
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
    progress.finish();
    Ok(DemoSummary {
        service_name: profile.name.as_str().to_owned(),
        shape,
        password,
        accounts,
    })
}

#[cfg(test)]
mod tests {
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
}

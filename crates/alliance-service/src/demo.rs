//! The demo service: entirely synthetic data, generated from a seed so the same seed always
//! gives the same service. Demo data never goes into a database that already holds a service
//! (policy section 6), and a demo database says so on every page.
//!
//! Each capability adds its own step to [`generate`] as it lands; the scales below are the
//! shapes those steps fill (issue 20 sets the large one).

use crate::store::{Store, StoreError};
use alliance_core::{Clock, Nation, ServiceName, service::ServiceDetails};
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

/// Fills an empty database with a synthetic service.
pub async fn generate(
    store: &dyn Store,
    clock: &dyn Clock,
    scale: DemoScale,
    seed: u64,
    progress: &dyn Progress,
) -> Result<DemoSummary, DemoError> {
    if !store.is_empty().await? {
        return Err(DemoError::NotEmpty);
    }
    progress.step("service", 1);
    let details = ServiceDetails {
        name: demo_service_name(seed).map_err(DemoError::Generated)?,
        nation: Nation::England,
    };
    let profile = match store
        .create_service_profile(&details, true, clock.now())
        .await
    {
        Ok(profile) => profile,
        // Another process created a service between the check and the write.
        Err(StoreError::Conflict(_)) => return Err(DemoError::NotEmpty),
        Err(other) => return Err(other.into()),
    };
    progress.advance(1);
    progress.finish();
    Ok(DemoSummary {
        service_name: profile.name.as_str().to_owned(),
        shape: scale.shape(),
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

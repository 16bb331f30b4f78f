//! The explanation library as a service: every topic for every audience, the text in use (the
//! service's most recently published version, else the Alliance default) with its review
//! state, its readability against the service's target for the band and its content check;
//! new versions (copies or edits), review by a named clinician, publication. Every version is
//! kept. The readability targets and the reading-age offset are a service setting.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{ExplanationVersion, NewExplanationVersion, StoreError};
use alliance_core::audit::{self, Event};
use alliance_core::error::{parse_line, parse_text};
use alliance_core::explanations::{
    Assessment, Audience, ContentCheck, Topic, assess, check_content, default_library,
};
use alliance_core::identity::UserId;
use alliance_core::policy::Action;
use alliance_core::readability::DEFAULT_READING_AGE_OFFSET;
use alliance_core::{FieldError, Invalid, Version};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;
use uuid::Uuid;

/// The settings document the readability configuration is kept under.
pub const READABILITY: &str = "readability";

/// The language of the shipped texts and of a new version unless another is chosen.
pub const DEFAULT_LANGUAGE: &str = "en-GB";

/// `based_on` of a version copied from the shipped default.
pub const BASED_ON_DEFAULT: &str = "default";

const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 20_000;
const MAX_PICTURES: usize = 20;
const MAX_PICTURE: usize = 500;

static LIBRARY: LazyLock<Result<Vec<Topic>, String>> = LazyLock::new(default_library);

/// The shipped topics (in the order they are explained).
pub fn topics() -> AppResult<&'static [Topic]> {
    LIBRARY.as_deref().map_err(|e| {
        AppError::Store(StoreError::Other(format!(
            "the default explanation library does not load: {e}"
        )))
    })
}

fn topic(code: &str) -> AppResult<&'static Topic> {
    topics()?
        .iter()
        .find(|t| t.code == code)
        .ok_or(AppError::NotFound)
}

fn audience(code: &str) -> AppResult<Audience> {
    Audience::parse(code).map_err(|_| AppError::NotFound)
}

/// The service's readability configuration: the target UK reading age per audience (by its
/// code) and the offset from the Flesch–Kincaid grade to the UK reading age.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadabilityConfig {
    pub reading_age_offset: f64,
    pub targets: BTreeMap<String, f64>,
    /// The ages (inclusive) each children's and young people's audience covers, by code;
    /// parents and carers have no band. Which band a child's handouts are suggested in.
    #[serde(default = "default_bands")]
    pub bands: BTreeMap<String, [u8; 2]>,
}

/// The children's and young people's audiences, youngest first.
const BANDED: [Audience; 4] = [
    Audience::Children3To7,
    Audience::Children8To11,
    Audience::Young12To15,
    Audience::Young16To25,
];

fn default_band(audience: Audience) -> [u8; 2] {
    match audience {
        Audience::Children3To7 => [3, 7],
        Audience::Children8To11 => [8, 11],
        Audience::Young12To15 => [12, 15],
        Audience::Young16To25 | Audience::ParentsAndCarers => [16, 25],
    }
}

fn default_bands() -> BTreeMap<String, [u8; 2]> {
    BANDED
        .into_iter()
        .map(|a| (a.code().to_owned(), default_band(a)))
        .collect()
}

impl Default for ReadabilityConfig {
    fn default() -> Self {
        Self {
            reading_age_offset: DEFAULT_READING_AGE_OFFSET,
            targets: Audience::ALL
                .into_iter()
                .map(|a| (a.code().to_owned(), a.default_target()))
                .collect(),
            bands: default_bands(),
        }
    }
}

impl ReadabilityConfig {
    /// The ages an audience covers (none for parents and carers).
    pub fn band(&self, audience: Audience) -> Option<[u8; 2]> {
        BANDED.contains(&audience).then(|| {
            self.bands
                .get(audience.code())
                .copied()
                .unwrap_or(default_band(audience))
        })
    }

    /// The audience whose band holds this age: the youngest band below it, the oldest above.
    pub fn audience_for_age(&self, age: i16) -> Audience {
        for a in BANDED {
            if let Some([_, to]) = self.band(a)
                && age <= i16::from(to)
            {
                return a;
            }
        }
        Audience::Young16To25
    }

    pub fn target(&self, audience: Audience) -> f64 {
        self.targets
            .get(audience.code())
            .copied()
            .unwrap_or(audience.default_target())
    }

    /// Checks a configuration: an offset of 0 to 10 years, a target of 3 to 25 for every
    /// audience (a missing one keeps its default).
    pub fn parse(input: &ReadabilityConfig) -> Result<Self, Invalid> {
        let mut errors = Vec::new();
        let offset = input.reading_age_offset;
        if !(0.0..=10.0).contains(&offset) {
            errors.push(FieldError::new(
                "reading_age_offset",
                "The reading-age offset is a number of years from 0 to 10 (5 by default)",
            ));
        }
        for code in input.targets.keys() {
            if Audience::parse(code).is_err() {
                errors.push(FieldError::new(
                    format!("targets.{code}"),
                    format!("There is no audience {code:?}"),
                ));
            }
        }
        let mut targets = BTreeMap::new();
        for a in Audience::ALL {
            let t = input
                .targets
                .get(a.code())
                .copied()
                .unwrap_or(a.default_target());
            if !(3.0..=25.0).contains(&t) {
                errors.push(FieldError::new(
                    format!("targets.{}", a.code()),
                    format!("The target for {} is a reading age from 3 to 25", a.label()),
                ));
            }
            targets.insert(a.code().to_owned(), t);
        }
        for code in input.bands.keys() {
            if !BANDED.iter().any(|a| a.code() == code) {
                errors.push(FieldError::new(
                    format!("bands.{code}"),
                    format!("There is no age band {code:?}"),
                ));
            }
        }
        let mut bands = BTreeMap::new();
        let mut previous: Option<(Audience, u8)> = None;
        for a in BANDED {
            let [from, to] = input
                .bands
                .get(a.code())
                .copied()
                .unwrap_or(default_band(a));
            let field = format!("bands.{}", a.code());
            if from > to || to > 25 {
                errors.push(FieldError::new(
                    &field,
                    format!(
                        "The ages for {} run from a younger to an older age, up to 25",
                        a.label()
                    ),
                ));
            } else if let Some((before, end)) = previous
                && u16::from(from) != u16::from(end) + 1
            {
                errors.push(FieldError::new(
                    &field,
                    format!(
                        "The ages for {} start the year after {} ends ({}), with no gap or overlap",
                        a.label(),
                        before.label(),
                        end
                    ),
                ));
            }
            previous = Some((a, to));
            bands.insert(a.code().to_owned(), [from, to]);
        }
        if errors.is_empty() {
            Ok(Self {
                reading_age_offset: offset,
                targets,
                bands,
            })
        } else {
            Err(Invalid { errors })
        }
    }

    /// A text's readability against this configuration's target for its audience.
    pub fn assess(&self, body: &str, audience: Audience, measured: bool) -> Assessment {
        assess(
            body,
            self.target(audience),
            self.reading_age_offset,
            measured,
        )
    }
}

/// Where a text's review stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub reviewed: bool,
    /// The reviewing clinician's name.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
}

impl Review {
    /// What the page says.
    pub fn label(&self) -> String {
        match (&self.reviewed_by, self.reviewed) {
            (Some(name), true) => format!("Reviewed by {name}"),
            _ => "Draft until reviewed by a named clinician".to_owned(),
        }
    }
}

/// A version with the names the pages show.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionView {
    pub version: ExplanationVersion,
    pub created_by: String,
    pub review: Review,
    pub check: ContentCheck,
}

/// The text in use for one topic and audience.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryText {
    pub topic: &'static Topic,
    pub audience: Audience,
    pub title: String,
    pub body: String,
    pub pictures: Vec<String>,
    pub language: String,
    pub measured: bool,
    /// The stored version in use; `None` for the shipped default.
    pub version: Option<ExplanationVersion>,
    pub review: Review,
    pub assessment: Assessment,
    pub check: ContentCheck,
}

impl LibraryText {
    pub fn is_default(&self) -> bool {
        self.version.is_none()
    }
}

/// One topic and audience in full: the text in use and every version, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryDetail {
    pub text: LibraryText,
    pub versions: Vec<VersionView>,
    pub config: ReadabilityConfig,
}

/// What a new version says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionInput {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub pictures: Vec<String>,
    /// `en-GB` when empty.
    #[serde(default)]
    pub language: String,
    /// Whether the readability formulas apply (false for another language or easy-read).
    #[serde(default = "yes")]
    pub measured: bool,
}

fn yes() -> bool {
    true
}

struct Checked {
    title: String,
    body: String,
    pictures: Vec<String>,
    language: String,
}

fn check_input(input: &VersionInput) -> Result<Checked, Invalid> {
    let mut errors = Vec::new();
    let title = parse_line(&input.title, 1, MAX_TITLE)
        .map_err(|m| errors.push(FieldError::new("title", m)))
        .unwrap_or_default();
    let body = parse_text(&input.body, 1, MAX_BODY)
        .map_err(|m| errors.push(FieldError::new("body", m)))
        .unwrap_or_default();
    let mut pictures = Vec::new();
    for p in &input.pictures {
        match parse_line(p, 0, MAX_PICTURE) {
            Ok(p) if p.is_empty() => {}
            Ok(p) => pictures.push(p),
            Err(m) => errors.push(FieldError::new("pictures", m)),
        }
    }
    if pictures.len() > MAX_PICTURES {
        errors.push(FieldError::new(
            "pictures",
            format!("Describe {MAX_PICTURES} pictures or fewer"),
        ));
    }
    let language = if input.language.trim().is_empty() {
        DEFAULT_LANGUAGE.to_owned()
    } else {
        input.language.trim().to_owned()
    };
    if language.len() > 35
        || language.len() < 2
        || !language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        errors.push(FieldError::new(
            "language",
            "Give the language as a tag like en-GB, cy or pl",
        ));
    }
    if errors.is_empty() {
        Ok(Checked {
            title,
            body,
            pictures,
            language,
        })
    } else {
        Err(Invalid { errors })
    }
}

/// The shipped default for a topic and audience.
fn default_text(
    topic: &Topic,
    audience: Audience,
) -> AppResult<&alliance_core::explanations::DefaultText> {
    topic
        .texts
        .iter()
        .find(|t| t.audience == audience)
        .ok_or(AppError::NotFound)
}

/// The version in use among one topic and audience's versions: the most recently published
/// in the default language; else the newest reviewed copy of the default (the same words,
/// reviewed); else none (the shipped default).
fn in_use(versions: &[ExplanationVersion]) -> Option<&ExplanationVersion> {
    let english = || versions.iter().filter(|v| v.language == DEFAULT_LANGUAGE);
    english()
        .filter(|v| v.is_published())
        .max_by_key(|v| (v.published_at, v.number))
        .or_else(|| {
            english()
                .filter(|v| v.based_on == BASED_ON_DEFAULT && v.is_reviewed())
                .max_by_key(|v| v.number)
        })
}

impl Alliance {
    /// The title and body of the text in use for a topic and audience (a published or
    /// reviewed version, else the shipped default), for pages that quote it to carers.
    pub(crate) async fn library_text_in_use(
        &self,
        topic: &str,
        audience: Audience,
    ) -> AppResult<(String, String)> {
        let versions = self
            .store
            .explanation_versions_of(topic, audience.code())
            .await?;
        if let Some(v) = in_use(&versions) {
            return Ok((v.title.clone(), v.body.clone()));
        }
        let topic = topics()?
            .iter()
            .find(|t| t.code == topic)
            .ok_or(AppError::NotFound)?;
        let d = default_text(topic, audience)?;
        Ok((d.title.clone(), d.body.clone()))
    }

    /// The readability configuration and its version (`None` while never changed).
    pub async fn readability_config(&self) -> AppResult<(ReadabilityConfig, Option<Version>)> {
        match self
            .settings_document::<ReadabilityConfig>(READABILITY, "readability configuration")
            .await?
        {
            None => Ok((ReadabilityConfig::default(), None)),
            // Checked again as it is read: bounds may have tightened since it was stored.
            Some((stored, version)) => {
                let config = ReadabilityConfig::parse(&stored).map_err(|_| {
                    AppError::Store(StoreError::Other(
                        "the stored readability configuration is not valid".to_owned(),
                    ))
                })?;
                Ok((config, Some(version)))
            }
        }
    }

    /// Changes the readability targets and offset (administrators).
    pub async fn set_readability_config(
        &self,
        actor: &Actor,
        input: &ReadabilityConfig,
        expected: Option<Version>,
    ) -> AppResult<ReadabilityConfig> {
        self.require(
            actor,
            Action::ManageService,
            "update readability targets",
            "service",
            None,
        )
        .await?;
        let config = ReadabilityConfig::parse(input)?;
        self.put_settings_document(actor, READABILITY, &config, expected)
            .await?;
        Ok(config)
    }

    /// Measures a body of text for an audience against the service's target (the live
    /// editor). Nothing is stored.
    pub async fn measure_explanation(
        &self,
        actor: &Actor,
        body: &str,
        audience_code: &str,
        measured: bool,
    ) -> AppResult<Assessment> {
        self.require(
            actor,
            Action::ReadDirectory,
            "measure readability",
            "explanation",
            None,
        )
        .await?;
        let audience = Audience::parse(audience_code).map_err(|m| Invalid::field("audience", m))?;
        if body.chars().count() > MAX_BODY {
            return Err(
                Invalid::field("body", format!("Use {MAX_BODY} characters or fewer")).into(),
            );
        }
        let (config, _) = self.readability_config().await?;
        Ok(config.assess(body, audience, measured))
    }

    async fn names(&self, ids: Vec<UserId>) -> AppResult<HashMap<UserId, String>> {
        let mut names = HashMap::new();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
                let name = self
                    .store
                    .user(id)
                    .await?
                    .map_or_else(|| "a former member of staff".to_owned(), |u| u.display_name);
                slot.insert(name);
            }
        }
        Ok(names)
    }

    fn text_of(
        &self,
        topic: &'static Topic,
        audience: Audience,
        versions: &[ExplanationVersion],
        names: &HashMap<UserId, String>,
        config: &ReadabilityConfig,
    ) -> AppResult<LibraryText> {
        let used = in_use(versions).cloned();
        let (title, body, pictures, language, measured) = match &used {
            Some(v) => (
                v.title.clone(),
                v.body.clone(),
                v.pictures.clone(),
                v.language.clone(),
                v.measured,
            ),
            None => {
                let d = default_text(topic, audience)?;
                (
                    d.title.clone(),
                    d.body.clone(),
                    d.pictures.clone(),
                    DEFAULT_LANGUAGE.to_owned(),
                    true,
                )
            }
        };
        let review = used.as_ref().map_or(
            Review {
                reviewed: false,
                reviewed_by: None,
                reviewed_at: None,
            },
            |v| review_of(v, names),
        );
        Ok(LibraryText {
            topic,
            audience,
            assessment: config.assess(&body, audience, measured),
            check: check_content(topic, &title, &body),
            title,
            body,
            pictures,
            language,
            measured,
            version: used,
            review,
        })
    }

    /// Every topic for every audience: the text in use, its review state and readability.
    pub async fn explanation_library(
        &self,
        actor: &Actor,
    ) -> AppResult<Vec<(&'static Topic, Vec<LibraryText>)>> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read the explanation library",
            "explanation",
            None,
        )
        .await?;
        let (config, _) = self.readability_config().await?;
        let all = self.store.explanation_versions().await?;
        let names = self
            .names(all.iter().filter_map(|v| v.reviewed_by).collect())
            .await?;
        let mut library = Vec::new();
        for topic in topics()? {
            let mut texts = Vec::new();
            for audience in Audience::ALL {
                let versions: Vec<ExplanationVersion> = all
                    .iter()
                    .filter(|v| v.topic == topic.code && v.audience == audience.code())
                    .cloned()
                    .collect();
                texts.push(self.text_of(topic, audience, &versions, &names, &config)?);
            }
            library.push((topic, texts));
        }
        Ok(library)
    }

    /// One topic and audience: the text in use and every version, newest first.
    pub async fn explanation_detail(
        &self,
        actor: &Actor,
        topic_code: &str,
        audience_code: &str,
    ) -> AppResult<LibraryDetail> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read an explanation",
            "explanation",
            Some(format!("{topic_code}/{audience_code}")),
        )
        .await?;
        let topic = topic(topic_code)?;
        let audience = audience(audience_code)?;
        let (config, _) = self.readability_config().await?;
        let versions = self
            .store
            .explanation_versions_of(&topic.code, audience.code())
            .await?;
        let names = self
            .names(
                versions
                    .iter()
                    .flat_map(|v| [Some(v.created_by), v.reviewed_by])
                    .flatten()
                    .collect(),
            )
            .await?;
        let text = self.text_of(topic, audience, &versions, &names, &config)?;
        let versions = versions
            .into_iter()
            .map(|v| VersionView {
                created_by: names.get(&v.created_by).cloned().unwrap_or_default(),
                review: review_of(&v, &names),
                check: check_content(topic, &v.title, &v.body),
                version: v,
            })
            .collect();
        Ok(LibraryDetail {
            text,
            versions,
            config,
        })
    }

    /// Saves a new version (a copy of the text in use, or an edit) as a draft. A version that
    /// fails the topic's content check is saved all the same; its check is returned to show.
    pub async fn create_explanation_version(
        &self,
        actor: &Actor,
        topic_code: &str,
        audience_code: &str,
        input: &VersionInput,
    ) -> AppResult<(ExplanationVersion, ContentCheck)> {
        let record = format!("{topic_code}/{audience_code}");
        self.require(
            actor,
            Action::EditExplanations,
            "write an explanation version",
            "explanation",
            Some(record.clone()),
        )
        .await?;
        let topic = topic(topic_code)?;
        let audience = audience(audience_code)?;
        let checked = check_input(input)?;
        let versions = self
            .store
            .explanation_versions_of(&topic.code, audience.code())
            .await?;
        let based_on = in_use(&versions).map_or(BASED_ON_DEFAULT.to_owned(), |v| v.id.to_string());
        let version = self
            .append_version(
                actor,
                topic,
                audience,
                checked,
                input.measured,
                based_on,
                None,
            )
            .await?;
        let check = check_content(topic, &version.title, &version.body);
        Ok((version, check))
    }

    #[allow(clippy::too_many_arguments)]
    async fn append_version(
        &self,
        actor: &Actor,
        topic: &Topic,
        audience: Audience,
        checked: Checked,
        measured: bool,
        based_on: String,
        reviewed_by: Option<UserId>,
    ) -> AppResult<ExplanationVersion> {
        let id = self.new_id();
        let mut events = vec![Event::new(
            audit::Action::ExplanationVersionCreated,
            Some(actor.user.id.to_string()),
            "explanation",
            Some(id.to_string()),
        )];
        if reviewed_by.is_some() {
            events.push(Event::new(
                audit::Action::ExplanationReviewed,
                Some(actor.user.id.to_string()),
                "explanation",
                Some(id.to_string()),
            ));
        }
        let audit = self.audit_batch(&actor.origin, events);
        Ok(self
            .store
            .create_explanation_version(
                &NewExplanationVersion {
                    id,
                    topic: topic.code.clone(),
                    audience: audience.code().to_owned(),
                    language: checked.language,
                    measured,
                    title: checked.title,
                    body: checked.body,
                    pictures: checked.pictures,
                    based_on,
                    reviewed_by,
                    created_by: actor.user.id,
                    created_at: self.clock.now(),
                },
                &audit,
            )
            .await?)
    }

    /// Marks a text reviewed by the acting clinician: a stored version (`Some`), or the
    /// shipped default (`None`), which writes a reviewed copy of it.
    pub async fn review_explanation(
        &self,
        actor: &Actor,
        topic_code: &str,
        audience_code: &str,
        version: Option<Uuid>,
    ) -> AppResult<ExplanationVersion> {
        self.require(
            actor,
            Action::EditExplanations,
            "review an explanation",
            "explanation",
            Some(version.map_or(format!("{topic_code}/{audience_code}"), |v| v.to_string())),
        )
        .await?;
        let topic = topic(topic_code)?;
        let audience = audience(audience_code)?;
        let Some(id) = version else {
            let d = default_text(topic, audience)?;
            let checked = Checked {
                title: d.title.clone(),
                body: d.body.clone(),
                pictures: d.pictures.clone(),
                language: DEFAULT_LANGUAGE.to_owned(),
            };
            return self
                .append_version(
                    actor,
                    topic,
                    audience,
                    checked,
                    true,
                    BASED_ON_DEFAULT.to_owned(),
                    Some(actor.user.id),
                )
                .await;
        };
        let found = self.version_of(topic, audience, id).await?;
        if found.is_reviewed() {
            return Err(AppError::Conflict(
                "this version is already reviewed".to_owned(),
            ));
        }
        let audit = self.audit_batch(
            &actor.origin,
            vec![Event::new(
                audit::Action::ExplanationReviewed,
                Some(actor.user.id.to_string()),
                "explanation",
                Some(id.to_string()),
            )],
        );
        if !self
            .store
            .review_explanation_version(id, actor.user.id, self.clock.now(), &audit)
            .await?
        {
            return Err(AppError::Conflict(
                "this version is already reviewed".to_owned(),
            ));
        }
        self.store
            .explanation_version(id)
            .await?
            .ok_or(AppError::NotFound)
    }

    async fn version_of(
        &self,
        topic: &Topic,
        audience: Audience,
        id: Uuid,
    ) -> AppResult<ExplanationVersion> {
        self.store
            .explanation_version(id)
            .await?
            .filter(|v| v.topic == topic.code && v.audience == audience.code())
            .ok_or(AppError::NotFound)
    }

    /// Publishes a version: it becomes the text in use (administrators and the service lead).
    /// Refused, naming them, when it makes a statement the topic forbids; missing ideas are
    /// shown as warnings but do not stop it.
    pub async fn publish_explanation(
        &self,
        actor: &Actor,
        topic_code: &str,
        audience_code: &str,
        id: Uuid,
    ) -> AppResult<ExplanationVersion> {
        self.require(
            actor,
            Action::PublishExplanations,
            "publish an explanation",
            "explanation",
            Some(id.to_string()),
        )
        .await?;
        let topic = topic(topic_code)?;
        let audience = audience(audience_code)?;
        let found = self.version_of(topic, audience, id).await?;
        let check = check_content(topic, &found.title, &found.body);
        if !check.forbidden.is_empty() {
            return Err(Invalid::field(
                "body",
                format!(
                    "This version cannot be published: it says {}, which no text about {} may say",
                    check
                        .forbidden
                        .iter()
                        .map(|f| format!("“{f}”"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    topic.title.to_lowercase()
                ),
            )
            .into());
        }
        if found.is_published() {
            return Ok(found);
        }
        let audit = self.audit_batch(
            &actor.origin,
            vec![Event::new(
                audit::Action::ExplanationPublished,
                Some(actor.user.id.to_string()),
                "explanation",
                Some(id.to_string()),
            )],
        );
        self.store
            .publish_explanation_version(id, self.clock.now(), &audit)
            .await?;
        self.store
            .explanation_version(id)
            .await?
            .ok_or(AppError::NotFound)
    }
}

impl Alliance {
    /// For the editor's page: may this actor write versions? A refusal is audited.
    pub async fn ensure_may_edit_explanations(&self, actor: &Actor) -> AppResult<()> {
        self.require(
            actor,
            Action::EditExplanations,
            "open the explanation editor",
            "explanation",
            None,
        )
        .await
    }
}

fn review_of(v: &ExplanationVersion, names: &HashMap<UserId, String>) -> Review {
    Review {
        reviewed: v.is_reviewed(),
        reviewed_by: v.reviewed_by.and_then(|u| names.get(&u).cloned()),
        reviewed_at: v.reviewed_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_is_each_bands_youngest_reader() {
        let config = ReadabilityConfig::default();
        assert_eq!(config.target(Audience::Children3To7), 6.0);
        assert_eq!(config.target(Audience::ParentsAndCarers), 9.0);
        assert_eq!(config.reading_age_offset, 5.0);
        assert_eq!(ReadabilityConfig::parse(&config).as_ref(), Ok(&config));
    }

    #[test]
    fn a_configuration_out_of_range_is_refused_by_field() {
        let mut config = ReadabilityConfig {
            reading_age_offset: 12.0,
            ..ReadabilityConfig::default()
        };
        config.targets.insert("8-11".to_owned(), 40.0);
        config.targets.insert("adults".to_owned(), 9.0);
        let Err(invalid) = ReadabilityConfig::parse(&config) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = invalid.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["reading_age_offset", "targets.adults", "targets.8-11"]
        );
    }

    #[test]
    fn bands_are_configured_contiguously_and_choose_a_childs_audience() {
        let config = ReadabilityConfig::default();
        assert_eq!(config.audience_for_age(4), Audience::Children3To7);
        assert_eq!(config.audience_for_age(11), Audience::Children8To11);
        assert_eq!(config.audience_for_age(12), Audience::Young12To15);
        assert_eq!(config.audience_for_age(19), Audience::Young16To25);
        assert_eq!(config.band(Audience::ParentsAndCarers), None);
        // A service whose primary band runs to 8.
        let mut wider = config.clone();
        wider.bands.insert("3-7".to_owned(), [3, 8]);
        wider.bands.insert("8-11".to_owned(), [9, 11]);
        let Ok(wider) = ReadabilityConfig::parse(&wider) else {
            panic!("refused a contiguous change");
        };
        assert_eq!(wider.audience_for_age(8), Audience::Children3To7);
        // A gap, an overlap and a backwards band are each refused by their field.
        for (code, band) in [("8-11", [10, 11]), ("8-11", [7, 11]), ("12-15", [15, 12])] {
            let mut bad = config.clone();
            bad.bands.insert(code.to_owned(), band);
            let Err(invalid) = ReadabilityConfig::parse(&bad) else {
                panic!("accepted {code} {band:?}");
            };
            assert!(
                invalid.errors.iter().any(|e| e.field.starts_with("bands.")),
                "{invalid:?}"
            );
        }
    }

    #[test]
    fn every_topic_has_every_audience() {
        let topics = topics().unwrap_or_default();
        assert_eq!(topics.len(), 10);
        for t in topics {
            for a in Audience::ALL {
                assert!(default_text(t, a).is_ok(), "{} {}", t.code, a.code());
            }
        }
    }
}

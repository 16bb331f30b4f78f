//! Use-cases: Rooms described for the work (issue 16): a room's arrangement and simple labelled layout, what else uses it and when, material categories (service data), materials and their condition, play kits that travel with a peripatetic therapist, the pre-session checklist and its checks.

use crate::Actor;
use crate::Alliance;
use crate::demo::DemoError;

impl Alliance {}

/// The demo service's step for this area (called from `demo::generate`, after the sites,
/// rooms, children and cases exist).
pub(crate) async fn demo_fill(
    _alliance: &Alliance,
    _admin: &Actor,
    _therapists: &[Actor],
) -> Result<(), DemoError> {
    Ok(())
}

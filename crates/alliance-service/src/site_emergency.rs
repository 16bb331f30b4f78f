//! Use-cases: A site's emergency procedures (issue 16): fire, medical emergency, a child leaving the room or site, aggression, a disclosure of immediate danger; the site's DSL and first aider for each day; the printable sheet (no clinical content).

use crate::Actor;
use crate::Alliance;
use crate::demo::DemoError;

impl Alliance {}

/// The demo service's step for this area (called from `demo::generate`, after the sites,
/// rooms, children and cases exist).
pub(crate) async fn demo_fill(_alliance: &Alliance, _admin: &Actor) -> Result<(), DemoError> {
    Ok(())
}

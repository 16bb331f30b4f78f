//! Use-cases: A child's emergency details and the emergency panel (issue 16, policy section 1): who may and may not collect (built on the child's carers), medical needs and allergies, and what each reader of the panel may see.

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

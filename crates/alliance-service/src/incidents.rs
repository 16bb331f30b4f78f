//! Use-cases: Incidents in sessions (issue 16): a child hurt, aggression, damage, any physical intervention: what happened, who was involved, what was done, who was told; links to the agreement's ground rules and to a safeguarding concern.

use crate::Alliance;

impl Alliance {}

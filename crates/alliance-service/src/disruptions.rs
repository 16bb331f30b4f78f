//! Use-cases: Disruptions to sessions (issue 16): the kinds, minutes lost, and the report per room and site over a period.

use crate::Alliance;

impl Alliance {}

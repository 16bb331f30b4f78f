//! Use-cases: A young person's safety plan in their own words (issue 16): warning signs, ways of coping, people and places, professionals and services, making their surroundings safer, with a review date.

use crate::Alliance;

impl Alliance {}

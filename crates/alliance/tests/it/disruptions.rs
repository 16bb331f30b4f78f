//! Issue 16: disruptions.

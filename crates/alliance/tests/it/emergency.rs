//! Issue 16: emergency.

//! Issue 16: incidents.

//! Issue 16: site emergency.

//! Issue 16: room care.

//! `hookline log` end to end: the real `hookline dev`, the Python sink, and the real binary
//! reading the history through the management API.

//! Support for the unit tests: hostile input for the parsers.

mod hostile;

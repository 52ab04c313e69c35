//! Support for the unit tests: hostile input for the parsers, and the check of the layering.

mod hostile;
mod layers;

//! Integration tests of the unit-file reader.

//! The project's VHDX writer, for tests.

//! JavaScript bindings (filled in by the web page's work).

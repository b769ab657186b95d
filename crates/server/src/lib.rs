//! Sesame server (being written).

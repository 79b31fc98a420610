//! Demo history for the evaluation pages: filled in later in this file.

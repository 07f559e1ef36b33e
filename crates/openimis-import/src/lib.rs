//! openimis-import

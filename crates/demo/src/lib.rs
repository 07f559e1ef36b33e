//! `bima demo --families N`: a synthetic scheme of exactly N families, with the locations,
//! health facilities, medical registers, price lists and products they need.

pub mod people;
pub mod places;

//! The registry's settings (the `[registry]` table of bima.toml, or BIMA_REGISTRY__* variables).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Required length of a new insurance number (CHFID); none = any length up to 50.
    pub insuree_number_length: Option<usize>,
    /// Check digit of a new CHFID: 10 = Luhn; any other n: `number[..-1] % n == last digit`.
    pub insuree_number_modulo_root: Option<u32>,
    /// Largest photo accepted, in bytes.
    pub photo_max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            insuree_number_length: None,
            insuree_number_modulo_root: None,
            photo_max_bytes: 512 * 1024,
        }
    }
}

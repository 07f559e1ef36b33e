//! Settings: defaults, then an optional `bima.toml`, then `BIMA_*` variables, then command-line
//! options (clap reads both the options and their variables).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address the server listens on.
    pub addr: String,
    /// Folder of the embedded SQLite database (and later uploads).
    pub data_dir: PathBuf,
    /// `postgres://…` to run on PostgreSQL; none = SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Password of the bootstrap administrator; none = a random one, printed once.
    pub admin_password: Option<String>,
    /// How long a login token is valid, in minutes.
    pub token_minutes: i64,
    pub max_connections: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Log filter, e.g. `info` or `bima=debug`.
    pub log: String,
    /// The registry's settings (insurance number rules, photo size).
    pub registry: registry::config::Config,
    /// The policy module's settings (what a paid policy becomes).
    pub policy: policy::service::Config,
    /// The claims module's settings (selection for review).
    pub claim: claim::service::Config,
    /// The FHIR API's settings (currency, the insurer's name).
    pub fhir: fhir::Config,
    /// The web UI's settings (idle timeout, secure cookies).
    pub web: web::Config,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("bima-data"),
            database_url: None,
            admin_password: None,
            token_minutes: 8 * 60,
            max_connections: 16,
            max_body_bytes: 2 * 1024 * 1024,
            log: "info,sqlx=error".into(),
            registry: registry::config::Config::default(),
            policy: policy::service::Config::default(),
            claim: claim::service::Config::default(),
            fhir: fhir::Config::default(),
            web: web::Config::default(),
        }
    }
}

/// The global options every command takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalOptions {
    /// Folder for the embedded SQLite database [default: ./bima-data]
    #[arg(long, env = "BIMA_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user@host/db); without it Bima runs on SQLite
    #[arg(long, env = "BIMA_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "BIMA_ADDR", global = true)]
    pub addr: Option<String>,
    /// Configuration file [default: ./bima.toml when present]
    #[arg(long, env = "BIMA_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

impl GlobalOptions {
    pub fn settings(&self) -> Result<Settings, Box<figment::Error>> {
        let file = self
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from("bima.toml"));
        let mut settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(
                Env::prefixed("BIMA_")
                    .ignore(&["config", "test_database_url"])
                    .split("__"),
            )
            .extract()
            .map_err(Box::new)?;
        if let Some(d) = &self.data_dir {
            settings.data_dir = d.clone();
        }
        if let Some(u) = &self.database_url {
            settings.database_url = Some(u.clone());
        }
        if let Some(a) = &self.addr {
            settings.addr = a.clone();
        }
        settings.database_url = settings.database_url.filter(|u| !u.trim().is_empty());
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_read_and_options_win_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bima.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:9999\"\ndata_dir = \"/srv/bima\"\ntoken_minutes = 60\n",
        )
        .unwrap();
        let from_file = GlobalOptions {
            config: Some(file.clone()),
            ..GlobalOptions::default()
        }
        .settings()
        .unwrap();
        assert_eq!(from_file.addr, "127.0.0.1:9999");
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/bima"));
        assert_eq!(from_file.token_minutes, 60);
        let overridden = GlobalOptions {
            config: Some(file),
            addr: Some("0.0.0.0:8081".into()),
            data_dir: Some("here".into()),
            database_url: Some("  ".into()),
        }
        .settings()
        .unwrap();
        assert_eq!(overridden.addr, "0.0.0.0:8081");
        assert_eq!(overridden.data_dir, PathBuf::from("here"));
        assert_eq!(overridden.database_url, None, "a blank URL means SQLite");
    }

    #[test]
    fn without_a_file_the_defaults_hold() {
        let dir = tempfile::tempdir().unwrap();
        let s = GlobalOptions {
            config: Some(dir.path().join("absent.toml")),
            ..GlobalOptions::default()
        }
        .settings()
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("bima-data"));
        assert_eq!(s.token_minutes, 480);
    }

    #[test]
    fn a_broken_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bima.toml");
        std::fs::write(&file, "token_minutes = \"soon\"").unwrap();
        assert!(
            GlobalOptions {
                config: Some(file),
                ..GlobalOptions::default()
            }
            .settings()
            .is_err()
        );
    }
}

//! `bima`: the whole system in one binary. See `bima --help`.

use anyhow::Context;
use bima::app;
use bima::config::GlobalOptions;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bima",
    version,
    about = "Insurance and social-protection schemes, on SQLite or PostgreSQL"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (REST API, docs, metrics) until stopped
    Serve {
        /// On a database without any scheme yet, first build a demo scheme
        #[arg(long)]
        demo: bool,
        /// Families of that demo scheme
        #[arg(long, default_value_t = 1000)]
        demo_families: u64,
        /// Claims of that demo scheme's visits
        #[arg(long, default_value_t = 2000)]
        demo_claims: u64,
    },
    /// Apply pending database migrations and exit
    Migrate,
    /// Check the audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Build a synthetic scheme: locations, facilities, registers, products, families
    Demo {
        /// Exactly this many families (about four insurees each)
        #[arg(long, default_value_t = 1000)]
        families: u64,
        /// Claims of their visits over the last eleven months, adjudicated and processed
        /// (services of the national product wait for the month's batch run)
        #[arg(long, default_value_t = 0)]
        claims: u64,
        /// Seed of the generator: the same seed builds the same people
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the families as an openIMIS export (one CSV per legacy table) into this
        /// folder instead of building them in the database: what `bima import openimis` reads
        #[arg(long, value_name = "DIR")]
        openimis_export: Option<std::path::PathBuf>,
    },
    /// Load data from another system
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write a consistent copy of the database to FILE while it serves (SQLite: a database
    /// file; PostgreSQL: a pg_dump archive)
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace the database with the backup in FILE (stop the server first); the audit chain
    /// is checked afterwards
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Policy housekeeping
    Policies {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Expire every policy whose expiry date is before DATE (the server does this daily)
    Expire {
        /// As of this day, YYYY-MM-DD [default: today]
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain: prints "ok, N records" or names the first broken record
    Verify,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import an openIMIS CSV export (one file per table, e.g. tblLocations.csv)
    Openimis {
        /// Folder holding the CSV files
        dir: PathBuf,
        /// Exit 0 even if some rows were skipped
        #[arg(long)]
        allow_partial: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match cli.global.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the configuration cannot be read: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&settings.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: bima::config::Settings) -> anyhow::Result<ExitCode> {
    if let Command::Demo {
        families,
        seed,
        openimis_export: Some(dir),
        ..
    } = &command
    {
        // A folder of CSV files: no database involved.
        let started = std::time::Instant::now();
        let today = time::OffsetDateTime::now_utc().date();
        let written = demo::openimis_export::write(dir, *families, *seed, today, true)?;
        println!(
            "wrote {} ({written}) in {:.1} s",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Restore { file } = &command {
        // Before opening: the database is about to be replaced.
        let started = std::time::Instant::now();
        store::backup::restore(&app::db_options(&settings), file).await?;
        let (db, _) = app::open_database(&settings).await?;
        let verdict = kernel::audit::verify(&db).await?;
        db.close().await;
        println!(
            "restored {} into the {} database in {:.1} s",
            file.display(),
            db.engine().name(),
            started.elapsed().as_secs_f64()
        );
        return Ok(match verdict {
            kernel::audit::Verdict::Intact { records } => {
                println!("ok, the audit chain verifies ({records} records)");
                ExitCode::SUCCESS
            }
            kernel::audit::Verdict::Broken { seq, reason, .. } => {
                println!("the restored audit chain is broken at record {seq}: {reason}");
                ExitCode::FAILURE
            }
        });
    }
    let (db, bootstrap) = app::open_database(&settings).await?;
    app::announce(&bootstrap);
    match command {
        Command::Serve {
            demo,
            demo_families,
            demo_claims,
        } => {
            if demo && demo::scheme_is_empty(&db).await? {
                eprintln!("Building a demo scheme of {demo_families} families…");
                let today = time::OffsetDateTime::now_utc().date();
                let built = demo::build(&db, demo_families, demo_claims, 1, today, true).await?;
                eprintln!("Built {built}.");
            }
            claim::service::configure(&settings.claim);
            if let Some(dir) = &settings.web.locales_dir {
                let read = web::i18n::load_packs(dir).map_err(anyhow::Error::msg)?;
                eprintln!("Language packs from {}: {}", dir.display(), read.join(", "));
            }
            let router = app::router(db.clone(), &settings).await?;
            let sealer = kernel::audit::spawn_sealer(db.clone(), std::time::Duration::from_secs(1));
            let expiry = policy::service::spawn_expiry(db.clone());
            let _batches = claim::service::spawn_unfinished_batch_runs(db.clone());
            let listener = tokio::net::TcpListener::bind(&settings.addr)
                .await
                .with_context(|| format!("cannot listen on {}", settings.addr))?;
            tracing::info!(addr = %settings.addr, database = db.engine().name(), "Bima is serving");
            eprintln!(
                "Bima is serving on http://{} ({} database). API docs: http://{}/api/docs",
                settings.addr,
                db.engine().name(),
                settings.addr
            );
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            sealer.abort();
            expiry.abort();
            kernel::audit::seal(&db).await?;
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policies {
            command: PolicyCommand::Expire { date },
        } => {
            let today = match date {
                None => time::OffsetDateTime::now_utc().date(),
                Some(text) => time::Date::parse(
                    text.trim(),
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .with_context(|| format!("{text} is not a date like 2026-11-25"))?,
            };
            let expired = policy::service::expire_policies(&db, today).await?;
            kernel::audit::seal(&db).await?;
            println!("{expired} policies expired as of {today}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { file } => {
            let started = std::time::Instant::now();
            kernel::audit::seal(&db).await?;
            let done = store::backup::backup(&db, &app::db_options(&settings), &file).await?;
            db.close().await;
            println!(
                "backed up the {} database to {} ({} bytes) in {:.1} s",
                done.engine.name(),
                done.file.display(),
                done.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { .. } => unreachable!("restored before the database is opened"),
        Command::Migrate => {
            println!("ok, the database is up to date ({})", db.engine().name());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => match kernel::audit::verify(&db).await? {
            kernel::audit::Verdict::Intact { records } => {
                println!("ok, {records} records");
                Ok(ExitCode::SUCCESS)
            }
            kernel::audit::Verdict::Broken {
                seq,
                chain_pos,
                reason,
            } => {
                println!("broken at record {seq} (chain position {chain_pos}): {reason}");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Demo {
            families,
            claims,
            seed,
            ..
        } => {
            let started = std::time::Instant::now();
            let today = time::OffsetDateTime::now_utc().date();
            let built = demo::build(&db, families, claims, seed, today, true).await?;
            kernel::audit::seal(&db).await?;
            println!("built {built} in {:.1} s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            command: ImportCommand::Openimis { dir, allow_partial },
        } => {
            let started = std::time::Instant::now();
            let report = openimis_import::run(&db, &dir, openimis_import::Progress::Bar).await?;
            db.optimize().await?;
            print!("{}", report.table());
            let sealing = std::time::Instant::now();
            let sealed = kernel::audit::seal(&db).await?;
            println!(
                "{sealed} audit records sealed in {:.1} s; {:.1} s in all",
                sealing.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
            if report.skipped() > 0 && !allow_partial {
                eprintln!(
                    "{} rows were skipped (see above); run again with --allow-partial to accept that",
                    report.skipped()
                );
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

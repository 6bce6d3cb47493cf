//! The command line: `duban serve` runs the service, `duban token` mints a token for demos
//! and scripts, `duban verify` checks a data directory's log offline, `duban rebuild` rebuilds
//! its read models, `duban import` loads a plan file, `duban scan` runs the notifier once,
//! `duban demo` plays a scripted history on a fresh data directory and serves it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Settings};
use crate::store::{Checkpoint, Hash, SledStore};

#[derive(Parser)]
#[command(
    name = "duban",
    version,
    about = "督办: supervision of a plan's key projects"
)]
struct Cli {
    /// Settings file (defaults < this file < DUBAN_* variables).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the event log lives (overrides the settings).
    #[arg(long, env = "DUBAN_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service until SIGTERM / Ctrl-C.
    Serve,
    /// Mint a bearer token with the configured HS256 secret.
    Token {
        #[arg(long, value_parser = ["office", "department", "inspector", "admin"])]
        role: String,
        /// The department code, for role department.
        #[arg(long)]
        dept: Option<String>,
        #[arg(long)]
        sub: String,
        /// Lifetime, e.g. 8h, 30m, 2d.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
    },
    /// Recompute the hash chain of the log; exit 1 and name the first bad seq if it breaks.
    Verify {
        /// Start from a trusted checkpoint instead of seq 1: `SEQ:HASH`.
        #[arg(long, value_parser = parse_checkpoint)]
        from: Option<Checkpoint>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the notifier once: record the notices due today and deliver the outbox (the
    /// service must be stopped; a running one does this through POST /api/v1/admin/scan).
    Scan,
    /// Rebuild every read model from seq 1 (the service must be stopped; a running service
    /// rebuilds online through POST /api/v1/admin/rebuild).
    Rebuild,
    /// Validate a plan file and import its projects as the office; exit 1 naming what is wrong.
    Import {
        /// The plan file, e.g. plans/shanxi-sei-2016-2020.toml.
        file: PathBuf,
    },
    /// Import the plan into a fresh data dir (./demo-data), play a scripted history through
    /// the API on a simulated clock, print tokens and examples, then serve.
    Demo(crate::demo::DemoArgs),
}

fn parse_checkpoint(s: &str) -> Result<Checkpoint, String> {
    let (seq, hash) = s.split_once(':').ok_or("expected SEQ:HASH")?;
    Ok(Checkpoint {
        seq: seq.parse().map_err(|e| format!("bad seq: {e}"))?,
        hash: hash.parse::<Hash>()?,
    })
}

fn parse_ttl(s: &str) -> Result<chrono::Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 8h, 30m, 2d"))?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" | "" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("{s:?}: the unit is s, m, h or d")),
    }
}

fn init_tracing(format: LogFormat) {
    init_tracing_with(format, "info");
}

/// Tracing to stderr; `RUST_LOG` overrides the default filter.
fn init_tracing_with(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Verify { from, json } => {
            init_tracing(LogFormat::Pretty);
            let dir = cli
                .data_dir
                .clone()
                .unwrap_or_else(|| Settings::default().data_dir);
            verify(&dir, *from, *json)
        }
        Command::Token {
            role,
            dept,
            sub,
            ttl,
        } => match load(&cli)
            .and_then(|s| crate::http::auth::mint(&s.jwt, sub, role, dept.as_deref(), *ttl))
        {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Scan => match load(&cli) {
            Ok(s) => {
                init_tracing(s.log_format);
                match scan(s) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(e),
                }
            }
            Err(e) => fail(e),
        },
        Command::Rebuild => {
            init_tracing(LogFormat::Pretty);
            let dir = cli
                .data_dir
                .clone()
                .unwrap_or_else(|| Settings::default().data_dir);
            match rebuild(&dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::Serve => match load(&cli) {
            Ok(s) => {
                init_tracing(s.log_format);
                crate::startup::apply_process_settings(&s);
                match serve(s) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(e),
                }
            }
            Err(e) => fail(e),
        },
        Command::Import { file } => import(&cli, file),
        Command::Demo(args) => {
            // Quiet by default: the demo's own lines tell the story.
            init_tracing_with(LogFormat::Pretty, "warn");
            let settings = crate::demo::settings(cli.config.as_deref(), cli.data_dir.clone(), args);
            match settings.and_then(|s| crate::demo::main(s, args.clone())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
    }
}

/// Exit 0 with a summary; 1 when the file is unreadable, invalid or refused; 2 on setup.
fn import(cli: &Cli, file: &std::path::Path) -> ExitCode {
    init_tracing(LogFormat::Pretty);
    let mut settings = match Settings::load_without_validation(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Some(dir) = &cli.data_dir {
        settings.data_dir = dir.clone();
    }
    match crate::plan::import_file(&settings, file) {
        Ok(report) => {
            println!("imported {}\n{report}", file.display());
            ExitCode::SUCCESS
        }
        Err(crate::plan::ImportFileError::Setup(e)) => fail(e),
        Err(e) => {
            eprintln!("duban: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(cli: &Cli) -> anyhow::Result<Settings> {
    let mut s = Settings::load_without_validation(cli.config.as_deref())?;
    if let Some(dir) = &cli.data_dir {
        s.data_dir = dir.clone();
    }
    s.ensure_secret()?;
    s.validate()?;
    Ok(s)
}

fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("duban: {e:#}");
    ExitCode::from(2)
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = crate::startup::Application::build(&settings).await?;
    eprintln!(
        "duban serving on http://{}:{}/ (docs at /docs)",
        settings.listen.ip(),
        app.port()
    );
    app.run_until_stopped().await
}

#[tokio::main(flavor = "current_thread")]
async fn scan(settings: Settings) -> anyhow::Result<()> {
    let report = crate::startup::scan_once(&settings).await?;
    let d = &report.delivery;
    println!(
        "{}: {} notices decided; {} mails sent carrying {} notices; {} failed; {} deferred; \
         {} waiting to be retried; {} held back by a hold or a claim; {} withdrawn",
        report.day,
        report.decided,
        d.mails_sent,
        d.notices_sent,
        d.notices_failed,
        d.deferred,
        d.waiting_retry,
        d.withheld,
        d.withdrawn
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn rebuild(dir: &std::path::Path) -> anyhow::Result<()> {
    if !dir.join("db").exists() {
        anyhow::bail!("no event log in {}", dir.display());
    }
    let store = SledStore::open(dir, Default::default())?;
    let models = crate::projection::ReadModels::open(&dir.join("projections"))?;
    let report = crate::projection::rebuild(&store, &models).await;
    // The service is stopped: nobody reads the generation the rebuild replaced.
    models.drop_replaced();
    models.flush()?;
    store.close();
    let r = report?;
    println!(
        "rebuilt the read models from {} events through seq {} in {:.2} s ({:.0} events/s)",
        r.events, r.position, r.seconds, r.events_per_second
    );
    Ok(())
}

fn verify(dir: &std::path::Path, from: Option<Checkpoint>, json: bool) -> ExitCode {
    if !dir.join("db").exists() {
        eprintln!("no event log in {}", dir.display());
        return ExitCode::from(2);
    }
    let report = match SledStore::verify_offline(dir, from) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("cannot read the log in {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        );
    } else if let Some(b) = &report.first_break {
        println!("BROKEN at seq {} ({:?}): {}", b.seq, b.kind, b.reason);
        println!("verified {} events before it", report.checked);
    } else {
        let h = report.verified_through;
        println!(
            "OK: {} events verified; head seq {} hash {}",
            report.checked, h.seq, h.hash
        );
    }
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

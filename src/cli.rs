//! The command line: `duban verify` checks a data directory's log offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::store::{Checkpoint, Hash, SledStore};

#[derive(Parser)]
#[command(
    name = "duban",
    version,
    about = "督办: supervision of a plan's key projects"
)]
struct Cli {
    /// Where the event log lives.
    #[arg(long, env = "DUBAN_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Recompute the hash chain of the log; exit 1 and name the first bad seq if it breaks.
    Verify {
        /// Start from a trusted checkpoint instead of seq 1: `SEQ:HASH`.
        #[arg(long, value_parser = parse_checkpoint)]
        from: Option<Checkpoint>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_checkpoint(s: &str) -> Result<Checkpoint, String> {
    let (seq, hash) = s.split_once(':').ok_or("expected SEQ:HASH")?;
    Ok(Checkpoint {
        seq: seq.parse().map_err(|e| format!("bad seq: {e}"))?,
        hash: hash.parse::<Hash>()?,
    })
}

pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Verify { from, json } => verify(&cli.data_dir, from, json),
    }
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

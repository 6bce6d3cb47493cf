//! `duban demo` from start to finish: a fresh data directory, the plan imported as the
//! office, the service built on the simulated clock, the story played through the API, the
//! lights checked, the reminder scan triggered — then the guide, and serving until stopped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::acts;
use super::check::{self, Lights};
use super::client::{self, Client};
use super::clock::{SimulatedClock, local, shanghai};
use super::guide::{Guide, Tokens};
use super::ids::PlanIndex;
use super::story::{IMPORTED_AT, STORY, Who};
use crate::command::Dispatcher;
use crate::config::Settings;
use crate::plan::{self, PlanFile};
use crate::policy::Policies;
use crate::startup::Application;
use crate::store::{SledStore, StoreOptions};

pub const DEFAULT_AT: &str = "2018-06-15T10:00:00+08:00";
pub const DEFAULT_DATA_DIR: &str = "demo-data";
const TOKEN_HOURS: i64 = 12;
/// The department whose token the guide hands out.
const GUIDE_DEPARTMENT: &str = "TY-GOV";

/// `duban demo`'s flags (the data directory is the global `--data-dir`, `./demo-data` here).
#[derive(clap::Args, Clone, Debug)]
pub struct DemoArgs {
    /// Where the service listens [default: the listen setting, 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The simulated now: once the story is played, the service's clock stays here (RFC 3339).
    #[arg(long, default_value = DEFAULT_AT, value_parser = parse_at)]
    pub at: DateTime<Utc>,
    /// Play the story, check it and exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Wipe the data directory first (only if all it holds is what duban writes).
    #[arg(long)]
    pub fresh: bool,
    /// The plan file to import.
    #[arg(long, default_value = "plans/shanxi-sei-2016-2020.toml")]
    pub plan: PathBuf,
}

fn parse_at(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{s:?}: expected RFC 3339, e.g. {DEFAULT_AT}: {e}"))
}

/// The settings (file and `DUBAN_*`) with the demo's data directory and listen address.
pub fn settings(
    config: Option<&Path>,
    data_dir: Option<PathBuf>,
    args: &DemoArgs,
) -> anyhow::Result<Settings> {
    let mut s = Settings::load_without_validation(config)?;
    s.data_dir = data_dir.unwrap_or_else(|| DEFAULT_DATA_DIR.into());
    if let Some(listen) = args.listen {
        s.listen = listen;
    }
    // The story moves the clock step by step; a background notifier would decide notices at
    // whichever step it happened to wake on. The demo runs the notifier itself, once, at the
    // moment the clock stops.
    s.notifier = false;
    Ok(s)
}

/// The command: plays the story, prints the guide, serves unless `--no-serve`.
#[actix_web::main]
pub async fn main(settings: Settings, args: DemoArgs) -> anyhow::Result<()> {
    let demo = Demo::start(settings, &args).await?;
    demo.guide().print(!args.no_serve);
    if args.no_serve {
        demo.stop().await
    } else {
        demo.serve_until_stopped().await
    }
}

/// The running service with the story played.
pub struct Demo {
    /// Where users reach it.
    pub url: String,
    pub data_dir: PathBuf,
    pub tokens: Tokens,
    pub lights: Lights,
    smtp: bool,
    /// Whether the reminder scan ran (and produced whatever mails were due).
    scanned: bool,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Demo {
    /// Everything up to serving: on any failure the service is stopped and the log closed.
    pub async fn start(mut settings: Settings, args: &DemoArgs) -> anyhow::Result<Self> {
        let (policies, plan) = prepare(&mut settings, args)?;
        let index = PlanIndex::new(&plan);
        // Every project, milestone and target the story names is in the plan, before anything
        // is written.
        for step in STORY {
            acts::request(step, &index, &step.at[..10])?;
        }
        let clock = SimulatedClock::starting_at(local(IMPORTED_AT));
        let message = format!(
            "simulated clock: the history is played on its own dates from {}; then the clock \
             stops at {} — every light, list and reminder is as of that moment",
            shanghai(clock.now()),
            shanghai(args.at)
        );
        println!("{message}\n");
        tracing::info!("{message}");
        import(&settings, &plan, &clock, &args.plan).await?;

        let app = Application::build_with_clock(&settings, clock.clock()).await?;
        let reach = reachable(settings.listen, app.port());
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        let client = Client::new(format!("http://{reach}"), settings.jwt.clone())?;
        let (lights, scanned) = match story(client, &index, &policies, &clock, args.at).await {
            Ok(played) => played,
            Err(e) => {
                handle.stop(true).await;
                let _ = server.await;
                return Err(e);
            }
        };
        Ok(Self {
            url: public_url(&settings, reach),
            data_dir: settings.data_dir.clone(),
            tokens: tokens(&settings, &policies)?,
            lights,
            smtp: settings.mail.smtp_url.is_some(),
            scanned,
            handle,
            server,
        })
    }

    pub fn guide(&self) -> Guide<'_> {
        let red = self.lights.projects.iter().find(|l| l.expected == "red");
        Guide {
            url: &self.url,
            data_dir: &self.data_dir,
            tokens: &self.tokens,
            token_hours: TOKEN_HOURS,
            smtp: self.smtp,
            scanned: self.scanned,
            red_project: red.map_or("", |l| l.project_id.as_str()),
        }
    }

    /// Serves until SIGTERM / Ctrl-C, then closes the log.
    pub async fn serve_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?
    }

    /// Stops serving and closes the log.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.server.await?
    }
}

/// A fresh data directory with its secret, the policies and the plan, or why not.
fn prepare(settings: &mut Settings, args: &DemoArgs) -> anyhow::Result<(Policies, PlanFile)> {
    let last = local(STORY[STORY.len() - 1].at);
    if args.at <= last {
        anyhow::bail!(
            "--at must be after the story's last step, {}",
            shanghai(last)
        );
    }
    super::data_dir::prepare(&settings.data_dir, args.fresh)?;
    settings.ensure_secret()?;
    settings.validate()?;
    let policies = Policies::load(&settings.policies_dir)?;
    let plan = load_plan(&args.plan, &policies)?;
    Ok((policies, plan))
}

/// The story through the API, then the clock stopped at `at`, the lights checked and the
/// reminder scan triggered.
async fn story(
    mut client: Client,
    index: &PlanIndex,
    policies: &Policies,
    clock: &SimulatedClock,
    at: DateTime<Utc>,
) -> anyhow::Result<(Lights, bool)> {
    play(&mut client, index, policies, clock).await?;
    clock.set(at)?;
    let lights = check::lights(&client, index).await?;
    lights.print();
    promise_kept(&lights, at)?;
    let scanned = scan(&client).await?;
    Ok((lights, scanned))
}

fn load_plan(path: &Path, policies: &Policies) -> anyhow::Result<PlanFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the plan file {}: {e}", path.display()))?;
    PlanFile::parse(&text, &policies.departments)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The import, as the office on the day the story starts, before the service opens the log.
async fn import(
    settings: &Settings,
    plan: &PlanFile,
    clock: &SimulatedClock,
    path: &Path,
) -> anyhow::Result<()> {
    let options = StoreOptions {
        clock: clock.clock(),
        ..StoreOptions::default()
    };
    let store = SledStore::open(&settings.data_dir, options)?;
    let policies = Arc::new(Policies::load(&settings.policies_dir)?);
    let dispatcher = Dispatcher::new(store.clone(), policies);
    let actor = plan::import_actor();
    let report = plan::import(&dispatcher, plan, &actor, clock.now()).await;
    store.close();
    let r = report?;
    println!(
        "{}  领导小组办公室 ({}) imports {}: {} projects, {} milestones, {} targets",
        local_time(clock.now()),
        actor.sub,
        path.display(),
        r.projects_created,
        r.milestones_scheduled,
        r.targets_set
    );
    Ok(())
}

/// Plays the story: each step at its time, through the API, one line each.
async fn play(
    client: &mut Client,
    plan: &PlanIndex,
    policies: &Policies,
    clock: &SimulatedClock,
) -> anyhow::Result<()> {
    for step in STORY {
        let at = local(step.at);
        clock.set(at)?;
        let request = acts::request(step, plan, &step.at[..10])?;
        client.command(step.who, &request).await?;
        let project = &plan.project(step.project)?.name;
        let who = who(step.who, policies);
        println!("{}  {project} | {who} {}", step.at, request.what);
    }
    Ok(())
}

fn who(who: Who, policies: &Policies) -> String {
    match who {
        Who::Office => format!("领导小组办公室 ({})", client::OFFICE_SUB),
        Who::Inspector => format!("督查组 ({})", client::INSPECTOR_SUB),
        Who::Dept(code) => format!("{} [{code}]", department_name(code, policies)),
    }
}

fn department_name(code: &str, policies: &Policies) -> String {
    crate::domain::DepartmentCode::new(code.to_string())
        .ok()
        .and_then(|c| policies.departments.get(&c).map(|d| d.name.clone()))
        .unwrap_or_default()
}

/// At the default moment the story must give its three colours; at another, a difference is
/// what that moment shows, and only noted.
fn promise_kept(lights: &Lights, at: DateTime<Utc>) -> anyhow::Result<()> {
    let wrong = lights.mismatches();
    if wrong.is_empty() {
        return Ok(());
    }
    if Some(at) == parse_at(DEFAULT_AT).ok() {
        anyhow::bail!(
            "the story did not give a green, a yellow and a red project: {}",
            wrong.join("; ")
        );
    }
    println!(
        "note: at {} the story's lights differ from 2018-06-15's: {}",
        shanghai(at),
        wrong.join("; ")
    );
    Ok(())
}

/// The reminder scan, as an admin, at the simulated now; false when this build has none.
async fn scan(client: &Client) -> anyhow::Result<bool> {
    let (status, body) = client.admin_scan().await?;
    match status.as_u16() {
        404 => {
            println!(
                "\nreminder scan: POST /api/v1/admin/scan is not in this build (404) — no mails \
                 produced"
            );
            Ok(false)
        }
        s if (200..300).contains(&s) => {
            println!("\nreminder scan: {body}");
            Ok(true)
        }
        _ => anyhow::bail!("the reminder scan failed: {status}: {body}"),
    }
}

fn tokens(settings: &Settings, policies: &Policies) -> anyhow::Result<Tokens> {
    let ttl = chrono::Duration::hours(TOKEN_HOURS);
    let mint = |who| client::mint(&settings.jwt, who, ttl);
    Ok(Tokens {
        office: mint(Some(Who::Office))?,
        inspector: mint(Some(Who::Inspector))?,
        department: (
            GUIDE_DEPARTMENT.to_string(),
            department_name(GUIDE_DEPARTMENT, policies),
            mint(Some(Who::Dept(GUIDE_DEPARTMENT)))?,
        ),
        admin: mint(None)?,
    })
}

/// The address a local client reaches: the listen address, or loopback for "any".
fn reachable(listen: SocketAddr, port: u16) -> SocketAddr {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, port)
}

/// `DUBAN_PUBLIC_URL` when set, else where the demo reached the service.
fn public_url(settings: &Settings, reach: SocketAddr) -> String {
    if settings.public_url != Settings::default().public_url {
        return settings.public_url.clone();
    }
    format!("http://{reach}")
}

fn local_time(at: DateTime<Utc>) -> String {
    shanghai(at).trim_end_matches(" Asia/Shanghai").to_string()
}

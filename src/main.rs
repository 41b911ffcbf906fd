//! The `sentinel` command line: parses arguments and hands each subcommand to
//! `sentinel::commands` (or the demo), turning its result into the process exit code.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "sentinel",
    version,
    about = "A quiet watchman: pages only when something that was supposed to happen didn't."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: every watch on its interval, the ping API, /metrics. Exits 2 at start on
    /// a wrong configuration or a SQL source whose role can do more than read (unless
    /// allow_privileged_role = true on it).
    Run {
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// Evaluate every watch once (for cron). Exit 0: nothing firing; 1: something firing; 2: could
    /// not run (a wrong configuration, or a SQL source whose role can do more than read).
    Check {
        /// Run one pass and exit (the only mode; kept for clarity in crontabs).
        #[arg(long, default_value_t = true)]
        once: bool,
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// Show Sentinel at work on an embedded world: no config, no network, no keys.
    Demo {
        /// How long the demo runs in real time (it simulates several days in that time).
        #[arg(long = "for", value_parser = humantime::parse_duration, default_value = "20s")]
        duration: std::time::Duration,
        /// Print each notice as one JSON object per line instead of the phone view.
        #[arg(long)]
        json: bool,
    },
    /// Write a commented example configuration.
    Init {
        #[arg(default_value = "sentinel.toml")]
        path: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Add an `[evidence]` block for chargeback evidence packs, written for a common app
        /// schema (supabase, devise, django, generic), with the SQL source it reads;
        /// `--evidence list` describes them.
        #[arg(long, value_name = "PRESET")]
        evidence: Option<String>,
    },
    /// Run one read-only query against a configured source and print a table: SQL through the
    /// statement guard (READ ONLY transaction, timeouts, caps), PromQL at this instant, or
    /// LogQL (a metric query at this instant; a log query shows the last hour's newest lines).
    /// Exit 0: the table (a cap that cut it is named under it); 1: the query is at fault
    /// (refused by the guard, rejected by the source, stopped at its timeout); 2: it could not
    /// be run (configuration, unknown source, source unreachable, or a SQL source's role can
    /// do more than read).
    Query {
        /// The name of a [sources.NAME] of kind postgres, mysql, sqlite, prometheus or loki.
        source: String,
        /// One read statement (SELECT, WITH, SHOW, EXPLAIN without ANALYZE), PromQL or LogQL.
        query: String,
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// Check every source (reachable, and read-only?) and the files the watches read. Exit 0:
    /// all fine; 1: a source can write, or something cannot be read; 2: the configuration
    /// cannot be loaded.
    Doctor {
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// The log template miner: templates, learning, what is new.
    Logs {
        #[command(subcommand)]
        command: LogsCommand,
    },
    /// Investigate now and print the report: an approved request by id (`12`), a watch's
    /// alerts by its name, a page by its notice key, or --question about the last page. Read-only, like `run`. Exit 0:
    /// report printed; 1: nothing to investigate; 2: Sentinel cannot run.
    Investigate {
        /// A request id (`sentinel investigations` lists them), a watch name, or a page's
        /// notice key (`<watch>/firing/<subject>#<incident>`).
        target: Option<String>,
        /// The question to answer (about the watch named, or the last page).
        #[arg(long, short)]
        question: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// The investigation requests the operator approved, oldest first, with where each stands;
    /// `show ID` prints one's report. Exit 0: listed or shown; 1: no such report; 2: the store
    /// cannot be read.
    Investigations {
        #[command(subcommand)]
        command: Option<InvestigationsCommand>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// What would have paged over a past period: the watches replayed at their own intervals
    /// through the real engine and tracker, on a throwaway store, calling no channel.
    /// Exit 0: replayed; 1: bad window or unknown watch; 2: cannot run.
    Backtest {
        /// Start: RFC 3339, or a span before now (`7d`).
        #[arg(long)]
        from: String,
        /// End: RFC 3339, a span before now, or `now`.
        #[arg(long, default_value = "now")]
        to: String,
        /// Only this watch (repeat for several).
        #[arg(long = "watch")]
        watches: Vec<String>,
        /// Change a watch's setting for this replay only: `watch.NAME.KEY=VALUE` (repeatable).
        #[arg(long = "set")]
        sets: Vec<String>,
        /// Log watches had been running since then (RFC 3339 or a span before now): what their
        /// logs held before it is learned, never paged. Default: --from.
        #[arg(long)]
        learned_before: Option<String>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// Build the chargeback evidence pack for one customer: a PDF and the JSON of Stripe's
    /// evidence fields, read-only from the app's database; nothing is sent to Stripe.
    /// Exit 0: written; 1: customer or dispute not found; 2: cannot run.
    Evidence {
        /// The customer's email.
        #[arg(long, conflicts_with = "customer")]
        email: Option<String>,
        /// The app's id for the customer.
        #[arg(long)]
        customer: Option<String>,
        /// The Stripe dispute (`dp_...`) the pack answers, as the webhook stored it.
        #[arg(long, conflicts_with = "charge")]
        dispute: Option<String>,
        /// The disputed charge (`ch_...`), when the dispute is not in the store.
        #[arg(long)]
        charge: Option<String>,
        /// The folder to write the pack to (default: [evidence] out).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
        config: PathBuf,
    },
    /// The chargebacks Stripe reported, the soonest evidence deadline first: id, amount,
    /// reason, due date, status, customer. Exit 0: listed; 2: the store cannot be read.
    Disputes {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The investigations' audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum LogsCommand {
    /// Print `line,template_id,template` as CSV, one row per input line (FILE `-` is stdin).
    Templates { file: PathBuf },
    /// Teach a source the templates in FILE (stored; they will not count as new).
    Learn {
        file: PathBuf,
        #[command(flatten)]
        target: LogsTarget,
    },
    /// Show the templates in FILE that the source has never seen.
    New {
        file: PathBuf,
        #[command(flatten)]
        target: LogsTarget,
    },
}

#[derive(clap::Args)]
struct LogsTarget {
    /// The source the templates belong to (a new_error watch's name).
    #[arg(long)]
    source: String,
    #[command(flatten)]
    store: StoreArgs,
}

impl LogsTarget {
    async fn open_store(&self) -> Result<sentinel::store::Store, i32> {
        let path = self.store.path()?;
        sentinel::store::Store::open(&path).await.map_err(|error| {
            eprintln!("{error}");
            sentinel::commands::EXIT_CANNOT_RUN
        })
    }
}

#[derive(Subcommand)]
enum InvestigationsCommand {
    /// Print the report of request ID (Markdown, or JSON with --json).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check that no entry was edited, removed or reordered. Exit 0: intact (prints the head
    /// hash); 1: broken (names the first entry that no longer fits); 2: the store cannot be read.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Which store a command reads.
#[derive(clap::Args)]
struct StoreArgs {
    /// The store to use; by default the one the configuration names.
    #[arg(long)]
    store: Option<PathBuf>,
    #[arg(short, long, env = "SENTINEL_CONFIG", default_value = "sentinel.toml")]
    config: PathBuf,
}

impl StoreArgs {
    /// The store's path: `--store`, else the configuration's, else the default.
    fn path(&self) -> Result<PathBuf, i32> {
        Ok(match &self.store {
            Some(path) => path.clone(),
            None if self.config.exists() => {
                sentinel::commands::load_config(&self.config)?.store.path
            }
            None => sentinel::config::default_store_path(),
        })
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a configuration file; exits non-zero on any error.
    Check { file: PathBuf },
}

fn main() {
    let cli = Cli::parse();
    sentinel::telemetry::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            std::process::exit(sentinel::commands::EXIT_CANNOT_RUN);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Run { config } => sentinel::commands::run::run(&config).await,
            Command::Check { config, .. } => sentinel::commands::check::run(&config).await,
            Command::Demo { duration, json } => sentinel::demo::run(duration, json).await,
            Command::Init {
                path,
                force,
                evidence,
            } => sentinel::commands::init::run(&path, force, evidence.as_deref()),
            Command::Config {
                command: ConfigCommand::Check { file },
            } => sentinel::commands::config_check::run(&file),
            Command::Query {
                source,
                query,
                config,
            } => sentinel::commands::query::run(&config, &source, &query).await,
            Command::Doctor { config } => sentinel::commands::doctor::run(&config).await,
            Command::Investigate {
                target,
                question,
                json,
                config,
            } => {
                let target = sentinel::commands::investigate::Target::parse(target.as_deref());
                sentinel::commands::investigate::run(&config, target, question.as_deref(), json)
                    .await
            }
            Command::Investigations { command, store } => match (store.path(), command) {
                (Err(code), _) => code,
                (Ok(path), None) => sentinel::commands::investigations::list(&path).await,
                (Ok(path), Some(InvestigationsCommand::Show { id, json })) => {
                    match id.trim_start_matches('#').parse::<i64>() {
                        Ok(id) => sentinel::commands::investigations::show(&path, id, json).await,
                        Err(_) => {
                            eprintln!(
                                "{id:?} is not a request id: sentinel investigations lists them"
                            );
                            sentinel::commands::EXIT_CANNOT_RUN
                        }
                    }
                }
            },
            Command::Backtest {
                from,
                to,
                watches,
                sets,
                learned_before,
                json,
                config,
            } => {
                let arguments = sentinel::commands::backtest::Arguments {
                    from,
                    to,
                    watches,
                    sets,
                    learned_before,
                    json,
                };
                sentinel::commands::backtest::run(&config, arguments).await
            }
            Command::Evidence {
                email,
                customer,
                dispute,
                charge,
                out,
                config,
            } => {
                let target = sentinel::commands::evidence::Target {
                    email,
                    customer,
                    dispute,
                    charge,
                    out,
                };
                sentinel::commands::evidence::run(&config, target).await
            }
            Command::Disputes { store } => match store.path() {
                Ok(path) => sentinel::commands::disputes::list(&path).await,
                Err(code) => code,
            },
            Command::Audit { command } => match command {
                AuditCommand::Verify { store } => match store.path() {
                    Ok(path) => sentinel::commands::audit::verify(&path).await,
                    Err(code) => code,
                },
            },
            Command::Logs { command } => match command {
                LogsCommand::Templates { file } => sentinel::commands::logs::templates(&file),
                LogsCommand::Learn { file, target } => match target.open_store().await {
                    Ok(store) => {
                        sentinel::commands::logs::learn(&store, &target.source, &file).await
                    }
                    Err(code) => code,
                },
                LogsCommand::New { file, target } => match target.open_store().await {
                    Ok(store) => sentinel::commands::logs::new(&store, &target.source, &file).await,
                    Err(code) => code,
                },
            },
        }
    });
    std::process::exit(code);
}

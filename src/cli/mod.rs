//! Command-line interface: argument definitions and dispatch. Each command reads its inputs,
//! calls `carnet-core`, and prints JSON or a token; the clock and the RNG are supplied here.

mod admin;
mod credential;
mod key;

use crate::config::ServerArgs;
use carnet_service::ServiceKind;

use clap::{Parser, Subcommand};
use std::error::Error;
use std::io::Read;

pub type CliResult<T = ()> = Result<T, Box<dyn Error>>;

/// Carnet — verifiable training credentials (SD-JWT VC).
///
/// `carnet demo` seeds a demo and serves it; `carnet serve` runs the issuer, the wallet and the
/// verifier in one process (each under its path prefix), `carnet serve issuer` one alone.
/// Settings come from flags, then `CARNET_*` environment variables, then the TOML file given by
/// `--config`, then defaults. Storage is SQLite in the data directory unless a service is given
/// a PostgreSQL URL.
#[derive(Parser)]
#[command(name = "carnet", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed a demo (two centres, trainees with wallets, two companies) and serve it.
    Demo {
        /// Remove the demo's data first (its embedded databases and files) and seed again.
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run the services: all three, or the one named.
    Serve {
        /// issuer, wallet or verifier; all three when absent.
        service: Option<ServiceKind>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply the database migrations (all services, or the one named) and exit.
    Migrate {
        service: Option<ServiceKind>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Administer accounts.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Generate keys and derive public keys (JWK).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Issue, present, verify and decode SD-JWT VCs.
    #[command(subcommand)]
    Credential(Box<credential::CredentialCommand>),
}

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Demo { reset, server } => with_server(server, |settings| async move {
            crate::demo::run(settings, reset).await
        }),
        Command::Serve { service, server } => with_server(server, |settings| async move {
            let kinds = service.map_or(ServiceKind::ALL.to_vec(), |k| vec![k]);
            let mut services = Vec::new();
            for kind in kinds {
                services.push(crate::server::service(&settings, kind).await?);
            }
            crate::server::serve(services, &settings).await
        }),
        Command::Migrate { service, server } => with_server(server, |settings| async move {
            for kind in service.map_or(ServiceKind::ALL.to_vec(), |k| vec![k]) {
                crate::server::open(&settings, kind).await?;
                println!(
                    "{}: migrated ({})",
                    kind.name(),
                    settings
                        .database_url(kind)
                        .split('?')
                        .next()
                        .unwrap_or_default()
                );
            }
            Ok(())
        }),
        Command::Admin(c) => admin::run(c),
        Command::Key(c) => key::run(c),
        Command::Credential(c) => credential::run(*c),
    }
}

/// Resolves the settings, starts logging and a runtime, and runs `f`.
fn with_server<F, Fut>(args: ServerArgs, f: F) -> CliResult
where
    F: FnOnce(crate::config::Settings) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let settings = args.resolve()?;
    init_logging(&settings);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(f(settings)).map_err(Into::into)
}

pub fn init_logging(settings: &crate::config::Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if settings.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Standard input, trimmed (tokens and JWKs are often piped with a trailing newline).
fn read_stdin() -> CliResult<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    Ok(input.trim().to_owned())
}

fn read_file(path: &std::path::Path) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> CliResult<T> {
    serde_json::from_str(&read_file(path)?).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// The current time, Unix seconds.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn print_json(value: &impl serde::Serialize) -> CliResult {
    print_line(&serde_json::to_string_pretty(value)?)
}

/// Writes a line to standard output; a closed pipe (`carnet … | head`) is not an error.
fn print_line(text: &str) -> CliResult {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

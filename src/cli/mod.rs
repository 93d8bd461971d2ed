//! Command-line interface: argument definitions and dispatch. Each command reads its inputs,
//! calls `carnet-core`, and prints JSON or a token; the clock and the RNG are supplied here.

mod credential;
mod key;

use clap::{Parser, Subcommand};
use std::error::Error;
use std::io::Read;

pub type CliResult<T = ()> = Result<T, Box<dyn Error>>;

/// Carnet — verifiable training credentials (SD-JWT VC).
#[derive(Parser)]
#[command(name = "carnet", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate keys and derive public keys (JWK).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Issue, present, verify and decode SD-JWT VCs.
    #[command(subcommand)]
    Credential(Box<credential::CredentialCommand>),
}

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Key(c) => key::run(c),
        Command::Credential(c) => credential::run(*c),
    }
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

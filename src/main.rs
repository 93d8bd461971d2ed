//! `carnet`: the one binary — the three services (`serve`, `demo`, `migrate`, `admin`) and the
//! credential engine on the command line (`key`, `credential`).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = carnet::cli::Cli::parse();
    match carnet::cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

use super::{CliResult, print_json, read_stdin};
use carnet_core::keys::{Algorithm, Jwk, SigningKey, VerifyingKey};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Print a new private JWK (with `kid`, its RFC 7638 thumbprint).
    Generate {
        /// EdDSA (Ed25519), Ed25519 (same key, RFC 9864 name) or ES256 (P-256).
        #[arg(long, default_value = "EdDSA")]
        alg: Algorithm,
    },
    /// Read a private JWK on standard input and print its public JWK.
    Public,
}

pub fn run(command: KeyCommand) -> CliResult {
    match command {
        KeyCommand::Generate { alg } => {
            let key = SigningKey::generate(alg, &mut rand::rngs::OsRng);
            print_json(&key.private_jwk())
        }
        KeyCommand::Public => {
            let jwk: Jwk = serde_json::from_str(&read_stdin()?)?;
            let public = match jwk.d {
                Some(_) => SigningKey::from_jwk(&jwk)?.public_jwk(),
                None => VerifyingKey::from_jwk(&jwk)?.jwk().clone(),
            };
            print_json(&public)
        }
    }
}

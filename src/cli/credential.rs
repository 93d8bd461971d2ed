use super::{CliResult, now, print_json, print_line, read_json, read_stdin};
use carnet_core::jws::Jws;
use carnet_core::keys::{Jwk, SigningKey, VerifyingKey};
use carnet_core::path::ClaimPath;
use carnet_core::sd_jwt::{
    self, Credential, Disclose, Disclosure, KbPolicy, KeyBindingInput, SdAlg, SdJwt,
    StatusReference, VerifyOptions,
};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CredentialCommand {
    /// Issue an SD-JWT VC and print it.
    Issue(IssueArgs),
    /// Read an issued SD-JWT on standard input and print a presentation with key binding.
    Present(PresentArgs),
    /// Read a presentation on standard input; print the disclosed claims, or fail with the
    /// reason (exit status 1).
    Verify(VerifyArgs),
    /// Read a JWT, SD-JWT or SD-JWT+KB on standard input and print its parts, unverified.
    Decode,
}

#[derive(Args)]
pub struct IssueArgs {
    /// The issuer's private JWK.
    #[arg(long)]
    issuer_key: PathBuf,
    /// The holder's public JWK, written as `cnf.jwk`.
    #[arg(long)]
    holder_jwk: Option<PathBuf>,
    /// The issuer identifier (`iss`).
    #[arg(long)]
    iss: String,
    /// The credential type (`vct`).
    #[arg(long)]
    vct: String,
    /// A JSON object of claims.
    #[arg(long)]
    claims: PathBuf,
    /// A JSON pointer (`/address/locality`) to make selectively disclosable; repeat for more.
    /// Without it, every claim that may be disclosable is, recursively.
    #[arg(long = "sd", value_name = "PATH")]
    sd: Vec<ClaimPath>,
    /// Validity in seconds from now (`exp`).
    #[arg(long, value_name = "SECONDS")]
    exp: Option<i64>,
    /// The status list token URI (`status.status_list.uri`).
    #[arg(long, requires = "status_idx")]
    status_uri: Option<String>,
    /// The index in that list (`status.status_list.idx`).
    #[arg(long, requires = "status_uri")]
    status_idx: Option<u64>,
    /// At most this many decoy digests per disclosable object or array.
    #[arg(long, default_value_t = 2)]
    decoys: usize,
}

#[derive(Args)]
pub struct PresentArgs {
    /// The holder's private JWK (signs the key binding JWT).
    #[arg(long)]
    holder_key: PathBuf,
    /// The verifier's identifier (`aud` of the key binding JWT).
    #[arg(long)]
    aud: String,
    /// The verifier's nonce.
    #[arg(long)]
    nonce: String,
    /// A claim to disclose, as a JSON pointer (`/address/locality`) or a claims path
    /// (`["nationalities",null]`); repeat for more. Without it, every disclosure is sent.
    #[arg(long = "disclose", value_name = "PATH")]
    disclose: Vec<ClaimPath>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The issuer's public JWK.
    #[arg(long)]
    issuer_jwk: PathBuf,
    /// The expected audience of the key binding JWT.
    #[arg(long, requires = "nonce", required_unless_present = "no_kb")]
    aud: Option<String>,
    /// The expected nonce of the key binding JWT.
    #[arg(long, requires = "aud")]
    nonce: Option<String>,
    /// Expect a plain SD-JWT without key binding.
    #[arg(long, conflicts_with_all = ["aud", "nonce"])]
    no_kb: bool,
    /// The time to verify at (Unix seconds); now by default.
    #[arg(long, value_name = "UNIX")]
    now: Option<i64>,
    /// How old the key binding JWT may be, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    max_kb_age: u64,
    /// Also accept this `typ` (besides dc+sd-jwt), e.g. the older vc+sd-jwt.
    #[arg(long = "accept-typ", value_name = "TYP")]
    accept_typ: Vec<String>,
}

pub fn run(command: CredentialCommand) -> CliResult {
    match command {
        CredentialCommand::Issue(args) => issue(args),
        CredentialCommand::Present(args) => present(args),
        CredentialCommand::Verify(args) => verify(args),
        CredentialCommand::Decode => decode(),
    }
}

fn issue(args: IssueArgs) -> CliResult {
    let issuer = SigningKey::from_jwk(&read_json::<Jwk>(&args.issuer_key)?)?;
    let holder = args
        .holder_jwk
        .as_deref()
        .map(read_json::<Jwk>)
        .transpose()?;
    let claims: Map<String, Value> = read_json(&args.claims)?;
    let issued_at = now();
    let credential = Credential {
        issuer: args.iss,
        vct: args.vct,
        issued_at,
        not_before: None,
        expires_at: args.exp.map(|s| issued_at + s),
        holder: holder.map(|h| h.to_public()),
        status: args
            .status_uri
            .zip(args.status_idx)
            .map(|(uri, idx)| StatusReference { idx, uri }),
        claims,
        disclose: if args.sd.is_empty() {
            Disclose::All
        } else {
            Disclose::Paths(args.sd)
        },
        max_decoys: args.decoys,
    };
    println!(
        "{}",
        sd_jwt::issue(&credential, &issuer, &mut rand::rngs::OsRng)?
    );
    Ok(())
}

fn present(args: PresentArgs) -> CliResult {
    let holder = SigningKey::from_jwk(&read_json::<Jwk>(&args.holder_key)?)?;
    let issued = SdJwt::parse(&read_stdin()?)?;
    let paths = (!args.disclose.is_empty()).then_some(args.disclose.as_slice());
    let binding = KeyBindingInput {
        key: &holder,
        audience: &args.aud,
        nonce: &args.nonce,
        issued_at: now(),
    };
    print_line(&issued.present(paths, Some(binding))?)
}

fn verify(args: VerifyArgs) -> CliResult {
    let issuer = VerifyingKey::from_jwk(&read_json::<Jwk>(&args.issuer_jwk)?)?;
    let mut options = VerifyOptions::without_key_binding(args.now.unwrap_or_else(now));
    options.types.extend(args.accept_typ);
    if let (Some(audience), Some(nonce)) = (args.aud, args.nonce) {
        options.key_binding = KbPolicy::Required {
            audience,
            nonce,
            max_age: args.max_kb_age,
        };
    }
    let verified = sd_jwt::verify(&read_stdin()?, &issuer, &options)?;
    print_json(&verified.claims)
}

fn decode() -> CliResult {
    let token = read_stdin()?;
    let mut parts = token.split('~');
    let jwt = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let jws = Jws::parse(jwt)?;
    let sd_alg = match jws.payload.get("_sd_alg").and_then(Value::as_str) {
        Some(name) => {
            SdAlg::from_name(name).ok_or_else(|| format!("unsupported _sd_alg {name}"))?
        }
        None => SdAlg::Sha256,
    };
    let mut out = json!({ "header": jws.header, "payload": jws.payload });
    if let Some((kb, disclosures)) = rest.split_last() {
        out["disclosures"] = disclosures
            .iter()
            .map(|d| {
                Disclosure::parse(d, sd_alg).map(|d| {
                    json!({"digest": d.digest, "salt": d.salt, "name": d.name, "value": d.value})
                })
            })
            .collect::<Result<Vec<_>, _>>()?
            .into();
        if !kb.is_empty() {
            let kb = Jws::parse(kb)?;
            out["key_binding"] = json!({ "header": kb.header, "payload": kb.payload });
        }
    }
    print_json(&out)
}

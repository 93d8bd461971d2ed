//! Taking the carnet elsewhere: a readable JSON export (the carnet and every credential), and an
//! encrypted backup — credentials with their holder keys, the directory publications and the
//! holder's key for each of their verifiers (so that the verifiers still recognise the holder:
//! inbox, chats, withdrawal), encrypted under a passphrase the holder chooses (argon2id with
//! the parameters written in the backup, AES-256-GCM) — that restores into any Carnet wallet,
//! this one or a fresh one.
//!
//! The passphrase is sent to this service, which derives the key, encrypts or decrypts and
//! forgets both at the end of the request: it is never stored, but the service sees it (and the
//! backup's contents) while it works. The file is what protects the holder elsewhere: the
//! argon2id parameters (64 MiB, three passes) and the 12-character minimum make guessing the
//! passphrase of a stolen file expensive.
//!
//! Restoring trusts nothing in the file but the holder keys: every credential goes through the
//! checks of a received one (`credentials::check`: the issuer's signature against the keys it
//! publishes now, the binding to the restored key, the status list the signed credential
//! names), and what is kept is what was verified. A credential that fails is not restored
//! (counted in `refused`); one revoked or suspended since is restored marked so, as history.
//! Restored publications are not republished by themselves until the holder publishes there
//! again from the consent page, and a verifier address that is not an acceptable URL is
//! dropped.

use crate::WalletState;
use crate::carnet::{self, Carnet};
use crate::credentials::{self, CredentialView, StoredCredential};
use crate::directory::{self, Publication};
use crate::presentations;
use crate::vault::Holder;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::b64;
use carnet_core::keys::Jwk;
use carnet_service::audit;
use carnet_service::crypto::SecretKey;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::i18n::{Catalog, Lang, escape};
use carnet_service::web;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const BACKUP_FORMAT: &str = "carnet-wallet-backup/3";
/// Backups of the earlier formats restore too: `/1` (credentials and their keys only) and `/2`,
/// both derived with argon2's defaults (19 MiB, two passes).
const BACKUP_FORMAT_1: &str = "carnet-wallet-backup/1";
const BACKUP_FORMAT_2: &str = "carnet-wallet-backup/2";
/// The argon2id parameters of new backups: 64 MiB, three passes, one lane.
const KDF: Kdf = Kdf {
    alg: String::new(),
    m_cost: 64 * 1024,
    t_cost: 3,
    p_cost: 1,
};
/// argon2's defaults, those of the first two formats.
const KDF_V1: Kdf = Kdf {
    alg: String::new(),
    m_cost: 19 * 1024,
    t_cost: 2,
    p_cost: 1,
};
/// The shortest passphrase: the file may be attacked offline.
const MIN_PASSPHRASE: usize = 12;
/// Credentials in one backup, at most.
const MAX_ITEMS: usize = 5000;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new()
        .routes(routes!(export))
        .routes(routes!(printable))
        .routes(routes!(backup))
        .routes(routes!(restore))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Export {
    pub format: String,
    pub exported_at: i64,
    pub email: String,
    pub carnet: Carnet,
    pub credentials: Vec<CredentialView>,
}

/// Everything the wallet holds for the holder, readable (JSON, as a download).
#[utoipa::path(get, path = "/api/v1/export", tag = "carnet",
    responses((status = 200, body = Export), (status = 401, body = Problem)))]
async fn export(State(state): State<WalletState>, holder: Holder) -> ApiResult<Response> {
    let credentials = credentials::all(&state, &holder).await?;
    let body = Export {
        format: "carnet-wallet-export/1".into(),
        exported_at: state.ctx.now_ms(),
        email: holder.principal.email.clone(),
        carnet: carnet::build(&credentials),
        credentials,
    };
    Ok((
        [
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"carnet.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::Json(body),
    )
        .into_response())
}

const CATALOG: Catalog = &[
    ("title", "Carnet de compétences", "Competency logbook"),
    ("of", "de", "of"),
    ("printed", "Édité le", "Printed on"),
    ("competencies", "Compétences", "Competencies"),
    (
        "none",
        "Aucune compétence reçue pour l'instant.",
        "No competency received yet.",
    ),
    ("code", "Code", "Code"),
    ("frameworks", "Référentiels", "Frameworks"),
    ("level", "Niveau", "Level"),
    ("date", "Date", "Date"),
    ("evaluator", "Évaluateur", "Evaluator"),
    ("establishment", "Établissement", "Establishment"),
    ("session", "Session", "Session"),
    ("status", "Statut", "Status"),
    ("valid", "valide", "valid"),
    ("revoked", "révoquée", "revoked"),
    ("suspended", "suspendue", "suspended"),
    ("unknown", "non vérifié", "not checked"),
    (
        "completions",
        "Attestations de fin de formation",
        "Completion certificates",
    ),
    ("formation", "Formation", "Course"),
    ("dates", "Dates", "Dates"),
    (
        "hours",
        "Heures (prévues / réalisées)",
        "Hours (planned / attended)",
    ),
    ("issuer", "Émetteur", "Issuer"),
    (
        "note",
        "Chaque ligne est une attestation signée par son centre, que son titulaire peut présenter à un recruteur : celui-ci en vérifie la signature et qu'elle n'est ni suspendue ni révoquée.",
        "Each line is a credential signed by its centre, which its owner can show a recruiter: they check its signature and that it is neither suspended nor revoked.",
    ),
    ("print", "Imprimer", "Print"),
];

/// The carnet as a page to print or save as PDF (French by default, `?lang=en`).
#[utoipa::path(get, path = "/api/v1/export/print", tag = "carnet",
    responses((status = 200, content_type = "text/html"), (status = 401, body = Problem)))]
async fn printable(
    State(state): State<WalletState>,
    holder: Holder,
    lang: Lang,
) -> ApiResult<Response> {
    let t = |key: &str| lang.t(CATALOG, key);
    let credentials = credentials::all(&state, &holder).await?;
    let carnet = carnet::build(&credentials);
    let text = |v: &serde_json::Value| escape(&carnet::claim_text(v));
    let mut body = String::new();
    body += &format!("<h2>{}</h2>", t("competencies"));
    if carnet.competencies.is_empty() {
        body += &format!("<p>{}</p>", t("none"));
    }
    for c in &carnet.competencies {
        let frameworks: Vec<String> = c
            .framework_codes
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{} {}", escape(&k.to_uppercase()), text(v)))
                    .collect()
            })
            .unwrap_or_default();
        body += &format!(
            "<section><h3>{}</h3><p>{} {} · {} {}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            escape(&c.name),
            t("code"),
            escape(&c.code),
            t("frameworks"),
            frameworks.join(", "),
            t("level"),
            t("date"),
            t("evaluator"),
            t("establishment"),
            t("session"),
            t("status"),
        );
        for e in &c.history {
            let claims = &e.claims;
            body += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&claims["level"]["label"]),
                escape(&web::date(
                    lang,
                    &carnet::claim_text(&claims["validated_on"])
                )),
                text(&claims["evaluator"]["name"]),
                text(&claims["establishment"]["name"]),
                text(&claims["session"]["title"]),
                t(&e.status),
            );
        }
        body += "</tbody></table></section>";
    }
    if !carnet.completions.is_empty() {
        body += &format!(
            "<h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            t("completions"),
            t("formation"),
            t("dates"),
            t("hours"),
            t("establishment"),
            t("status"),
        );
        for e in &carnet.completions {
            let c = &e.claims;
            body += &format!(
                "<tr><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
                text(&c["formation"]["title"]),
                escape(&web::period(
                    lang,
                    &carnet::claim_text(&c["formation"]["starts_on"]),
                    &carnet::claim_text(&c["formation"]["ends_on"]),
                )),
                text(&c["hours"]["planned"]),
                text(&c["hours"]["attended"]),
                text(&c["establishment"]["name"]),
                t(&e.status),
            );
        }
        body += "</tbody></table>";
    }
    let printed = web::date_of(lang, state.ctx.now_ms());
    let name = escape(&holder.principal.display_name);
    let content = format!(
        "<h1>{title} {of} {name}</h1><p>{printed_l} {printed}</p>{body}<p><small>{note}</small></p>\
         <button type=\"button\" data-print>{print}</button>",
        title = t("title"),
        of = t("of"),
        printed_l = t("printed"),
        note = t("note"),
        print = t("print"),
    );
    let title = format!("{} — {}", t("title"), holder.principal.display_name);
    Ok(web::page(
        lang,
        state.ctx.config.path_prefix(),
        &title,
        &content,
    ))
}

/// An encrypted backup. The passphrase is not in it, and not kept by the service (which sees
/// it while making or restoring the backup).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// `carnet-wallet-backup/3` (`/2` and `/1`, credentials only, restore too).
    pub format: String,
    /// How the key is derived from the passphrase (from `/3`; earlier formats used argon2's
    /// defaults: 19 MiB, two passes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<Kdf>,
    /// argon2id salt (base64url).
    pub salt: String,
    /// AES-256-GCM nonce and ciphertext (base64url).
    pub ciphertext: String,
}

/// argon2id parameters, as written in a backup.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// `argon2id`.
    pub alg: String,
    /// Memory, in KiB.
    pub m_cost: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Kdf {
    /// What a restore accepts: no weaker than the first format's, and no costlier than a
    /// server can afford for a file anyone may upload.
    fn acceptable(&self) -> bool {
        self.alg == "argon2id"
            && (KDF_V1.m_cost..=256 * 1024).contains(&self.m_cost)
            && (1..=10).contains(&self.t_cost)
            && (1..=4).contains(&self.p_cost)
    }

    /// The key of `passphrase`, on the bounded hashing pool (`auth::hashing`), off the async
    /// threads.
    async fn derive(&self, passphrase: &str, salt: &[u8]) -> ApiResult<SecretKey> {
        let (kdf, passphrase, salt) = (self.clone(), passphrase.to_owned(), salt.to_owned());
        carnet_service::auth::hashing(move || kdf.derive_blocking(&passphrase, &salt)).await?
    }

    fn derive_blocking(&self, passphrase: &str, salt: &[u8]) -> ApiResult<SecretKey> {
        let params = argon2::Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32))
            .map_err(ApiError::internal)?;
        let mut out = [0u8; 32];
        carnet_service::auth::argon2id_into(params, passphrase.as_bytes(), salt, &mut out)
            .map_err(ApiError::internal)?;
        Ok(SecretKey::from_bytes(out))
    }
}

/// Encrypts backup contents (JSON) under a passphrase, in the current format.
pub async fn seal(passphrase: &str, contents: &[u8]) -> ApiResult<Backup> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let kdf = Kdf {
        alg: "argon2id".into(),
        ..KDF
    };
    let ciphertext = kdf
        .derive(passphrase, &salt)
        .await?
        .seal(BACKUP_FORMAT, contents)
        .map_err(ApiError::internal)?;
    Ok(Backup {
        format: BACKUP_FORMAT.into(),
        kdf: Some(kdf),
        salt: b64::encode(salt),
        ciphertext: b64::encode(ciphertext),
    })
}

/// Decrypts a backup's contents (JSON) with its passphrase, any format.
pub async fn open(backup: &Backup, passphrase: &str) -> ApiResult<Vec<u8>> {
    let undecodable = || ApiError::invalid_field("backup", "not a Carnet wallet backup");
    let format = backup.format.as_str();
    let kdf = match (format, &backup.kdf) {
        (BACKUP_FORMAT, Some(kdf)) if kdf.acceptable() => kdf.clone(),
        (BACKUP_FORMAT, Some(_)) => {
            return Err(ApiError::invalid_field(
                "backup",
                "its key derivation parameters are not acceptable",
            ));
        }
        (BACKUP_FORMAT_1 | BACKUP_FORMAT_2, None) => Kdf {
            alg: "argon2id".into(),
            ..KDF_V1
        },
        _ => return Err(undecodable()),
    };
    let salt = b64::decode(&backup.salt).ok_or_else(undecodable)?;
    let ciphertext = b64::decode(&backup.ciphertext).ok_or_else(undecodable)?;
    if passphrase.len() > 1024 || !(8..=64).contains(&salt.len()) {
        return Err(undecodable());
    }
    kdf.derive(passphrase, &salt)
        .await?
        .open(format, &ciphertext)
        .map_err(|_| ApiError::invalid_field("passphrase", "wrong passphrase, or a damaged backup"))
}

#[derive(Serialize, Deserialize)]
struct BackupItem {
    key: Jwk,
    credential: StoredCredential,
}

/// What a backup holds.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Contents {
    Full {
        credentials: Vec<BackupItem>,
        publications: Vec<Publication>,
        verifier_keys: Vec<VerifierKey>,
    },
    /// `carnet-wallet-backup/1`.
    Credentials(Vec<BackupItem>),
}

#[derive(Serialize, Deserialize)]
struct VerifierKey {
    client_id: String,
    key: Jwk,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    /// At least 12 characters; needed again to restore. Sent to this service, which derives
    /// the key with it and keeps neither.
    pub passphrase: String,
}

/// Makes an encrypted backup of every credential and its holder key, the directory
/// publications and the holder's keys for their verifiers.
#[utoipa::path(post, path = "/api/v1/backup", tag = "carnet", request_body = BackupRequest,
    responses((status = 200, body = Backup), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn backup(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<BackupRequest>,
) -> ApiResult<Response> {
    if input.passphrase.chars().count() < MIN_PASSPHRASE || input.passphrase.len() > 1024 {
        return Err(ApiError::invalid_field(
            "passphrase",
            "12 characters at least (1,024 bytes at most)",
        ));
    }
    let rows: Vec<(String, Vec<u8>, String, Vec<u8>)> = sqlx::query_as(
        "SELECT c.id, c.sealed, k.id, k.sealed FROM wallet_credentials c JOIN holder_keys k ON k.id = c.key_id \
         WHERE c.account_id = $1 ORDER BY c.received_at, c.id",
    )
    .bind(holder.account().as_str())
    .fetch_all(state.ctx.db.pool())
    .await?;
    let items = rows
        .into_iter()
        .map(|(id, sealed, key_id, sealed_key)| {
            Ok(BackupItem {
                key: serde_json::from_slice(&holder.open(&key_id, &sealed_key)?)?,
                credential: serde_json::from_slice(&holder.open(&id, &sealed)?)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let publications = directory::all(&state, &holder).await?;
    let mut verifier_keys = Vec::new();
    for p in &publications {
        if let Some(key) =
            presentations::existing_verifier_key(&state, &holder, &p.client_id).await?
        {
            verifier_keys.push(VerifierKey {
                client_id: p.client_id.clone(),
                key: key.private_jwk(),
            });
        }
    }
    let contents = Contents::Full {
        credentials: items,
        publications,
        verifier_keys,
    };
    let body = seal(&input.passphrase, &serde_json::to_vec(&contents)?).await?;
    Ok((
        [
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"carnet-backup.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::Json(body),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    pub backup: Backup,
    pub passphrase: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Restored {
    pub restored: usize,
    /// Already in this wallet.
    pub skipped: usize,
    /// Credentials that failed the checks of a received one (signature against the issuer's
    /// published keys, binding to their key, status list), or whose issuer's keys could not be
    /// fetched: not restored.
    pub refused: usize,
    /// Directory publications restored (those this wallet had already are kept).
    pub publications: usize,
}

/// Restores a backup into this wallet; credentials it already holds are skipped, and each of the
/// others is checked as a received one before it is kept (those failing are refused).
#[utoipa::path(post, path = "/api/v1/backup/restore", tag = "carnet", request_body = Restore,
    responses((status = 200, body = Restored), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn restore(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<Restore>,
) -> ApiResult<(StatusCode, Json<Restored>)> {
    let undecodable = || ApiError::invalid_field("backup", "not a Carnet wallet backup");
    let plaintext = open(&input.backup, &input.passphrase).await?;
    let (items, publications, verifier_keys) =
        match serde_json::from_slice(&plaintext).map_err(|_| undecodable())? {
            Contents::Full {
                credentials,
                publications,
                verifier_keys,
            } => (credentials, publications, verifier_keys),
            Contents::Credentials(items) => (items, Vec::new(), Vec::new()),
        };
    if items.len() > MAX_ITEMS || publications.len() > MAX_ITEMS || verifier_keys.len() > MAX_ITEMS
    {
        return Err(ApiError::invalid_field("backup", "too many credentials"));
    }
    let held: std::collections::HashSet<String> = credentials::all(&state, &holder)
        .await?
        .into_iter()
        .map(|v| v.credential.sd_jwt)
        .collect();
    // Every credential checked as a received one is, before anything is written: the issuer
    // (from the signed credential) and its keys fetched once per issuer, each status list once.
    let now_secs = state.ctx.clock.now_secs();
    let mut issuers: HashMap<String, Option<credentials::IssuerInfo>> = HashMap::new();
    let mut lists = HashMap::new();
    let mut checked = Vec::new();
    let (mut skipped, mut refused) = (0, 0);
    for item in items {
        if held.contains(&item.credential.sd_jwt) {
            skipped += 1;
            continue;
        }
        let Some(issuer) = signed_issuer(&item.credential.sd_jwt) else {
            refused += 1;
            continue;
        };
        if !issuers.contains_key(&issuer) {
            let info = credentials::issuer_keys(&state.remote, &issuer).await;
            if let Err(e) = &info {
                tracing::info!(%issuer, error = %e, "a restored credential's issuer keys are unavailable");
            }
            issuers.insert(issuer.clone(), info.ok());
        }
        let Some(info) = &issuers[&issuer] else {
            refused += 1;
            continue;
        };
        let public = match carnet_core::keys::SigningKey::from_jwk(&item.key) {
            Ok(key) => key.public_jwk(),
            Err(_) => {
                refused += 1;
                continue;
            }
        };
        let sd_jwt = item.credential.sd_jwt.as_str();
        match credentials::check(&state.remote, info, sd_jwt, &public, now_secs, &mut lists).await {
            Ok((verified, status)) => {
                let credential = credentials::stored(
                    sd_jwt,
                    &verified,
                    status,
                    item.credential.issuer_name.clone(),
                    item.credential.configuration_id.clone(),
                    now_secs,
                );
                checked.push((item.key, credential));
            }
            Err(e) => {
                tracing::info!(error = %e, "a restored credential failed its checks");
                refused += 1;
            }
        }
    }
    // Verifier addresses planted in a file are not called blindly: an unacceptable one is
    // dropped, and nothing is republished by itself until the holder publishes there again.
    let publications: Vec<Publication> = publications
        .into_iter()
        .filter(|p| state.remote.check(&p.choices.verifier, "verifier").is_ok())
        .map(|mut p| {
            p.choices.republish = false;
            p
        })
        .collect();
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let mut restored = 0;
    let mut tx = ctx.db.begin().await?;
    for (key, credential) in &checked {
        credentials::insert(&mut tx, ctx, &holder, key, credential, now).await?;
        restored += 1;
    }
    // A verifier's key first: a publication is only worth having with it.
    let mut restored_publications = 0;
    for k in &verifier_keys {
        presentations::store_verifier_key(&mut tx, &holder, &k.client_id, &k.key, now).await?;
    }
    for p in &publications {
        if directory::store(&mut tx, &holder, p, false).await? {
            restored_publications += 1;
        }
    }
    audit::record(
        &mut tx,
        now,
        &(&holder.principal).into(),
        "backup.restored",
        None,
        None,
        json!({ "restored": restored, "skipped": skipped, "refused": refused, "publications": restored_publications }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::OK,
        Json(Restored {
            restored,
            skipped,
            refused,
            publications: restored_publications,
        }),
    ))
}

/// The `iss` a credential's issuer-signed JWT names (read, not verified: verification follows
/// against that issuer's published keys).
fn signed_issuer(sd_jwt: &str) -> Option<String> {
    let jwt = sd_jwt.split('~').next()?;
    let jws = carnet_core::jws::Jws::parse(jwt).ok()?;
    jws.payload.get("iss")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }

    #[tokio::test]
    async fn backups_of_every_format_open_and_costly_parameters_are_refused() {
        let sealed = seal("une phrase secrète", b"{}").await.unwrap();
        assert_eq!(open(&sealed, "une phrase secrète").await.unwrap(), b"{}");
        assert!(open(&sealed, "une autre phrase").await.is_err());
        // The second format: argon2's defaults, no parameters written.
        let salt = [7u8; 16];
        let key = crate::vault::derive_blocking("une phrase secrète", &salt).unwrap();
        let old = Backup {
            format: BACKUP_FORMAT_2.into(),
            kdf: None,
            salt: b64::encode(salt),
            ciphertext: b64::encode(key.seal(BACKUP_FORMAT_2, b"[]").unwrap()),
        };
        assert_eq!(open(&old, "une phrase secrète").await.unwrap(), b"[]");
        // Parameters a restore cannot afford, or weaker than the first format's, are refused
        // before any derivation.
        for (m_cost, t_cost) in [(4 * 1024 * 1024, 3), (64 * 1024, 1000), (1024, 1)] {
            let costly = Backup {
                kdf: Some(Kdf {
                    alg: "argon2id".into(),
                    m_cost,
                    t_cost,
                    p_cost: 1,
                }),
                ..seal("une phrase secrète", b"{}").await.unwrap()
            };
            assert!(open(&costly, "une phrase secrète").await.is_err());
        }
        // A third-format backup without its parameters is not one.
        let bare = Backup {
            kdf: None,
            ..seal("une phrase secrète", b"{}").await.unwrap()
        };
        assert!(open(&bare, "une phrase secrète").await.is_err());
    }
}

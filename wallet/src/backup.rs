//! Taking the carnet elsewhere: a readable JSON export (the carnet and every credential), and an
//! encrypted backup — credentials with their holder keys, the directory publications and the
//! holder's key for each of their verifiers (so that the verifiers still recognise the holder:
//! inbox, chats, withdrawal), sealed under a passphrase the holder chooses (argon2id,
//! AES-256-GCM) — that restores into any Carnet wallet, this one or a fresh one.

use crate::WalletState;
use crate::carnet::{self, Carnet};
use crate::credentials::{self, CredentialView, StoredCredential};
use crate::directory::{self, Publication};
use crate::presentations;
use crate::vault::{self, Holder};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::b64;
use carnet_core::keys::Jwk;
use carnet_service::audit;
use carnet_service::auth;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::i18n::{Catalog, Lang, escape};
use carnet_service::web;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const BACKUP_FORMAT: &str = "carnet-wallet-backup/2";
/// Backups of the first format (credentials and their keys only) restore too.
const BACKUP_FORMAT_1: &str = "carnet-wallet-backup/1";
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
        "Chaque ligne est une attestation signée (SD-JWT VC) que le titulaire peut présenter à un recruteur, qui en vérifie la signature et le statut.",
        "Each line is a signed credential (SD-JWT VC) the holder can present to a recruiter, who checks its signature and status.",
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
                text(&claims["validated_on"]),
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
                "<tr><td>{}</td><td>{} – {}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
                text(&c["formation"]["title"]),
                text(&c["formation"]["starts_on"]),
                text(&c["formation"]["ends_on"]),
                text(&c["hours"]["planned"]),
                text(&c["hours"]["attended"]),
                text(&c["establishment"]["name"]),
                t(&e.status),
            );
        }
        body += "</tbody></table>";
    }
    let printed = carnet_service::clock::date_of(state.ctx.now_ms());
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

/// An encrypted backup: its passphrase never leaves the holder.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// `carnet-wallet-backup/2` (or `/1`, credentials only).
    pub format: String,
    /// argon2id salt (base64url); the parameters are argon2's defaults (19 MiB, 2 passes).
    pub salt: String,
    /// AES-256-GCM nonce and ciphertext (base64url).
    pub ciphertext: String,
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
    /// At least 10 characters; needed again to restore.
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
    auth::check_new_password(&input.passphrase)
        .map_err(|_| ApiError::invalid_field("passphrase", "at least 10 characters"))?;
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
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let ciphertext = vault::derive(&input.passphrase, &salt)
        .await?
        .seal(BACKUP_FORMAT, &serde_json::to_vec(&contents)?)
        .map_err(ApiError::internal)?;
    let body = Backup {
        format: BACKUP_FORMAT.into(),
        salt: b64::encode(salt),
        ciphertext: b64::encode(ciphertext),
    };
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
    /// Directory publications restored (those this wallet had already are kept).
    pub publications: usize,
}

/// Restores a backup into this wallet; credentials it already holds are skipped.
#[utoipa::path(post, path = "/api/v1/backup/restore", tag = "carnet", request_body = Restore,
    responses((status = 200, body = Restored), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn restore(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<Restore>,
) -> ApiResult<(StatusCode, Json<Restored>)> {
    let undecodable = || ApiError::invalid_field("backup", "not a Carnet wallet backup");
    let format = input.backup.format.as_str();
    if format != BACKUP_FORMAT && format != BACKUP_FORMAT_1 {
        return Err(undecodable());
    }
    let salt = b64::decode(&input.backup.salt).ok_or_else(undecodable)?;
    let ciphertext = b64::decode(&input.backup.ciphertext).ok_or_else(undecodable)?;
    if input.passphrase.len() > 1024 || salt.len() < 8 {
        return Err(undecodable());
    }
    let plaintext = vault::derive(&input.passphrase, &salt)
        .await?
        .open(format, &ciphertext)
        .map_err(|_| {
            ApiError::invalid_field("passphrase", "wrong passphrase, or a damaged backup")
        })?;
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
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let (mut restored, mut skipped) = (0, 0);
    let mut tx = ctx.db.begin().await?;
    for item in items {
        if held.contains(&item.credential.sd_jwt) {
            skipped += 1;
            continue;
        }
        credentials::insert(&mut tx, ctx, &holder, &item.key, &item.credential, now).await?;
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
        json!({ "restored": restored, "skipped": skipped, "publications": restored_publications }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::OK,
        Json(Restored {
            restored,
            skipped,
            publications: restored_publications,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }
}

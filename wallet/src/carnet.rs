//! The carnet: the holder's credentials read as a logbook. One history per competency across
//! every centre — the same competency is recognised by a shared framework code (ESCO, RS,
//! RNCP), else by its issuer and competency id — with the levels over time, dates, evaluator,
//! establishment and session, and the current standing; then identity data and completion
//! certificates. Copies of one credential count once.

use crate::WalletState;
use crate::credentials::{self, CredentialView};
use crate::vault::Holder;
use axum::extract::State;
use carnet_service::error::{ApiResult, Problem};
use carnet_service::extract::Json;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Framework codes that name one competency, in order of preference. (A ROME code names an
/// occupation, which many competencies share: it does not identify one.)
const IDENTIFYING_FRAMEWORKS: [&str; 3] = ["esco", "rs", "rncp"];

/// JWT and SD-JWT VC claims that differ between copies of one credential.
const REGISTERED_CLAIMS: [&str; 9] = [
    "iss", "sub", "iat", "nbf", "exp", "jti", "cnf", "status", "vct",
];

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new().routes(routes!(carnet))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Carnet {
    pub competencies: Vec<CompetencyHistory>,
    /// Identity credentials (one per centre that checked the holder's identity).
    pub identities: Vec<Entry>,
    pub completions: Vec<Entry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetencyHistory {
    /// What groups the entries: `esco:…`, `rs:…`, `rncp:…`, or `<issuer>#<competency id>`.
    pub key: String,
    /// As the most recent entry names it.
    pub name: String,
    pub code: String,
    #[schema(value_type = Object)]
    pub framework_codes: Value,
    /// The most recent entry that is still valid, if any.
    pub current: Option<Entry>,
    /// Every assessment, oldest first.
    pub history: Vec<Entry>,
}

/// One credential in the carnet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Entry {
    pub credential_id: String,
    pub issuer: String,
    pub issuer_name: Option<String>,
    /// `valid`, `revoked`, `suspended` or `unknown`, as last checked.
    pub status: String,
    pub received_at: i64,
    /// The credential's claims (level, dates, evaluator, establishment, session…).
    #[schema(value_type = Object)]
    pub claims: Value,
}

/// A claim's value as text to show: a string as it is, nothing for null, JSON otherwise.
pub fn claim_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn entry(view: &CredentialView) -> Entry {
    let c = &view.credential;
    Entry {
        credential_id: view.id.clone(),
        issuer: c.issuer.clone(),
        issuer_name: c.issuer_name.clone(),
        status: c.status.clone(),
        received_at: view.received_at,
        claims: Value::Object(c.claims.clone()),
    }
}

fn competency_key(view: &CredentialView) -> String {
    let competency = &view.credential.claims["competency"];
    IDENTIFYING_FRAMEWORKS
        .iter()
        .find_map(|framework| {
            competency["framework_codes"][framework]
                .as_str()
                .filter(|code| !code.trim().is_empty())
                .map(|code| format!("{framework}:{}", code.trim()))
        })
        .unwrap_or_else(|| {
            let id = competency["id"]
                .as_str()
                .or_else(|| competency["code"].as_str())
                .unwrap_or_default();
            format!("{}#{id}", view.credential.issuer)
        })
}

/// A JSON value as text with object members sorted, so that equal values compare equal
/// whatever order their disclosures came in.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_by_key(|(name, _)| *name);
            let inner: Vec<String> = members
                .into_iter()
                .map(|(name, v)| format!("{}:{}", Value::from(name.as_str()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// What copies of one credential share, and nothing else does: their issuer, configuration and
/// claims but the registered ones (holder key, status entry, times), as a short digest.
pub fn copies_of(c: &crate::credentials::StoredCredential) -> String {
    use sha2::{Digest, Sha256};
    let mut claims = c.claims.clone();
    claims.retain(|name, _| !REGISTERED_CLAIMS.contains(&name.as_str()));
    let digest = Sha256::new()
        .chain_update(c.issuer.as_bytes())
        .chain_update([0])
        .chain_update(c.configuration_id.as_bytes())
        .chain_update([0])
        .chain_update(canonical(&Value::Object(claims)).as_bytes())
        .finalize();
    carnet_core::b64::encode(&digest[..12])
}

/// Builds the carnet from the holder's credentials (newest first, as stored).
pub fn build(views: &[CredentialView]) -> Carnet {
    let mut seen = HashSet::new();
    let mut groups: BTreeMap<String, Vec<&CredentialView>> = BTreeMap::new();
    let mut identities = Vec::new();
    let mut completions = Vec::new();
    // Among copies, a valid one stands for them all.
    let mut ordered: Vec<&CredentialView> = views.iter().collect();
    ordered.sort_by_key(|v| v.credential.status != "valid");
    for view in ordered {
        let c = &view.credential;
        // The first copy met stands for them all.
        if !seen.insert(copies_of(c)) {
            continue;
        }
        if c.claims.contains_key("competency") && c.claims.contains_key("level") {
            groups.entry(competency_key(view)).or_default().push(view);
        } else if c.configuration_id == "identity" || c.vct.ends_with("/identity") {
            identities.push(entry(view));
        } else if c.configuration_id == "completion" || c.vct.ends_with("/completion") {
            completions.push(entry(view));
        }
    }
    let date = |v: &CredentialView| {
        (
            // `get`: a credential without the date (any issuer may send one) must not panic
            // the carnet, as indexing the map would.
            v.credential
                .claims
                .get("validated_on")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            v.credential.issued_at.unwrap_or_default(),
        )
    };
    let mut competencies: Vec<CompetencyHistory> = groups
        .into_iter()
        .map(|(key, mut views)| {
            views.sort_by_key(|v| date(v));
            let latest = views.last().map(|v| &v.credential.claims["competency"]);
            let text = |field: &str| {
                latest
                    .and_then(|c| c[field].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            CompetencyHistory {
                name: text("name"),
                code: text("code"),
                framework_codes: latest
                    .map(|c| c["framework_codes"].clone())
                    .unwrap_or(Value::Null),
                current: views
                    .iter()
                    .rev()
                    .find(|v| v.credential.status == "valid")
                    .map(|v| entry(v)),
                history: views.iter().map(|v| entry(v)).collect(),
                key,
            }
        })
        .collect();
    competencies.sort_by_key(|c| c.name.to_lowercase());
    Carnet {
        competencies,
        identities,
        completions,
    }
}

/// The holder's carnet: one history per competency across centres, identities, completion
/// certificates.
#[utoipa::path(get, path = "/api/v1/carnet", tag = "carnet",
    responses((status = 200, body = Carnet), (status = 401, body = Problem)))]
async fn carnet(State(state): State<WalletState>, holder: Holder) -> ApiResult<Json<Carnet>> {
    Ok(Json(build(&credentials::all(&state, &holder).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StoredCredential;
    use serde_json::json;

    fn view(id: &str, issuer: &str, competency: Value, level: &str, on: &str) -> CredentialView {
        let claims = json!({
            "competency": competency, "level": {"label": level}, "validated_on": on,
            "establishment": {"name": issuer},
        });
        CredentialView {
            id: id.into(),
            received_at: 0,
            own: false,
            copies: String::new(),
            credential: StoredCredential {
                format: "dc+sd-jwt".into(),
                sd_jwt: String::new(),
                issuer: issuer.into(),
                issuer_name: None,
                vct: "https://c.example/vct/competency".into(),
                configuration_id: "competency".into(),
                claims: claims.as_object().unwrap().clone(),
                status_list: None,
                status_idx: None,
                status: "valid".into(),
                status_checked_at: None,
                issued_at: None,
                expires_at: None,
            },
        }
    }

    #[test]
    fn a_credential_without_its_date_does_not_break_the_carnet() {
        let mut undated = view("a", "https://other.example", json!({"code": "X"}), "or", "");
        undated.credential.claims.remove("validated_on");
        let dated = view(
            "b",
            "https://other.example",
            json!({"code": "X"}),
            "argent",
            "2026-01-01",
        );
        let carnet = build(&[undated, dated]);
        assert_eq!(carnet.competencies.len(), 1);
        assert_eq!(carnet.competencies[0].history.len(), 2);
    }

    /// Another copy: its own id, holder key and status entry.
    fn copy_of(mut v: CredentialView) -> CredentialView {
        v.id.push_str("-copy");
        v.credential
            .claims
            .insert("cnf".into(), json!({"jwk": {"x": "other"}}));
        v.credential
            .claims
            .insert("status".into(), json!({"status_list": {"idx": 7}}));
        v
    }

    #[test]
    fn one_history_per_competency_across_centres() {
        let tig = |id| json!({"id": id, "code": "TIG", "name": "Souder TIG", "framework_codes": {"rome": "H2913", "rs": "RS5678"}});
        let safety = json!({"id": "cmp_s", "code": "SECU", "name": "Sécurité", "framework_codes": {"rome": "H2913"}});
        let views = vec![
            view("c1", "https://lyon", tig("cmp_l"), "bronze", "2026-02-01"),
            copy_of(view(
                "c1",
                "https://lyon",
                tig("cmp_l"),
                "bronze",
                "2026-02-01",
            )),
            view("c2", "https://bordeaux", tig("cmp_b"), "or", "2026-09-01"),
            view("c3", "https://lyon", safety, "72", "2026-03-01"),
        ];
        let carnet = build(&views);
        assert_eq!(
            carnet.competencies.len(),
            2,
            "the ROME code alone does not merge"
        );
        let tig = carnet
            .competencies
            .iter()
            .find(|c| c.key == "rs:RS5678")
            .unwrap();
        assert_eq!(tig.history.len(), 2, "two centres, copies once");
        assert_eq!(tig.history[0].issuer, "https://lyon");
        assert_eq!(tig.current.as_ref().unwrap().credential_id, "c2");
        let safety = carnet
            .competencies
            .iter()
            .find(|c| c.code == "SECU")
            .unwrap();
        assert_eq!(safety.key, "https://lyon#cmp_s");
    }

    #[test]
    fn a_revoked_latest_entry_is_not_current() {
        let c = json!({"id": "cmp", "code": "TIG", "name": "TIG", "framework_codes": {}});
        let mut newer = view("c2", "https://lyon", c.clone(), "or", "2026-09-01");
        newer.credential.status = "revoked".into();
        let carnet = build(&[newer, view("c1", "https://lyon", c, "bronze", "2026-01-01")]);
        let history = &carnet.competencies[0];
        assert_eq!(history.history.len(), 2);
        assert_eq!(history.current.as_ref().unwrap().credential_id, "c1");
    }
}

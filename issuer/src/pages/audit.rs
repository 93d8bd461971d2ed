//! The organisation's audit log, records named by their kind.

use super::*;

#[derive(Deserialize)]
pub(super) struct AuditEntry {
    pub(super) at: i64,
    #[serde(default)]
    pub(super) actor_id: Option<String>,
    pub(super) action: String,
    #[serde(default)]
    pub(super) target: Option<String>,
    pub(super) details: String,
}

#[derive(Deserialize)]
pub(super) struct AuditPage {
    pub(super) items: Vec<AuditEntry>,
    #[serde(default)]
    pub(super) next_cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "issuer_audit.html")]
pub(super) struct AuditView {
    pub(super) chrome: Chrome,
    pub(super) org: Tenant,
    /// When, who, what, on what, the details.
    pub(super) rows: Vec<(String, String, String, String, String)>,
    pub(super) next: Option<String>,
}

/// The organisation's audit log, as a page for its administrators: newest first, a page at a
/// time, who by name.
pub(super) async fn audit(
    State(state): State<IssuerState>,
    page: Page,
    Path(org): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let tenant: Tenant = api.get(&base).await?;
        let cursor = query
            .get("cursor")
            .map(|c| format!("&cursor={}", carnet_core::oid4vci::percent_encode(c)))
            .unwrap_or_default();
        let page: AuditPage = api.get(&format!("{base}/audit?limit=100{cursor}")).await?;
        let members: Vec<Member> = api.get(&format!("{base}/members")).await?;
        let chrome = chrome(&state, lang, session);
        let rows = page
            .items
            .into_iter()
            .map(|e| {
                let who = match &e.actor_id {
                    None => chrome.t("audit.system").to_owned(),
                    Some(id) => members
                        .iter()
                        .find(|m| &m.account_id == id)
                        .map_or_else(|| id.clone(), |m| m.display_name.clone()),
                };
                let details = e
                    .details
                    .split('"')
                    .map(|piece| match carnet_service::id::looks_like_id(piece) {
                        true => record(&chrome, piece),
                        false => piece.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("\"");
                // What was done in words, else its code.
                let what = match chrome.t(&format!("action.{}", e.action)) {
                    "" => e.action,
                    said => said.to_owned(),
                };
                (
                    carnet_service::web::moment(lang, e.at),
                    who,
                    what,
                    e.target.map(|t| record(&chrome, &t)).unwrap_or_default(),
                    details,
                )
            })
            .collect();
        Ok(AuditView {
            chrome,
            org: tenant,
            rows,
            next: page.next_cursor,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A record as the audit log names it: its kind in words and the end of its id, enough to tell
/// two apart (« évaluation …TAk9hN »); anything else as it is.
pub(super) fn record(chrome: &Chrome, id: &str) -> String {
    let Some((prefix, rest)) = id.split_once('_') else {
        return id.to_owned();
    };
    match chrome.t(&format!("record.{prefix}")) {
        "" => id.to_owned(),
        kind => {
            let tail: String = rest
                .chars()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{kind} …{tail}")
        }
    }
}

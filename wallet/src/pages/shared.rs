//! What the holder shared, with whom and when, in words.

use super::*;

pub(super) struct SharedEntry {
    pub(super) verifier: String,
    pub(super) when: String,
    pub(super) credentials: Vec<String>,
}

#[derive(Template)]
#[template(path = "shared.html")]
pub(super) struct SharedPage {
    pub(super) chrome: Chrome,
    pub(super) entries: Vec<SharedEntry>,
}

/// What the holder shared, with whom and when.
pub(super) async fn shared(
    State(state): State<WalletState>,
    lang: Lang,
    holder: Result<Holder, ApiError>,
) -> Result<Response, ApiError> {
    // Signed out: the home page, to sign in.
    let Ok(holder) = holder else {
        return Ok(see_other(&carnet_service::web::home(&state.ctx), None));
    };
    let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&holder.principal);
    let log = crate::presentations::shared_log(&state, &holder).await?;
    let held: Vec<Value> = credentials::all(&state, &holder)
        .await?
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or_default())
        .collect();
    let held: Vec<&Value> = held.iter().collect();
    let entries = log
        .iter()
        .map(|e| shared_entry(&chrome, e, &held))
        .collect();
    Ok(render(lang, SharedPage { chrome, entries }.render()))
}

//! The account: backup, restore, recovery.

use super::*;

#[derive(Template)]
#[template(path = "account.html")]
pub(super) struct AccountPage {
    pub(super) chrome: Chrome,
    /// What a restore did, or why it could not.
    pub(super) message: String,
}

pub(super) fn account_page(
    state: &WalletState,
    lang: Lang,
    session: &PageSession,
    message: String,
) -> Response {
    let page = AccountPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
        message,
    };
    render(lang, page.render())
}

/// Backup, restore and deletion of the account.
pub(super) async fn account(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
) -> Response {
    account_page(&state, lang, &session, String::new())
}

#[derive(Deserialize)]
pub(super) struct BackupForm {
    pub(super) csrf: String,
    pub(super) passphrase: String,
}

/// The encrypted backup, as a file to download.
pub(super) async fn backup(
    State(state): State<WalletState>,
    lang: Lang,
    api: Backend,
    Form(form): Form<BackupForm>,
) -> Response {
    let back = format!("{}/account", state.ctx.config.path_prefix());
    let body = json!({ "passphrase": form.passphrase });
    match api
        .call(Method::POST, "/api/v1/backup", &form.csrf, Some(body))
        .await
    {
        Ok(backup) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/json"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"carnet-sauvegarde.json\"",
                ),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            backup.to_string(),
        )
            .into_response(),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// Restores an uploaded backup (a multipart form: the file and its passphrase).
pub(super) async fn restore(
    State(state): State<WalletState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    form: axum::extract::Multipart,
) -> Response {
    let back = format!("{}/account", state.ctx.config.path_prefix());
    let problem = |p: Problem| carnet_service::web::problem_page(&state.ctx, lang, p, &back);
    let (fields, file) = match multipart_form(&session, form, "backup", MAX_BACKUP).await {
        Ok(read) => read,
        Err(p) => return problem(p),
    };
    let (csrf, passphrase) = (field(&fields, "csrf"), field(&fields, "passphrase"));
    let file = file.map(|f| f.bytes).unwrap_or_default();
    let Ok(backup) = serde_json::from_slice::<Value>(&file) else {
        return problem(Problem::invalid(
            lang.t(CATALOG, "restore.not_json").to_owned(),
        ));
    };
    let body = json!({ "backup": backup, "passphrase": passphrase });
    match api
        .call(Method::POST, "/api/v1/backup/restore", csrf, Some(body))
        .await
    {
        Ok(done) => {
            let t = |k| lang.t(CATALOG, k);
            let message = format!(
                "{} {} {}, {} {}, {} {}, {} {}.",
                t("restore.done"),
                done["restored"],
                t("restore.restored"),
                done["skipped"],
                t("restore.skipped"),
                done["refused"],
                t("restore.refused"),
                done["publications"],
                t("restore.publications"),
            );
            account_page(&state, lang, &session, message)
        }
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

#[derive(Template)]
#[template(path = "recover.html")]
pub(super) struct RecoverPage {
    pub(super) chrome: Chrome,
}

/// A lost password: the recovery code and a new password.
pub(super) async fn recover(State(state): State<WalletState>, lang: Lang) -> Response {
    let page = RecoverPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG),
    };
    render(lang, page.render())
}

/// Who attests a credential (or a candidate to a request), as the holder knows them: the
/// issuer's name, or this carnet for its own attestation.
pub(super) fn issuer_of(lang: Lang, c: &Value) -> String {
    if c["own"] == true {
        return lang.t(CATALOG, "own.issuer").to_owned();
    }
    c["issuer_name"]
        .as_str()
        .map_or_else(|| text(&c["issuer"]), str::to_owned)
}

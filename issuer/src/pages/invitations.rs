//! Invitations: a link given once, and the page that accepts one.

use super::*;

#[derive(Template)]
#[template(path = "issuer_secret.html")]
pub(super) struct SecretPage {
    pub(super) chrome: Chrome,
    /// Catalog keys of the title and the explanation.
    pub(super) title: &'static str,
    pub(super) intro: &'static str,
    pub(super) value: String,
    pub(super) qr: String,
    pub(super) back: String,
}

/// Calls the API for a secret link shown once (an invitation, a calendar feed), found at
/// `field` in the answer, and shows it with its QR code.
#[allow(clippy::too_many_arguments)]
pub(super) async fn secret_page(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    path: &str,
    csrf: &str,
    body: Value,
    field: &str,
    (title, intro): (&'static str, &'static str),
    back: String,
) -> Response {
    match api.call(Method::POST, path, csrf, Some(body)).await {
        Ok(answer) => {
            let value = answer[field].as_str().unwrap_or_default().to_owned();
            let page = SecretPage {
                chrome: chrome(state, lang, session),
                title,
                intro,
                qr: qr::svg(&value).unwrap_or_default(),
                value,
                back,
            };
            (StatusCode::CREATED, render(lang, page.render())).into_response()
        }
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// Invites someone by e-mail into the organisation (and a session): the link to give them.
pub(super) async fn invite(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path(org): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("{}/orgs/{org}", state.ctx.config.path_prefix());
    let csrf = field(&fields, "csrf");
    let body = match form_json(&fields) {
        Ok(body) => body,
        Err(detail) => {
            let p = Problem::from(detail);
            return carnet_service::web::problem_page(&state.ctx, lang, p, &back);
        }
    };
    let path = format!("/api/v1/organisations/{org}/invitations");
    let keys = ("invite.done", "invite.give");
    secret_page(
        &state, lang, &session, &api, &path, csrf, body, "link", keys, back,
    )
    .await
}

#[derive(Template)]
#[template(path = "issuer_invitation.html")]
pub(super) struct InvitationPage {
    pub(super) chrome: Chrome,
    pub(super) token: String,
    /// Until the address is confirmed the invitation waits: the page leads there, and back.
    pub(super) verify: Option<String>,
}

/// The page an invitation link opens: accept it once signed in.
pub(super) async fn invitation(
    State(state): State<IssuerState>,
    lang: Lang,
    session: Result<PageSession, ApiError>,
    Path(token): Path<String>,
) -> Response {
    let Ok(session) = session else {
        let note = lang.t(CATALOG, "invite.sign_in").to_owned();
        let here = format!("{}/invitations/{token}", state.ctx.config.path_prefix());
        return sign_in_page(&state.ctx, lang, CATALOG, StatusCode::OK, note, &here);
    };
    let here = format!("{}/invitations/{token}", state.ctx.config.path_prefix());
    let page = InvitationPage {
        chrome: chrome(&state, lang, &session),
        verify: (!session.0.email_verified).then(|| {
            format!(
                "{}/verify?next={}",
                state.ctx.config.path_prefix(),
                carnet_core::oid4vci::percent_encode(&here)
            )
        }),
        token,
    };
    render(lang, page.render())
}

//! The pages every portal has for a person's address and password: confirming the address
//! (right after sign-up, from the mailed link, or by its code), changing it, and a lost
//! password (`crate::addresses` does the work).

use super::{Chrome, PageSession, form_token_ok, home, local_page, problem_page, render};
use crate::Ctx;
use crate::addresses;
use crate::error::ApiError;
use crate::i18n::{Catalog, Lang};
use crate::limits::ClientIp;
use axum::Router;
use axum::extract::{Form, FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The strings of these pages.
pub const CATALOG: Catalog = &[
    (
        "verify.title",
        "Confirmer mon adresse e-mail",
        "Confirm my e-mail address",
    ),
    ("verify.sent", "Nous avons écrit à", "We wrote to"),
    (
        "verify.how",
        "Ouvrez le lien du courriel, ou tapez ici le code à 6 chiffres qu'il contient. Les invitations et les attestations qui vous sont destinées arrivent dès que votre adresse est confirmée.",
        "Open the link in the message, or type here the 6-digit code it contains. Invitations and credentials meant for you arrive as soon as your address is confirmed.",
    ),
    (
        "verify.code",
        "Code reçu par e-mail",
        "Code from the e-mail",
    ),
    ("verify.submit", "Confirmer", "Confirm"),
    (
        "verify.wrong_code",
        "Ce n'est pas le code du dernier courriel. Vérifiez-le, ou demandez un nouveau courriel (après cinq essais, le code ne vaut plus).",
        "This is not the code of the latest message. Check it, or ask for a new message (after five tries the code no longer works).",
    ),
    (
        "verify.resend",
        "Je n'ai rien reçu : renvoyer le courriel",
        "I got nothing: send it again",
    ),
    (
        "verify.resent",
        "Un nouveau courriel est parti à",
        "A new message went to",
    ),
    (
        "verify.done",
        "Votre adresse est confirmée :",
        "Your address is confirmed:",
    ),
    (
        "verify.change",
        "Changer d'adresse e-mail",
        "Change my e-mail address",
    ),
    (
        "verify.change_intro",
        "La nouvelle adresse remplace l'actuelle dès que vous l'aurez confirmée, depuis le courriel que nous y enverrons.",
        "The new address replaces the current one as soon as you confirm it, from the message we send to it.",
    ),
    ("verify.new_email", "Nouvelle adresse", "New address"),
    (
        "verify.change_submit",
        "Envoyer la confirmation",
        "Send the confirmation",
    ),
    ("verify.later", "Plus tard", "Later"),
    ("verify.continue", "Continuer", "Continue"),
    (
        "verify.link_intro",
        "Vous confirmez que cette adresse est la vôtre, pour le compte au nom de",
        "You confirm that this address is yours, for the account in the name of",
    ),
    (
        "verify.not_me",
        "Vous n'avez pas créé ce compte ? Ne confirmez pas : fermez simplement cette page.",
        "You did not create this account? Do not confirm: just close this page.",
    ),
    (
        "verify.confirmed",
        "C'est fait : l'adresse est confirmée.",
        "Done: the address is confirmed.",
    ),
    (
        "verify.expired",
        "Ce lien n'est plus valable (déjà utilisé, remplacé par un plus récent, ou expiré). Connectez-vous pour en demander un nouveau.",
        "This link no longer works (used already, replaced by a newer one, or expired). Sign in to ask for a new one.",
    ),
    ("verify.to_home", "Aller à l'accueil", "Go to the home page"),
    ("forgot.title", "Mot de passe oublié", "Forgotten password"),
    (
        "forgot.intro",
        "Donnez l'adresse de votre compte : nous y envoyons un lien pour choisir un nouveau mot de passe.",
        "Give your account's address: we send it a link to choose a new password.",
    ),
    ("forgot.submit", "Recevoir le lien", "Send me the link"),
    (
        "forgot.invalid",
        "Cette adresse e-mail n'est pas valide.",
        "This e-mail address is not valid.",
    ),
    (
        "forgot.sent",
        "Si un compte utilise cette adresse, un courriel vient d'y partir. Il peut mettre quelques minutes à arriver ; pensez aux indésirables.",
        "If an account uses this address, a message just went to it. It may take a few minutes; check the spam folder.",
    ),
    (
        "forgot.throttled",
        "Plusieurs demandes viennent d'être faites pour cette adresse. Patientez un peu avant de réessayer.",
        "Several requests were just made for this address. Please wait a little before trying again.",
    ),
    (
        "reset.title",
        "Choisir un nouveau mot de passe",
        "Choose a new password",
    ),
    ("reset.for", "Pour le compte", "For the account"),
    (
        "reset.effect",
        "Toutes vos sessions ouvertes et vos jetons d'accès seront fermés.",
        "All your open sessions and access tokens will be closed.",
    ),
    (
        "reset.submit",
        "Enregistrer le mot de passe",
        "Save the password",
    ),
    (
        "reset.done",
        "Votre mot de passe est changé. Connectez-vous avec le nouveau.",
        "Your password is changed. Sign in with the new one.",
    ),
    (
        "reset.expired",
        "Ce lien n'est plus valable (déjà utilisé ou expiré après une heure). Demandez-en un nouveau.",
        "This link no longer works (used already, or expired after an hour). Ask for a new one.",
    ),
    (
        "reset.again",
        "Demander un nouveau lien",
        "Ask for a new link",
    ),
    (
        "sign_in.forgot",
        "Mot de passe oublié ?",
        "Forgot your password?",
    ),
];

#[derive(askama::Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: Chrome,
    email: String,
    verified: bool,
    /// What just happened, or why the last try failed (kept with what was typed).
    notice: String,
    error: String,
    code: String,
    new_email: String,
    next: String,
}

#[derive(askama::Template)]
#[template(path = "verify_link.html")]
struct LinkPage {
    chrome: Chrome,
    token: String,
    email: String,
    name: String,
}

/// A page that says one thing and leads on.
#[derive(askama::Template)]
#[template(path = "notice.html")]
struct NoticePage {
    chrome: Chrome,
    title: &'static str,
    message: String,
    link: String,
    link_text: &'static str,
}

#[derive(askama::Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    email: String,
    error: String,
}

#[derive(askama::Template)]
#[template(path = "reset.html")]
struct ResetPage {
    chrome: Chrome,
    token: String,
    email: String,
    error: String,
}

#[derive(serde::Deserialize, Default)]
struct Next {
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
struct ResendForm {
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
}

#[derive(serde::Deserialize)]
struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(serde::Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_password: String,
}

/// The page of `/verify`, as `session` sees it now.
fn verify_page(ctx: &Ctx, lang: Lang, catalog: Catalog, session: &PageSession) -> VerifyPage {
    let mut chrome = Chrome::new(ctx, lang, catalog)
        .sharing(CATALOG)
        .signed_in_as(&session.0);
    // This page is the way: no banner pointing to itself.
    chrome.unverified = false;
    VerifyPage {
        chrome,
        email: session.0.email.clone(),
        verified: session.0.email_verified,
        notice: String::new(),
        error: String::new(),
        code: String::new(),
        new_email: String::new(),
        next: home(ctx),
    }
}

fn notice(
    ctx: &Ctx,
    lang: Lang,
    catalog: Catalog,
    title: &'static str,
    message: String,
    (link, link_text): (String, &'static str),
) -> Response {
    let chrome = Chrome::new(ctx, lang, catalog).sharing(CATALOG);
    let page = NoticePage {
        title: chrome.t(title),
        chrome,
        message,
        link,
        link_text: lang.t(CATALOG, link_text),
    };
    render(lang, askama::Template::render(&page))
}

/// `/verify`, `/verify/resend`, `/verify/{token}`, `/forgot` and `/reset/{token}` of a portal
/// whose pages speak `catalog`.
pub fn routes<S>(catalog: Catalog) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    let t = |lang: Lang, key: &str| lang.t(CATALOG, key);
    Router::new()
        .route(
            "/verify",
            get(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      session: Result<PageSession, ApiError>,
                      Query(q): Query<Next>| async move {
                    let Ok(session) = session else {
                        return super::sign_in_page(
                            &ctx,
                            lang,
                            catalog,
                            StatusCode::OK,
                            String::new(),
                            &format!("{}/verify", ctx.config.path_prefix()),
                        );
                    };
                    let mut page = verify_page(&ctx, lang, catalog, &session);
                    page.next = local_page(&ctx, &q.next).unwrap_or(page.next);
                    render(lang, askama::Template::render(&page))
                },
            )
            .post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      session: PageSession,
                      Form(form): Form<CodeForm>| async move {
                    session.check(&form.csrf)?;
                    let next = local_page(&ctx, &form.next).unwrap_or_else(|| home(&ctx));
                    let response = match addresses::verify_code(&ctx, &session.0, &form.code).await
                    {
                        Ok(_) => super::see_other(&next, None),
                        Err(ApiError::Invalid { .. }) => {
                            let mut page = verify_page(&ctx, lang, catalog, &session);
                            page.error = t(lang, "verify.wrong_code").to_owned();
                            page.code = form.code;
                            page.next = next;
                            (
                                StatusCode::UNPROCESSABLE_ENTITY,
                                render(lang, askama::Template::render(&page)),
                            )
                                .into_response()
                        }
                        Err(e) => problem_page(&ctx, lang, e.into(), &home(&ctx)),
                    };
                    Ok::<_, ApiError>(response)
                },
            ),
        )
        .route(
            "/verify/resend",
            axum::routing::post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      session: PageSession,
                      Form(form): Form<ResendForm>| async move {
                    session.check(&form.csrf)?;
                    let mut page = verify_page(&ctx, lang, catalog, &session);
                    page.next = local_page(&ctx, &form.next).unwrap_or(page.next);
                    let asked = Some(form.email.as_str()).filter(|e| !e.trim().is_empty());
                    let status = match addresses::resend(&ctx, &session.0, asked).await {
                        Ok((email, _)) => {
                            page.notice = format!("{} {email}.", t(lang, "verify.resent"));
                            StatusCode::OK
                        }
                        Err(e) => {
                            page.error = match &e {
                                ApiError::TooManyRequests { .. } => {
                                    t(lang, "forgot.throttled").to_owned()
                                }
                                other => other.to_string(),
                            };
                            page.new_email = form.email;
                            e.status()
                        }
                    };
                    Ok::<_, ApiError>(
                        (status, render(lang, askama::Template::render(&page))).into_response(),
                    )
                },
            ),
        )
        .route(
            "/verify/{token}",
            get(
                move |State(ctx): State<Ctx>, lang: Lang, Path(token): Path<String>| async move {
                    match addresses::verification_of(&ctx, &token).await {
                        Ok(pending) => {
                            let page = LinkPage {
                                chrome: Chrome::new(&ctx, lang, catalog).sharing(CATALOG),
                                token,
                                email: pending.email,
                                name: pending.display_name,
                            };
                            render(lang, askama::Template::render(&page))
                        }
                        Err(_) => expired_link(&ctx, lang, catalog),
                    }
                },
            )
            .post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      headers: HeaderMap,
                      Path(token): Path<String>,
                      Form(form): Form<TokenForm>| async move {
                    if !form_token_ok(&ctx, &headers, &form.csrf) {
                        return problem_page(&ctx, lang, ApiError::Csrf.into(), &home(&ctx));
                    }
                    match addresses::verify_link(&ctx, &token).await {
                        Ok(done) => notice(
                            &ctx,
                            lang,
                            catalog,
                            "verify.title",
                            format!("{} {}", t(lang, "verify.confirmed"), done.email),
                            (home(&ctx), "verify.to_home"),
                        ),
                        Err(ApiError::NotFound) => expired_link(&ctx, lang, catalog),
                        Err(e) => problem_page(&ctx, lang, e.into(), &home(&ctx)),
                    }
                },
            ),
        )
        .route(
            "/forgot",
            get(move |State(ctx): State<Ctx>, lang: Lang| async move {
                let page = ForgotPage {
                    chrome: Chrome::new(&ctx, lang, catalog).sharing(CATALOG),
                    email: String::new(),
                    error: String::new(),
                };
                render(lang, askama::Template::render(&page))
            })
            .post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      client: ClientIp,
                      headers: HeaderMap,
                      Form(form): Form<ForgotForm>| async move {
                    let asked = if form_token_ok(&ctx, &headers, &form.csrf) {
                        addresses::ask_reset(&ctx, &client, &form.email).await
                    } else {
                        Err(ApiError::Csrf)
                    };
                    let error = match asked {
                        Ok(()) => {
                            return notice(
                                &ctx,
                                lang,
                                catalog,
                                "forgot.title",
                                t(lang, "forgot.sent").to_owned(),
                                (home(&ctx), "verify.to_home"),
                            );
                        }
                        Err(e) => e,
                    };
                    let message = match &error {
                        ApiError::TooManyRequests { .. } => t(lang, "forgot.throttled").to_owned(),
                        ApiError::Csrf => lang.t(super::COMMON, "sign_in.expired").to_owned(),
                        ApiError::Invalid { .. } => t(lang, "forgot.invalid").to_owned(),
                        _ => return problem_page(&ctx, lang, error.into(), &home(&ctx)),
                    };
                    let page = ForgotPage {
                        chrome: Chrome::new(&ctx, lang, catalog).sharing(CATALOG),
                        email: form.email,
                        error: message,
                    };
                    (
                        error.status(),
                        render(lang, askama::Template::render(&page)),
                    )
                        .into_response()
                },
            ),
        )
        .route(
            "/reset/{token}",
            get(
                move |State(ctx): State<Ctx>, lang: Lang, Path(token): Path<String>| async move {
                    match addresses::reset_is_live(&ctx, &token).await {
                        Ok(email) => {
                            let page = ResetPage {
                                chrome: Chrome::new(&ctx, lang, catalog).sharing(CATALOG),
                                token,
                                email,
                                error: String::new(),
                            };
                            render(lang, askama::Template::render(&page))
                        }
                        Err(_) => expired_reset(&ctx, lang, catalog),
                    }
                },
            )
            .post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      headers: HeaderMap,
                      Path(token): Path<String>,
                      Form(form): Form<ResetForm>| async move {
                    if !form_token_ok(&ctx, &headers, &form.csrf) {
                        return problem_page(&ctx, lang, ApiError::Csrf.into(), &home(&ctx));
                    }
                    match addresses::reset_password(&ctx, &token, &form.new_password).await {
                        Ok(_) => notice(
                            &ctx,
                            lang,
                            catalog,
                            "reset.title",
                            t(lang, "reset.done").to_owned(),
                            (home(&ctx), "verify.to_home"),
                        ),
                        Err(ApiError::NotFound) => expired_reset(&ctx, lang, catalog),
                        Err(e @ ApiError::Invalid { .. }) => {
                            let email = addresses::reset_is_live(&ctx, &token)
                                .await
                                .unwrap_or_default();
                            let page = ResetPage {
                                chrome: Chrome::new(&ctx, lang, catalog).sharing(CATALOG),
                                token,
                                email,
                                error: e.to_string(),
                            };
                            (e.status(), render(lang, askama::Template::render(&page)))
                                .into_response()
                        }
                        Err(e) => problem_page(&ctx, lang, e.into(), &home(&ctx)),
                    }
                },
            ),
        )
}

fn expired_link(ctx: &Ctx, lang: Lang, catalog: Catalog) -> Response {
    let page = notice(
        ctx,
        lang,
        catalog,
        "verify.title",
        lang.t(CATALOG, "verify.expired").to_owned(),
        (
            format!("{}/verify", ctx.config.path_prefix()),
            "verify.continue",
        ),
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

fn expired_reset(ctx: &Ctx, lang: Lang, catalog: Catalog) -> Response {
    let page = notice(
        ctx,
        lang,
        catalog,
        "reset.title",
        lang.t(CATALOG, "reset.expired").to_owned(),
        (
            format!("{}/forgot", ctx.config.path_prefix()),
            "reset.again",
        ),
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_complete() {
        crate::i18n::assert_complete(super::CATALOG);
        crate::i18n::assert_complete(crate::addresses::CATALOG);
    }
}

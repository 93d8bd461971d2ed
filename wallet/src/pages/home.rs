//! The carnet itself: its figures, adding a credential (photo, link and PIN), one history per competency.

use super::*;

pub(super) struct CompetencyCard {
    pub(super) name: String,
    pub(super) code: String,
    pub(super) frameworks: String,
    pub(super) current: String,
    pub(super) entries: Vec<EntryRow>,
}

pub(super) struct EntryRow {
    pub(super) level: String,
    pub(super) date: String,
    pub(super) evaluator: String,
    pub(super) establishment: String,
    pub(super) status: String,
}

#[derive(Template)]
#[template(path = "carnet.html")]
pub(super) struct CarnetPage {
    pub(super) chrome: Chrome,
    /// The carnet in figures: competencies, credentials (copies counted once), and whether a
    /// profile is published.
    pub(super) figures: (usize, usize, bool),
    pub(super) competencies: Vec<CompetencyCard>,
    pub(super) completions: Vec<String>,
    pub(super) error: String,
    /// An offer link to add, from the address (`?offer=`) or the form that failed.
    pub(super) offer: String,
}

pub(super) fn cards(carnet: &Carnet, chrome: &Chrome) -> (Vec<CompetencyCard>, Vec<String>) {
    let competencies = carnet
        .competencies
        .iter()
        .map(|c| CompetencyCard {
            name: c.name.clone(),
            code: c.code.clone(),
            frameworks: c
                .framework_codes
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{} {}", k.to_uppercase(), text(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            current: c.current.as_ref().map_or_else(
                || chrome.t("carnet.none").to_owned(),
                |e| text(&e.claims["level"]["label"]),
            ),
            entries: c
                .history
                .iter()
                .rev()
                .map(|e| EntryRow {
                    level: text(&e.claims["level"]["label"]),
                    date: date(chrome.lang, &text(&e.claims["validated_on"])),
                    evaluator: text(&e.claims["evaluator"]["name"]),
                    establishment: text(&e.claims["establishment"]["name"]),
                    status: e.status.clone(),
                })
                .collect(),
        })
        .collect();
    let completions = carnet
        .completions
        .iter()
        .map(|e| {
            let c = &e.claims;
            format!(
                "{} — {} ({} – {})",
                text(&c["formation"]["title"]),
                text(&c["establishment"]["name"]),
                date(chrome.lang, &text(&c["formation"]["starts_on"])),
                date(chrome.lang, &text(&c["formation"]["ends_on"])),
            )
        })
        .collect();
    (competencies, completions)
}

/// The carnet of the signed-in holder, or the page to sign in or create an account.
pub(super) async fn home(
    State(state): State<WalletState>,
    lang: Lang,
    holder: Result<Holder, ApiError>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Ok(holder) = holder else {
        // An offer handed over from a centre's page comes back after signing in.
        let handed = query.get("offer").map(|offer| {
            format!(
                "{}?offer={}",
                state.ctx.config.path_prefix(),
                carnet_core::oid4vci::percent_encode(offer)
            )
        });
        let next = query
            .get("next")
            .or(handed.as_ref())
            .map_or("", String::as_str);
        return sign_in_page(
            &state.ctx,
            lang,
            CATALOG,
            StatusCode::OK,
            String::new(),
            next,
        );
    };
    let offer = query.get("offer").cloned().unwrap_or_default();
    carnet_page(&state, lang, &holder, String::new(), offer).await
}

/// The carnet page of a holder, with a message about the last form if any.
pub(super) async fn carnet_page(
    state: &WalletState,
    lang: Lang,
    holder: &Holder,
    error: String,
    offer: String,
) -> Response {
    let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&holder.principal);
    let published = crate::directory::all(state, holder)
        .await
        .is_ok_and(|p| !p.is_empty());
    match credentials::all(state, holder).await {
        Ok(all) => {
            let built = carnet::build(&all);
            let held = built
                .competencies
                .iter()
                .map(|c| c.history.len())
                .sum::<usize>()
                + built.identities.len()
                + built.completions.len();
            let figures = (built.competencies.len(), held, published);
            let (competencies, completions) = cards(&built, &chrome);
            let status = if error.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = CarnetPage {
                chrome,
                figures,
                competencies,
                completions,
                error,
                offer,
            };
            (status, render(lang, page.render())).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct ReceiveForm {
    pub(super) csrf: String,
    pub(super) offer: String,
    #[serde(default)]
    pub(super) tx_code: String,
}

/// Adds the credentials of a pasted offer to the carnet.
pub(super) async fn receive(
    State(state): State<WalletState>,
    lang: Lang,
    holder: PageHolder,
    Form(form): Form<ReceiveForm>,
) -> Result<Response, ApiError> {
    let holder = holder.check(&form.csrf)?;
    Ok(add_offer(&state, lang, &holder, form.offer, form.tx_code).await)
}

/// Adds the credentials of an offer (pasted, scanned or read from a photo) to the carnet, or
/// shows the carnet again saying why it could not.
pub(super) async fn add_offer(
    state: &WalletState,
    lang: Lang,
    holder: &Holder,
    offer: String,
    tx_code: String,
) -> Response {
    let input = credentials::Receive {
        offer: offer.trim().to_owned(),
        tx_code: Some(tx_code).filter(|c| !c.trim().is_empty()),
        copies: None,
    };
    match credentials::receive_offer(state, holder, input).await {
        Ok(_) => see_other(&carnet_service::web::home(&state.ctx), None),
        Err(e) if e.status().is_client_error() || e.status() == StatusCode::BAD_GATEWAY => {
            let message = format!("{} {e}", lang.t(CATALOG, "receive.failed"));
            carnet_page(state, lang, holder, message, offer).await
        }
        Err(e) => e.into_response(),
    }
}

/// The largest backup restored through the page.
pub(super) const MAX_BACKUP: usize = 20 * 1024 * 1024;

/// The largest photo taken (phones make them large; the scan brings them down).
pub(super) const MAX_PHOTO: usize = 20 * 1024 * 1024;

/// Adds the credentials of an offer whose QR code is in a photo (the phone's camera, through
/// the form's file input).
pub(super) async fn receive_photo(
    State(state): State<WalletState>,
    lang: Lang,
    holder: PageHolder,
    form: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let back = carnet_service::web::home(&state.ctx);
    let (fields, photo) = match multipart_form(holder.session(), form, "photo", MAX_PHOTO).await {
        Ok(read) => read,
        Err(p) => {
            return Ok(carnet_service::web::problem_page(
                &state.ctx, lang, p, &back,
            ));
        }
    };
    let (csrf, tx_code) = (field(&fields, "csrf"), field(&fields, "tx_code").to_owned());
    let photo = photo.map(|p| p.bytes).unwrap_or_default();
    let holder = holder.check(csrf)?;
    // Decoding takes a moment and memory: off the async threads, a few at a time.
    let read = crate::scan::read_bounded(photo).await;
    Ok(match read {
        Ok(offer) => add_offer(&state, lang, &holder, offer, tx_code).await,
        Err(why) => {
            let key = match why {
                crate::scan::ScanError::NotAPicture => "receive.not_picture",
                crate::scan::ScanError::TooLarge => "receive.too_large",
                crate::scan::ScanError::NoCode => "receive.no_code",
                crate::scan::ScanError::Busy => "receive.busy",
            };
            let message = lang.t(CATALOG, key).to_owned();
            carnet_page(&state, lang, &holder, message, String::new()).await
        }
    })
}

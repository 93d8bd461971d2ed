//! Offers: composing one (text or PDF, to a profile or a whole search), those sent and their recipients.

use super::*;

/// Sends an offer composed on a page: a multipart form, for its optional PDF. The PDF goes
/// first (`documents`), then the offer naming it.
pub(super) async fn send_offer(
    State(state): State<VerifierState>,
    page: Page,
    Path(company): Path<String>,
    form: Multipart,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let base = state.ctx.config.path_prefix().to_owned();
    let back = format!("{base}/companies/{company}");
    let (fields, pdf) = match multipart_form(session, form, "document", MAX_PDF).await {
        Ok(read) => read,
        Err(p) => return problem_page(&state.ctx, lang, p, &back),
    };
    let field = |name: &str| Some(field(&fields, name).trim().to_owned()).filter(|v| !v.is_empty());
    let csrf = field("csrf").unwrap_or_default();
    let document_id = match pdf {
        Some(pdf) => {
            let name = if pdf.filename.is_empty() {
                "offre.pdf"
            } else {
                &pdf.filename
            };
            let path = format!(
                "/api/v1/companies/{company}/documents?filename={}",
                percent_encode(name)
            );
            match api
                .send(
                    Method::POST,
                    &path,
                    &csrf,
                    Some(("application/pdf", pdf.bytes)),
                )
                .await
            {
                Ok(doc) => doc["id"].as_str().map(str::to_owned),
                Err(p) => return problem_page(&state.ctx, lang, p, &back),
            }
        }
        None => None,
    };
    let claims: Vec<Value> = CLAIMS
        .iter()
        .filter_map(|c| match field(&format!("claim.{c}")).as_deref() {
            Some("required") => Some(json!({"path": [c], "required": true})),
            Some("optional") => Some(json!({"path": [c]})),
            _ => None,
        })
        .collect();
    let recipients = match field("profile") {
        Some(profile) => json!({"profiles": [profile]}),
        None => {
            let mut search = serde_json::Map::new();
            for f in FILTERS {
                if let Some(v) = field(&format!("search.{f}")) {
                    let v = match f {
                        "min_level" => v.parse::<f64>().map_or(json!(v), |n| json!(n)),
                        _ => json!(v),
                    };
                    search.insert(f.to_owned(), v);
                }
            }
            json!({"search": search})
        }
    };
    let body = json!({
        "title": field("title").unwrap_or_default(),
        "body": field("body"),
        "document_id": document_id,
        "contract_type": field("contract_type"),
        "place": field("place"),
        "claims": claims,
        "quiz_id": field("quiz_id"),
        "recipients": recipients,
    });
    match api
        .call(
            Method::POST,
            &format!("/api/v1/companies/{company}/offers"),
            &csrf,
            Some(body),
        )
        .await
    {
        Ok(sent) => {
            let id = sent["offer"]["id"].as_str().unwrap_or_default();
            see_other(&format!("{base}/companies/{company}/offers/{id}"), None)
        }
        Err(p) => problem_page(&state.ctx, lang, p, &back),
    }
}

pub(super) struct OfferRow {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) sent: String,
    pub(super) expires: String,
    pub(super) statuses: Vec<(String, i64)>,
}

#[derive(Template)]
#[template(path = "verifier_offers.html")]
pub(super) struct OffersPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) offers: Vec<OfferRow>,
}

pub(super) async fn offers(
    State(state): State<VerifierState>,
    page: Page,
    Path(company): Path<String>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let frame = frame(api, &company).await?;
        let offers = api
            .get::<Vec<OfferSummary>>(&format!("/api/v1/companies/{company}/offers"))
            .await?
            .into_iter()
            .map(|o| OfferRow {
                statuses: o
                    .statuses
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                            .collect()
                    })
                    .unwrap_or_default(),
                id: o.id,
                title: o.title,
                sent: date_of(lang, o.created_at),
                expires: date_of(lang, o.expires_at),
            })
            .collect();
        Ok(OffersPage {
            chrome: page.chrome(CATALOG),
            frame,
            offers,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

pub(super) struct RecipientRow {
    pub(super) offer_id: String,
    pub(super) offer_title: String,
    pub(super) profile_id: String,
    pub(super) name: String,
    pub(super) status: String,
    /// When it reached that state (answered, seen, or sent).
    pub(super) since: i64,
    pub(super) disclosed: Vec<(&'static str, String, String)>,
    pub(super) verified_by: String,
    pub(super) declared: Vec<(&'static str, String, String)>,
    pub(super) receipt: bool,
    pub(super) chat_id: Option<String>,
}

pub(super) fn recipient_row(r: Recipient) -> RecipientRow {
    RecipientRow {
        since: r.answered_at.or(r.viewed_at).unwrap_or(r.sent_at),
        offer_id: r.offer_id,
        offer_title: r.offer_title,
        profile_id: r.profile_id,
        disclosed: disclosed(&r.disclosed),
        verified_by: r.verified_by.unwrap_or_default(),
        declared: disclosed(&r.declared),
        receipt: r.consent_receipt.is_some(),
        name: r.name,
        status: r.status,
        chat_id: r.chat_id,
    }
}

#[derive(Template)]
#[template(path = "verifier_offer.html")]
pub(super) struct OfferPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) title: String,
    pub(super) body: String,
    pub(super) document: bool,
    pub(super) expires: String,
    pub(super) recipients: Vec<RecipientRow>,
    pub(super) show_offer: bool,
}

pub(super) async fn offer(
    State(state): State<VerifierState>,
    page: Page,
    Path((company, offer)): Path<(String, String)>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let frame = frame(api, &company).await?;
        let detail: OfferDetail = api
            .get(&format!("/api/v1/companies/{company}/offers/{offer}"))
            .await?;
        Ok(OfferPage {
            chrome: page.chrome(CATALOG),
            frame,
            title: detail.title,
            body: detail.body.unwrap_or_default(),
            document: detail.document_id.is_some(),
            expires: date_of(lang, detail.expires_at),
            recipients: detail.recipients.into_iter().map(recipient_row).collect(),
            show_offer: false,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

//! Offers received: reading, declining, accepting with what to share (verified or declared).

use super::*;

pub(super) struct InboxRow {
    pub(super) publication: String,
    pub(super) id: String,
    pub(super) company: String,
    pub(super) siret: String,
    pub(super) title: String,
    pub(super) body: String,
    pub(super) document: bool,
    pub(super) contract: String,
    pub(super) place: String,
    pub(super) asks: Vec<(String, bool)>,
    pub(super) status: String,
    pub(super) expires: String,
    pub(super) chat: Option<String>,
    pub(super) open: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub(super) struct InboxPage {
    pub(super) chrome: Chrome,
    pub(super) offers: Vec<InboxRow>,
    pub(super) quizzes: usize,
}

#[derive(Deserialize)]
pub(super) struct InboxEntry {
    pub(super) publication_id: String,
    pub(super) offer: Value,
}

/// The offers received, with what each asks, to accept, decline, or chat.
pub(super) async fn inbox(State(state): State<WalletState>, page: Page) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let entries: Vec<InboxEntry> = api.get("/api/v1/inbox").await?;
        let quizzes = api
            .get::<Vec<Value>>("/api/v1/quizzes")
            .await
            .map_or(0, |q| q.len());
        let offers = entries
            .into_iter()
            .map(|e| {
                let o = &e.offer;
                let s = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
                let status = s("status");
                InboxRow {
                    publication: e.publication_id.clone(),
                    id: s("id"),
                    company: s("company"),
                    siret: s("company_siret"),
                    title: s("title"),
                    body: s("body"),
                    document: o["has_document"].as_bool().unwrap_or(false),
                    contract: s("contract_type"),
                    place: s("place"),
                    asks: o["claims"]
                        .as_array()
                        .map(|claims| {
                            claims
                                .iter()
                                .map(|c| {
                                    let path = serde_json::from_value(c["path"].clone())
                                        .map(|p: carnet_core::path::ClaimPath| {
                                            detail_label(lang, &pointer(&p))
                                        })
                                        .unwrap_or_default();
                                    (path, c["required"].as_bool().unwrap_or(false))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    open: matches!(status.as_str(), "sent" | "viewed"),
                    status,
                    expires: o["expires_at"]
                        .as_i64()
                        .map(|ms| date_of(lang, ms))
                        .unwrap_or_default(),
                    chat: o["chat_id"].as_str().map(str::to_owned),
                }
            })
            .collect();
        Ok(InboxPage {
            chrome: page.chrome(CATALOG),
            offers,
            quizzes,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

impl InboxPage {
    /// A claim's name in words, when the catalog knows it.
    pub(super) fn claim(&self, path: &str) -> String {
        match self.chrome.t(path) {
            "" => path.to_owned(),
            text => text.to_owned(),
        }
    }
}

pub(super) struct CandidateView {
    pub(super) query_id: String,
    pub(super) credential_id: String,
    pub(super) from: String,
    pub(super) required: Vec<String>,
    pub(super) optional: Vec<(String, String)>,
    /// Nothing of it is required by the offer: the holder ticks it to send it.
    pub(super) optional_credential: bool,
    /// This carnet's own attestation of the account's address.
    pub(super) own: bool,
}

/// A detail the holder declares in an answer: its field (a claim pointer), what it holds, and
/// whether the offer requires it.
pub(super) struct DeclareField {
    pub(super) pointer: &'static str,
    pub(super) value: String,
    pub(super) required: bool,
}

#[derive(Template)]
#[template(path = "accept.html")]
pub(super) struct AcceptPage {
    pub(super) chrome: Chrome,
    pub(super) request: String,
    pub(super) publication: String,
    pub(super) offer: String,
    pub(super) company: String,
    pub(super) title: String,
    pub(super) candidates: Vec<CandidateView>,
    pub(super) declare: Vec<DeclareField>,
    pub(super) error: Option<String>,
    /// Without an identity credential: the centres the holder has credentials from, to ask
    /// one for it (their page, name).
    pub(super) centres: Vec<(String, String)>,
}

impl AcceptPage {
    pub(super) fn claim(&self, path: &str) -> String {
        match self.chrome.t(path) {
            "" => path.to_owned(),
            text => text.to_owned(),
        }
    }

    pub(super) fn field(&self, pointer: &str) -> &str {
        self.chrome.t(&format!("detail:{pointer}"))
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    pub(super) csrf: String,
}

/// Opens the offer's presentation request and asks the holder what to share.
pub(super) async fn accept(
    State(state): State<WalletState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((publication, offer)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back = format!("{}/inbox", state.ctx.config.path_prefix());
    let view = accept_view(
        &state,
        lang,
        &session,
        &api,
        &publication,
        &offer,
        &form.csrf,
        None,
    );
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// What to share in answer to an offer: the claims an identity credential from a centre
/// attests, and a field for each other detail the offer asks (filled from what the holder
/// declared before, or `typed`), with a presentation and links of their own. Always
/// answerable: no centre's credential is needed to accept.
#[allow(clippy::too_many_arguments)]
pub(super) async fn accept_view(
    state: &WalletState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    publication: &str,
    offer: &str,
    csrf: &str,
    typed: Option<(Declared, String)>,
) -> Result<AcceptPage, Problem> {
    let entries: Vec<InboxEntry> = api.get("/api/v1/inbox").await?;
    let entry = entries
        .iter()
        .find(|e| e.publication_id == publication && e.offer["id"] == offer)
        .ok_or(Problem::not_found())?;
    let request = entry.offer["request"]
        .as_str()
        .ok_or(Problem::not_found())?
        .to_owned();
    let asked: Vec<(String, bool)> = entry.offer["claims"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let path: carnet_core::path::ClaimPath =
                serde_json::from_value(c["path"].clone()).ok()?;
            Some((pointer(&path), c["required"].as_bool().unwrap_or(false)))
        })
        .collect();
    let pending = api
        .call(
            Method::POST,
            "/api/v1/presentations/requests",
            csrf,
            Some(json!({ "request": request })),
        )
        .await?;
    let mut candidates = Vec::new();
    let mut covered: Vec<String> = Vec::new();
    for query in pending["queries"].as_array().into_iter().flatten() {
        // The first credential that answers a query (the newest of its kind).
        if let Some(c) = query["candidates"].as_array().and_then(|c| c.first()) {
            let paths = |k: &str| -> Vec<carnet_core::path::ClaimPath> {
                serde_json::from_value(c[k].clone()).unwrap_or_default()
            };
            covered.extend(
                paths("required")
                    .iter()
                    .chain(&paths("optional"))
                    .map(pointer),
            );
            let optional_credential = paths("required").iter().all(|p| {
                let p = pointer(p);
                asked.iter().any(|(a, required)| *a == p && !required)
            });
            candidates.push(CandidateView {
                query_id: text(&query["query_id"]),
                credential_id: text(&c["credential_id"]),
                from: issuer_of(lang, c),
                optional_credential,
                own: c["own"] == true,
                required: paths("required")
                    .iter()
                    .map(|p| detail_label(lang, &pointer(p)))
                    .collect(),
                optional: paths("optional")
                    .iter()
                    .map(|p| (detail_label(lang, &pointer(p)), p.to_json().to_string()))
                    .collect(),
            });
        }
    }
    let (values, error) = match typed {
        Some((typed, error)) => (typed, Some(error)),
        None => {
            let mut saved: Declared = api.get("/api/v1/details").await.unwrap_or_default();
            if saved.email.is_none() {
                saved.email = Some(session.0.email.clone());
            }
            (saved, None)
        }
    };
    let mut declare: Vec<DeclareField> = asked
        .iter()
        .filter(|(p, _)| !covered.contains(p))
        .flat_map(|(p, required)| {
            carnet_core::declared::fields_of(p)
                .into_iter()
                .map(|f| (f, *required))
        })
        .chain([("/presentation", false), ("/links", false)])
        .map(|(pointer, required)| DeclareField {
            pointer,
            value: values.get(pointer),
            required,
        })
        .collect();
    declare.dedup_by(|a, b| a.pointer == b.pointer);
    // No identity credential: where to ask for one (the centres of the holder's credentials).
    let mut centres: Vec<(String, String)> = Vec::new();
    let held: Vec<Value> = api.get("/api/v1/credentials").await.unwrap_or_default();
    let identified = held.iter().any(|c| {
        c["configuration_id"] == "identity"
            || c["vct"].as_str().is_some_and(|v| v.ends_with("/identity"))
    });
    if !identified {
        for c in held {
            if let (Some(issuer), Some(name)) = (c["issuer"].as_str(), c["issuer_name"].as_str())
                && issuer.starts_with("http")
                && !centres.iter().any(|(i, _)| i == issuer)
            {
                centres.push((issuer.to_owned(), name.to_owned()));
            }
        }
    }
    Ok(AcceptPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
        request: text(&pending["id"]),
        publication: publication.to_owned(),
        offer: offer.to_owned(),
        company: text(&entry.offer["company"]),
        title: text(&entry.offer["title"]),
        candidates,
        declare,
        error,
        centres,
    })
}

/// Sends the holder's answer: for each query, the credential and the optional claims ticked,
/// and the details they declare (kept to fill the next answer). A detail that cannot be kept
/// shows the page again with what they typed.
pub(super) async fn answer(
    State(state): State<WalletState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path(request): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("{}/inbox", state.ctx.config.path_prefix());
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let csrf = value("csrf");
    // A credential of which nothing is required goes only with a claim ticked.
    let ticked = |query: &str| {
        fields
            .iter()
            .any(|(k, _)| k.strip_prefix("optional.") == Some(query))
    };
    let choices: Vec<Value> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("credential.")
                .or_else(|| k.strip_prefix("if_ticked.").filter(|q| ticked(q)))
                .map(|q| (q, v))
        })
        .map(|(query, credential)| {
            let optional: Vec<Value> = fields
                .iter()
                .filter(|(k, _)| k.strip_prefix("optional.") == Some(query))
                .filter_map(|(_, path)| serde_json::from_str(path).ok())
                .collect();
            json!({"query_id": query, "credential_id": credential, "optional": optional})
        })
        .collect();
    let mut typed = Declared::default();
    // The address this carnet attests goes declared too: a recruiter who does not trust the
    // carnet's attestations still receives it, as declared (never where it is verified).
    for choice in &choices {
        let query = choice["query_id"].as_str().unwrap_or_default();
        if value(&format!("own.{query}")) == "1" && typed.email.is_none() {
            typed.email = Some(session.0.email.clone());
        }
    }
    let mut shown = Vec::new();
    for (name, v) in &fields {
        if let Some(pointer) = name.strip_prefix("declare.")
            && typed.set(pointer, v)
        {
            shown.push(pointer);
        }
    }
    let again = |typed: Declared, error: String| async {
        let page = accept_view(
            &state,
            lang,
            &session,
            &api,
            value("publication"),
            value("offer"),
            csrf,
            Some((typed, error)),
        )
        .await;
        match page {
            Ok(page) => render(lang, page.render()),
            Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
        }
    };
    let declared = match typed.clone().normalise() {
        Ok(declared) => declared,
        Err(e) => {
            let chrome = Chrome::new(&state.ctx, lang, CATALOG);
            let label = chrome.t(&format!("detail:/{}", e.field)).to_owned();
            let label = if label.is_empty() {
                e.field.to_owned()
            } else {
                label
            };
            let message = format!("{} {label}", chrome.t("accept.check"));
            return again(typed, message).await;
        }
    };
    // What the holder declared here replaces what they had declared; the rest stays.
    let mut saved: Declared = api.get("/api/v1/details").await.unwrap_or_default();
    for pointer in &shown {
        saved.set(pointer, &declared.get(pointer));
    }
    let kept = api
        .call(
            Method::PUT,
            "/api/v1/details",
            csrf,
            Some(serde_json::to_value(&saved).unwrap_or_default()),
        )
        .await;
    if let Err(p) = kept {
        return carnet_service::web::problem_page(&state.ctx, lang, p, &back);
    }
    let path = format!("/api/v1/presentations/requests/{request}/response");
    let body = json!({ "choices": choices, "declared": declared, "audience": value("company") });
    match api.call(Method::POST, &path, csrf, Some(body)).await {
        Ok(_) => see_other(&back, None),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

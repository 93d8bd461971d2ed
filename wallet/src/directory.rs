//! Directory publication and the offers inbox. The holder publishes a profile at a verifier:
//! the wallet fetches the verifier's publication request and answers it with the current
//! credential of each competency (competency facts disclosed, nothing personal), the name
//! (from an identity credential only if the holder says so) and, if they wish, their declared
//! availability. It republishes by itself when a credential arrives, if the holder opted in,
//! and withdraws the profile on request.
//!
//! Consent: before every publication the holder sees what the verifier's publication request
//! asks (`GET /directory/preview`: each claim, required or not) and says which claims they
//! agree to share (`claims` of [`Publish`]). Only those are disclosed; a verifier that requires
//! a claim the holder did not agree to gets nothing (the publication is refused before anything
//! is sent). The choice is kept with the publication, so an automatic republication never
//! discloses more than what the holder last agreed to for that verifier. The offers sent there are read, declined and their
//! chats used with holder proofs signed by the holder's key for that verifier — no account
//! there. Accepting is an ordinary presentation (`presentations`) of the offer's request.

use crate::WalletState;
use crate::presentations::{self, Choice, verifier_key};
use crate::vault::Holder;
use crate::{availability, carnet, credentials};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::oid4vp::{self, AuthorizationRequest, HOLDER_PROOF_HEADER, RequestSource};
use carnet_core::path::ClaimPath;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::remote;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const MAX_DOCUMENT: usize = 10 * 1024 * 1024;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new()
        .routes(routes!(publish, publications))
        .routes(routes!(preview))
        .routes(routes!(withdraw))
        .routes(routes!(inbox))
        .routes(routes!(decline))
        .routes(routes!(erase))
        .routes(routes!(document))
        .routes(routes!(chat_messages, chat_post))
        .routes(routes!(quizzes))
        .routes(routes!(answer_quiz))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The verifier's address (its service URL, e.g. `https://recrutement.example/verifier`).
    pub verifier: String,
    /// The competency credentials to show; by default the current one of every competency.
    #[serde(default)]
    pub credentials: Option<Vec<String>>,
    /// Show the given and family names of an identity credential (else the name in the
    /// competency credentials).
    #[serde(default)]
    pub identity_name: bool,
    /// Show the declared availability (default true).
    #[serde(default = "yes")]
    pub availability: bool,
    /// Publish again by itself when a credential arrives (with these same choices).
    #[serde(default)]
    pub republish: bool,
    /// The claims the holder agrees to share (paths, as the preview lists them): required.
    /// Nothing else is disclosed, and a verifier requiring a claim not listed here gets nothing.
    /// (Absent only in publications kept before consent was asked: those are not republished
    /// by themselves.)
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub claims: Option<Vec<ClaimPath>>,
}

/// The most claims a holder can agree to in one publication.
const MAX_CLAIMS: usize = 100;

fn yes() -> bool {
    true
}

/// A publication, as the wallet keeps it (sealed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Publication {
    pub id: String,
    #[serde(flatten)]
    pub choices: Publish,
    /// The verifier's client identifier (its key for the holder is tied to it).
    pub client_id: String,
    pub profile_id: String,
    /// Competency credentials the verifier kept.
    pub competencies: i64,
    /// Those it discarded, and why.
    #[schema(value_type = Vec<Object>)]
    pub discarded: Value,
    pub published_at: i64,
}

fn base(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

/// Publishes (or publishes again) a profile at a verifier.
#[utoipa::path(post, path = "/api/v1/directory/publications", tag = "directory", request_body = Publish,
    responses((status = 201, body = Publication), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn publish(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<Publish>,
) -> ApiResult<(StatusCode, Json<Publication>)> {
    if input.verifier.len() > 500 {
        return Err(ApiError::invalid_field("verifier", "too long"));
    }
    if input.credentials.as_ref().is_some_and(|c| c.len() > 100) {
        return Err(ApiError::invalid_field("credentials", "at most 100"));
    }
    match &input.claims {
        None => {
            return Err(ApiError::invalid_field(
                "claims",
                "say which claims you agree to share (see the preview)",
            ));
        }
        Some(claims) if claims.len() > MAX_CLAIMS => {
            return Err(ApiError::invalid_field("claims", "at most 100"));
        }
        Some(_) => {}
    }
    state.remote.check(&input.verifier, "verifier")?;
    let publication = publish_at(&state, &holder, input).await?;
    Ok((StatusCode::CREATED, Json(publication)))
}

/// A fresh publication request from the verifier at `verifier` (its base address).
async fn publication_request(
    state: &WalletState,
    verifier: &str,
) -> ApiResult<AuthorizationRequest> {
    let asked = state
        .remote
        .call(
            Method::POST,
            &format!("{verifier}/api/v1/directory/requests"),
            &[],
            None,
            "the verifier's publication request",
        )
        .await?;
    let link = asked["request"].as_str().unwrap_or_default();
    let request = match oid4vp::parse_request_link(link) {
        Ok(RequestSource::ByValue(request)) => request,
        Ok(_) => {
            return Err(remote::invalid(
                "the verifier's publication request",
                "expected by value",
            ));
        }
        Err(e) => return Err(remote::invalid("the verifier's publication request", e)),
    };
    state.remote.check(&request.response_uri, "request")?;
    Ok(request)
}

/// One credential a publication would present, with what the verifier asks of it.
struct Candidate {
    query_id: String,
    credential_id: String,
    requested: carnet_core::dcql::Requested,
}

/// The credentials a publication presents for `input` and what the request asks of each: the
/// chosen (else current) competency credentials, and a valid identity credential when the
/// holder shows their names.
fn candidates(
    request: &AuthorizationRequest,
    held: &[credentials::CredentialView],
    input: &Publish,
) -> ApiResult<Vec<Candidate>> {
    let book = carnet::build(held);
    let competency_ids: Vec<String> = match &input.credentials {
        Some(ids) => ids.clone(),
        None => book
            .competencies
            .iter()
            .filter_map(|c| c.current.as_ref().map(|e| e.credential_id.clone()))
            .collect(),
    };
    let mut found = Vec::new();
    if let Some(query) = request.dcql_query.credential("competencies") {
        for id in &competency_ids {
            let Some(view) = held.iter().find(|v| &v.id == id) else {
                return Err(ApiError::invalid_field(
                    "credentials",
                    format!("no credential {id}"),
                ));
            };
            let Some(requested) = query.requested(&view.credential.vct, &view.credential.claims)
            else {
                return Err(ApiError::invalid_field(
                    "credentials",
                    format!("credential {id} does not answer the verifier's request"),
                ));
            };
            found.push(Candidate {
                query_id: query.id.clone(),
                credential_id: id.clone(),
                requested,
            });
        }
    }
    if input.identity_name
        && let Some(query) = request.dcql_query.credential("identity")
    {
        let identity = book.identities.iter().find_map(|e| {
            if e.status != "valid" {
                return None;
            }
            let view = held.iter().find(|v| v.id == e.credential_id)?;
            let requested = query.requested(&view.credential.vct, &view.credential.claims)?;
            Some((e.credential_id.clone(), requested))
        });
        if let Some((credential_id, requested)) = identity {
            found.push(Candidate {
                query_id: query.id.clone(),
                credential_id,
                requested,
            });
        }
    }
    Ok(found)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    /// The verifier's address.
    verifier: String,
}

/// A claim a verifier's publication request asks.
#[derive(Debug, Serialize, ToSchema)]
pub struct AskedClaim {
    /// `competencies` or `identity`: which of the holder's credentials it comes from.
    pub query_id: String,
    #[schema(value_type = Vec<Object>)]
    pub path: ClaimPath,
    /// Without it the verifier refuses the publication.
    pub required: bool,
}

/// What publishing at a verifier would share, for the holder to choose before publishing.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationPreview {
    pub verifier: String,
    pub client_id: String,
    /// Every claim the verifier asks of the holder's credentials (the competency credentials,
    /// and an identity credential's if the holder has one), required ones first.
    pub claims: Vec<AskedClaim>,
    /// What the holder agreed to last time at this verifier, if they published there.
    #[schema(value_type = Option<Vec<Object>>)]
    pub consented: Option<Vec<ClaimPath>>,
    /// The other choices of the last publication there.
    pub republish: bool,
    pub availability: bool,
}

/// What a publication at a verifier would share: its request, read and shown claim by claim.
/// Nothing is sent to the verifier but the request for its publication request.
#[utoipa::path(get, path = "/api/v1/directory/preview", tag = "directory", params(PreviewQuery),
    responses((status = 200, body = PublicationPreview), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn preview(
    State(state): State<WalletState>,
    holder: Holder,
    Query(input): Query<PreviewQuery>,
) -> ApiResult<Json<PublicationPreview>> {
    if input.verifier.len() > 500 {
        return Err(ApiError::invalid_field("verifier", "too long"));
    }
    state.remote.check(&input.verifier, "verifier")?;
    let verifier = base(&input.verifier);
    let request = publication_request(&state, &verifier).await?;
    let held = credentials::all(&state, &holder).await?;
    let everything = Publish {
        verifier: verifier.clone(),
        credentials: None,
        identity_name: true,
        availability: true,
        republish: false,
        claims: None,
    };
    let mut claims: Vec<AskedClaim> = Vec::new();
    for c in candidates(&request, &held, &everything)? {
        let asked = c
            .requested
            .required
            .iter()
            .map(|p| (p, true))
            .chain(c.requested.optional.iter().map(|p| (p, false)));
        for (path, required) in asked {
            match claims
                .iter_mut()
                .find(|a| a.query_id == c.query_id && &a.path == path)
            {
                Some(known) => known.required |= required,
                None => claims.push(AskedClaim {
                    query_id: c.query_id.clone(),
                    path: path.clone(),
                    required,
                }),
            }
        }
    }
    claims.sort_by_key(|c| (c.query_id != "competencies", !c.required));
    let last = all(&state, &holder)
        .await?
        .into_iter()
        .find(|p| p.choices.verifier == verifier);
    Ok(Json(PublicationPreview {
        verifier,
        client_id: request.client_id,
        claims,
        consented: last.as_ref().and_then(|p| p.choices.claims.clone()),
        republish: last.as_ref().is_some_and(|p| p.choices.republish),
        availability: last.as_ref().is_none_or(|p| p.choices.availability),
    }))
}

async fn publish_at(
    state: &WalletState,
    holder: &Holder,
    input: Publish,
) -> ApiResult<Publication> {
    let verifier = base(&input.verifier);
    let consented = input
        .claims
        .clone()
        .ok_or_else(|| ApiError::invalid_field("claims", "say which claims you agree to share"))?;
    let request = publication_request(state, &verifier).await?;
    let held = credentials::all(state, holder).await?;
    // Only what the holder agreed to: a required claim they did not agree to stops everything
    // here, before anything is sent; optional ones are shared only when agreed.
    let mut choices = Vec::new();
    for c in candidates(&request, &held, &input)? {
        if let Some(missing) = c.requested.required.iter().find(|p| !consented.contains(p)) {
            return Err(ApiError::invalid_field(
                "claims",
                format!(
                    "the verifier requires {missing}, which you did not agree to share: nothing was sent"
                ),
            ));
        }
        choices.push(Choice {
            query_id: c.query_id,
            credential_id: c.credential_id,
            optional: c
                .requested
                .optional
                .into_iter()
                .filter(|p| consented.contains(p))
                .collect(),
        });
    }
    if !choices.iter().any(|c| c.query_id == "competencies") {
        return Err(ApiError::invalid_field(
            "credentials",
            "no valid competency credential to publish",
        ));
    }
    // The availability when chosen, and where this wallet takes the verifier's notices for
    // the holder (signed with the rest).
    let mut declared = if input.availability {
        serde_json::to_value(availability::load(state, holder).await?)?
    } else {
        json!({})
    };
    let (handle, notify) = crate::notices::new_address(&state.ctx);
    declared["notify"] = json!(notify);
    let declared = Some(declared);
    let (_, answer) =
        presentations::answer(state, holder, &request, &choices, declared, None, None).await?;
    let publication = Publication {
        id: publication_id(holder, &verifier),
        choices: Publish { verifier, ..input },
        client_id: request.client_id.clone(),
        profile_id: answer["profile_id"].as_str().unwrap_or_default().to_owned(),
        competencies: answer["competencies"].as_i64().unwrap_or_default(),
        discarded: answer["discarded"].clone(),
        published_at: state.ctx.now_ms(),
    };
    let mut tx = state.ctx.db.begin().await?;
    store(&mut tx, holder, &publication, true).await?;
    crate::notices::keep(
        &mut tx,
        &state.ctx,
        holder.account().as_str(),
        &publication.id,
        &handle,
    )
    .await?;
    audit::record(
        &mut tx,
        publication.published_at,
        &(&holder.principal).into(),
        "profile.published",
        Some(&publication.id),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(publication)
}

fn publication_id(holder: &Holder, verifier: &str) -> String {
    format!("pub_{}", holder.tag(&format!("publication:{verifier}")))
}

/// Keeps a publication, sealed (its id is this holder's for its verifier); an existing one is
/// replaced when `replace`, else kept. Whether it was stored.
pub async fn store(
    conn: &mut sqlx::AnyConnection,
    holder: &Holder,
    publication: &Publication,
    replace: bool,
) -> ApiResult<bool> {
    let mut publication = publication.clone();
    publication.id = publication_id(holder, &publication.choices.verifier);
    let sealed = holder.seal(&publication.id, &serde_json::to_vec(&publication)?)?;
    let conflict = if replace {
        "DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at"
    } else {
        "DO NOTHING"
    };
    let done = sqlx::query(&format!(
        "INSERT INTO directory_publications (id, account_id, sealed, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) {conflict}"
    ))
    .bind(&publication.id)
    .bind(holder.account().as_str())
    .bind(sealed)
    .bind(publication.published_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The holder's publications.
pub async fn all(state: &WalletState, holder: &Holder) -> ApiResult<Vec<Publication>> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, sealed FROM directory_publications WHERE account_id = $1 ORDER BY updated_at DESC",
    )
    .bind(holder.account().as_str())
    .fetch_all(state.ctx.db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, sealed)| Ok(serde_json::from_slice(&holder.open(&id, &sealed)?)?))
        .collect()
}

/// Publishes again, with the same choices (the same claims agreed to, never more), wherever the
/// holder asked for it; failures are logged, not raised (the credential that triggered it is
/// stored already).
pub async fn republish(state: &WalletState, holder: &Holder) {
    let Ok(publications) = all(state, holder).await else {
        return;
    };
    // Only those whose holder said what to share: a publication kept before consent was asked
    // waits for the holder to publish it again themselves.
    for p in publications
        .into_iter()
        .filter(|p| p.choices.republish && p.choices.claims.is_some())
    {
        if let Err(e) = publish_at(state, holder, p.choices.clone()).await {
            tracing::warn!(verifier = %p.choices.verifier, error = %e, "republishing failed");
        }
    }
}

/// Where the holder has published.
#[utoipa::path(get, path = "/api/v1/directory/publications", tag = "directory",
    responses((status = 200, body = Vec<Publication>), (status = 401, body = Problem)))]
async fn publications(
    State(state): State<WalletState>,
    holder: Holder,
) -> ApiResult<Json<Vec<Publication>>> {
    Ok(Json(all(&state, &holder).await?))
}

async fn find(state: &WalletState, holder: &Holder, id: &str) -> ApiResult<Publication> {
    if !looks_like_id(id) {
        return Err(ApiError::NotFound);
    }
    let (sealed,): (Vec<u8>,) = sqlx::query_as(
        "SELECT sealed FROM directory_publications WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(holder.account().as_str())
    .fetch_optional(state.ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(serde_json::from_slice(&holder.open(id, &sealed)?)?)
}

/// Calls the verifier of `publication` with a holder proof.
async fn call(
    state: &WalletState,
    holder: &Holder,
    publication: &Publication,
    method: Method,
    path: &str,
    body: Option<&Value>,
    what: &str,
) -> ApiResult<Value> {
    let url = format!("{}{path}", publication.choices.verifier);
    let proof = proof(state, holder, publication, method.as_str(), &url).await?;
    state
        .remote
        .call(method, &url, &[(HOLDER_PROOF_HEADER, &proof)], body, what)
        .await
}

async fn proof(
    state: &WalletState,
    holder: &Holder,
    publication: &Publication,
    method: &str,
    url: &str,
) -> ApiResult<String> {
    let key = verifier_key(state, holder, &publication.client_id).await?;
    oid4vp::holder_proof(
        &key,
        method,
        url,
        state.ctx.clock.now_secs(),
        &random_token(16),
    )
    .map_err(ApiError::internal)
}

/// Withdraws the profile from the verifier (which deletes what it holds about the holder) and
/// forgets the publication.
#[utoipa::path(delete, path = "/api/v1/directory/publications/{id}", tag = "directory",
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn withdraw(
    State(state): State<WalletState>,
    holder: Holder,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let publication = find(&state, &holder, &id).await?;
    match call(
        &state,
        &holder,
        &publication,
        Method::DELETE,
        "/api/v1/directory/profile",
        None,
        "the verifier",
    )
    .await
    {
        Ok(_) => {}
        // Gone there already: forget it here too.
        Err(ApiError::Upstream {
            kind: "upstream-not-found",
            ..
        }) => {}
        Err(e) => return Err(e),
    }
    let now = state.ctx.now_ms();
    let mut tx = state.ctx.db.begin().await?;
    sqlx::query("DELETE FROM directory_publications WHERE id = $1 AND account_id = $2")
        .bind(&id)
        .bind(holder.account().as_str())
        .execute(&mut *tx)
        .await?;
    crate::notices::forget(&mut tx, &id).await?;
    audit::record(
        &mut tx,
        now,
        &(&holder.principal).into(),
        "profile.withdrawn",
        Some(&id),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws every profile the holder published (the account is being deleted); a verifier
/// that cannot be reached is logged, and its retention period will delete the profile.
pub async fn withdraw_all(state: &WalletState, holder: &Holder) {
    let Ok(publications) = all(state, holder).await else {
        return;
    };
    for p in publications {
        let done = call(
            state,
            holder,
            &p,
            Method::DELETE,
            "/api/v1/directory/profile",
            None,
            "the verifier",
        )
        .await;
        if let Err(e) = done {
            tracing::warn!(verifier = %p.choices.verifier, error = %e, "withdrawing a profile failed");
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxEntry {
    pub publication_id: String,
    pub verifier: String,
    /// The offer as the verifier describes it (company, title, text, claims asked, status, the
    /// `request` to accept with…).
    #[schema(value_type = Object)]
    pub offer: Value,
}

/// The offers received at every verifier where the holder published. A verifier that cannot be
/// reached is skipped and named in the log.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "directory",
    responses((status = 200, body = Vec<InboxEntry>), (status = 401, body = Problem)))]
async fn inbox(
    State(state): State<WalletState>,
    holder: Holder,
) -> ApiResult<Json<Vec<InboxEntry>>> {
    Ok(Json(
        gather(
            &state,
            &holder,
            "/api/v1/directory/inbox",
            "the verifier's inbox",
        )
        .await?,
    ))
}

/// What every verifier where the holder published lists at `path`, each item with its
/// publication; a verifier that cannot be reached is skipped and named in the log.
async fn gather(
    state: &WalletState,
    holder: &Holder,
    path: &str,
    what: &str,
) -> ApiResult<Vec<InboxEntry>> {
    let mut entries = Vec::new();
    for publication in all(state, holder).await? {
        match call(state, holder, &publication, Method::GET, path, None, what).await {
            Ok(Value::Array(items)) => entries.extend(items.into_iter().map(|offer| InboxEntry {
                publication_id: publication.id.clone(),
                verifier: publication.choices.verifier.clone(),
                offer,
            })),
            Ok(_) => tracing::warn!(verifier = %publication.choices.verifier, "{what}: not a list"),
            Err(e) => {
                tracing::warn!(verifier = %publication.choices.verifier, error = %e, "{what}: unavailable")
            }
        }
    }
    Ok(entries)
}

fn offer_path(offer: &str, rest: &str) -> ApiResult<String> {
    if !looks_like_id(offer) {
        return Err(ApiError::NotFound);
    }
    Ok(format!("/api/v1/directory/inbox/{offer}{rest}"))
}

/// Acts on an offer at the verifier of a publication (`(publication, offer)` from the path).
async fn on_offer(
    state: &WalletState,
    holder: &Holder,
    (publication, offer): &(String, String),
    method: Method,
    rest: &str,
) -> ApiResult<StatusCode> {
    let publication = find(state, holder, publication).await?;
    let url = offer_path(offer, rest)?;
    call(
        state,
        holder,
        &publication,
        method,
        &url,
        None,
        "the verifier",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The quizzes recruiters sent, at every verifier where the holder published.
#[utoipa::path(get, path = "/api/v1/quizzes", tag = "directory",
    responses((status = 200, body = Vec<InboxEntry>), (status = 401, body = Problem)))]
async fn quizzes(
    State(state): State<WalletState>,
    holder: Holder,
) -> ApiResult<Json<Vec<InboxEntry>>> {
    Ok(Json(
        gather(
            &state,
            &holder,
            "/api/v1/directory/quizzes",
            "the verifier's quizzes",
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizAnswers {
    /// By question id: an option number, a list of option numbers, or a text.
    #[schema(value_type = Object)]
    pub answers: Value,
}

/// Answers a quiz (once).
#[utoipa::path(post, path = "/api/v1/quizzes/{publication}/{assignment}/answers", tag = "directory", request_body = QuizAnswers,
    params(("publication" = String, Path), ("assignment" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn answer_quiz(
    State(state): State<WalletState>,
    holder: Holder,
    Path(path): Path<(String, String)>,
    Json(input): Json<QuizAnswers>,
) -> ApiResult<StatusCode> {
    let publication = find(&state, &holder, &path.0).await?;
    if !looks_like_id(&path.1) {
        return Err(ApiError::NotFound);
    }
    let url = format!("/api/v1/directory/quizzes/{}/answers", path.1);
    let body = json!({ "answers": input.answers });
    call(
        &state,
        &holder,
        &publication,
        Method::POST,
        &url,
        Some(&body),
        "the verifier",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Declines an offer: the verifier learns only that.
#[utoipa::path(post, path = "/api/v1/inbox/{publication}/{offer}/decline", tag = "directory",
    params(("publication" = String, Path), ("offer" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn decline(
    State(state): State<WalletState>,
    holder: Holder,
    Path(path): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    on_offer(&state, &holder, &path, Method::POST, "/decline").await
}

/// Asks the verifier to erase at once what the holder disclosed with this offer (and the chat).
#[utoipa::path(delete, path = "/api/v1/inbox/{publication}/{offer}/disclosure", tag = "directory",
    params(("publication" = String, Path), ("offer" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn erase(
    State(state): State<WalletState>,
    holder: Holder,
    Path(path): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    on_offer(&state, &holder, &path, Method::DELETE, "/disclosure").await
}

/// An offer's PDF, fetched from the verifier.
#[utoipa::path(get, path = "/api/v1/inbox/{publication}/{offer}/document", tag = "directory",
    params(("publication" = String, Path), ("offer" = String, Path)),
    responses((status = 200, description = "the PDF"), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn document(
    State(state): State<WalletState>,
    holder: Holder,
    Path(path): Path<(String, String)>,
) -> ApiResult<Response> {
    let publication = find(&state, &holder, &path.0).await?;
    let url = format!(
        "{}{}",
        publication.choices.verifier,
        offer_path(&path.1, "/document")?
    );
    let proof = proof(&state, &holder, &publication, "GET", &url).await?;
    let (_, bytes) = state
        .remote
        .get_bytes(
            &url,
            &[(HOLDER_PROOF_HEADER, &proof)],
            MAX_DOCUMENT,
            "the offer's document",
        )
        .await?;
    if !bytes.starts_with(b"%PDF-") {
        return Err(remote::invalid("the offer's document", "not a PDF"));
    }
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
}

fn chat_path(chat: &str) -> ApiResult<String> {
    if !looks_like_id(chat) {
        return Err(ApiError::NotFound);
    }
    Ok(format!("/api/v1/directory/chats/{chat}/messages"))
}

/// The messages of a chat with a recruiter.
#[utoipa::path(get, path = "/api/v1/inbox/{publication}/chats/{chat}/messages", tag = "directory",
    params(("publication" = String, Path), ("chat" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn chat_messages(
    State(state): State<WalletState>,
    holder: Holder,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let publication = find(&state, &holder, &path.0).await?;
    let url = chat_path(&path.1)?;
    Ok(Json(
        call(
            &state,
            &holder,
            &publication,
            Method::GET,
            &url,
            None,
            "the chat",
        )
        .await?,
    ))
}

/// Writes to a chat with a recruiter.
#[utoipa::path(post, path = "/api/v1/inbox/{publication}/chats/{chat}/messages", tag = "directory", request_body = NewMessage,
    params(("publication" = String, Path), ("chat" = String, Path)),
    responses((status = 201, body = Object), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn chat_post(
    State(state): State<WalletState>,
    holder: Holder,
    Path(path): Path<(String, String)>,
    Json(input): Json<NewMessage>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let publication = find(&state, &holder, &path.0).await?;
    let url = chat_path(&path.1)?;
    let body = json!({ "body": input.body });
    let sent = call(
        &state,
        &holder,
        &publication,
        Method::POST,
        &url,
        Some(&body),
        "the chat",
    )
    .await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

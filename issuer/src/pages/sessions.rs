//! A session's page (members, evaluations, calendar), the hand-over of a credential offer, identity attestation, the calendar feed and completion.

use super::*;

pub(super) struct EvaluationRow {
    pub(super) id: String,
    pub(super) trainee_id: String,
    pub(super) competency_id: String,
    /// Another evaluation corrects this one (it stays in the history).
    pub(super) corrected: bool,
    /// This one corrects another.
    pub(super) correction: bool,
    /// The trainee is in the session still (an evaluation is corrected only then).
    pub(super) in_session: bool,
    /// `None` for someone no longer in the session whom the visitor cannot name.
    pub(super) trainee: Option<String>,
    pub(super) competency: String,
    pub(super) level: String,
    pub(super) date: String,
    pub(super) validated: bool,
    pub(super) comment: String,
}

#[derive(Template)]
#[template(path = "issuer_session.html")]
pub(super) struct SessionPage {
    pub(super) chrome: Chrome,
    pub(super) org: Tenant,
    pub(super) session: TrainingSession,
    /// Teaches or runs the session: evaluates, takes attendance, opens quizzes.
    pub(super) staff: bool,
    /// Runs the session (docs/ROLES.md): its members, calendar and completion.
    pub(super) runs: bool,
    /// Attests trainees' identity: the organisation's administrators and managers.
    pub(super) attests: bool,
    /// The visitor's account (nobody removes themselves).
    pub(super) me: String,
    pub(super) members: Vec<Member>,
    pub(super) org_members: Vec<Member>,
    pub(super) competencies: Vec<Competency>,
    pub(super) evaluations: Vec<EvaluationRow>,
    pub(super) events: Vec<Event>,
    pub(super) resources: Vec<CourseWithResources>,
}

impl SessionPage {
    pub(super) fn event_key(&self, kind: &str) -> &'static str {
        event_key(kind)
    }

    pub(super) fn trainees(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role == "trainee")
    }
}

pub(super) async fn session(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let org: Tenant = api.get(&base).await?;
        let session = api
            .get::<Vec<TrainingSession>>(&format!("{base}/sessions"))
            .await?
            .into_iter()
            .find(|s| s.id == sid)
            .ok_or(Problem::not_found())?;
        // A trainee lists only the session's staff.
        let members: Vec<Member> = api
            .get(&format!("{base}/sessions/{sid}/members"))
            .await
            .unwrap_or_default();
        let me = page_session.0.account_id.as_str();
        // What the visitor may do here, as docs/ROLES.md says (the API decides; the page only
        // shows the forms the API will take from them).
        let attests = org.my_roles.iter().any(|r| r == "admin" || r == "manager");
        let holds = |role: &str| members.iter().any(|m| m.account_id == me && m.role == role);
        let runs = attests || holds("manager");
        let staff = runs || holds("trainer");
        let events = api.get(&format!("{base}/sessions/{sid}/events")).await?;
        let resources = api
            .get(&format!("{base}/sessions/{sid}/resources"))
            .await
            .unwrap_or_default();
        let (org_members, competencies, evaluations) = if staff {
            let org_members: Vec<Member> = if runs {
                api.get(&format!("{base}/members")).await?
            } else {
                Vec::new()
            };
            let competencies: Vec<Competency> = api.get(&format!("{base}/competencies")).await?;
            let evaluations = api
                .get::<Vec<Evaluation>>(&format!("{base}/evaluations"))
                .await
                .unwrap_or_default();
            let corrected: Vec<String> = evaluations
                .iter()
                .filter_map(|e| e.supersedes.clone())
                .collect();
            let evaluations = evaluations
                .into_iter()
                .filter(|e| e.session_id == sid)
                .map(|e| EvaluationRow {
                    corrected: corrected.contains(&e.id),
                    in_session: members.iter().any(|m| m.account_id == e.trainee_id),
                    correction: e.supersedes.is_some(),
                    id: e.id.clone(),
                    trainee_id: e.trainee_id.clone(),
                    competency_id: e.competency_id.clone(),
                    // Someone taken out of the session keeps their evaluations: named from
                    // the organisation's members when the visitor reads them.
                    trainee: members
                        .iter()
                        .chain(&org_members)
                        .find(|m| m.account_id == e.trainee_id)
                        .map(|m| m.display_name.clone()),
                    competency: competencies
                        .iter()
                        .find(|c| c.id == e.competency_id)
                        .map_or(e.competency_id.clone(), |c| c.name.clone()),
                    level: e.level_label,
                    date: e.assessed_on,
                    validated: e.validated != 0,
                    comment: e.comment,
                })
                .collect();
            // Only what is not archived is offered for a new evaluation.
            let competencies = competencies
                .into_iter()
                .filter(|c| c.archived_at.is_none())
                .collect();
            (org_members, competencies, evaluations)
        } else {
            Default::default()
        };
        Ok(SessionPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session,
            staff,
            runs,
            attests,
            me: me.to_owned(),
            members,
            org_members,
            competencies,
            evaluations,
            events,
            resources,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "issuer_offer.html")]
pub(super) struct OfferPage {
    pub(super) chrome: Chrome,
    pub(super) offer: Option<Offer>,
    /// For an evaluation: the trainee, the competency and the level it is for.
    pub(super) evaluated: Option<(String, String, String)>,
    pub(super) back: String,
}

#[derive(Deserialize)]
pub(super) struct EvaluateForm {
    pub(super) csrf: String,
    pub(super) trainee_id: String,
    pub(super) competency_id: String,
    pub(super) assessment: String,
    #[serde(default)]
    pub(super) comment: String,
    /// The evaluation this one corrects.
    #[serde(default)]
    pub(super) supersedes: Option<String>,
}

/// Validates a competency, and shows the credential offer to hand over.
pub(super) async fn evaluate(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(form): Form<EvaluateForm>,
) -> Response {
    let assessment = form.assessment.trim();
    // A score is a number; anything else is a label of the scale.
    let assessment = assessment
        .parse::<u32>()
        .map_or_else(|_| json!(assessment), |n| json!(n));
    let mut body = json!({"trainee_id": form.trainee_id, "competency_id": form.competency_id,
        "assessment": assessment, "comment": form.comment});
    if let Some(old) = form.supersedes.filter(|s| !s.is_empty()) {
        body["supersedes"] = json!(old);
    }
    let path = format!("/api/v1/organisations/{org}/sessions/{sid}/evaluations");
    let back = format!(
        "{}/orgs/{org}/sessions/{sid}",
        state.ctx.config.path_prefix()
    );
    offer_page(
        &state,
        lang,
        &session,
        &api,
        Method::POST,
        &path,
        &form.csrf,
        body,
        back,
        "offer",
    )
    .await
}

/// Certifies a trainee's identity, and shows the credential offer to hand over.
pub(super) async fn identity(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, account)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let body = match form_json(&fields) {
        Ok(body) => body,
        Err(detail) => return failed(&state.ctx, lang, CATALOG, Problem::from(detail)),
    };
    // Back to the session the form was on, else to the organisation (its identity requests).
    let back = match field(&fields, "_session") {
        "" => format!("{}/orgs/{org}", state.ctx.config.path_prefix()),
        session => format!(
            "{}/orgs/{org}/sessions/{session}",
            state.ctx.config.path_prefix()
        ),
    };
    let path = format!("/api/v1/organisations/{org}/trainees/{account}/identity");
    offer_page(
        &state,
        lang,
        &session,
        &api,
        Method::PUT,
        &path,
        field(&fields, "csrf"),
        body,
        back,
        "",
    )
    .await
}

/// Calls the API to make a credential offer (found at `pointer` in the answer, or the answer
/// itself) and shows it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn offer_page(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    method: Method,
    path: &str,
    csrf: &str,
    body: Value,
    back: String,
    pointer: &str,
) -> Response {
    match api.call(method, path, csrf, Some(body)).await {
        Ok(answer) => {
            let link = if pointer.is_empty() {
                answer.clone()
            } else {
                answer[pointer].clone()
            };
            // On the staff's page the trainee takes the offer with their phone (the QR code);
            // the wallet's link is for the trainee's own pages.
            let page = OfferPage {
                chrome: chrome(state, lang, session),
                offer: serde_json::from_value::<OfferLink>(link)
                    .ok()
                    .map(|o| offer(lang, o, "")),
                evaluated: answer["evaluation"].is_object().then(|| {
                    (
                        text_of(&answer["trainee_name"]),
                        text_of(&answer["competency_name"]),
                        text_of(&answer["evaluation"]["level_label"]),
                    )
                }),
                back,
            };
            (StatusCode::CREATED, render(lang, page.render())).into_response()
        }
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    pub(super) csrf: String,
}

/// A secret link to subscribe to the session's calendar.
pub(super) async fn feed(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back = format!(
        "{}/orgs/{org}/sessions/{sid}",
        state.ctx.config.path_prefix()
    );
    let path = format!("/api/v1/organisations/{org}/sessions/{sid}/calendar-feed");
    let keys = ("feed.title", "feed.intro");
    secret_page(
        &state,
        lang,
        &session,
        &api,
        &path,
        &form.csrf,
        json!({}),
        "url",
        keys,
        back,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct CompletionForm {
    pub(super) csrf: String,
    pub(super) trainee_id: String,
}

/// Certifies that a trainee completed the session: the credential offer to hand over.
pub(super) async fn completion(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(form): Form<CompletionForm>,
) -> Response {
    let back = format!(
        "{}/orgs/{org}/sessions/{sid}",
        state.ctx.config.path_prefix()
    );
    let path = format!("/api/v1/organisations/{org}/sessions/{sid}/completions");
    let body = json!({ "trainee_id": form.trainee_id });
    offer_page(
        &state,
        lang,
        &session,
        &api,
        Method::POST,
        &path,
        &form.csrf,
        body,
        back,
        "",
    )
    .await
}

//! The grade sheet: one competency, every trainee of the session, sent at once.

use super::*;

#[derive(Template)]
#[template(path = "issuer_grades.html")]
pub(super) struct GradesPage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: TrainingSession,
    pub(super) competencies: Vec<Competency>,
    /// The competency being assessed, its scale, and the session's trainees.
    pub(super) chosen: Option<(Competency, Scale)>,
    pub(super) trainees: Vec<Member>,
    /// After sending: the report, row by row (trainee, level, outcome key, error).
    pub(super) report: Vec<(String, String, &'static str, String)>,
    pub(super) counts: (usize, usize, usize),
}

impl GradesPage {
    /// A levels scale's labels (empty for a score out of a maximum).
    pub(super) fn labels(&self) -> Vec<String> {
        self.chosen
            .as_ref()
            .and_then(|(_, s)| s.scale["labels"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect()
    }

    pub(super) fn max(&self) -> String {
        self.chosen
            .as_ref()
            .map(|(_, s)| s.scale["max"].to_string())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub(super) struct GradesQuery {
    #[serde(default)]
    pub(super) competency: Option<String>,
}

/// The session's grade sheet: one competency, every trainee of the session on one page, a level
/// each (or a score) and a comment.
pub(super) async fn grade_sheet(
    State(state): State<IssuerState>,
    page: Page,
    Path((org, sid)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<GradesQuery>,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let view = grades_view(&state, lang, session, api, (&org, &sid), query.competency);
    show(&state.ctx, lang, CATALOG, view).await
}

pub(super) async fn grades_view(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    (org, sid): (&str, &str),
    competency: Option<String>,
) -> Result<GradesPage, Problem> {
    let base = format!("/api/v1/organisations/{org}");
    let training = find_session(api, org, sid).await?;
    // The sheet is for those who evaluate (docs/ROLES.md): the session's staff.
    let tenant: Tenant = api.get(&base).await?;
    let members: Vec<Member> = api.get(&format!("{base}/sessions/{sid}/members")).await?;
    let me = session.0.account_id.as_str();
    let evaluates = tenant
        .my_roles
        .iter()
        .any(|r| r == "admin" || r == "manager")
        || members
            .iter()
            .any(|m| m.account_id == me && (m.role == "trainer" || m.role == "manager"));
    if !evaluates {
        return Err(ApiError::Forbidden.into());
    }
    let competencies: Vec<Competency> = api
        .get::<Vec<Competency>>(&format!("{base}/competencies"))
        .await?
        .into_iter()
        .filter(|c| c.archived_at.is_none())
        .collect();
    let trainees: Vec<Member> = members
        .into_iter()
        .filter(|m| m.role == "trainee")
        .collect();
    let chosen = match competency.and_then(|id| competencies.iter().find(|c| c.id == id).cloned()) {
        Some(c) => {
            let scales: Vec<Scale> = api.get(&format!("{base}/scales")).await?;
            scales
                .into_iter()
                .find(|s| s.id == c.scale_id)
                .map(|s| (c, s))
        }
        None => None,
    };
    Ok(GradesPage {
        chrome: chrome(state, lang, session),
        org: org.to_owned(),
        session: training,
        competencies,
        chosen,
        trainees,
        report: Vec::new(),
        counts: (0, 0, 0),
    })
}

/// The grade sheet sent: every trainee given a level evaluated at once (the bulk API), and
/// the sheet again with what happened to each.
pub(super) async fn grade_all(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let view = async {
        let competency = field(&fields, "competency_id").to_owned();
        let mut page = grades_view(
            &state,
            lang,
            &session,
            &api,
            (&org, &sid),
            Some(competency.clone()),
        )
        .await?;
        let mut body = form_json(&fields).map_err(Problem::from)?;
        // Only the trainees given a level.
        let rows: Vec<Value> = body["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| !r["assessment"].is_null())
            .cloned()
            .collect();
        if rows.is_empty() {
            return Err(Problem::invalid(lang.t(CATALOG, "grades.none").into()));
        }
        body["rows"] = json!(rows);
        let path = format!("/api/v1/organisations/{org}/sessions/{sid}/evaluations/bulk");
        let report = api
            .call(Method::POST, &path, field(&fields, "csrf"), Some(body))
            .await?;
        let name_of = |email: &str| {
            page.trainees
                .iter()
                .find(|m| m.email == email)
                .map_or_else(|| email.to_owned(), |m| m.display_name.clone())
        };
        let level_of = |email: &str| {
            rows.iter()
                .find(|r| r["email"] == email)
                .map(|r| match &r["assessment"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        let mut counts = (0, 0, 0);
        page.report = report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let email = r["email"].as_str().unwrap_or_default();
                let outcome = match (r["outcome"].as_str(), r["offer"].is_object()) {
                    (Some("created"), true) => {
                        counts.0 += 1;
                        "grades.validated"
                    }
                    (Some("created"), false) => {
                        counts.1 += 1;
                        "grades.recorded"
                    }
                    _ => {
                        counts.2 += 1;
                        "grades.failed"
                    }
                };
                (
                    name_of(email),
                    level_of(email),
                    outcome,
                    r["error"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        page.counts = counts;
        Ok(page)
    };
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => {
            let back = format!(
                "{}/orgs/{org}/sessions/{sid}/grades",
                state.ctx.config.path_prefix()
            );
            carnet_service::web::problem_page(&state.ctx, lang, p, &back)
        }
    }
}

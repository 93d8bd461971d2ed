//! Enrolling a session from a spreadsheet: preview, then confirm.

use super::*;

/// The largest list of trainees a page reads (a thousand rows of a spreadsheet, with room).
pub(super) const MAX_ROSTER: usize = 1024 * 1024;

#[derive(Deserialize)]
pub(super) struct EnrolmentRow {
    pub(super) row: usize,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) outcome: String,
    #[serde(default)]
    pub(super) reason: Option<String>,
    #[serde(default)]
    pub(super) detail: Option<String>,
    #[serde(default)]
    pub(super) link: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct EnrolmentReport {
    pub(super) dry_run: bool,
    pub(super) rows: Vec<EnrolmentRow>,
    pub(super) counts: BTreeMap<String, usize>,
}

#[derive(Template)]
#[template(path = "issuer_enrolment.html")]
pub(super) struct EnrolmentPage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: TrainingSession,
    pub(super) report: EnrolmentReport,
}

impl EnrolmentPage {
    /// What happens (in a preview) or happened to a row, in words.
    pub(super) fn outcome(&self, r: &EnrolmentRow) -> &str {
        let key = match (self.report.dry_run, r.outcome.as_str()) {
            (true, "enrolled") => "enrol.will_enrol",
            (true, "invited") => "enrol.will_invite",
            (false, "enrolled") => "enrol.enrolled",
            (false, "invited") => "enrol.invited",
            (_, "already") => "enrol.already",
            _ => "enrol.refused",
        };
        self.chrome.t(key)
    }

    pub(super) fn reason(&self, r: &EnrolmentRow) -> String {
        match r.reason.as_deref() {
            Some("invalid_email") => self.chrome.t("enrol.invalid_email").to_owned(),
            Some("staff") => self.chrome.t("enrol.staff").to_owned(),
            Some("not_member") => self.chrome.t("enrol.not_member").to_owned(),
            _ => r.detail.clone().unwrap_or_default(),
        }
    }

    pub(super) fn count(&self, outcome: &str) -> usize {
        self.report.counts.get(outcome).copied().unwrap_or(0)
    }

    /// The rows a confirmation sends: those that will be enrolled or invited.
    pub(super) fn to_send(&self) -> Vec<&EnrolmentRow> {
        self.report
            .rows
            .iter()
            .filter(|r| matches!(r.outcome.as_str(), "enrolled" | "invited"))
            .collect()
    }
}

/// Sends a list of trainees (`body`, or why the form could not be read) to the enrolment API
/// and shows its report, or the problem with a way back to the session.
pub(super) async fn enrolment_report(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    (org, sid): (&str, &str),
    csrf: &str,
    body: Result<Value, Problem>,
) -> Response {
    let view = async {
        let body = body?;
        let training = find_session(api, org, sid).await?;
        let path = format!("/api/v1/organisations/{org}/sessions/{sid}/enrolments");
        let answer = api.call(Method::POST, &path, csrf, Some(body)).await?;
        let report: EnrolmentReport = serde_json::from_value(answer).map_err(|e| Problem {
            kind: String::new(),
            status: StatusCode::BAD_GATEWAY,
            detail: e.to_string(),
            field: None,
        })?;
        Ok::<_, Problem>(EnrolmentPage {
            chrome: chrome(state, lang, session),
            org: org.to_owned(),
            session: training,
            report,
        })
    };
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => {
            let back = format!(
                "{}/orgs/{org}/sessions/{sid}",
                state.ctx.config.path_prefix()
            );
            carnet_service::web::problem_page(&state.ctx, lang, p, &back)
        }
    }
}

/// A spreadsheet of trainees, read and previewed: what enrolling them would do, row by row,
/// before anything is done.
pub(super) async fn enrolment_preview(
    State(state): State<IssuerState>,
    page: Page,
    Path((org, sid)): Path<(String, String)>,
    form: axum::extract::Multipart,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let read = async {
        let (fields, file) = multipart_form(session, form, "file", MAX_ROSTER).await?;
        let file =
            file.ok_or_else(|| Problem::invalid(lang.t(CATALOG, "course.no_file").into()))?;
        let rows = crate::enrolments::read_roster(&file.bytes).map_err(|e| {
            Problem::invalid(format!("{} {e}", lang.t(CATALOG, "enrol.unreadable")))
        })?;
        Ok::<_, Problem>((field(&fields, "csrf").to_owned(), rows))
    };
    let (csrf, body) = match read.await {
        Ok((csrf, rows)) => (csrf, Ok(json!({ "rows": rows, "dry_run": true }))),
        Err(p) => (String::new(), Err(p)),
    };
    enrolment_report(&state, lang, session, api, (&org, &sid), &csrf, body).await
}

/// The previewed list confirmed: the trainees enrolled or invited, and the report (each
/// invitation's link shown once).
pub(super) async fn enrolment_confirm(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let body = form_json(&fields).map_err(Problem::from).map(|mut body| {
        body["dry_run"] = json!(false);
        body
    });
    let csrf = field(&fields, "csrf");
    enrolment_report(&state, lang, &session, &api, (&org, &sid), csrf, body).await
}

/// The largest file a page sends on (the API holds its own limit too).
pub(super) const MAX_UPLOAD: usize = 20 * 1024 * 1024;

//! The organisation's courses, formations and resources, and uploads.

use super::*;

#[derive(Deserialize)]
pub(super) struct Course {
    pub(super) id: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) archived_at: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct Resource {
    pub(super) id: String,
    pub(super) kind: String,
    pub(super) title: String,
    /// A text resource's text, shown in place (only files are served as content).
    #[serde(default)]
    pub(super) body: Option<String>,
    #[serde(default)]
    pub(super) url: Option<String>,
    #[serde(default)]
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) archived_at: Option<i64>,
}

impl Resource {
    pub(super) fn kind_key(&self) -> &'static str {
        match self.kind.as_str() {
            "text" => "course.kind_text",
            "link" => "course.kind_link",
            _ => "course.kind_file",
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Formation {
    pub(super) id: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: String,
    pub(super) course_ids: Vec<String>,
    #[serde(default)]
    pub(super) archived_at: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct CourseWithResources {
    pub(super) course: Course,
    pub(super) resources: Vec<Resource>,
}

pub(super) struct CourseView {
    pub(super) course: Course,
    pub(super) resources: Vec<Resource>,
    pub(super) competency_ids: Vec<String>,
}

#[derive(Template)]
#[template(path = "issuer_courses.html")]
pub(super) struct CoursesPage {
    pub(super) chrome: Chrome,
    pub(super) org: Tenant,
    pub(super) courses: Vec<CourseView>,
    pub(super) resources: Vec<Resource>,
    pub(super) formations: Vec<Formation>,
    pub(super) competencies: Vec<Competency>,
}

impl CoursesPage {
    pub(super) fn in_formation(&self, formation: &Formation, course: &str) -> bool {
        formation.course_ids.iter().any(|c| c == course)
    }

    /// The courses a formation may have, its own first in their order (so that saving the
    /// choice keeps it), then the others not archived, with whether each is in it.
    pub(super) fn choices(&self, formation: &Formation) -> Vec<(&CourseView, bool)> {
        let own = formation
            .course_ids
            .iter()
            .filter_map(|id| self.courses.iter().find(|c| &c.course.id == id))
            .map(|c| (c, true));
        let others = self
            .courses
            .iter()
            .filter(|c| {
                c.course.archived_at.is_none() && !self.in_formation(formation, &c.course.id)
            })
            .map(|c| (c, false));
        own.chain(others).collect()
    }

    /// A formation's courses in order, each with the order that moves it up one place.
    pub(super) fn ordered(&self, formation: &Formation) -> Vec<(String, Vec<String>)> {
        formation
            .course_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let title = self
                    .courses
                    .iter()
                    .find(|c| &c.course.id == id)
                    .map_or_else(|| id.clone(), |c| c.course.title.clone());
                let mut up = formation.course_ids.clone();
                if i > 0 {
                    up.swap(i - 1, i);
                }
                (title, up)
            })
            .collect()
    }

    pub(super) fn teaches(&self, course: &CourseView, competency: &str) -> bool {
        course.competency_ids.iter().any(|c| c == competency)
    }
}

/// The organisation's courses, their resources and competencies, and its formations.
pub(super) async fn courses(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path(org): Path<String>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let org: Tenant = api.get(&base).await?;
        let mut courses = Vec::new();
        for course in api.get::<Vec<Course>>(&format!("{base}/courses")).await? {
            let resources = api
                .get(&format!("{base}/courses/{}/resources", course.id))
                .await?;
            let competency_ids = api
                .get(&format!("{base}/courses/{}/competencies", course.id))
                .await?;
            courses.push(CourseView {
                course,
                resources,
                competency_ids,
            });
        }
        Ok(CoursesPage {
            chrome: chrome(&state, lang, &page_session),
            resources: api.get(&format!("{base}/resources")).await?,
            formations: api.get(&format!("{base}/formations")).await?,
            competencies: api.get(&format!("{base}/competencies")).await?,
            org,
            courses,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A file uploaded as a resource of the organisation: the page's multipart form, the file
/// sent to the API as it came (the API checks its type and size).
pub(super) async fn upload(
    State(state): State<IssuerState>,
    page: Page,
    Path(org): Path<String>,
    form: axum::extract::Multipart,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let back = format!("{}/orgs/{org}/courses", state.ctx.config.path_prefix());
    let sent = async {
        let (fields, file) = multipart_form(session, form, "file", MAX_UPLOAD).await?;
        let file =
            file.ok_or_else(|| Problem::invalid(lang.t(CATALOG, "course.no_file").into()))?;
        let path = format!(
            "/api/v1/organisations/{org}/resources/files?title={}",
            carnet_core::oid4vci::percent_encode(field(&fields, "title").trim())
        );
        let body = Some((file.media.as_str(), file.bytes));
        api.send(Method::POST, &path, field(&fields, "csrf"), body)
            .await
    };
    match sent.await {
        Ok(_) => carnet_service::web::see_other(&back, None),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

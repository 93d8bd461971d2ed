//! A session's quizzes: the library to write (form editor or text), opening one to the session, answering, results and hand grading.

use super::*;

#[derive(Deserialize)]
pub(super) struct QuizSummary {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) questions: usize,
    pub(super) max: u32,
    #[serde(default)]
    pub(super) editable: bool,
    /// Its questions in the editor, to rewrite them (while it is editable).
    #[serde(skip)]
    pub(super) editor: Option<carnet_service::web::QuizEditor>,
}

#[derive(Deserialize)]
pub(super) struct SessionQuiz {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) opens_at: String,
    pub(super) closes_at: String,
    pub(super) state: String,
    pub(super) max: u32,
    /// The quiz as a trainee answers it, while it is open and they have not.
    #[serde(default)]
    pub(super) questions: Option<Value>,
    #[serde(default)]
    pub(super) result: Option<Value>,
    #[serde(default)]
    pub(super) submissions: Option<i64>,
}

impl SessionQuiz {
    pub(super) fn state_key(&self) -> &'static str {
        match self.state.as_str() {
            "open" => "quiz.open",
            "closed" => "quiz.closed",
            _ => "quiz.upcoming",
        }
    }

    pub(super) fn to_answer(&self) -> Vec<QuestionToAnswer> {
        self.questions
            .as_ref()
            .and_then(|q| serde_json::from_value(q["questions"].clone()).ok())
            .unwrap_or_default()
    }

    pub(super) fn score(&self) -> Option<String> {
        let r = self.result.as_ref()?;
        Some(format!("{} / {}", r["score"], r["max"]))
    }
}

#[derive(Template)]
#[template(path = "issuer_quizzes.html")]
pub(super) struct QuizzesPage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: TrainingSession,
    pub(super) staff: bool,
    pub(super) library: Vec<QuizSummary>,
    pub(super) openings: Vec<SessionQuiz>,
    /// The new quiz's questions.
    pub(super) editor: carnet_service::web::QuizEditor,
}

/// A session's quizzes: for staff, the organisation's quizzes to write and open to the session;
/// for a trainee, those open to answer and their results.
pub(super) async fn session_quizzes(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let session = find_session(&api, &org, &sid).await?;
        let openings: Vec<SessionQuiz> = api.get(&format!("{base}/sessions/{sid}/quizzes")).await?;
        // The library is the staff's; a trainee is refused it.
        let library: Result<Vec<QuizSummary>, _> = api.get(&format!("{base}/quizzes")).await;
        let staff = library.is_ok();
        let mut library = library.unwrap_or_default();
        for q in library.iter_mut().filter(|q| q.editable) {
            let quiz: Value = api.get(&format!("{base}/quizzes/{}", q.id)).await?;
            q.editor = Some(carnet_service::web::QuizEditor::of(&quiz));
        }
        Ok(QuizzesPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session,
            staff,
            library,
            openings,
            editor: carnet_service::web::QuizEditor::blank(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Deserialize)]
pub(super) struct TraineeResult {
    pub(super) trainee_id: String,
    pub(super) display_name: String,
    #[serde(default)]
    pub(super) submitted_at: Option<i64>,
    #[serde(default)]
    pub(super) answers: Option<Value>,
    #[serde(default)]
    pub(super) grade: Option<Value>,
}

pub(super) struct ResultRow {
    pub(super) trainee: String,
    pub(super) name: String,
    pub(super) submitted: bool,
    pub(super) score: String,
    pub(super) pending: bool,
    pub(super) to_grade: Vec<(String, String, String, u32)>,
}

#[derive(Template)]
#[template(path = "issuer_quiz_results.html")]
pub(super) struct ResultsPage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: String,
    pub(super) opening: String,
    pub(super) title: String,
    pub(super) questions: Vec<QuizQuestion>,
    pub(super) results: Vec<ResultRow>,
}

/// An opened quiz's results, with hand grading of short answers.
pub(super) async fn quiz_results(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid, opening)): Path<(String, String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let openings: Vec<Value> = api.get(&format!("{base}/sessions/{sid}/quizzes")).await?;
        let this = openings
            .iter()
            .find(|o| o["id"] == opening.as_str())
            .ok_or(Problem::not_found())?;
        let quiz: Value = api
            .get(&format!(
                "{base}/quizzes/{}",
                this["quiz_id"].as_str().unwrap_or_default()
            ))
            .await?;
        let questions = quiz_questions(&quiz);
        let results = api
            .get::<Vec<TraineeResult>>(&format!("{base}/sessions/{sid}/quizzes/{opening}/results"))
            .await?
            .into_iter()
            .map(|r| {
                let grade = r.grade.unwrap_or_default();
                let answers = r.answers.unwrap_or_default();
                ResultRow {
                    to_grade: awaiting_grades(&questions, &grade, &answers),
                    trainee: r.trainee_id,
                    name: r.display_name,
                    submitted: r.submitted_at.is_some(),
                    score: format!("{} / {}", grade["score"], grade["max"]),
                    pending: grade["pending"].as_bool().unwrap_or(false),
                }
            })
            .collect();
        Ok(ResultsPage {
            chrome: chrome(&state, lang, &page_session),
            title: this["title"].as_str().unwrap_or_default().to_owned(),
            org,
            session: sid,
            opening,
            questions,
            results,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

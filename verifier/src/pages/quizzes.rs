//! The company's quizzes: writing one (form editor or text) and its results, graded by hand where needed.

use super::*;

#[derive(Deserialize)]
pub(super) struct QuizSummary {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) questions: usize,
    pub(super) max: u32,
    pub(super) sent: i64,
    pub(super) answered: i64,
}

#[derive(Template)]
#[template(path = "verifier_quizzes.html")]
pub(super) struct QuizzesPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) quizzes: Vec<QuizSummary>,
    /// The new quiz's questions.
    pub(super) editor: carnet_service::web::QuizEditor,
}

pub(super) async fn quizzes(
    State(state): State<VerifierState>,
    page: Page,
    Path(company): Path<String>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        Ok(QuizzesPage {
            frame: frame(api, &company).await?,
            chrome: page.chrome(CATALOG),
            quizzes: api
                .get(&format!("/api/v1/companies/{company}/quizzes"))
                .await?,
            editor: carnet_service::web::QuizEditor::blank(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

pub(super) struct ResultRow {
    pub(super) assignment: String,
    pub(super) name: String,
    pub(super) answered: Option<String>,
    pub(super) score: String,
    pub(super) pending: bool,
    /// The short answers waiting for a person: (question id, prompt, answer, points).
    pub(super) to_grade: Vec<(String, String, String, u32)>,
}

#[derive(Template)]
#[template(path = "verifier_quiz.html")]
pub(super) struct QuizPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) id: String,
    pub(super) title: String,
    pub(super) questions: Vec<QuizQuestion>,
    pub(super) results: Vec<ResultRow>,
}

#[derive(Deserialize)]
pub(super) struct QuizResults {
    pub(super) id: String,
    pub(super) quiz: Value,
    pub(super) results: Vec<QuizResult>,
}

#[derive(Deserialize)]
pub(super) struct QuizResult {
    pub(super) assignment_id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) answered_at: Option<i64>,
    #[serde(default)]
    pub(super) answers: Option<Value>,
    #[serde(default)]
    pub(super) grade: Option<Value>,
}

pub(super) async fn quiz(
    State(state): State<VerifierState>,
    page: Page,
    Path((company, quiz)): Path<(String, String)>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let detail: QuizResults = api
            .get(&format!("/api/v1/companies/{company}/quizzes/{quiz}"))
            .await?;
        let questions = quiz_questions(&detail.quiz);
        let results = detail
            .results
            .into_iter()
            .map(|r| {
                let grade = r.grade.unwrap_or_default();
                let answers = r.answers.unwrap_or_default();
                let to_grade = awaiting_grades(&questions, &grade, &answers);
                ResultRow {
                    assignment: r.assignment_id,
                    name: r.name,
                    answered: r
                        .answered_at
                        .map(|ms| carnet_service::web::moment(lang, ms)),
                    score: format!("{} / {}", grade["score"], grade["max"]),
                    pending: grade["pending"].as_bool().unwrap_or(false),
                    to_grade,
                }
            })
            .collect();
        Ok(QuizPage {
            frame: frame(api, &company).await?,
            chrome: page.chrome(CATALOG),
            id: detail.id,
            title: detail.quiz["title"].as_str().unwrap_or_default().to_owned(),
            questions,
            results,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

//! Quizzes recruiters sent, answered once.

use super::*;

pub(super) struct QuizCard {
    pub(super) publication: String,
    pub(super) id: String,
    pub(super) company: String,
    pub(super) title: String,
    pub(super) questions: Vec<QuestionToAnswer>,
    pub(super) answered: Option<String>,
}

#[derive(Template)]
#[template(path = "quizzes.html")]
pub(super) struct QuizzesPage {
    pub(super) chrome: Chrome,
    pub(super) quizzes: Vec<QuizCard>,
}

/// The quizzes recruiters sent, to answer once.
pub(super) async fn quizzes(State(state): State<WalletState>, page: Page) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let entries: Vec<InboxEntry> = api.get("/api/v1/quizzes").await?;
        let quizzes = entries
            .into_iter()
            .map(|e| {
                let o = e.offer;
                QuizCard {
                    publication: e.publication_id,
                    id: text(&o["id"]),
                    company: text(&o["company"]),
                    title: text(&o["quiz"]["title"]),
                    questions: serde_json::from_value(o["quiz"]["questions"].clone())
                        .unwrap_or_default(),
                    answered: o["answered_at"].as_i64().map(|ms| date_of(lang, ms)),
                }
            })
            .collect();
        Ok(QuizzesPage {
            chrome: page.chrome(CATALOG),
            quizzes,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

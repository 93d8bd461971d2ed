//! The pipeline: everyone the company's offers reached, by stage.

use super::*;

#[derive(Template)]
#[template(path = "verifier_candidates.html")]
pub(super) struct CandidatesPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    /// The pipeline's stages, in the order a recruiter works them: (catalog key, rows).
    pub(super) stages: Vec<(&'static str, Vec<RecipientRow>)>,
    pub(super) show_offer: bool,
}

/// A recipient's stage in the pipeline.
pub(super) fn stage(status: &str) -> &'static str {
    match status {
        "accepted" => "stage.accepted",
        "sent" | "viewed" => "stage.waiting",
        "declined" => "stage.declined",
        _ => "stage.closed",
    }
}

pub(super) async fn candidates(
    State(state): State<VerifierState>,
    page: Page,
    Path(company): Path<String>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let frame = frame(api, &company).await?;
        let all = api
            .get::<Vec<Recipient>>(&format!("/api/v1/companies/{company}/recipients"))
            .await?;
        let mut stages: Vec<(&'static str, Vec<RecipientRow>)> = [
            "stage.accepted",
            "stage.waiting",
            "stage.declined",
            "stage.closed",
        ]
        .into_iter()
        .map(|k| (k, Vec::new()))
        .collect();
        for r in all {
            let key = stage(&r.status);
            if let Some((_, rows)) = stages.iter_mut().find(|(k, _)| *k == key) {
                rows.push(recipient_row(r));
            }
        }
        Ok(CandidatesPage {
            chrome: page.chrome(CATALOG),
            frame,
            stages,
            show_offer: true,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

//! The company's team.

use super::*;

#[derive(Deserialize)]
pub(super) struct Colleague {
    pub(super) account_id: String,
    pub(super) email: String,
    pub(super) display_name: String,
    pub(super) role: String,
}

#[derive(Template)]
#[template(path = "verifier_team.html")]
pub(super) struct TeamPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) members: Vec<Colleague>,
    /// The visitor administers the company: adds and removes colleagues.
    pub(super) admin: bool,
    pub(super) me: String,
}

/// The company's team: everyone sees who is in it; its administrators add colleagues (by
/// address, as recruiter or administrator) and take them out (never themselves).
pub(super) async fn team(
    State(state): State<VerifierState>,
    page: Page,
    Path(company): Path<String>,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let view = async {
        let frame = frame(api, &company).await?;
        let admin = frame.company.my_roles.iter().any(|r| r == "admin");
        Ok(TeamPage {
            chrome: page.chrome(CATALOG),
            members: api
                .get(&format!("/api/v1/companies/{company}/members"))
                .await?,
            frame,
            admin,
            me: session.0.account_id.as_str().to_owned(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

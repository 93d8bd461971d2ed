//! The recruiter's home: their companies in figures, declaring one; the platform administrator's approvals and trusted issuers.

use super::*;

#[derive(Template)]
#[template(path = "verifier_home.html")]
pub(super) struct HomePage {
    pub(super) chrome: Chrome,
    pub(super) companies: Vec<Company>,
    /// Where each of the visitor's approved companies stands (by company id): candidates to
    /// contact, answers awaited, offers sent.
    pub(super) figures: Vec<(String, Figures)>,
    pub(super) admin: bool,
    pub(super) pending: Vec<Company>,
    pub(super) issuers: Vec<TrustedIssuer>,
}

/// A company's pipeline in three numbers, for the home page.
pub(super) struct Figures {
    pub(super) accepted: usize,
    pub(super) waiting: usize,
    pub(super) offers: usize,
}

impl HomePage {
    pub(super) fn encoded(&self, value: &str) -> String {
        percent_encode(value)
    }

    pub(super) fn figures_of(&self, company: &str) -> Option<&Figures> {
        self.figures
            .iter()
            .find(|(id, _)| id == company)
            .map(|(_, f)| f)
    }
}

pub(super) async fn home(
    State(state): State<VerifierState>,
    lang: Lang,
    session: Result<PageSession, ApiError>,
    api: Backend,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    // Signed out, the portal's home is where one signs in (and then goes on to `next`).
    let Ok(session) = session else {
        let next = query.get("next").map_or("", String::as_str);
        return sign_in_page(
            &state.ctx,
            lang,
            CATALOG,
            StatusCode::OK,
            String::new(),
            next,
        );
    };
    let admin = session.0.platform_admin;
    let view = async {
        let companies = api
            .get::<Items<Company>>("/api/v1/companies?limit=100")
            .await?
            .items;
        let (pending, issuers) = if admin {
            (
                api.get::<Items<Company>>("/api/v1/companies?pending=true&limit=100")
                    .await?
                    .items,
                api.get("/api/v1/trusted-issuers").await?,
            )
        } else {
            Default::default()
        };
        // An administrator sees every company in the list; theirs are those approved here.
        let companies: Vec<Company> = companies
            .into_iter()
            .filter(|c| !admin || c.approved)
            .collect();
        let mut figures = Vec::new();
        for c in companies
            .iter()
            .filter(|c| c.approved && !c.my_roles.is_empty())
        {
            let all = api
                .get::<Vec<Recipient>>(&format!("/api/v1/companies/{}/recipients", c.id))
                .await?;
            let mut offers: Vec<&str> = all.iter().map(|r| r.offer_id.as_str()).collect();
            offers.sort_unstable();
            offers.dedup();
            figures.push((
                c.id.clone(),
                Figures {
                    accepted: all
                        .iter()
                        .filter(|r| stage(&r.status) == "stage.accepted")
                        .count(),
                    waiting: all
                        .iter()
                        .filter(|r| stage(&r.status) == "stage.waiting")
                        .count(),
                    offers: offers.len(),
                },
            ));
        }
        Ok(HomePage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            companies,
            figures,
            admin,
            pending,
            issuers,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

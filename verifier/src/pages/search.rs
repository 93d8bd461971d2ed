//! Searching trainees by verified competency (filters, facets, pages) and a profile.

use super::*;

#[derive(Template)]
#[template(path = "verifier_search.html")]
pub(super) struct SearchPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) filters: Vec<(&'static str, String)>,
    pub(super) sort: String,
    pub(super) result: SearchResult,
    /// Every competency the directory holds (code, name and how many profiles), to pick one
    /// by typing part of its name.
    pub(super) competencies: Vec<Facet>,
    /// The query string of the filters, to add a facet or go to the next page.
    pub(super) query: String,
    pub(super) quizzes: Vec<Quiz>,
}

impl SearchPage {
    pub(super) fn filter(&self, name: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub(super) fn facets(&self) -> Vec<(&'static str, &Vec<Facet>)> {
        FACETS
            .iter()
            .filter_map(|f| Some((*f, self.result.facets.get(*f)?)))
            .filter(|(_, values)| !values.is_empty())
            .collect()
    }

    /// The label of a facet's value (a competency's name, a situation in words).
    pub(super) fn facet_label(&self, facet: &str, value: &Facet) -> String {
        match (&value.label, facet) {
            (Some(label), _) => label.clone(),
            (None, "situation") => self.chrome.t(&value.value).to_owned(),
            _ => value.value.clone(),
        }
    }

    /// Whether filter (or `sort`) `name` is `value`.
    pub(super) fn is(&self, name: &str, value: &str) -> bool {
        match name {
            "sort" => self.sort == value,
            _ => self.filter(name) == value,
        }
    }

    pub(super) fn sort_key(&self, sort: &str) -> &'static str {
        match sort {
            "level" => "search.level",
            _ => "search.recent",
        }
    }

    pub(super) fn facet_key(&self, facet: &str) -> String {
        format!("facet.{facet}")
    }

    pub(super) fn claims(&self) -> &'static [&'static str] {
        &CLAIMS
    }
}

pub(super) fn query_of(filters: &[(&'static str, String)]) -> String {
    filters
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) async fn search(
    State(state): State<VerifierState>,
    page: Page,
    Path(company): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let pairs: Vec<(String, String)> = raw.as_deref().map(query_pairs).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let filters: Vec<(&'static str, String)> =
        FILTERS.iter().filter_map(|f| Some((*f, get(f)?))).collect();
    let sort = get("sort").unwrap_or_default();
    let view = async {
        let frame = frame(api, &company).await?;
        let mut query = query_of(&filters);
        let mut api_query = query.clone();
        for (name, value) in [
            ("sort", &sort),
            ("cursor", &get("cursor").unwrap_or_default()),
        ] {
            if !value.is_empty() {
                api_query.push_str(&format!("&{name}={}", percent_encode(value)));
            }
        }
        if !sort.is_empty() {
            query.push_str(&format!("&sort={}", percent_encode(&sort)));
        }
        let mut result: SearchResult = api
            .get(&format!("/api/v1/companies/{company}/search?{api_query}"))
            .await?;
        let today = carnet_service::clock::date_of(state.ctx.now_ms());
        result.items = result
            .items
            .into_iter()
            .map(|p| p.spoken(lang, &today))
            .collect();
        let quizzes = api
            .get(&format!("/api/v1/companies/{company}/quizzes"))
            .await
            .unwrap_or_default();
        let everyone: SearchResult = api
            .get(&format!("/api/v1/companies/{company}/search?limit=1"))
            .await?;
        let competencies = everyone
            .facets
            .get("competency")
            .cloned()
            .unwrap_or_default();
        Ok(SearchPage {
            chrome: page.chrome(CATALOG),
            frame,
            filters,
            sort,
            result,
            competencies,
            query,
            quizzes,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// `a=1&b=x%20y` as pairs (`+` as a space, as forms send it).
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| carnet_core::oid4vci::percent_decode(&s.replace('+', " "));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

#[derive(Template)]
#[template(path = "verifier_profile.html")]
pub(super) struct ProfilePage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) profile: Profile,
    pub(super) quizzes: Vec<Quiz>,
}

impl ProfilePage {
    pub(super) fn claims(&self) -> &'static [&'static str] {
        &CLAIMS
    }
}

pub(super) async fn profile(
    State(state): State<VerifierState>,
    page: Page,
    Path((company, profile)): Path<(String, String)>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let frame = frame(api, &company).await?;
        Ok(ProfilePage {
            chrome: page.chrome(CATALOG),
            frame,
            profile: api
                .get::<Profile>(&format!("/api/v1/companies/{company}/profiles/{profile}"))
                .await?
                .spoken(lang, &carnet_service::clock::date_of(state.ctx.now_ms())),
            quizzes: api
                .get(&format!("/api/v1/companies/{company}/quizzes"))
                .await
                .unwrap_or_default(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// The largest PDF an offer may carry through the page (the API checks it again).
pub(super) const MAX_PDF: usize = 10 * 1024 * 1024;

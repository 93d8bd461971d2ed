//! The holder's availability and the publication of a profile to a recruiting platform.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct Availability {
    #[serde(default)]
    pub(super) situation: Option<String>,
    #[serde(default)]
    pub(super) available_from: Option<String>,
    #[serde(default)]
    pub(super) regions: Vec<String>,
    #[serde(default)]
    pub(super) contracts: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct Publication {
    pub(super) id: String,
    pub(super) verifier: String,
    pub(super) competencies: i64,
    pub(super) published_at: i64,
}

/// A text as one component of a URL's query (RFC 3986 unreserved characters kept).
pub(super) fn query_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "profile.html")]
pub(super) struct ProfilePage {
    pub(super) chrome: Chrome,
    pub(super) availability: Availability,
    pub(super) publications: Vec<Publication>,
    /// Just published (the consent page leads back here with `?published`).
    pub(super) published: bool,
}

impl ProfilePage {
    pub(super) fn situation_is(&self, s: &str) -> bool {
        self.availability.situation.as_deref() == Some(s)
    }

    pub(super) fn contract_in(&self, c: &str) -> bool {
        self.availability.contracts.iter().any(|x| x == c)
    }

    pub(super) fn region_in(&self, code: &str) -> bool {
        self.availability.regions.iter().any(|x| x == code)
    }

    pub(super) fn published(&self, p: &Publication) -> String {
        date_of(self.chrome.lang, p.published_at)
    }

    /// The consent page to publish at the same verifier again.
    pub(super) fn again(&self, p: &Publication) -> String {
        format!(
            "{}/profile/publish?verifier={}",
            self.chrome.base,
            query_component(&p.verifier)
        )
    }
}

/// The claims a profile at a verifier usually shows: anything else a publication request asks
/// is flagged on the consent page.
pub(super) const USUAL: [&str; 12] = [
    "/name",
    "/competency/code",
    "/competency/name",
    "/competency/framework_codes",
    "/level/label",
    "/level/value",
    "/validated_on",
    "/establishment/name",
    "/evaluator/name",
    "/session/title",
    "/given_name",
    "/family_name",
];

/// What a profile cannot do without (the name, the competency and its level): ticked
/// beforehand on a first publication when the verifier requires it; nothing else is.
pub(super) const MINIMAL: [&str; 6] = [
    "/name",
    "/competency/code",
    "/competency/name",
    "/level/label",
    "/given_name",
    "/family_name",
];

/// A claim path as a JSON pointer (`/level/label`), `*` for every element of a list.
pub(super) fn pointer(path: &carnet_core::path::ClaimPath) -> String {
    match path.to_json() {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Null => "/*".to_owned(),
                other => format!("/{}", text(other)),
            })
            .collect(),
        _ => String::new(),
    }
}

pub(super) struct ConsentRow {
    /// The path as JSON, the checkbox's value.
    pub(super) value: String,
    pub(super) label: String,
    pub(super) required: bool,
    pub(super) unusual: bool,
    pub(super) ticked: bool,
}

#[derive(Template)]
#[template(path = "publish.html")]
pub(super) struct PublishPage {
    pub(super) chrome: Chrome,
    pub(super) verifier: String,
    pub(super) competencies: Vec<ConsentRow>,
    pub(super) identity: Vec<ConsentRow>,
    pub(super) availability: bool,
    pub(super) republish: bool,
}

#[derive(Deserialize)]
pub(super) struct PreviewView {
    pub(super) verifier: String,
    pub(super) claims: Vec<AskedView>,
    pub(super) consented: Option<Vec<carnet_core::path::ClaimPath>>,
    pub(super) republish: bool,
    pub(super) availability: bool,
}

#[derive(Deserialize)]
pub(super) struct AskedView {
    pub(super) query_id: String,
    pub(super) path: carnet_core::path::ClaimPath,
    pub(super) required: bool,
}

#[derive(Deserialize)]
pub(super) struct VerifierQuery {
    #[serde(default)]
    pub(super) verifier: String,
}

/// Before every publication: what the verifier asks, claim by claim in words, for the holder
/// to tick what they agree to share. Ticked beforehand: what they agreed to last time there,
/// else the minimum of a profile when the verifier requires it (never anything else).
pub(super) async fn publish_page(
    State(state): State<WalletState>,
    page: Page,
    axum::extract::Query(query): axum::extract::Query<VerifierQuery>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let preview: PreviewView = api
            .get(&format!(
                "/api/v1/directory/preview?verifier={}",
                query_component(query.verifier.trim())
            ))
            .await?;
        let chrome = page.chrome(CATALOG);
        let (mut competencies, mut identity) = (Vec::new(), Vec::new());
        for asked in preview.claims {
            let pointer = pointer(&asked.path);
            let unusual = !USUAL.contains(&pointer.as_str());
            let label = match chrome.t(&format!("claim:{pointer}")) {
                "" => format!(
                    "{} {}",
                    chrome.t("consent.other"),
                    detail_label(lang, &pointer)
                ),
                known => known.to_owned(),
            };
            let ticked = match &preview.consented {
                Some(agreed) => agreed.contains(&asked.path),
                None => asked.required && MINIMAL.contains(&pointer.as_str()),
            };
            let row = ConsentRow {
                value: asked.path.to_json().to_string(),
                label,
                required: asked.required,
                unusual,
                ticked,
            };
            if asked.query_id == "identity" {
                identity.push(row);
            } else {
                competencies.push(row);
            }
        }
        Ok(PublishPage {
            chrome,
            verifier: preview.verifier,
            competencies,
            identity,
            availability: preview.availability,
            republish: preview.republish || preview.consented.is_none(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// Publishes what the holder ticked on the consent page, and nothing else.
pub(super) async fn publish_submit(
    State(state): State<WalletState>,
    lang: Lang,
    api: Backend,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("{}/profile", state.ctx.config.path_prefix());
    let ticked_in = |name: &str| -> Vec<Value> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| serde_json::from_str(v).ok())
            .collect()
    };
    let identity_claims = ticked_in("identity_claim");
    // The identity credential is shown only when something of it was ticked.
    let identity = !identity_claims.is_empty();
    let mut claims = ticked_in("claim");
    claims.extend(identity_claims);
    let ticked = |name: &str| fields.iter().any(|(k, _)| k == name);
    let body = json!({
        "verifier": field(&fields, "verifier"),
        "claims": claims,
        "identity_name": identity,
        "availability": ticked("availability"),
        "republish": ticked("republish"),
    });
    match api
        .call(
            Method::POST,
            "/api/v1/directory/publications",
            field(&fields, "csrf"),
            Some(body),
        )
        .await
    {
        Ok(_) => see_other(&format!("{back}?published"), None),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// Availability and the publications of the profile in recruiters' directories.
pub(super) async fn profile(
    State(state): State<WalletState>,
    page: Page,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let published = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "published"));
    let view = async {
        Ok(ProfilePage {
            chrome: page.chrome(CATALOG),
            availability: api.get("/api/v1/availability").await?,
            publications: api.get("/api/v1/directory/publications").await?,
            published,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

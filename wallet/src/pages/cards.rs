//! The credentials one by one: their cards and a credential's details.

use super::*;

/// A credential as its card says it: what it attests, at which level, from whom, when.
pub(super) struct CredentialCard {
    pub(super) id: String,
    /// `competency`, `completion` or `identity`.
    pub(super) kind: &'static str,
    pub(super) what: String,
    /// The level reached (a competency), else empty.
    pub(super) level: String,
    pub(super) issuer: String,
    /// The day it was validated (a competency) or received, as people write it.
    pub(super) when: String,
    /// `valid`, `suspended`, `revoked` or `unknown`.
    pub(super) status: String,
}

impl CredentialCard {
    pub(super) fn of(lang: Lang, c: &Value) -> CredentialCard {
        let claims = &c["claims"];
        let received = c["received_at"].as_i64().map(day).unwrap_or_default();
        let (kind, what, level, on) = if claims["competency"].is_object() {
            (
                "competency",
                text(&claims["competency"]["name"]),
                text(&claims["level"]["label"]),
                claims["validated_on"]
                    .as_str()
                    .map_or(received, str::to_owned),
            )
        } else if claims["formation"].is_object() {
            (
                "completion",
                text(&claims["formation"]["title"]),
                String::new(),
                received,
            )
        } else if c["own"] == true {
            ("email", text(&claims["email"]), String::new(), received)
        } else {
            let name = format!(
                "{} {}",
                text(&claims["given_name"]),
                text(&claims["family_name"])
            );
            ("identity", name.trim().to_owned(), String::new(), received)
        };
        CredentialCard {
            id: text(&c["id"]),
            kind,
            what,
            level,
            issuer: issuer_of(lang, c),
            when: date(lang, &on),
            status: text(&c["status"]),
        }
    }

    /// « Souder à l'arc TIG, niveau Argent », as the share history says it.
    pub(super) fn said(&self, chrome: &Chrome) -> String {
        match self.level.as_str() {
            "" => self.what.clone(),
            level => format!("{}, {} {level}", self.what, chrome.t("card.level")),
        }
    }
}

#[derive(Template)]
#[template(path = "credentials.html")]
pub(super) struct CredentialsPage {
    pub(super) chrome: Chrome,
    pub(super) credentials: Vec<CredentialCard>,
}

/// Every credential in the carnet, a card each, opening its details.
pub(super) async fn credentials_page(State(state): State<WalletState>, page: Page) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let all: Vec<Value> = api.get("/api/v1/credentials").await?;
        Ok(CredentialsPage {
            chrome: page.chrome(CATALOG),
            // Copies of one credential are one card (a valid one standing for them).
            credentials: {
                let mut all: Vec<&Value> = all.iter().collect();
                all.sort_by_key(|c| c["status"] != "valid");
                let mut seen = std::collections::HashSet::new();
                // Newest first, the carnet's own attestation last.
                let mut cards: Vec<((bool, std::cmp::Reverse<i64>), CredentialCard)> = all
                    .into_iter()
                    .filter(|c| seen.insert(c["copies"].as_str().unwrap_or_default().to_owned()))
                    .map(|c| {
                        let at = c["received_at"].as_i64().unwrap_or_default();
                        (
                            (c["own"] == true, std::cmp::Reverse(at)),
                            CredentialCard::of(lang, c),
                        )
                    })
                    .collect();
                cards.sort_by_key(|(order, _)| *order);
                cards.into_iter().map(|(_, card)| card).collect()
            },
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "credential.html")]
pub(super) struct CredentialPage {
    pub(super) chrome: Chrome,
    pub(super) card: CredentialCard,
    /// What it contains, a line per detail: its name in words, its value.
    pub(super) contents: Vec<(String, String)>,
    pub(super) received: String,
    pub(super) expires: String,
    /// Where and when it was shared, newest first: with whom, when, what.
    pub(super) shared: Vec<SharedEntry>,
}

/// One credential: what it contains, its state, where and when it was shared.
pub(super) async fn credential_page(
    State(state): State<WalletState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let c: Value = api
            .get(&format!("/api/v1/credentials/{}", query_component(&id)))
            .await?;
        let log: Vec<crate::presentations::Shared> = api.get("/api/v1/presentations").await?;
        let chrome = page.chrome(CATALOG);
        let card = CredentialCard::of(lang, &c);
        let mut contents = Vec::new();
        leaves(&c["claims"], &mut String::new(), &mut contents);
        let contents = contents
            .into_iter()
            .map(|(pointer, value)| {
                let label = detail_label(lang, &pointer);
                (label, detail_value(&chrome, &pointer, value))
            })
            .collect();
        let shared = log
            .iter()
            .filter(|e| e.credentials.iter().any(|s| s.credential_id == id))
            .map(|e| shared_entry(&chrome, e, &[&c]))
            .collect();
        let on = |field: &str| {
            c[field]
                .as_i64()
                .map(|ms| date_of(lang, ms))
                .unwrap_or_default()
        };
        Ok(CredentialPage {
            received: on("received_at"),
            expires: c["expires_at"]
                .as_i64()
                .map(|s| date_of(lang, s * 1000))
                .unwrap_or_default(),
            chrome,
            card,
            contents,
            shared,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

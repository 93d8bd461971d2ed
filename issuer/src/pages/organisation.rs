//! An organisation's page: members, scales and competencies, keys, credentials issued and their status, identity requests.

use super::*;

#[derive(Template)]
#[template(path = "issuer_organisation.html")]
pub(super) struct OrganisationPage {
    pub(super) chrome: Chrome,
    pub(super) org: Tenant,
    pub(super) staff: bool,
    pub(super) members: Vec<Member>,
    pub(super) scales: Vec<Scale>,
    pub(super) competencies: Vec<Competency>,
    pub(super) sessions: Vec<TrainingSession>,
    pub(super) credentials: Vec<(Issued, String)>,
    pub(super) formations: Vec<Formation>,
    /// The roles the visitor may give by invitation (`roles::OrgRole::can_grant`), lowest first.
    pub(super) grantable: Vec<&'static str>,
    /// Whether the visitor adds members directly (administrators).
    pub(super) adds_members: bool,
    /// The signing keys, for an administrator (who rotates them).
    pub(super) keys: Vec<KeyInfo>,
    /// Identity requests waiting: all, for those who attest; a trainee's own.
    pub(super) identity_requests: Vec<IdentityRequest>,
    /// The visitor is a trainee here (asks for their identity credential).
    pub(super) trainee: bool,
    /// The visitor attests identities (administrators and managers).
    pub(super) attests: bool,
}

#[derive(Deserialize)]
pub(super) struct IdentityRequest {
    pub(super) account_id: String,
    pub(super) display_name: String,
    pub(super) email: String,
    #[serde(default)]
    pub(super) message: String,
    pub(super) created_at: i64,
}

#[derive(Deserialize)]
pub(super) struct KeyInfo {
    pub(super) alg: String,
    pub(super) active: bool,
    pub(super) created_at: i64,
    #[serde(default)]
    pub(super) retired_at: Option<i64>,
}

impl OrganisationPage {
    /// The catalog key of a credential's kind, from its type.
    pub(super) fn credential_kind(&self, vct: &str) -> &'static str {
        match vct.rsplit('/').next() {
            Some("identity") => "credential.identity",
            Some("completion") => "credential.completion",
            _ => "credential.competency",
        }
    }

    pub(super) fn archived_competencies(&self) -> usize {
        self.competencies
            .iter()
            .filter(|c| c.archived_at.is_some())
            .count()
    }
}

pub(super) async fn organisation(
    State(state): State<IssuerState>,
    page: Page,
    Path(org): Path<String>,
) -> Response {
    let (lang, session, api) = (page.lang, &page.session, &page.api);
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let org: Tenant = api.get(&base).await?;
        let staff = org.my_roles.iter().any(|r| r != "trainee");
        let highest = crate::roles::OrgRole::highest(&org.my_roles);
        let grantable = crate::roles::OrgRole::ALL
            .into_iter()
            .rev()
            .filter(|r| highest.is_some_and(|h| h.can_grant(*r)))
            .map(crate::roles::OrgRole::as_str)
            .collect();
        let adds_members = highest == Some(crate::roles::OrgRole::Admin);
        let keys = if adds_members {
            api.get(&format!("{base}/keys")).await?
        } else {
            Vec::new()
        };
        let trainee = org.my_roles.iter().any(|r| r == "trainee");
        let attests = org.my_roles.iter().any(|r| r == "admin" || r == "manager");
        let identity_requests = if trainee || attests {
            api.get(&format!("{base}/identity-requests")).await?
        } else {
            Vec::new()
        };
        let sessions = api.get(&format!("{base}/sessions")).await?;
        let formations = if staff {
            api.get(&format!("{base}/formations")).await?
        } else {
            Vec::new()
        };
        let (members, scales, competencies, credentials) = if staff {
            let members: Vec<Member> = api.get(&format!("{base}/members")).await?;
            let names: BTreeMap<&str, &str> = members
                .iter()
                .map(|m| (m.account_id.as_str(), m.display_name.as_str()))
                .collect();
            let credentials = api
                .get::<Vec<Issued>>(&format!("{base}/credentials"))
                .await?
                .into_iter()
                .map(|c| {
                    let name = names.get(c.account_id.as_str()).copied().unwrap_or("");
                    let name = name.to_owned();
                    (c, name)
                })
                .collect();
            (
                members,
                api.get(&format!("{base}/scales")).await?,
                api.get(&format!("{base}/competencies")).await?,
                credentials,
            )
        } else {
            Default::default()
        };
        Ok(OrganisationPage {
            chrome: chrome(&state, lang, session),
            org,
            staff,
            members,
            scales,
            competencies,
            sessions,
            credentials,
            formations,
            grantable,
            adds_members,
            keys,
            identity_requests,
            trainee,
            attests,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

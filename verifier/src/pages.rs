//! The recruiters' portal: the company (created with its SIRET, approved by the platform),
//! the search of trainees by verified competency with its filters and facets, profiles,
//! offers (a text or a PDF, to one trainee or to a whole search, asking which personal details),
//! their states, the candidates who accepted with what they chose to disclose, and the chats.
//! Platform administrators approve companies and trust issuers here. Each page is a view of
//! what the verifier's API answers the person signed in; each form is an API call.

use crate::VerifierState;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use carnet_core::oid4vci::percent_encode;
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{
    Backend, Chrome, PageSession, Problem, QuizQuestion, SignedIn, awaiting_grades, date_of, field,
    multipart_form, problem_page, quiz_questions, see_other, show, sign_in_page,
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<VerifierState> {
    carnet_service::web::sign_in_routes(CATALOG)
        .route("/", get(home))
        .route("/companies/{id}", get(search))
        .route("/companies/{id}/profiles/{profile}", get(profile))
        // A PDF may exceed the bodies of other forms; the server's upload limit still holds.
        .route(
            "/companies/{id}/offers",
            get(offers)
                .post(send_offer)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/companies/{id}/offers/{offer}", get(offer))
        .route("/companies/{id}/candidates", get(candidates))
        .route("/companies/{id}/team", get(team))
        .route("/companies/{id}/chats/{chat}", get(chat))
        .route("/companies/{id}/quizzes", get(quizzes))
        .route("/companies/{id}/quizzes/{quiz}", get(quiz))
}

/// The portal's texts, French and English.
pub const CATALOG: Catalog = &[
    ("brand", "Carnet · Recrutement", "Carnet · Recruitment"),
    ("portal", "Recrutement", "Recruitment"),
    (
        "sign_in.title",
        "Recruter sur compétences vérifiées",
        "Recruit on verified competencies",
    ),
    (
        "sign_in.intro",
        "Trouvez des stagiaires par compétence attestée par leur centre ; ils choisissent ce qu'ils vous partagent.",
        "Find trainees by competencies their centres certified; they choose what they share with you.",
    ),
    ("home.title", "Mes entreprises", "My companies"),
    (
        "home.to_contact",
        "candidats à contacter",
        "candidates to contact",
    ),
    ("home.waiting", "réponses attendues", "answers awaited"),
    ("home.offers", "offres envoyées", "offers sent"),
    ("home.search", "Rechercher des profils", "Search profiles"),
    (
        "home.none",
        "Créez la fiche de votre entreprise : la plateforme vérifie son SIRET avant d'ouvrir la recherche.",
        "Create your company's record: the platform checks its SIRET before opening the search.",
    ),
    (
        "home.create",
        "Déclarer mon entreprise",
        "Register my company",
    ),
    (
        "home.pending",
        "en attente de validation",
        "awaiting approval",
    ),
    ("company.name", "Raison sociale", "Company name"),
    ("company.siret", "SIRET (14 chiffres)", "SIRET (14 digits)"),
    ("company.address", "Adresse", "Address"),
    ("create", "Créer", "Create"),
    (
        "admin.title",
        "Administration de la plateforme",
        "Platform administration",
    ),
    (
        "admin.pending",
        "Entreprises à valider",
        "Companies to approve",
    ),
    ("admin.approve", "Valider", "Approve"),
    ("admin.none", "Aucune.", "None."),
    ("admin.issuers", "Centres de confiance", "Trusted centres"),
    (
        "admin.issuer",
        "Identifiant de l'émetteur (URL)",
        "Issuer identifier (URL)",
    ),
    ("admin.issuer_name", "Nom affiché", "Name shown"),
    ("admin.trust", "Faire confiance", "Trust"),
    (
        "admin.untrust",
        "Ne plus faire confiance…",
        "Stop trusting…",
    ),
    (
        "admin.untrust_hint",
        "Ses attestations sortent aussitôt de la recherche et ne vérifient plus.",
        "Its credentials leave the search at once and no longer verify.",
    ),
    ("admin.untrust_confirm", "Confirmer", "Confirm"),
    ("nav.search", "Rechercher", "Search"),
    ("nav.offers", "Offres envoyées", "Sent offers"),
    ("nav.candidates", "Candidats", "Candidates"),
    ("search.title", "Rechercher des profils", "Search profiles"),
    (
        "search.q",
        "Mots (compétence, métier)",
        "Words (competency, trade)",
    ),
    ("search.competency", "Compétence", "Competency"),
    (
        "search.competency_hint",
        "Tapez un nom, un code ou un code ROME",
        "Type a name, a code or a ROME code",
    ),
    ("search.profiles", "profils", "profiles"),
    ("search.min_level", "Niveau atteint", "Level reached"),
    ("search.level.any", "quel qu'il soit", "any"),
    (
        "search.level.quarter",
        "au moins le quart de l'échelle du centre",
        "at least a quarter of the centre's scale",
    ),
    (
        "search.level.half",
        "au moins la moitié de l'échelle",
        "at least half of the scale",
    ),
    (
        "search.level.three_quarters",
        "au moins les trois quarts de l'échelle",
        "at least three quarters of the scale",
    ),
    (
        "search.level.top",
        "le plus haut niveau de l'échelle",
        "the top of the scale",
    ),
    ("search.region", "Région", "Region"),
    ("search.contract", "Contrat", "Contract"),
    ("search.situation", "Situation", "Situation"),
    (
        "search.available_by",
        "Disponible au plus tard le",
        "Available by",
    ),
    ("search.sort", "Trier par", "Sort by"),
    ("search.relevance", "pertinence", "relevance"),
    ("search.level", "niveau", "level"),
    ("search.recent", "date", "date"),
    ("search.submit", "Rechercher", "Search"),
    ("search.results", "profils", "profiles"),
    ("search.more", "Page suivante", "Next page"),
    (
        "search.empty",
        "Aucun profil ne correspond.",
        "No profile matches.",
    ),
    (
        "search.offer_all",
        "Envoyer une offre à tous ces profils",
        "Send an offer to all these profiles",
    ),
    ("search.filters", "Affiner", "Refine"),
    ("any", "tous", "any"),
    ("facet.competency", "Compétences", "Competencies"),
    ("facet.issuer", "Centres", "Centres"),
    ("facet.region", "Régions", "Regions"),
    ("facet.contract", "Contrats", "Contracts"),
    ("facet.situation", "Situations", "Situations"),
    ("seeking", "en recherche", "seeking"),
    ("employed", "en poste", "employed"),
    ("in_training", "en formation", "in training"),
    ("profile.regions", "Régions", "Regions"),
    ("profile.contracts", "Contrats", "Contracts"),
    (
        "profile.competencies",
        "Compétences vérifiées",
        "Verified competencies",
    ),
    ("profile.level", "Niveau", "Level"),
    ("profile.validated", "Validée le", "Validated on"),
    ("profile.by", "Centre", "Centre"),
    ("profile.evaluator", "Évaluateur", "Evaluator"),
    (
        "profile.private",
        "Nom et compétences seulement : le reste ne vous sera transmis que si la personne accepte votre offre, et seulement ce qu'elle choisit.",
        "Name and competencies only: anything else reaches you only if the person accepts your offer, and only what they choose.",
    ),
    ("offer.compose", "Envoyer une offre", "Send an offer"),
    ("offer.title", "Intitulé du poste", "Job title"),
    ("offer.body", "Texte de l'offre", "Offer text"),
    ("offer.pdf", "Ou l'offre en PDF", "Or the offer as a PDF"),
    ("offer.contract", "Type de contrat", "Contract type"),
    ("offer.place", "Lieu", "Place"),
    (
        "offer.claims",
        "Informations demandées en cas d'acceptation",
        "Details asked for on acceptance",
    ),
    ("offer.not_asked", "non demandé", "not asked"),
    ("offer.optional", "facultatif", "optional"),
    ("offer.required", "obligatoire", "required"),
    ("offer.quiz", "Questionnaire joint", "Attached quiz"),
    ("offer.no_quiz", "aucun", "none"),
    ("offer.send", "Envoyer", "Send"),
    ("offer.sent", "Offres envoyées", "Sent offers"),
    ("offer.none", "Aucune offre envoyée.", "No offer sent."),
    ("offer.recipients", "Destinataires", "Recipients"),
    ("offer.status", "État", "Status"),
    (
        "offer.disclosed",
        "Informations partagées",
        "Details shared",
    ),
    ("offer.chat", "Discussion", "Chat"),
    ("offer.expires", "Expire le", "Expires on"),
    ("offer.document", "Offre en PDF", "Offer as PDF"),
    ("sent", "envoyée", "sent"),
    ("viewed", "vue", "viewed"),
    ("accepted", "acceptée", "accepted"),
    ("declined", "déclinée", "declined"),
    ("expired", "expirée", "expired"),
    ("withdrawn", "retirée", "withdrawn"),
    ("given_name", "Prénom", "Given name"),
    ("family_name", "Nom", "Family name"),
    ("email", "Adresse e-mail", "E-mail address"),
    ("phone_number", "Téléphone", "Phone"),
    ("birthdate", "Date de naissance", "Date of birth"),
    ("address", "Adresse postale", "Postal address"),
    ("presentation", "Présentation", "About"),
    ("links", "Liens", "Links"),
    ("disclosed.verified", "Vérifié par", "Verified by"),
    (
        "disclosed.declared",
        "Déclaré par la personne",
        "Declared by the person",
    ),
    ("nav.team", "Mon équipe", "My team"),
    (
        "team.title",
        "L'équipe de recrutement",
        "The recruiting team",
    ),
    ("team.role", "Rôle", "Role"),
    ("admin", "administration", "administrator"),
    ("recruiter", "recrutement", "recruiter"),
    ("team.add", "Ajouter un collègue", "Add a colleague"),
    (
        "team.add_hint",
        "La personne crée d'abord son compte sur ce portail avec cette adresse.",
        "They first create their account on this portal with this address.",
    ),
    ("team.remove", "Retirer…", "Remove…"),
    (
        "team.remove_confirm",
        "Confirmer le retrait",
        "Confirm the removal",
    ),
    ("team.you", "vous", "you"),
    (
        "stage.accepted",
        "Ont accepté — à contacter",
        "Accepted — to contact",
    ),
    (
        "stage.waiting",
        "En attente de leur réponse",
        "Waiting for their answer",
    ),
    ("stage.declined", "Ont décliné", "Declined"),
    (
        "stage.closed",
        "Offres expirées ou retirées",
        "Offers expired or withdrawn",
    ),
    ("offer.offer", "Offre", "Offer"),
    ("offer.since", "depuis le", "since"),
    ("candidates.title", "Mes candidats", "My candidates"),
    (
        "candidates.none",
        "Personne n'a encore accepté d'offre.",
        "Nobody has accepted an offer yet.",
    ),
    (
        "candidates.receipt",
        "Reçu de consentement",
        "Consent receipt",
    ),
    ("chat.title", "Discussion", "Chat"),
    ("chat.with", "avec", "with"),
    ("chat.you", "Vous", "You"),
    ("chat.write", "Votre message", "Your message"),
    ("chat.send", "Envoyer", "Send"),
    (
        "chat.expiry",
        "Sans réponse pendant 30 jours, la discussion est supprimée.",
        "After 30 days without a reply, the chat is deleted.",
    ),
    ("chat.messages", "Messages", "Messages"),
    ("nav.quizzes", "Questionnaires", "Quizzes"),
    ("quiz.title", "Questionnaires", "Quizzes"),
    ("quiz.none", "Aucun questionnaire.", "No quiz."),
    ("quiz.name", "Titre", "Title"),
    ("quiz.questions", "Questions", "Questions"),
    ("quiz.max", "Points", "Points"),
    ("quiz.sent", "Envoyé", "Sent"),
    ("quiz.answered", "Répondu", "Answered"),
    ("quiz.new", "Nouveau questionnaire", "New quiz"),
    (
        "quiz.help",
        "Une question par paragraphe (une ligne vide entre deux). Première ligne : la question, ses points entre crochets à la fin ([2], sinon 1). Puis « * » devant chaque bonne réponse, « - » devant chaque mauvaise ; ou « = » devant chaque réponse libre acceptée ; sans proposition, la réponse libre est notée par vous.",
        "One question per paragraph (a blank line between two). First line: the question, its points in brackets at the end ([2], else 1). Then \"* \" before each right option and \"- \" before each wrong one; or \"= \" before each free answer accepted; without options, you grade the free answer.",
    ),
    ("quiz.create", "Créer", "Create"),
    ("quiz.results", "Résultats", "Results"),
    ("quiz.pending", "à noter", "to grade"),
    ("quiz.not_yet", "pas encore répondu", "not answered yet"),
    ("quiz.grade", "Noter", "Grade"),
    (
        "quiz.send_alone",
        "Envoyer le questionnaire",
        "Send the quiz",
    ),
    (
        "quiz.no_rejection",
        "Un score est une information pour vous : personne n'est écarté automatiquement.",
        "A score is for you to read: nobody is rejected automatically.",
    ),
];

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Company {
    id: String,
    name: String,
    siret: String,
    #[serde(default)]
    approved: bool,
    #[serde(default)]
    my_roles: Vec<String>,
}

#[derive(Deserialize)]
struct TrustedIssuer {
    issuer: String,
    name: String,
}

#[derive(Deserialize)]
struct Competency {
    code: String,
    name: String,
    #[serde(default)]
    issuer_name: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    validated_on: Option<String>,
    #[serde(default)]
    facts: Value,
}

impl Competency {
    fn evaluator(&self) -> String {
        self.facts["evaluator"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Deserialize)]
struct Profile {
    id: String,
    name: String,
    #[serde(default)]
    situation: Option<String>,
    #[serde(default)]
    available_from: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    contracts: Vec<String>,
    competencies: Vec<Competency>,
    /// When they are available, as people say it (made by the page).
    #[serde(skip)]
    available: String,
}

impl Profile {
    /// Says when the profile is available, on the day `today` (only for someone who said
    /// they were looking, or gave a date).
    fn spoken(mut self, lang: Lang, today: &str) -> Profile {
        if self.situation.as_deref() != Some("employed") || self.available_from.is_some() {
            self.available =
                carnet_service::web::availability(lang, self.available_from.as_deref(), today);
        }
        self
    }
}

#[derive(Clone, Deserialize)]
struct Facet {
    value: String,
    #[serde(default)]
    label: Option<String>,
    count: i64,
}

#[derive(Deserialize)]
struct SearchResult {
    total: i64,
    items: Vec<Profile>,
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(default)]
    facets: std::collections::HashMap<String, Vec<Facet>>,
}

#[derive(Deserialize)]
struct Quiz {
    id: String,
    title: String,
}

#[derive(Deserialize)]
struct OfferSummary {
    id: String,
    title: String,
    created_at: i64,
    expires_at: i64,
    #[serde(default)]
    statuses: Value,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(default)]
    offer_id: String,
    #[serde(default)]
    offer_title: String,
    #[serde(default)]
    profile_id: String,
    name: String,
    status: String,
    #[serde(default)]
    sent_at: i64,
    #[serde(default)]
    viewed_at: Option<i64>,
    #[serde(default)]
    answered_at: Option<i64>,
    #[serde(default)]
    disclosed: Option<Value>,
    #[serde(default)]
    verified_by: Option<String>,
    #[serde(default)]
    declared: Option<Value>,
    #[serde(default)]
    consent_receipt: Option<String>,
    #[serde(default)]
    chat_id: Option<String>,
}

#[derive(Deserialize)]
struct OfferDetail {
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    document_id: Option<String>,
    expires_at: i64,
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    sender: String,
    body: String,
    at: i64,
    #[serde(default)]
    position: Option<i64>,
}

#[derive(Deserialize)]
struct Chat {
    id: String,
    candidate: String,
    offer_title: String,
}

/// The claims an offer may ask of an identity credential.
const CLAIMS: [&str; 6] = [
    "email",
    "phone_number",
    "given_name",
    "family_name",
    "birthdate",
    "address",
];

const FACETS: [&str; 5] = ["competency", "issuer", "region", "contract", "situation"];

/// The search filters a page passes on to the API (and an offer to a whole result).
const FILTERS: [&str; 8] = [
    "competency",
    "q",
    "min_level",
    "issuer",
    "situation",
    "region",
    "contract",
    "available_by",
];

/// A disclosed value as text (an address object as its lines).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(map) => map.values().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn claim_key(name: &str) -> &'static str {
    CLAIMS
        .iter()
        .chain(&["presentation", "links"])
        .find(|c| **c == name)
        .copied()
        .unwrap_or("")
}

/// Disclosed claims as (label key, text).
fn disclosed(v: &Option<Value>) -> Vec<(&'static str, String, String)> {
    v.as_ref()
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (claim_key(k), k.clone(), value_text(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The page's frame: the company's navigation around a page.
struct Frame {
    company: Company,
}

async fn frame(api: &Backend, company: &str) -> Result<Frame, Problem> {
    Ok(Frame {
        company: api.get(&format!("/api/v1/companies/{company}")).await?,
    })
}

#[derive(Template)]
#[template(path = "verifier_home.html")]
struct HomePage {
    chrome: Chrome,
    companies: Vec<Company>,
    /// Where each of the visitor's approved companies stands (by company id): candidates to
    /// contact, answers awaited, offers sent.
    figures: Vec<(String, Figures)>,
    admin: bool,
    pending: Vec<Company>,
    issuers: Vec<TrustedIssuer>,
}

/// A company's pipeline in three numbers, for the home page.
struct Figures {
    accepted: usize,
    waiting: usize,
    offers: usize,
}

impl HomePage {
    fn encoded(&self, value: &str) -> String {
        percent_encode(value)
    }

    fn figures_of(&self, company: &str) -> Option<&Figures> {
        self.figures
            .iter()
            .find(|(id, _)| id == company)
            .map(|(_, f)| f)
    }
}

async fn home(
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

#[derive(Template)]
#[template(path = "verifier_search.html")]
struct SearchPage {
    frame: Frame,
    chrome: Chrome,
    filters: Vec<(&'static str, String)>,
    sort: String,
    result: SearchResult,
    /// Every competency the directory holds (code, name and how many profiles), to pick one
    /// by typing part of its name.
    competencies: Vec<Facet>,
    /// The query string of the filters, to add a facet or go to the next page.
    query: String,
    quizzes: Vec<Quiz>,
}

impl SearchPage {
    fn filter(&self, name: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn facets(&self) -> Vec<(&'static str, &Vec<Facet>)> {
        FACETS
            .iter()
            .filter_map(|f| Some((*f, self.result.facets.get(*f)?)))
            .filter(|(_, values)| !values.is_empty())
            .collect()
    }

    /// The label of a facet's value (a competency's name, a situation in words).
    fn facet_label(&self, facet: &str, value: &Facet) -> String {
        match (&value.label, facet) {
            (Some(label), _) => label.clone(),
            (None, "situation") => self.chrome.t(&value.value).to_owned(),
            _ => value.value.clone(),
        }
    }

    /// Whether filter (or `sort`) `name` is `value`.
    fn is(&self, name: &str, value: &str) -> bool {
        match name {
            "sort" => self.sort == value,
            _ => self.filter(name) == value,
        }
    }

    fn sort_key(&self, sort: &str) -> &'static str {
        match sort {
            "level" => "search.level",
            _ => "search.recent",
        }
    }

    fn facet_key(&self, facet: &str) -> String {
        format!("facet.{facet}")
    }

    fn claims(&self) -> &'static [&'static str] {
        &CLAIMS
    }
}

fn query_of(filters: &[(&'static str, String)]) -> String {
    filters
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn search(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(company): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
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
        let frame = frame(&api, &company).await?;
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
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
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
fn query_pairs(query: &str) -> Vec<(String, String)> {
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
struct ProfilePage {
    frame: Frame,
    chrome: Chrome,
    profile: Profile,
    quizzes: Vec<Quiz>,
}

impl ProfilePage {
    fn claims(&self) -> &'static [&'static str] {
        &CLAIMS
    }
}

async fn profile(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((company, profile)): Path<(String, String)>,
) -> Response {
    let view = async {
        let frame = frame(&api, &company).await?;
        Ok(ProfilePage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
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
const MAX_PDF: usize = 10 * 1024 * 1024;

/// Sends an offer composed on a page: a multipart form, for its optional PDF. The PDF goes
/// first (`documents`), then the offer naming it.
async fn send_offer(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(company): Path<String>,
    form: Multipart,
) -> Response {
    let base = state.ctx.config.path_prefix().to_owned();
    let back = format!("{base}/companies/{company}");
    let (fields, pdf) = match multipart_form(&session, form, "document", MAX_PDF).await {
        Ok(read) => read,
        Err(p) => return problem_page(&state.ctx, lang, p, &back),
    };
    let field = |name: &str| Some(field(&fields, name).trim().to_owned()).filter(|v| !v.is_empty());
    let csrf = field("csrf").unwrap_or_default();
    let document_id = match pdf {
        Some(pdf) => {
            let name = if pdf.filename.is_empty() {
                "offre.pdf"
            } else {
                &pdf.filename
            };
            let path = format!(
                "/api/v1/companies/{company}/documents?filename={}",
                percent_encode(name)
            );
            match api
                .send(
                    Method::POST,
                    &path,
                    &csrf,
                    Some(("application/pdf", pdf.bytes)),
                )
                .await
            {
                Ok(doc) => doc["id"].as_str().map(str::to_owned),
                Err(p) => return problem_page(&state.ctx, lang, p, &back),
            }
        }
        None => None,
    };
    let claims: Vec<Value> = CLAIMS
        .iter()
        .filter_map(|c| match field(&format!("claim.{c}")).as_deref() {
            Some("required") => Some(json!({"path": [c], "required": true})),
            Some("optional") => Some(json!({"path": [c]})),
            _ => None,
        })
        .collect();
    let recipients = match field("profile") {
        Some(profile) => json!({"profiles": [profile]}),
        None => {
            let mut search = serde_json::Map::new();
            for f in FILTERS {
                if let Some(v) = field(&format!("search.{f}")) {
                    let v = match f {
                        "min_level" => v.parse::<f64>().map_or(json!(v), |n| json!(n)),
                        _ => json!(v),
                    };
                    search.insert(f.to_owned(), v);
                }
            }
            json!({"search": search})
        }
    };
    let body = json!({
        "title": field("title").unwrap_or_default(),
        "body": field("body"),
        "document_id": document_id,
        "contract_type": field("contract_type"),
        "place": field("place"),
        "claims": claims,
        "quiz_id": field("quiz_id"),
        "recipients": recipients,
    });
    match api
        .call(
            Method::POST,
            &format!("/api/v1/companies/{company}/offers"),
            &csrf,
            Some(body),
        )
        .await
    {
        Ok(sent) => {
            let id = sent["offer"]["id"].as_str().unwrap_or_default();
            see_other(&format!("{base}/companies/{company}/offers/{id}"), None)
        }
        Err(p) => problem_page(&state.ctx, lang, p, &back),
    }
}

struct OfferRow {
    id: String,
    title: String,
    sent: String,
    expires: String,
    statuses: Vec<(String, i64)>,
}

#[derive(Template)]
#[template(path = "verifier_offers.html")]
struct OffersPage {
    frame: Frame,
    chrome: Chrome,
    offers: Vec<OfferRow>,
}

async fn offers(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(company): Path<String>,
) -> Response {
    let view = async {
        let frame = frame(&api, &company).await?;
        let offers = api
            .get::<Vec<OfferSummary>>(&format!("/api/v1/companies/{company}/offers"))
            .await?
            .into_iter()
            .map(|o| OfferRow {
                statuses: o
                    .statuses
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                            .collect()
                    })
                    .unwrap_or_default(),
                id: o.id,
                title: o.title,
                sent: date_of(lang, o.created_at),
                expires: date_of(lang, o.expires_at),
            })
            .collect();
        Ok(OffersPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            frame,
            offers,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

struct RecipientRow {
    offer_id: String,
    offer_title: String,
    profile_id: String,
    name: String,
    status: String,
    /// When it reached that state (answered, seen, or sent).
    since: i64,
    disclosed: Vec<(&'static str, String, String)>,
    verified_by: String,
    declared: Vec<(&'static str, String, String)>,
    receipt: bool,
    chat_id: Option<String>,
}

fn recipient_row(r: Recipient) -> RecipientRow {
    RecipientRow {
        since: r.answered_at.or(r.viewed_at).unwrap_or(r.sent_at),
        offer_id: r.offer_id,
        offer_title: r.offer_title,
        profile_id: r.profile_id,
        disclosed: disclosed(&r.disclosed),
        verified_by: r.verified_by.unwrap_or_default(),
        declared: disclosed(&r.declared),
        receipt: r.consent_receipt.is_some(),
        name: r.name,
        status: r.status,
        chat_id: r.chat_id,
    }
}

#[derive(Template)]
#[template(path = "verifier_offer.html")]
struct OfferPage {
    frame: Frame,
    chrome: Chrome,
    title: String,
    body: String,
    document: bool,
    expires: String,
    recipients: Vec<RecipientRow>,
    show_offer: bool,
}

async fn offer(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((company, offer)): Path<(String, String)>,
) -> Response {
    let view = async {
        let frame = frame(&api, &company).await?;
        let detail: OfferDetail = api
            .get(&format!("/api/v1/companies/{company}/offers/{offer}"))
            .await?;
        Ok(OfferPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            frame,
            title: detail.title,
            body: detail.body.unwrap_or_default(),
            document: detail.document_id.is_some(),
            expires: date_of(lang, detail.expires_at),
            recipients: detail.recipients.into_iter().map(recipient_row).collect(),
            show_offer: false,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "verifier_candidates.html")]
struct CandidatesPage {
    frame: Frame,
    chrome: Chrome,
    /// The pipeline's stages, in the order a recruiter works them: (catalog key, rows).
    stages: Vec<(&'static str, Vec<RecipientRow>)>,
    show_offer: bool,
}

/// A recipient's stage in the pipeline.
fn stage(status: &str) -> &'static str {
    match status {
        "accepted" => "stage.accepted",
        "sent" | "viewed" => "stage.waiting",
        "declined" => "stage.declined",
        _ => "stage.closed",
    }
}

async fn candidates(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(company): Path<String>,
) -> Response {
    let view = async {
        let frame = frame(&api, &company).await?;
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
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            frame,
            stages,
            show_offer: true,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Deserialize)]
struct Colleague {
    account_id: String,
    email: String,
    display_name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "verifier_team.html")]
struct TeamPage {
    frame: Frame,
    chrome: Chrome,
    members: Vec<Colleague>,
    /// The visitor administers the company: adds and removes colleagues.
    admin: bool,
    me: String,
}

/// The company's team: everyone sees who is in it; its administrators add colleagues (by
/// address, as recruiter or administrator) and take them out (never themselves).
async fn team(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(company): Path<String>,
) -> Response {
    let view = async {
        let frame = frame(&api, &company).await?;
        let admin = frame.company.my_roles.iter().any(|r| r == "admin");
        Ok(TeamPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
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

struct MessageRow {
    id: String,
    mine: bool,
    body: String,
    at: String,
}

#[derive(Template)]
#[template(path = "verifier_chat.html")]
struct ChatPage {
    frame: Frame,
    chrome: Chrome,
    chat: Chat,
    messages: Vec<MessageRow>,
    /// The live stream starts after the last message shown: what is written between the
    /// page and its stream comes too.
    after: i64,
}

async fn chat(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((company, chat)): Path<(String, String)>,
) -> Response {
    let view = async {
        let frame = frame(&api, &company).await?;
        let chat: Chat = api
            .get::<Vec<Chat>>(&format!("/api/v1/companies/{company}/chats"))
            .await?
            .into_iter()
            .find(|c| c.id == chat)
            .ok_or(Problem::not_found())?;
        let messages = api
            .get::<Vec<Message>>(&format!(
                "/api/v1/companies/{company}/chats/{}/messages",
                chat.id
            ))
            .await?;
        let after = messages
            .iter()
            .filter_map(|m| m.position)
            .max()
            .unwrap_or(0);
        let messages = messages
            .into_iter()
            .map(|m| MessageRow {
                mine: m.sender == "company",
                id: m.id,
                body: m.body,
                at: carnet_service::web::moment(lang, m.at),
            })
            .collect();
        Ok(ChatPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            frame,
            chat,
            messages,
            after,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Deserialize)]
struct QuizSummary {
    id: String,
    title: String,
    questions: usize,
    max: u32,
    sent: i64,
    answered: i64,
}

#[derive(Template)]
#[template(path = "verifier_quizzes.html")]
struct QuizzesPage {
    frame: Frame,
    chrome: Chrome,
    quizzes: Vec<QuizSummary>,
    /// The new quiz's questions.
    editor: carnet_service::web::QuizEditor,
}

async fn quizzes(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(company): Path<String>,
) -> Response {
    let view = async {
        Ok(QuizzesPage {
            frame: frame(&api, &company).await?,
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            quizzes: api
                .get(&format!("/api/v1/companies/{company}/quizzes"))
                .await?,
            editor: carnet_service::web::QuizEditor::blank(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

struct ResultRow {
    assignment: String,
    name: String,
    answered: Option<String>,
    score: String,
    pending: bool,
    /// The short answers waiting for a person: (question id, prompt, answer, points).
    to_grade: Vec<(String, String, String, u32)>,
}

#[derive(Template)]
#[template(path = "verifier_quiz.html")]
struct QuizPage {
    frame: Frame,
    chrome: Chrome,
    id: String,
    title: String,
    questions: Vec<QuizQuestion>,
    results: Vec<ResultRow>,
}

#[derive(Deserialize)]
struct QuizResults {
    id: String,
    quiz: Value,
    results: Vec<QuizResult>,
}

#[derive(Deserialize)]
struct QuizResult {
    assignment_id: String,
    name: String,
    #[serde(default)]
    answered_at: Option<i64>,
    #[serde(default)]
    answers: Option<Value>,
    #[serde(default)]
    grade: Option<Value>,
}

async fn quiz(
    State(state): State<VerifierState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((company, quiz)): Path<(String, String)>,
) -> Response {
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
            frame: frame(&api, &company).await?,
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            id: detail.id,
            title: detail.quiz["title"].as_str().unwrap_or_default().to_owned(),
            questions,
            results,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(super::CATALOG);
    }
}

//! Search over the directory, for the recruiters of approved companies: by competency (its code
//! or a framework code), free text over competency names, minimum normalised level, issuer,
//! situation, region, contract type and availability date; sorted by name, by latest update or
//! by best level; paginated, with facet counts. Only valid competencies from issuers still
//! trusted count and show. A result is a name and competencies: nothing else is stored.

use crate::VerifierState;
use crate::companies::Companies;
use crate::directory::fold;
use axum::extract::{Path, State};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::tenants::{Access, Staff};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const MAX_OFFSET: i64 = 10_000;
/// Matching profiles are counted, and facets computed, over at most this many: beyond, a
/// count would cost a scan of the whole result for every search.
const COUNT_CAP: i64 = 1000;

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(profile))
}

/// A recruiter (or administrator) of an approved company.
pub struct Recruiter(pub Access<Companies>);

impl axum::extract::FromRequestParts<VerifierState> for Recruiter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &VerifierState,
    ) -> Result<Recruiter, ApiError> {
        let Staff(access) = Staff::<Companies>::from_request_parts(parts, state).await?;
        if !access.tenant.approved {
            return Err(ApiError::Forbidden);
        }
        Ok(Recruiter(access))
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A competency code, or a framework code (ESCO, RNCP, RS, ROME).
    pub competency: Option<String>,
    /// Words in a competency's name.
    pub q: Option<String>,
    /// Minimum normalised level, 0 to 1 (with `competency` or `q`, of that competency).
    pub min_level: Option<f64>,
    /// Issuer identifier.
    pub issuer: Option<String>,
    /// `in_training`, `seeking`, `employed`.
    pub situation: Option<String>,
    /// INSEE region code.
    pub region: Option<String>,
    /// Contract type (`cdi`, `cdd`, `interim`, `alternance`, `stage`, `freelance`).
    pub contract: Option<String>,
    /// Available on this date (`YYYY-MM-DD`) or earlier.
    pub available_by: Option<String>,
    /// `name` (default), `recent`, `level`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Competency {
    pub code: String,
    pub name: String,
    pub issuer: String,
    pub issuer_name: Option<String>,
    pub level: Option<String>,
    pub level_value: Option<f64>,
    pub validated_on: Option<String>,
    /// The facts disclosed (framework codes, establishment, evaluator, session…).
    #[schema(value_type = Object)]
    pub facts: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub id: String,
    pub name: String,
    pub situation: Option<String>,
    pub available_from: Option<String>,
    pub regions: Vec<String>,
    pub contracts: Vec<String>,
    pub updated_at: i64,
    pub competencies: Vec<Competency>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Facet {
    pub value: String,
    pub label: Option<String>,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    /// Matching profiles, counted up to 1,000 (then `total_exact` is false).
    pub total: i64,
    pub total_exact: bool,
    pub items: Vec<ProfileView>,
    pub next_cursor: Option<String>,
    /// Counts over the matching profiles (the first 1,000 when there are more), by
    /// `competency`, `issuer`, `situation`, `region`, `contract`.
    pub facets: HashMap<String, Vec<Facet>>,
}

enum Bind {
    Text(String),
    Float(f64),
}

/// The conditions of a search as SQL over `profiles p` and, for competencies, `c`.
struct Filter {
    competency: String,
    profile: String,
    binds: Vec<Bind>,
}

impl Filter {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn new(q: &SearchQuery) -> ApiResult<Filter> {
        let mut f = Filter {
            competency: "c.status = 'valid' AND c.issuer IN (SELECT issuer FROM trusted_issuers)"
                .into(),
            profile: String::new(),
            binds: Vec::new(),
        };
        let mut selective = false;
        let text = |field: &str, v: &Option<String>| -> ApiResult<Option<String>> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) if s.chars().count() > 200 => {
                    Err(ApiError::invalid_field(field, "too long"))
                }
                Some(s) => Ok(Some(s.to_owned())),
            }
        };
        if let Some(code) = text("competency", &q.competency)? {
            let n = f.bind(Bind::Text(code));
            // By its own code or a framework code, each through its index.
            f.competency += &format!(
                " AND c.id IN (SELECT pc.id FROM profile_competencies pc WHERE pc.code = {n} \
                 UNION ALL SELECT cf.competency_id FROM competency_frameworks cf WHERE cf.code = {n})"
            );
            selective = true;
        }
        if let Some(words) = text("q", &q.q)? {
            for word in fold(&words).split_whitespace().take(5) {
                let escaped: String = word
                    .chars()
                    .filter(|c| !matches!(c, '%' | '_' | '\\'))
                    .collect();
                if escaped.is_empty() {
                    continue;
                }
                // Over the few distinct competency names, then by code.
                let n = f.bind(Bind::Text(format!("%{escaped}%")));
                f.competency += &format!(
                    " AND c.code IN (SELECT cn.code FROM competency_names cn WHERE cn.name_folded LIKE {n}) AND c.name_folded LIKE {n}"
                );
                selective = true;
            }
        }
        if let Some(min) = q.min_level {
            if !(0.0..=1.0).contains(&min) {
                return Err(ApiError::invalid_field("min_level", "between 0 and 1"));
            }
            let n = f.bind(Bind::Float(min));
            f.competency += &format!(" AND c.level_value >= {n}");
        }
        if let Some(issuer) = text("issuer", &q.issuer)? {
            let n = f.bind(Bind::Text(issuer));
            f.competency += &format!(" AND c.issuer = {n}");
        }
        // A competency condition that narrows: gather its profiles through the indexes; else
        // check each profile met (in the order asked, so a page stops early).
        f.profile = if selective {
            format!(
                "p.id IN (SELECT c.profile_id FROM profile_competencies c WHERE {})",
                f.competency
            )
        } else {
            format!(
                "EXISTS (SELECT 1 FROM profile_competencies c WHERE c.profile_id = p.id AND {})",
                f.competency
            )
        };
        if let Some(situation) = text("situation", &q.situation)? {
            if !["in_training", "seeking", "employed"].contains(&situation.as_str()) {
                return Err(ApiError::invalid_field(
                    "situation",
                    "in_training, seeking or employed",
                ));
            }
            let n = f.bind(Bind::Text(situation));
            f.profile += &format!(" AND p.situation = {n}");
        }
        for (kind, field, value) in [
            ("region", "region", &q.region),
            ("contract", "contract", &q.contract),
        ] {
            if let Some(value) = text(field, value)? {
                // Through the index of declared values.
                let n = f.bind(Bind::Text(value));
                f.profile += &format!(
                    " AND p.id IN (SELECT t.profile_id FROM profile_tags t WHERE t.kind = '{kind}' AND t.value = {n})"
                );
            }
        }
        if let Some(date) = text("available_by", &q.available_by)? {
            carnet_service::clock::check_date("available_by", &date)?;
            let n = f.bind(Bind::Text(date));
            f.profile += &format!(" AND (p.available_from IS NULL OR p.available_from <= {n})");
        }
        Ok(f)
    }

    fn query<'q, O>(
        &self,
        sql: &'q str,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
    where
        O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut query = sqlx::query_as(sql);
        for b in &self.binds {
            query = match b {
                Bind::Text(s) => query.bind(s.clone()),
                Bind::Float(x) => query.bind(*x),
            };
        }
        query
    }
}

type ProfileRow = (String, String, Option<String>, Option<String>, i64);

/// Profiles matching the filters, with facet counts.
#[utoipa::path(get, path = "/api/v1/companies/{id}/search", tag = "directory",
    params(("id" = String, Path), SearchQuery),
    responses((status = 200, body = SearchResult), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn search(
    State(state): State<VerifierState>,
    _recruiter: Recruiter,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchResult>> {
    let ctx = &state.ctx;
    let filter = Filter::new(&q)?;
    let limit = i64::from(q.limit.unwrap_or(20));
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "1 to 100"));
    }
    let offset: i64 = match q.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .parse()
            .ok()
            .filter(|o| (0..=MAX_OFFSET).contains(o))
            .ok_or_else(|| ApiError::invalid_field("cursor", "not a cursor of this search"))?,
    };
    let order = match q.sort.as_deref().unwrap_or("name") {
        "name" => "p.name, p.id".to_owned(),
        "recent" => "p.updated_at DESC, p.id".to_owned(),
        "level" => format!(
            "(SELECT MAX(c.level_value) FROM profile_competencies c WHERE c.profile_id = p.id AND {}) DESC, p.name, p.id",
            filter.competency
        ),
        _ => return Err(ApiError::invalid_field("sort", "name, recent or level")),
    };
    let pool = ctx.db.pool();
    let sql = format!(
        "SELECT p.id, p.name, p.situation, p.available_from, p.updated_at FROM profiles p WHERE {} ORDER BY {order} LIMIT {} OFFSET {offset}",
        filter.profile,
        limit + 1
    );
    let mut rows: Vec<ProfileRow> = filter.query(&sql).fetch_all(pool).await?;
    let next_cursor = (rows.len() as i64 > limit && offset + limit <= MAX_OFFSET)
        .then(|| (offset + limit).to_string());
    rows.truncate(limit as usize);
    // Counted among the first matches only: exact up to the cap, a lower bound beyond.
    let matched = format!(
        "(SELECT p.id, p.situation FROM profiles p WHERE {} LIMIT {COUNT_CAP}) m",
        filter.profile
    );
    let (total,): (i64,) = filter
        .query(&format!("SELECT COUNT(*) FROM {matched}"))
        .fetch_one(pool)
        .await?;
    let items = views(&state, rows).await?;
    let names = state.trust.snapshot(&state).await?;
    let mut facets = HashMap::new();
    let counted = |rows: Vec<(Option<String>, Option<String>, i64)>| -> Vec<Facet> {
        rows.into_iter()
            .filter_map(|(value, label, count)| {
                Some(Facet {
                    label: label.or_else(|| names.names.get(value.as_deref()?).cloned()),
                    value: value?,
                    count,
                })
            })
            .collect()
    };
    let shown = "c.status = 'valid' AND c.issuer IN (SELECT issuer FROM trusted_issuers)";
    let queries = [
        (
            "situation",
            format!(
                "SELECT m.situation, NULL, COUNT(*) FROM {matched} GROUP BY m.situation ORDER BY 3 DESC"
            ),
        ),
        (
            "region",
            format!(
                "SELECT t.value, NULL, COUNT(*) FROM {matched} JOIN profile_tags t ON t.profile_id = m.id WHERE t.kind = 'region' GROUP BY t.value ORDER BY 3 DESC, 1"
            ),
        ),
        (
            "contract",
            format!(
                "SELECT t.value, NULL, COUNT(*) FROM {matched} JOIN profile_tags t ON t.profile_id = m.id WHERE t.kind = 'contract' GROUP BY t.value ORDER BY 3 DESC, 1"
            ),
        ),
        (
            "competency",
            format!(
                "SELECT c.code, MIN(c.name), COUNT(DISTINCT c.profile_id) FROM {matched} JOIN profile_competencies c ON c.profile_id = m.id WHERE {shown} GROUP BY c.code ORDER BY 3 DESC, 1 LIMIT 30"
            ),
        ),
        (
            "issuer",
            format!(
                "SELECT c.issuer, NULL, COUNT(DISTINCT c.profile_id) FROM {matched} JOIN profile_competencies c ON c.profile_id = m.id WHERE {shown} GROUP BY c.issuer ORDER BY 3 DESC, 1"
            ),
        ),
    ];
    for (name, sql) in queries {
        facets.insert(
            name.to_owned(),
            counted(filter.query(&sql).fetch_all(pool).await?),
        );
    }
    Ok(Json(SearchResult {
        total_exact: total < COUNT_CAP,
        total,
        items,
        next_cursor,
        facets,
    }))
}

/// Profile ids matching a search, all of them up to `max` (for an offer to a whole result).
pub async fn matching_ids(
    state: &VerifierState,
    q: &SearchQuery,
    max: i64,
) -> ApiResult<Vec<String>> {
    let filter = Filter::new(q)?;
    let sql = format!(
        "SELECT p.id FROM profiles p WHERE {} ORDER BY p.id LIMIT {max}",
        filter.profile
    );
    let rows: Vec<(String,)> = filter.query(&sql).fetch_all(state.ctx.db.pool()).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The views of some profiles, with their valid competencies from trusted issuers.
pub async fn views(state: &VerifierState, rows: Vec<ProfileRow>) -> ApiResult<Vec<ProfileView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let pool = state.ctx.db.pool();
    let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
    let list = placeholders.join(", ");
    let sql = format!(
        "SELECT profile_id, code, name, issuer, level_label, level_value, validated_on, claims FROM profile_competencies \
         WHERE profile_id IN ({list}) AND status = 'valid' AND issuer IN (SELECT issuer FROM trusted_issuers) ORDER BY name, validated_on"
    );
    let mut query = sqlx::query_as(&sql);
    for row in &rows {
        query = query.bind(row.0.clone());
    }
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<f64>,
        Option<String>,
        String,
    );
    let competencies: Vec<Row> = query.fetch_all(pool).await?;
    let sql = format!(
        "SELECT profile_id, kind, value FROM profile_tags WHERE profile_id IN ({list}) ORDER BY value"
    );
    let mut query = sqlx::query_as(&sql);
    for row in &rows {
        query = query.bind(row.0.clone());
    }
    let tags: Vec<(String, String, String)> = query.fetch_all(pool).await?;
    let names = state.trust.snapshot(state).await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, situation, available_from, updated_at)| {
            let tag = |kind: &str| {
                tags.iter()
                    .filter(|t| t.0 == id && t.1 == kind)
                    .map(|t| t.2.clone())
                    .collect()
            };
            ProfileView {
                regions: tag("region"),
                contracts: tag("contract"),
                competencies: competencies
                    .iter()
                    .filter(|c| c.0 == id)
                    .map(|c| Competency {
                        code: c.1.clone(),
                        name: c.2.clone(),
                        issuer_name: names.names.get(&c.3).cloned(),
                        issuer: c.3.clone(),
                        level: c.4.clone(),
                        level_value: c.5,
                        validated_on: c.6.clone(),
                        facts: serde_json::from_str(&c.7).unwrap_or(Value::Null),
                    })
                    .collect(),
                id,
                name,
                situation,
                available_from,
                updated_at,
            }
        })
        .collect())
}

/// Loads one profile's row.
pub async fn profile_row(state: &VerifierState, id: &str) -> ApiResult<ProfileRow> {
    sqlx::query_as(
        "SELECT id, name, situation, available_from, updated_at FROM profiles WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(state.ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)
}

/// One profile: its name and competencies.
#[utoipa::path(get, path = "/api/v1/companies/{id}/profiles/{profile}", tag = "directory",
    params(("id" = String, Path), ("profile" = String, Path)),
    responses((status = 200, body = ProfileView), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn profile(
    State(state): State<VerifierState>,
    _recruiter: Recruiter,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<ProfileView>> {
    let profile = path.1;
    let row = profile_row(&state, &profile).await?;
    let mut views = views(&state, vec![row]).await?;
    views.pop().map(Json).ok_or(ApiError::NotFound)
}

//! Search over the directory, for the recruiters of approved companies: by competency (its code
//! or a framework code), free text over competency names, minimum normalised level, issuer,
//! situation, region, contract type and availability date; sorted by name, by latest update or
//! by best level; paginated, with facet counts. Only valid competencies from issuers still
//! trusted count and show. A result is a name and competencies: nothing else is stored.

use crate::VerifierState;
use crate::companies::Companies;
use crate::directory::fold;
use axum::extract::{Path, State};
use carnet_core::availability::{Contract, REGIONS, Situation};
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

#[derive(Clone)]
enum Bind {
    Text(String),
    Float(f64),
}

/// How many competency codes a search by words may turn into before it checks each profile
/// instead.
const MAX_KEYS: usize = 64;

/// A search planned over `search_index s`: the keys whose index ranges hold the matches
/// (`c:<code>` for a competency's holders, `r:<code>` for a region's profiles, `''` for every
/// profile), and the conditions each row must meet.
#[derive(Clone)]
struct Plan {
    keys: Vec<String>,
    row: String,
    binds: Vec<Bind>,
}

fn text(field: &str, v: &Option<String>) -> ApiResult<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > 200 => Err(ApiError::invalid_field(field, "too long")),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// A declared value (situation, contract type) read as its enumeration.
fn declared<T: serde::de::DeserializeOwned>(
    field: &str,
    value: &Option<String>,
    expected: &str,
) -> ApiResult<Option<String>> {
    let Some(value) = text(field, value)? else {
        return Ok(None);
    };
    serde_json::from_value::<T>(Value::String(value.clone()))
        .map_err(|_| ApiError::invalid_field(field, expected))?;
    Ok(Some(value))
}

impl Plan {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    async fn new(state: &VerifierState, q: &SearchQuery) -> ApiResult<Plan> {
        let pool = state.ctx.db.pool();
        let mut plan = Plan {
            keys: vec![String::new()],
            row: "1 = 1".into(),
            binds: Vec::new(),
        };
        // Conditions on one of the profile's competencies, checked when the row's key cannot
        // answer for them (words beside a code, an issuer).
        let mut competency = Vec::new();
        let mut exact = false;
        let words: Vec<String> = match text("q", &q.q)? {
            None => Vec::new(),
            Some(words) => fold(&words)
                .split_whitespace()
                .map(|w| {
                    w.chars()
                        .filter(|c| !matches!(c, '%' | '_' | '\\'))
                        .collect::<String>()
                })
                .filter(|w| !w.is_empty())
                .take(5)
                .map(|w| format!("%{}%", stem(&w)))
                .collect(),
        };
        if let Some(code) = text("competency", &q.competency)? {
            // Its own code, and the codes seen with it as a framework code.
            let seen: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT code FROM framework_codes WHERE framework_code = $1 ORDER BY code LIMIT {MAX_KEYS}"
            ))
            .bind(&code)
            .fetch_all(pool)
            .await?;
            if seen.len() < MAX_KEYS {
                plan.keys = std::iter::once(code)
                    .chain(seen.into_iter().map(|(c,)| c))
                    .map(|c| format!("c:{c}"))
                    .collect();
                plan.keys.sort();
                plan.keys.dedup();
            } else {
                // Too many codes to read each one's index: check each profile instead.
                let n = plan.bind(Bind::Text(code));
                competency.push(format!(
                    "(c.code = {n} OR c.code IN (SELECT f.code FROM framework_codes f WHERE f.framework_code = {n}))"
                ));
                exact = true;
            }
            for word in &words {
                let n = plan.bind(Bind::Text(word.clone()));
                competency.push(format!("c.name_folded LIKE {n}"));
                exact = true;
            }
        } else if !words.is_empty() {
            // The few codes whose names hold every word, from the table of distinct names.
            let mut sql = "SELECT DISTINCT code FROM competency_names WHERE 1 = 1".to_owned();
            for i in 1..=words.len() {
                sql += &format!(" AND name_folded LIKE ${i}");
            }
            sql += &format!(" ORDER BY code LIMIT {}", MAX_KEYS + 1);
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for word in &words {
                query = query.bind(word.clone());
            }
            let codes = query.fetch_all(pool).await?;
            if codes.len() <= MAX_KEYS {
                plan.keys = codes.into_iter().map(|(c,)| format!("c:{c}")).collect();
            } else {
                for word in &words {
                    let n = plan.bind(Bind::Text(word.clone()));
                    competency.push(format!("c.name_folded LIKE {n}"));
                    exact = true;
                }
            }
        }
        if let Some(min) = q.min_level {
            if !(0.0..=1.0).contains(&min) {
                return Err(ApiError::invalid_field("min_level", "between 0 and 1"));
            }
            let n = plan.bind(Bind::Float(min));
            plan.row += &format!(" AND s.level >= {n}");
            competency.push(format!("c.level_value >= {n}"));
        }
        if let Some(issuer) = text("issuer", &q.issuer)? {
            let n = plan.bind(Bind::Text(issuer));
            competency.push(format!("c.issuer = {n}"));
            exact = true;
        }
        if exact {
            plan.row += &format!(
                " AND EXISTS (SELECT 1 FROM profile_competencies c WHERE c.profile_id = s.profile_id \
                 AND (s.key NOT LIKE 'c:%' OR 'c:' || c.code = s.key) AND c.status = 'valid' \
                 AND c.issuer IN (SELECT issuer FROM trusted_issuers) AND {})",
                competency.join(" AND ")
            );
        }
        if let Some(situation) = declared::<Situation>(
            "situation",
            &q.situation,
            "in_training, seeking or employed",
        )? {
            let n = plan.bind(Bind::Text(situation));
            plan.row += &format!(" AND s.situation = {n}");
        }
        if let Some(region) = text("region", &q.region)? {
            if !REGIONS.iter().any(|(code, _)| *code == region) {
                return Err(ApiError::invalid_field("region", "an INSEE region code"));
            }
            // Through its own key, unless a competency narrows the search further.
            if plan.keys == [""] {
                plan.keys = vec![format!("r:{region}")];
            } else {
                let n = plan.bind(Bind::Text(format!("%,{region},%")));
                plan.row += &format!(" AND s.regions LIKE {n}");
            }
        }
        if let Some(contract) = declared::<Contract>(
            "contract",
            &q.contract,
            "cdi, cdd, interim, alternance, stage or freelance",
        )? {
            let n = plan.bind(Bind::Text(format!("%,{contract},%")));
            plan.row += &format!(" AND s.contracts LIKE {n}");
        }
        if let Some(date) = text("available_by", &q.available_by)? {
            carnet_service::clock::check_date("available_by", &date)?;
            let n = plan.bind(Bind::Text(date));
            plan.row += &format!(" AND (s.available_from IS NULL OR s.available_from <= {n})");
        }
        Ok(plan)
    }

    /// The keys as a list of bound parameters.
    fn key_list(&mut self) -> String {
        let keys = std::mem::take(&mut self.keys);
        let list: Vec<String> = keys
            .iter()
            .map(|k| self.bind(Bind::Text(k.clone())))
            .collect();
        self.keys = keys;
        list.join(", ")
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
    // The order within one key's index, and over the rows of every key, a profile once.
    let (inner, outer) = match q.sort.as_deref().unwrap_or("name") {
        "name" => ("s.name, s.profile_id", "sort_name, profile_id"),
        "recent" => (
            "s.updated_at DESC, s.profile_id DESC",
            "sort_updated DESC, profile_id DESC",
        ),
        "level" => (
            "s.level DESC, s.name, s.profile_id",
            "sort_level DESC, sort_name, profile_id",
        ),
        _ => return Err(ApiError::invalid_field("sort", "name, recent or level")),
    };
    let mut plan = Plan::new(&state, &q).await?;
    let pool = state.ctx.db.pool();
    // Each key's first rows in the order asked, read off its index; a profile under several
    // keys is among the first of at least one of them.
    let mut page = plan.clone();
    let ranges: Vec<String> = plan
        .keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let n = page.bind(Bind::Text(key.clone()));
            format!(
                "SELECT * FROM (SELECT s.profile_id, s.name, s.situation, s.available_from, s.updated_at, s.level \
                 FROM search_index s WHERE s.key = {n} AND {} ORDER BY {inner} LIMIT {}) k{i}",
                plan.row,
                offset + limit + 1
            )
        })
        .collect();
    let sql = format!(
        "SELECT profile_id, MIN(name) AS sort_name, MIN(situation), MIN(available_from), MAX(updated_at) AS sort_updated, MAX(level) AS sort_level \
         FROM ({}) u GROUP BY profile_id ORDER BY {outer} LIMIT {} OFFSET {offset}",
        ranges.join(" UNION ALL "),
        limit + 1
    );
    type PageRow = (String, String, Option<String>, Option<String>, i64, f64);
    // No key (words no competency name holds): nothing matches.
    let mut rows: Vec<PageRow> = if ranges.is_empty() {
        Vec::new()
    } else {
        page.query(&sql).fetch_all(pool).await?
    };
    let next_cursor = (rows.len() as i64 > limit && offset + limit <= MAX_OFFSET)
        .then(|| (offset + limit).to_string());
    rows.truncate(limit as usize);
    let rows = rows
        .into_iter()
        .map(|(id, name, situation, available_from, updated_at, _)| {
            (id, name, situation, available_from, updated_at)
        })
        .collect();
    let items = views(&state, rows).await?;
    let (total, total_exact, facets) = facets(&state, &mut plan).await?;
    Ok(Json(SearchResult {
        total,
        total_exact,
        items,
        next_cursor,
        facets,
    }))
}

const FACETS: [&str; 5] = ["competency", "issuer", "situation", "region", "contract"];

/// The number of matching profiles and the facets, over the first [`COUNT_CAP`] matches.
async fn facets(
    state: &VerifierState,
    plan: &mut Plan,
) -> ApiResult<(i64, bool, HashMap<String, Vec<Facet>>)> {
    let pool = state.ctx.db.pool();
    let keys = plan.key_list();
    if keys.is_empty() {
        let facets = FACETS.map(|f| (f.to_owned(), Vec::new())).into();
        return Ok((0, true, facets));
    }
    // The first matches, read off the keys' indexes; counted in the database, so that only a
    // few rows come back (each row costs more to hand over than to count).
    let matched = format!(
        "SELECT s.profile_id FROM search_index s WHERE s.key IN ({keys}) AND {} LIMIT {COUNT_CAP}",
        plan.row
    );
    let (rows, total): (i64, i64) = plan
        .query(&format!(
            "SELECT COUNT(*), COUNT(DISTINCT m.profile_id) FROM ({matched}) m"
        ))
        .fetch_one(pool)
        .await?;
    let mut counts: HashMap<&str, HashMap<String, i64>> = HashMap::new();
    let mut count = |facet: &'static str, value: &str, n: i64| {
        *counts
            .entry(facet)
            .or_default()
            .entry(value.to_owned())
            .or_default() += n;
    };
    if total > 0 {
        // The profiles' declared values, one row per distinct combination.
        type Row = (Option<String>, String, String, Option<String>, i64);
        let rows: Vec<Row> = plan
            .query(&format!(
                "SELECT a.situation, a.regions, a.contracts, a.issuers, COUNT(*) FROM search_index a \
                 WHERE a.key = '' AND a.profile_id IN ({matched}) GROUP BY a.situation, a.regions, a.contracts, a.issuers"
            ))
            .fetch_all(pool)
            .await?;
        for (situation, regions, contracts, issuers, n) in &rows {
            if let Some(situation) = situation {
                count("situation", situation, *n);
            }
            for (facet, list) in [("region", regions), ("contract", contracts)] {
                for value in list.split(',').filter(|v| !v.is_empty()) {
                    count(facet, value, *n);
                }
            }
            for issuer in issuers.iter().flat_map(|i| i.split(' ')) {
                count("issuer", issuer, *n);
            }
        }
        // The competencies they hold: their `c:` keys.
        let rows: Vec<(String, i64)> = plan
            .query(&format!(
                "SELECT a.key, COUNT(*) FROM search_index a WHERE a.profile_id IN ({matched}) \
                 AND a.key >= 'c:' AND a.key < 'c;' GROUP BY a.key ORDER BY 2 DESC, 1 LIMIT 30"
            ))
            .fetch_all(pool)
            .await?;
        for (key, n) in &rows {
            if let Some(code) = key.strip_prefix("c:") {
                count("competency", code, *n);
            }
        }
    }
    let exact = rows < COUNT_CAP;
    let names = state.trust.snapshot(state).await?;
    let mut facets = HashMap::new();
    for facet in FACETS {
        let mut values: Vec<(String, i64)> = counts
            .remove(facet)
            .unwrap_or_default()
            .into_iter()
            .collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values.truncate(30);
        let labels: HashMap<String, String> = match facet {
            "issuer" => names.names.clone(),
            "competency" if !values.is_empty() => {
                let list: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT code, MIN(name) FROM competency_names WHERE code IN ({}) GROUP BY code",
                    list.join(", ")
                );
                let mut query = sqlx::query_as::<_, (String, Option<String>)>(&sql);
                for (code, _) in &values {
                    query = query.bind(code.clone());
                }
                query
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .filter_map(|(code, name)| Some((code, name?)))
                    .collect()
            }
            _ => HashMap::new(),
        };
        facets.insert(
            facet.to_owned(),
            values
                .into_iter()
                .map(|(value, count)| Facet {
                    label: labels.get(&value).cloned(),
                    value,
                    count,
                })
                .collect(),
        );
    }
    Ok((total, exact, facets))
}

/// Profile ids matching a search, all of them up to `max` (for an offer to a whole result).
pub async fn matching_ids(
    state: &VerifierState,
    q: &SearchQuery,
    max: i64,
) -> ApiResult<Vec<String>> {
    let mut plan = Plan::new(state, q).await?;
    if plan.keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys = plan.key_list();
    let sql = format!(
        "SELECT DISTINCT s.profile_id FROM search_index s WHERE s.key IN ({keys}) AND {} ORDER BY s.profile_id LIMIT {max}",
        plan.row
    );
    let rows: Vec<(String,)> = plan.query(&sql).fetch_all(state.ctx.db.pool()).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// What a search's index derives from for some profiles.
pub enum Scope<'a> {
    Profile(&'a str),
    /// The profiles holding a competency from this issuer (whose trust changed).
    Issuer(&'a str),
    All,
}

/// Rebuilds the search index of the profiles in `scope`, in the caller's transaction (the
/// same statements as migration 0103 runs over every profile).
pub async fn reindex(conn: &mut sqlx::AnyConnection, scope: Scope<'_>) -> ApiResult<()> {
    let (within, value) = match scope {
        Scope::Profile(id) => ("= $1", Some(id)),
        Scope::Issuer(issuer) => (
            "IN (SELECT profile_id FROM profile_competencies WHERE issuer = $1)",
            Some(issuer),
        ),
        Scope::All => ("IS NOT NULL", None),
    };
    let statements = [
        format!("DELETE FROM search_index WHERE profile_id {within}"),
        format!(
            "INSERT INTO search_index (profile_id, key, name, updated_at, level, situation, available_from, regions, contracts) \
             SELECT p.id, 'c:' || c.code, p.name, p.updated_at, COALESCE(MAX(c.level_value), -1), p.situation, p.available_from, \
             COALESCE((SELECT ',' || string_agg(t.value, ',') || ',' FROM profile_tags t WHERE t.profile_id = p.id AND t.kind = 'region'), ''), \
             COALESCE((SELECT ',' || string_agg(t.value, ',') || ',' FROM profile_tags t WHERE t.profile_id = p.id AND t.kind = 'contract'), '') \
             FROM profiles p JOIN profile_competencies c ON c.profile_id = p.id \
             WHERE p.id {within} AND c.status = 'valid' AND c.issuer IN (SELECT issuer FROM trusted_issuers) \
             GROUP BY p.id, c.code"
        ),
        format!(
            "INSERT INTO search_index (profile_id, key, name, updated_at, level, situation, available_from, regions, contracts, issuers) \
             SELECT s.profile_id, '', MIN(s.name), MIN(s.updated_at), MAX(s.level), MIN(s.situation), MIN(s.available_from), MIN(s.regions), MIN(s.contracts), \
             (SELECT string_agg(i.issuer, ' ') FROM (SELECT DISTINCT c.issuer FROM profile_competencies c \
              WHERE c.profile_id = s.profile_id AND c.status = 'valid' AND c.issuer IN (SELECT issuer FROM trusted_issuers)) i) \
             FROM search_index s WHERE s.profile_id {within} GROUP BY s.profile_id"
        ),
        format!(
            "INSERT INTO search_index (profile_id, key, name, updated_at, level, situation, available_from, regions, contracts) \
             SELECT s.profile_id, 'r:' || t.value, s.name, s.updated_at, s.level, s.situation, s.available_from, s.regions, s.contracts \
             FROM search_index s JOIN profile_tags t ON t.profile_id = s.profile_id AND t.kind = 'region' \
             WHERE s.key = '' AND s.profile_id {within}"
        ),
    ];
    for sql in statements {
        let mut query = sqlx::query(&sql);
        if let Some(value) = value {
            query = query.bind(value);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
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

/// A French word (folded) without its ending, so that a search for "soudure", "soudeur" or
/// "soudage" finds "Souder à l'arc": the longest common ending is cut, keeping 4 letters.
fn stem(word: &str) -> &str {
    const ENDINGS: [&str; 19] = [
        "ements", "ations", "ement", "ation", "euses", "euse", "eurs", "ures", "ages", "ions",
        "eur", "ure", "age", "ion", "ers", "er", "es", "e", "s",
    ];
    ENDINGS
        .iter()
        .filter_map(|e| word.strip_suffix(e))
        .find(|stem| stem.chars().count() >= 4)
        .unwrap_or(word)
}

#[cfg(test)]
mod stem_tests {
    #[test]
    fn words_lose_their_endings() {
        for (word, stem) in [
            ("soudure", "soud"),
            ("soudeur", "soud"),
            ("soudeuses", "soud"),
            ("soudage", "soud"),
            ("souder", "soud"),
            ("electricite", "electricit"),
            ("developpement", "developp"),
            ("tig", "tig"),
            ("base", "base"),
            ("plans", "plan"),
        ] {
            assert_eq!(super::stem(word), stem, "{word}");
        }
    }
}

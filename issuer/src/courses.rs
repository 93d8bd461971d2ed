//! Courses (modules, chapters) with their resources — Markdown text, files (PDF, images, text;
//! type checked against the content, size-limited, kept in the file store) and links — and
//! formations grouping courses in order. A resource is shared by attaching it to several
//! courses, or duplicated into an independent copy. Courses, formations and resources are
//! changed and archived (kept where they are used, offered no more), a resource detached from
//! a course. Staff write, audited with before and after; every member reads.

use crate::catalog::text;
use crate::sessions::SessionReader;
use crate::{IssuerState, Organisations};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::files::sniff;
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::tenants::{Member, Staff};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(create_course, list_courses))
        .routes(routes!(update_course))
        .routes(routes!(create_resource, list_resources))
        .routes(routes!(update_resource))
        .routes(routes!(detach_resource))
        .routes(routes!(update_formation))
        .routes(routes!(upload_resource).layer(DefaultBodyLimit::max(20 * 1024 * 1024)))
        .routes(routes!(resource_content))
        .routes(routes!(copy_resource))
        .routes(routes!(attach_resource, course_resources))
        .routes(routes!(create_formation, list_formations))
        .routes(routes!(set_formation_courses))
        .routes(routes!(session_resources))
        .routes(routes!(set_course_competencies, course_competencies))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Course {
    pub id: String,
    pub title: String,
    pub description: String,
    /// When it was archived (offered no more; kept where it is used).
    pub archived_at: Option<i64>,
}

/// A change of a course or a formation: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitledChange {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Archive (`true`) or bring back (`false`).
    pub archived: Option<bool>,
}

fn optional_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        text(field, value, max)
    }
}

fn path_id(id: &str) -> ApiResult<&str> {
    if looks_like_id(id) {
        Ok(id)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Courses and formations: a title and a description in an organisation.
#[derive(Clone, Copy)]
enum Titled {
    Course,
    Formation,
}

/// Inserts a course or a formation with its audit row.
async fn insert_titled(
    ctx: &Ctx,
    access: &carnet_service::tenants::Access<Organisations>,
    what: Titled,
    input: &NewCourse,
) -> ApiResult<Course> {
    let (prefix, table, action) = match what {
        Titled::Course => ("crs", "courses", "course.created"),
        Titled::Formation => ("frm", "formations", "formation.created"),
    };
    let row = Course {
        id: format!("{prefix}_{}", random_token(16)),
        title: text("title", &input.title, 200)?,
        description: optional_text("description", &input.description, 4000)?,
        archived_at: None,
    };
    let now = ctx.now_ms();
    let org = &access.tenant.id;
    let mut tx = ctx.db.begin().await?;
    sqlx::query(&format!("INSERT INTO {table} (id, organisation_id, title, description, created_at) VALUES ($1, $2, $3, $4, $5)"))
        .bind(&row.id)
        .bind(org)
        .bind(&row.title)
        .bind(&row.description)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        action,
        Some(&row.id),
        Some(org),
        json!({ "title": row.title }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Changes a course or a formation with its audit row (before and after).
async fn update_titled(
    ctx: &Ctx,
    access: &carnet_service::tenants::Access<Organisations>,
    what: Titled,
    id: &str,
    change: TitledChange,
) -> ApiResult<Course> {
    let (table, action) = match what {
        Titled::Course => ("courses", "course.updated"),
        Titled::Formation => ("formations", "formation.updated"),
    };
    let id = path_id(id)?;
    let org = &access.tenant.id;
    let before: Course = sqlx::query_as(&format!(
        "SELECT id, title, description, archived_at FROM {table} WHERE id = $1 AND organisation_id = $2"
    ))
    .bind(id)
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let now = ctx.now_ms();
    let after = Course {
        id: before.id.clone(),
        title: match &change.title {
            Some(t) => text("title", t, 200)?,
            None => before.title.clone(),
        },
        description: match &change.description {
            Some(d) => optional_text("description", d, 4000)?,
            None => before.description.clone(),
        },
        archived_at: crate::catalog::archived_at(change.archived, before.archived_at, now),
    };
    let mut tx = ctx.db.begin().await?;
    sqlx::query(&format!(
        "UPDATE {table} SET title = $1, description = $2, archived_at = $3 WHERE id = $4 AND organisation_id = $5"
    ))
    .bind(&after.title)
    .bind(&after.description)
    .bind(after.archived_at)
    .bind(id)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        action,
        Some(id),
        Some(org),
        json!({ "before": before, "after": after }),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Changes or archives a course; organisation staff.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/courses/{cid}", tag = "courses", request_body = TitledChange,
    params(("id" = String, Path), ("cid" = String, Path)),
    responses((status = 200, body = Course), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_course(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<TitledChange>,
) -> ApiResult<Json<Course>> {
    let course = update_titled(&ctx, &access, Titled::Course, &path.1, input).await?;
    Ok(Json(course))
}

/// Changes or archives a formation; organisation staff. Its sessions keep it.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/formations/{fid}", tag = "courses", request_body = TitledChange,
    params(("id" = String, Path), ("fid" = String, Path)),
    responses((status = 200, body = Course), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_formation(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<TitledChange>,
) -> ApiResult<Json<Course>> {
    let formation = update_titled(&ctx, &access, Titled::Formation, &path.1, input).await?;
    Ok(Json(formation))
}

/// Creates a course; organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/courses", tag = "courses", request_body = NewCourse,
    params(("id" = String, Path)), responses((status = 201, body = Course), (status = 403, body = Problem)))]
async fn create_course(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Json(input): Json<NewCourse>,
) -> ApiResult<(StatusCode, Json<Course>)> {
    let course = insert_titled(&ctx, &access, Titled::Course, &input).await?;
    Ok((StatusCode::CREATED, Json(course)))
}

/// The organisation's courses.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/courses", tag = "courses",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Course>)))]
async fn list_courses(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<Course>>> {
    let rows = sqlx::query_as("SELECT id, title, description, archived_at FROM courses WHERE organisation_id = $1 ORDER BY title LIMIT 5000")
        .bind(&access.tenant.id)
        .fetch_all(ctx.db.pool())
        .await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    pub title: String,
    /// `text` (Markdown in `body`) or `link` (`url`). Files are uploaded to `…/resources/files`.
    pub kind: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Resource {
    pub id: String,
    /// `text`, `link` or `file`.
    pub kind: String,
    pub title: String,
    pub body: Option<String>,
    pub url: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<i64>,
    /// When it was archived (offered no more; kept in the courses it is in).
    pub archived_at: Option<i64>,
}

const RESOURCE_COLUMNS: &str =
    "r.id, r.kind, r.title, r.body, r.url, r.media_type, r.size, r.archived_at";

async fn insert_resource(
    ctx: &Ctx,
    access: &carnet_service::tenants::Access<Organisations>,
    r: &Resource,
    file_key: Option<&str>,
    action: &str,
) -> ApiResult<()> {
    let now = ctx.now_ms();
    let org = &access.tenant.id;
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO resources (id, organisation_id, kind, title, body, url, file_key, media_type, size, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&r.id)
    .bind(org)
    .bind(&r.kind)
    .bind(&r.title)
    .bind(&r.body)
    .bind(&r.url)
    .bind(file_key)
    .bind(&r.media_type)
    .bind(r.size)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        action,
        Some(&r.id),
        Some(org),
        json!({ "kind": r.kind, "title": r.title }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a text or link resource; organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/resources", tag = "courses", request_body = NewResource,
    params(("id" = String, Path)), responses((status = 201, body = Resource), (status = 422, body = Problem)))]
async fn create_resource(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Json(input): Json<NewResource>,
) -> ApiResult<(StatusCode, Json<Resource>)> {
    let title = text("title", &input.title, 200)?;
    let (body, url) = resource_content_of(&input.kind, &input.body, &input.url)?;
    let r = Resource {
        id: format!("res_{}", random_token(16)),
        kind: input.kind,
        title,
        body,
        url,
        media_type: None,
        size: None,
        archived_at: None,
    };
    insert_resource(&ctx, &access, &r, None, "resource.created").await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The body and address of a text (Markdown body, no address) or link (an http(s) address, no
/// body) resource.
fn resource_content_of(
    kind: &str,
    body: &Option<String>,
    url: &Option<String>,
) -> ApiResult<(Option<String>, Option<String>)> {
    Ok(match (kind, body, url) {
        ("text", Some(body), None) => (Some(text("body", body, 200_000)?), None),
        ("link", None, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => {
            (None, Some(text("url", url, 2000)?))
        }
        ("link", _, _) => {
            return Err(ApiError::invalid_field(
                "url",
                "a link resource has an http(s) `url` and no `body`",
            ));
        }
        ("text", _, _) => {
            return Err(ApiError::invalid_field(
                "body",
                "a text resource has a Markdown `body` and no `url`",
            ));
        }
        _ => {
            return Err(ApiError::invalid_field(
                "kind",
                "text or link (files are uploaded to …/resources/files)",
            ));
        }
    })
}

/// A change of a resource: only the fields given change (a text's body, a link's address).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceChange {
    pub title: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    /// Archive (`true`) or bring back (`false`).
    pub archived: Option<bool>,
}

/// Changes or archives a resource, wherever it is shared; organisation staff.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/resources/{rid}", tag = "courses", request_body = ResourceChange,
    params(("id" = String, Path), ("rid" = String, Path)),
    responses((status = 200, body = Resource), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_resource(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<ResourceChange>,
) -> ApiResult<Json<Resource>> {
    let rid = path_id(&path.1)?;
    let org = &access.tenant.id;
    let before: Resource = sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE r.id = $1 AND r.organisation_id = $2"
    ))
    .bind(rid)
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let (body, url) = match (before.kind.as_str(), &input.body, &input.url) {
        ("file", None, None) => (None, None),
        ("file", _, _) => {
            return Err(ApiError::invalid_field(
                "body",
                "a file is replaced by uploading another",
            ));
        }
        (kind, body, url) => resource_content_of(
            kind,
            &body.clone().or(before.body.clone()),
            &url.clone().or(before.url.clone()),
        )?,
    };
    let now = ctx.now_ms();
    let after = Resource {
        title: match &input.title {
            Some(t) => text("title", t, 200)?,
            None => before.title.clone(),
        },
        body,
        url,
        archived_at: crate::catalog::archived_at(input.archived, before.archived_at, now),
        id: before.id.clone(),
        kind: before.kind.clone(),
        media_type: before.media_type.clone(),
        size: before.size,
    };
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE resources SET title = $1, body = $2, url = $3, archived_at = $4 WHERE id = $5 AND organisation_id = $6",
    )
    .bind(&after.title)
    .bind(&after.body)
    .bind(&after.url)
    .bind(after.archived_at)
    .bind(rid)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "resource.updated",
        Some(rid),
        Some(org),
        json!({ "before": before, "after": after }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

/// Takes a resource out of a course (it stays in the organisation and its other courses).
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/courses/{cid}/resources/{rid}", tag = "courses",
    params(("id" = String, Path), ("cid" = String, Path), ("rid" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn detach_resource(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (cid, rid) = (path_id(&path.1)?, path_id(&path.2)?);
    let org = &access.tenant.id;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let removed = sqlx::query(
        "DELETE FROM course_resources WHERE course_id = $1 AND resource_id = $2 \
         AND course_id IN (SELECT id FROM courses WHERE organisation_id = $3)",
    )
    .bind(cid)
    .bind(rid)
    .bind(org)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "course.resource_detached",
        Some(cid),
        Some(org),
        json!({ "resource": rid }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    title: String,
}

/// Uploads a file resource (PDF, PNG, JPEG, plain text or Markdown; at most 20 MiB), the body
/// being the file and `Content-Type` its type; organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/resources/files", tag = "courses",
    params(("id" = String, Path), UploadQuery), request_body(content = Vec<u8>, description = "the file"),
    responses((status = 201, body = Resource), (status = 415, body = Problem), (status = 413, body = Problem)))]
async fn upload_resource(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Resource>)> {
    let title = text("title", &q.title, 200)?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if body.is_empty() {
        return Err(ApiError::invalid("the file is empty"));
    }
    let media_type = sniff(declared, &body).ok_or(ApiError::UnsupportedMediaType(
        "application/pdf, image/png, image/jpeg, text/plain or text/markdown, matching the content",
    ))?;
    let key = ctx.files.put(&body).await.map_err(ApiError::internal)?;
    let r = Resource {
        id: format!("res_{}", random_token(16)),
        kind: "file".into(),
        title,
        body: None,
        url: None,
        media_type: Some(media_type.to_owned()),
        size: Some(body.len() as i64),
        archived_at: None,
    };
    insert_resource(&ctx, &access, &r, Some(&key), "resource.uploaded").await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The organisation's resources.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/resources", tag = "courses",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Resource>)))]
async fn list_resources(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<Resource>>> {
    let rows = sqlx::query_as(&format!("SELECT {RESOURCE_COLUMNS} FROM resources r WHERE r.organisation_id = $1 ORDER BY r.title LIMIT 10000"))
        .bind(&access.tenant.id)
        .fetch_all(ctx.db.pool())
        .await?;
    Ok(Json(rows))
}

/// A file resource's content, for the organisation's members.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/resources/{rid}/content", tag = "courses",
    params(("id" = String, Path), ("rid" = String, Path)), responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
async fn resource_content(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<Response> {
    let rid = path_id(&path.1)?;
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT title, file_key, media_type FROM resources WHERE id = $1 AND organisation_id = $2 AND kind = 'file'",
    )
    .bind(rid)
    .bind(&access.tenant.id)
    .fetch_optional(ctx.db.pool())
    .await?;
    let (title, key, media_type) = row.ok_or(ApiError::NotFound)?;
    let bytes = ctx.files.get(&key).await.map_err(ApiError::internal)?;
    let filename: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Duplicates a resource into an independent copy (the original stays shared where it is).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/resources/{rid}/copy", tag = "courses",
    params(("id" = String, Path), ("rid" = String, Path)), responses((status = 201, body = Resource), (status = 404, body = Problem)))]
async fn copy_resource(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Resource>)> {
    let rid = path_id(&path.1)?;
    #[derive(sqlx::FromRow)]
    struct Stored {
        #[sqlx(flatten)]
        resource: Resource,
        file_key: Option<String>,
    }
    let stored: Stored = sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS}, r.file_key FROM resources r WHERE r.id = $1 AND r.organisation_id = $2"
    ))
    .bind(rid)
    .bind(&access.tenant.id)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let (original, key) = (stored.resource, stored.file_key);
    let copy = Resource {
        id: format!("res_{}", random_token(16)),
        title: format!("{} (copie)", original.title),
        archived_at: None,
        ..original
    };
    insert_resource(&ctx, &access, &copy, key.as_deref(), "resource.copied").await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub resource_id: String,
}

/// Attaches one of the organisation's resources to a course (sharing it); organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/courses/{cid}/resources", tag = "courses", request_body = Attachment,
    params(("id" = String, Path), ("cid" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn attach_resource(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<Attachment>,
) -> ApiResult<StatusCode> {
    let cid = path_id(&path.1)?;
    let org = &access.tenant.id;
    let both: Option<(i64,)> = sqlx::query_as(
        "SELECT COUNT(*) FROM courses c JOIN resources r ON r.organisation_id = c.organisation_id \
         WHERE c.id = $1 AND r.id = $2 AND c.organisation_id = $3",
    )
    .bind(cid)
    .bind(&input.resource_id)
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await?;
    if both.is_none_or(|(n,)| n == 0) {
        return Err(ApiError::NotFound);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO course_resources (course_id, resource_id, position) \
         VALUES ($1, $2, (SELECT COUNT(*) FROM course_resources WHERE course_id = $1)) ON CONFLICT DO NOTHING",
    )
    .bind(cid)
    .bind(&input.resource_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict(
            "the resource is already in this course".into(),
        ));
    }
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "course.resource_attached",
        Some(cid),
        Some(org),
        json!({ "resource": input.resource_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A course's resources, in order.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/courses/{cid}/resources", tag = "courses",
    params(("id" = String, Path), ("cid" = String, Path)), responses((status = 200, body = Vec<Resource>)))]
async fn course_resources(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<Vec<Resource>>> {
    let cid = path_id(&path.1)?;
    let rows = sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM course_resources cr JOIN resources r ON r.id = cr.resource_id \
         WHERE cr.course_id = $1 AND r.organisation_id = $2 ORDER BY cr.position LIMIT 1000"
    ))
    .bind(cid)
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Formation {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Its courses, in order.
    pub course_ids: Vec<String>,
    /// When it was archived (no new session of it; its sessions keep it).
    pub archived_at: Option<i64>,
}

/// Creates a formation (its courses are set with PUT …/courses); organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/formations", tag = "courses", request_body = NewCourse,
    params(("id" = String, Path)), responses((status = 201, body = Formation)))]
async fn create_formation(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Json(input): Json<NewCourse>,
) -> ApiResult<(StatusCode, Json<Formation>)> {
    let created = insert_titled(&ctx, &access, Titled::Formation, &input).await?;
    let f = Formation {
        id: created.id,
        title: created.title,
        description: created.description,
        course_ids: Vec::new(),
        archived_at: None,
    };
    Ok((StatusCode::CREATED, Json(f)))
}

/// The organisation's formations with their courses.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/formations", tag = "courses",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Formation>)))]
async fn list_formations(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<Formation>>> {
    let rows: Vec<(String, String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, title, description, archived_at FROM formations WHERE organisation_id = $1 ORDER BY title LIMIT 1000")
            .bind(&access.tenant.id)
            .fetch_all(ctx.db.pool())
            .await?;
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT fc.formation_id, fc.course_id FROM formation_courses fc JOIN formations f ON f.id = fc.formation_id \
         WHERE f.organisation_id = $1 ORDER BY fc.position",
    )
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, title, description, archived_at)| {
                let course_ids = links
                    .iter()
                    .filter(|(f, _)| *f == id)
                    .map(|(_, c)| c.clone())
                    .collect();
                Formation {
                    id,
                    title,
                    description,
                    course_ids,
                    archived_at,
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormationCourses {
    /// The formation's courses, in order (a course may be in several formations).
    pub course_ids: Vec<String>,
}

/// A list of ids linked to an owner: a formation's courses (in order), a course's competencies.
struct Links {
    owner_table: &'static str,
    link_table: &'static str,
    owner_column: &'static str,
    item_table: &'static str,
    item_column: &'static str,
    /// The request field, for errors.
    field: &'static str,
    /// Whether the link table keeps the given order (`position`).
    ordered: bool,
    action: &'static str,
}

/// Replaces the owner's linked items, each of which must belong to the organisation, with
/// its audit row, in one transaction.
async fn replace_links(
    ctx: &Ctx,
    access: &carnet_service::tenants::Access<Organisations>,
    links: &Links,
    owner: &str,
    items: &[String],
) -> ApiResult<()> {
    let org = &access.tenant.id;
    if items.len() > 500 {
        return Err(ApiError::invalid_field(links.field, "at most 500"));
    }
    let found: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT id FROM {} WHERE id = $1 AND organisation_id = $2",
        links.owner_table
    ))
    .bind(owner)
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await?;
    found.ok_or(ApiError::NotFound)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(&format!(
        "DELETE FROM {} WHERE {} = $1",
        links.link_table, links.owner_column
    ))
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    let (columns, values) = if links.ordered {
        (", position", ", $3")
    } else {
        ("", "")
    };
    let insert = format!(
        "INSERT INTO {} ({}, {}{columns}) VALUES ($1, $2{values}) ON CONFLICT DO NOTHING",
        links.link_table, links.owner_column, links.item_column
    );
    let known = format!(
        "SELECT id FROM {} WHERE id = $1 AND organisation_id = $2",
        links.item_table
    );
    for (position, item) in items.iter().enumerate() {
        let found: Option<(String,)> = sqlx::query_as(&known)
            .bind(item)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(ApiError::invalid_field(
                links.field,
                format!("{item} is not in this organisation"),
            ));
        }
        let query = sqlx::query(&insert).bind(owner).bind(item);
        let query = if links.ordered {
            query.bind(position as i64)
        } else {
            query
        };
        query.execute(&mut *tx).await?;
    }
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        links.action,
        Some(owner),
        Some(org),
        json!({ links.field: items }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a formation's courses and their order; organisation staff.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/formations/{fid}/courses", tag = "courses", request_body = FormationCourses,
    params(("id" = String, Path), ("fid" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_formation_courses(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<FormationCourses>,
) -> ApiResult<StatusCode> {
    let links = Links {
        owner_table: "formations",
        link_table: "formation_courses",
        owner_column: "formation_id",
        item_table: "courses",
        item_column: "course_id",
        field: "course_ids",
        ordered: true,
        action: "formation.courses_set",
    };
    replace_links(&ctx, &access, &links, path_id(&path.1)?, &input.course_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourseWithResources {
    pub course: Course,
    pub resources: Vec<Resource>,
}

/// The courses of a session's formation with their resources, for the session's members and
/// the organisation's administrators and managers.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/resources", tag = "courses",
    params(("id" = String, Path), ("sid" = String, Path)), responses((status = 200, body = Vec<CourseWithResources>), (status = 404, body = Problem)))]
async fn session_resources(
    State(ctx): State<Ctx>,
    SessionReader(access): SessionReader,
) -> ApiResult<Json<Vec<CourseWithResources>>> {
    let Some(formation) = access.session.formation_id else {
        return Ok(Json(Vec::new()));
    };
    let courses: Vec<Course> = sqlx::query_as(
        "SELECT c.id, c.title, c.description, c.archived_at FROM formation_courses fc JOIN courses c ON c.id = fc.course_id \
         WHERE fc.formation_id = $1 ORDER BY fc.position",
    )
    .bind(&formation)
    .fetch_all(ctx.db.pool())
    .await?;
    let mut out = Vec::with_capacity(courses.len());
    for course in courses {
        let resources = sqlx::query_as(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM course_resources cr JOIN resources r ON r.id = cr.resource_id \
             WHERE cr.course_id = $1 ORDER BY cr.position LIMIT 1000"
        ))
        .bind(&course.id)
        .fetch_all(ctx.db.pool())
        .await?;
        out.push(CourseWithResources { course, resources });
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseCompetencies {
    pub competency_ids: Vec<String>,
}

/// Sets the competencies a course works on (a formation's are those of its courses);
/// organisation staff.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/courses/{cid}/competencies", tag = "courses", request_body = CourseCompetencies,
    params(("id" = String, Path), ("cid" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_course_competencies(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<CourseCompetencies>,
) -> ApiResult<StatusCode> {
    let links = Links {
        owner_table: "courses",
        link_table: "course_competencies",
        owner_column: "course_id",
        item_table: "competencies",
        item_column: "competency_id",
        field: "competency_ids",
        ordered: false,
        action: "course.competencies_set",
    };
    replace_links(
        &ctx,
        &access,
        &links,
        path_id(&path.1)?,
        &input.competency_ids,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The competencies a course works on.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/courses/{cid}/competencies", tag = "courses",
    params(("id" = String, Path), ("cid" = String, Path)), responses((status = 200, body = Vec<String>)))]
async fn course_competencies(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<Vec<String>>> {
    let cid = path_id(&path.1)?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT cc.competency_id FROM course_competencies cc JOIN courses c ON c.id = cc.course_id \
         WHERE cc.course_id = $1 AND c.organisation_id = $2 ORDER BY cc.competency_id",
    )
    .bind(cid)
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(rows.into_iter().map(|(c,)| c).collect()))
}

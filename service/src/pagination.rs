//! Cursor pagination: `?limit=…&cursor=…` in, `{items, next_cursor}` out. A cursor is the
//! opaque encoding of the last item's sort key, so pages stay stable while rows are added.

use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page (1–200, default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A position in a list ordered by a number (a time) then an id, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT as i64),
            Some(n @ 1..=MAX_LIMIT) => Ok(n as i64),
            Some(_) => Err(ApiError::invalid_field(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        let Some(text) = &self.cursor else {
            return Ok(None);
        };
        let bad = || ApiError::BadRequest {
            kind: "invalid-cursor",
            detail: "the cursor is not one this API produced".into(),
        };
        let bytes = carnet_core::b64::decode(text).ok_or_else(bad)?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once(':').ok_or_else(bad)?;
        Ok(Some(Cursor {
            at: at.parse().map_err(|_| bad())?,
            id: id.to_owned(),
        }))
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        carnet_core::b64::encode(format!("{}:{}", self.at, self.id))
    }
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says there is a next page.
pub fn page<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|last| key(last).encode())
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

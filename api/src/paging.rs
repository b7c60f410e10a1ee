//! Keyset pagination (no OFFSET): every list is newest first, ordered by a
//! timestamp (optional) and then by the time-ordered UUID v7 id.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// Default page size.
pub const DEFAULT_PAGE: u64 = 20;
/// Largest page size.
pub const MAX_PAGE: u64 = 100;

/// Relay arguments as the client sent them.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    /// Items after this cursor (older).
    pub after: Option<String>,
    /// Items before this cursor (newer).
    pub before: Option<String>,
    /// Page size from the start.
    pub first: Option<i32>,
    /// Page size from the end.
    pub last: Option<i32>,
}

/// A position in a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The timestamp key, for lists ordered by time.
    pub at: Option<DateTime<Utc>>,
    /// The id key.
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text sent to clients.
    pub fn encode(&self) -> String {
        let at = self
            .at
            .map(|t| t.timestamp_micros().to_string())
            .unwrap_or_default();
        URL_SAFE_NO_PAD.encode(format!("{at}|{}", self.id.simple()))
    }

    /// Reads a cursor text; `None` when malformed.
    pub fn decode(s: &str) -> Option<Cursor> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s.as_bytes()).ok()?).ok()?;
        let (at, id) = text.split_once('|')?;
        let at = if at.is_empty() {
            None
        } else {
            Some(DateTime::<Utc>::from_timestamp_micros(at.parse().ok()?)?)
        };
        Some(Cursor {
            at,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// The key columns of a list.
pub struct Keys<C> {
    /// Timestamp column, if the list is ordered by time first.
    pub at: Option<C>,
    /// Id column.
    pub id: C,
}

/// One page, with its cursors.
pub struct Page<M> {
    /// The rows with their cursors, newest first.
    pub items: Vec<(Cursor, M)>,
    /// Whether there are newer rows.
    pub has_previous: bool,
    /// Whether there are older rows.
    pub has_next: bool,
    /// Rows in the whole list, when asked for.
    pub total: Option<u64>,
}

fn bad(msg: &str) -> ApiError {
    ApiError::BadInput(msg.to_string())
}

fn parse_cursor(c: &Option<String>, name: &str) -> ApiResult<Option<Cursor>> {
    c.as_deref()
        .map(|s| Cursor::decode(s).ok_or_else(|| bad(&format!("`{name}` is not a valid cursor"))))
        .transpose()
}

fn size(n: Option<i32>, name: &str) -> ApiResult<Option<u64>> {
    match n {
        None => Ok(None),
        Some(n) if n < 0 => Err(bad(&format!("`{name}` must not be negative"))),
        Some(n) if n as u64 > MAX_PAGE => Err(bad(&format!("`{name}` must be at most {MAX_PAGE}"))),
        Some(n) => Ok(Some(n as u64)),
    }
}

/// Rows strictly older (`older = true`) or newer than the cursor.
fn beyond<C: ColumnTrait>(keys: &Keys<C>, c: &Cursor, older: bool) -> Condition {
    let id_cmp = |col: C| if older { col.lt(c.id) } else { col.gt(c.id) };
    match (keys.at, c.at) {
        (Some(at), Some(t)) => {
            let at_cmp = if older { at.lt(t) } else { at.gt(t) };
            Condition::any()
                .add(at_cmp)
                .add(Condition::all().add(at.eq(t)).add(id_cmp(keys.id)))
        }
        _ => Condition::all().add(id_cmp(keys.id)),
    }
}

/// Fetches one page of `select` (already filtered to the actor's scope).
pub async fn fetch<E, C>(
    db: &C,
    select: Select<E>,
    keys: Keys<E::Column>,
    args: &PageArgs,
    key_of: impl Fn(&E::Model) -> Cursor,
    want_total: bool,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    fetch_with(db, select, keys, args, key_of, want_total, |q| q.all(db)).await
}

/// `fetch`, with the ordered, limited select run by `run`: a page whose
/// rows come with a joined row each (a log entry with its author).
pub async fn fetch_with<E, C, M, F, Fut>(
    db: &C,
    select: Select<E>,
    keys: Keys<E::Column>,
    args: &PageArgs,
    key_of: impl Fn(&M) -> Cursor,
    want_total: bool,
    run: F,
) -> ApiResult<Page<M>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
    F: FnOnce(Select<E>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<M>, sea_orm::DbErr>>,
{
    let first = size(args.first, "first")?;
    let last = size(args.last, "last")?;
    if first.is_some() && last.is_some() {
        return Err(bad("pass `first` or `last`, not both"));
    }
    let after = parse_cursor(&args.after, "after")?;
    let before = parse_cursor(&args.before, "before")?;
    let total = if want_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let mut q = select;
    if let Some(c) = &after {
        q = q.filter(beyond(&keys, c, true));
    }
    if let Some(c) = &before {
        q = q.filter(beyond(&keys, c, false));
    }
    let backwards = last.is_some();
    let n = last.or(first).unwrap_or(DEFAULT_PAGE);
    let dir = if backwards { Order::Asc } else { Order::Desc };
    if let Some(at) = keys.at {
        q = q.order_by(at, dir.clone());
    }
    q = q.order_by(keys.id, dir).limit(n + 1);
    let mut rows = run(q).await?;
    let more = rows.len() as u64 > n;
    rows.truncate(n as usize);
    if backwards {
        rows.reverse();
    }
    let items = rows.into_iter().map(|m| (key_of(&m), m)).collect();
    let (has_previous, has_next) = if backwards {
        (more, before.is_some())
    } else {
        (after.is_some(), more)
    };
    Ok(Page {
        items,
        has_previous,
        has_next,
        total,
    })
}

/// A page of `select` ordered by its UUID v7 id alone (creation order,
/// newest first): the common case.
pub async fn by_id<E, C>(
    db: &C,
    select: Select<E>,
    id: E::Column,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    use sea_orm::{sea_query::ValueType, ModelTrait};
    let key = move |m: &E::Model| Cursor {
        at: None,
        id: <Uuid as ValueType>::try_from(m.get(id)).unwrap_or_default(),
    };
    fetch(db, select, Keys { at: None, id }, args, key, want_total).await
}

/// Rows grouped under their parent's id, each group in the order read: the
/// answer of a nested list's DataLoader batch.
pub fn group_by<M>(
    rows: Vec<M>,
    parent: impl Fn(&M) -> uuid::Uuid,
) -> std::collections::HashMap<uuid::Uuid, Vec<M>> {
    let mut map: std::collections::HashMap<uuid::Uuid, Vec<M>> = Default::default();
    for r in rows {
        map.entry(parent(&r)).or_default().push(r);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        let c = Cursor {
            at: None,
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("garbage!"), None);
    }
}

//! Live updates: a write wakes whoever watches its topic (a chat, a room), on this instance and,
//! with PostgreSQL, on every instance (LISTEN/NOTIFY). A wake-up carries only the topic; the
//! watcher reads what is new from the database, after the last item it sent. The same reading
//! serves a client that reconnects with `Last-Event-ID`, so nothing is lost between the two,
//! and a page that opens its stream `?after=` the last item it showed, so nothing written
//! between the page and its stream is lost either.
//!
//! With PostgreSQL the notification is sent inside the writing transaction, so it is delivered
//! when (and only if) the write commits; with SQLite, in one process, right after the commit.

use crate::db::{Db, Engine, Tx};
use crate::error::ApiError;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use utoipa::IntoParams;

/// The PostgreSQL channel every instance listens to.
const CHANNEL: &str = "carnet_bus";

pub struct Bus {
    topics: Mutex<HashMap<String, broadcast::Sender<()>>>,
    postgres: bool,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("postgres", &self.postgres)
            .finish()
    }
}

impl Bus {
    /// A bus over `db`; with PostgreSQL it starts listening to the other instances.
    pub fn new(db: &Db) -> Arc<Bus> {
        let postgres = db.engine() == Engine::Postgres;
        let bus = Arc::new(Bus {
            topics: Mutex::default(),
            postgres,
        });
        if postgres {
            tokio::spawn(listen(Arc::downgrade(&bus), db.url().to_owned()));
        }
        bus
    }

    /// Wake-ups for `topic` from now on.
    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<()> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(16).0)
            .subscribe()
    }

    fn wake(&self, topic: Option<&str>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics.retain(|_, sender| sender.receiver_count() > 0);
        match topic {
            Some(topic) => {
                if let Some(sender) = topics.get(topic) {
                    let _ = sender.send(());
                }
            }
            // After a lost connection: everyone reads again.
            None => topics.values().for_each(|s| {
                let _ = s.send(());
            }),
        }
    }

    /// Commits `tx` and wakes the watchers of `topics`.
    pub async fn commit(&self, mut tx: Tx, topics: &[String]) -> Result<(), sqlx::Error> {
        if self.postgres {
            for topic in topics {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(topic)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        } else {
            tx.commit().await?;
            for topic in topics {
                self.wake(Some(topic));
            }
            Ok(())
        }
    }
}

async fn listen(bus: std::sync::Weak<Bus>, url: String) {
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    loop {
                        let received = listener.try_recv().await;
                        let Some(bus) = bus.upgrade() else {
                            return;
                        };
                        match received {
                            Ok(Some(n)) => bus.wake(Some(n.payload())),
                            // The connection was lost and is back: something may have been missed.
                            Ok(None) => bus.wake(None),
                            Err(e) => {
                                tracing::warn!(error = %e, "LISTEN connection lost");
                                bus.wake(None);
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot LISTEN for live updates"),
        }
        if bus.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One item of a live stream: its position in the topic ([`sequence`]: the event id a client
/// sends back as `Last-Event-ID`), the event name and its JSON data.
pub struct Item {
    pub position: i64,
    pub event: &'static str,
    pub data: String,
}

/// Server-sent events of a topic: what `fetch` finds after position `after` ([`start`]), then
/// what is new at each wake-up, until the client leaves. `fetch(after)` returns the items of
/// positions greater than `after`, in order.
pub fn live<F, Fut>(
    bus: &Bus,
    topic: &str,
    after: i64,
    fetch: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<F, Fut>>
where
    F: Fn(i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<Item>, ApiError>> + Send,
{
    struct State<F> {
        wakes: broadcast::Receiver<()>,
        after: i64,
        queue: VecDeque<Item>,
        fetch: F,
        fetched: bool,
    }
    let state = State {
        wakes: bus.subscribe(topic),
        after,
        queue: VecDeque::new(),
        fetch,
        fetched: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(item) = s.queue.pop_front() {
                s.after = s.after.max(item.position);
                let event = Event::default()
                    .event(item.event)
                    .id(item.position.to_string())
                    .data(item.data);
                return Some((Ok(event), s));
            }
            if s.fetched {
                match s.wakes.recv().await {
                    Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
            match (s.fetch)(s.after).await {
                Ok(items) => {
                    let after = s.after;
                    s.queue
                        .extend(items.into_iter().filter(|i| i.position > after));
                    // Something came: read again before waiting (a page may not hold it all).
                    s.fetched = s.queue.is_empty();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live update");
                    return None;
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Takes the next position of `topic`, in the writing transaction: the counter's row stays
/// locked until the transaction ends, so two writers of one topic get positions in the order
/// they commit (on SQLite the writer turn orders them anyway). A reader that has seen position
/// `n` has therefore seen every committed item before it.
pub async fn sequence(conn: &mut sqlx::AnyConnection, topic: &str) -> Result<i64, sqlx::Error> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO topic_sequences (topic, seq) VALUES ($1, 1) \
         ON CONFLICT (topic) DO UPDATE SET seq = topic_sequences.seq + 1 RETURNING seq",
    )
    .bind(topic)
    .fetch_one(conn)
    .await?;
    Ok(seq)
}

/// Where a new stream resumes: `?after=` the position of the last item a page showed, so what
/// was written between the page and its stream still comes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// The position of the last item already shown (a message's `position`); without it, the
    /// stream starts after the last item written.
    pub after: Option<i64>,
}

/// Where a stream of `topic` starts: after the position a reconnecting client sends
/// (`Last-Event-ID`), else after the one its page showed ([`Resume`]), else for a new watcher
/// after the last committed item.
pub async fn start(
    db: &Db,
    topic: &str,
    headers: &axum::http::HeaderMap,
    resume: &Resume,
) -> Result<i64, ApiError> {
    if let Some(last) = last_event_id(headers).and_then(|id| id.parse::<i64>().ok())
        && last >= 0
    {
        return Ok(last);
    }
    match resume.after {
        Some(after) if after >= 0 => return Ok(after),
        Some(_) => return Err(ApiError::invalid_field("after", "a position, 0 or more")),
        None => {}
    }
    let found: Option<(i64,)> = sqlx::query_as("SELECT seq FROM topic_sequences WHERE topic = $1")
        .bind(topic)
        .fetch_optional(db.pool())
        .await?;
    Ok(found.map_or(0, |(seq,)| seq))
}

/// The `Last-Event-ID` a reconnecting client sends.
pub fn last_event_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
}

/// The cursor of a history page's item written at `at` (Unix ms) with id `id`: items are
/// ordered by both. (Live streams use positions instead: [`sequence`].)
pub fn cursor(at: i64, id: &str) -> String {
    format!("{at}:{id}")
}

/// Reads a cursor back: (at, id). A cursor of `at` alone stands before every item of that
/// millisecond.
pub fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (at, id) = cursor.split_once(':').unwrap_or((cursor, ""));
    Some((at.parse().ok()?, id.to_owned()))
}

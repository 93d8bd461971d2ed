//! Durable background jobs, stored in the service's database: expiries, periodic re-checks,
//! clean-ups. A job is claimed with a conditional UPDATE (so two instances never run it at the
//! same time), retried with exponential backoff, and marked done or failed. Time comes from the
//! service clock, so tests run jobs deterministically with [`Worker::run_due`].

use crate::Ctx;
use crate::id::random_token;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What a handler asks for after a successful run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Run again at this time (Unix ms): periodic jobs.
    RunAgainAt(i64),
}

pub type Handler =
    Arc<dyn Fn(Ctx, Value) -> BoxFuture<'static, Result<Outcome, String>> + Send + Sync>;

/// Adds a job on `conn` (pass the transaction of the change that needs it). With a
/// `unique_key`, a job already queued under that key is kept and nothing is added.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    now_ms: i64,
    kind: &str,
    payload: &Value,
    run_at: i64,
    unique_key: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, unique_key, run_at, max_attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, 8, $6) ON CONFLICT (unique_key) DO NOTHING",
    )
    .bind(format!("job_{}", random_token(16)))
    .bind(kind)
    .bind(payload.to_string())
    .bind(unique_key)
    .bind(run_at)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Runs the jobs of one service.
#[derive(Clone)]
pub struct Worker {
    ctx: Ctx,
    handlers: HashMap<&'static str, Handler>,
    name: String,
    lease_ms: i64,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub ran: usize,
    pub failed: usize,
}

impl Worker {
    /// A worker for `ctx`'s service; every service sends its mail (`mail::SEND`).
    pub fn new(ctx: Ctx) -> Worker {
        Worker {
            ctx,
            handlers: HashMap::new(),
            name: format!("worker_{}", random_token(6)),
            lease_ms: 5 * 60 * 1000,
        }
        .handle(crate::mail::SEND, crate::mail::send)
        .handle(crate::notifications::DIGEST, crate::notifications::digest)
    }

    /// How long a claim holds before another instance may take the job over, unless renewed
    /// (five minutes by default; renewed every third of it while the job runs).
    pub fn lease(mut self, ms: i64) -> Worker {
        self.lease_ms = ms.max(30);
        self
    }

    /// Registers the handler of a job kind.
    pub fn handle<F, Fut>(mut self, kind: &'static str, f: F) -> Worker
    where
        F: Fn(Ctx, Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Outcome, String>> + Send + 'static,
    {
        self.handlers.insert(
            kind,
            Arc::new(move |ctx, payload| Box::pin(f(ctx, payload))),
        );
        self
    }

    /// Runs every job that is due now (by the service clock), once each.
    pub async fn run_due(&self) -> Result<Pass, sqlx::Error> {
        let now = self.ctx.now_ms();
        let due: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, kind, payload, attempts, max_attempts FROM jobs \
             WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until < $1) \
             ORDER BY run_at LIMIT 100",
        )
        .bind(now)
        .fetch_all(self.ctx.db.pool())
        .await?;
        let mut pass = Pass::default();
        for (id, kind, payload, attempts, max_attempts) in due {
            // Claim it, if it is still due now (the list may be old: an earlier job of this
            // pass may have run for long, and another instance may have run this one since)
            // and nobody holds it; another instance may have been faster.
            let now = self.ctx.now_ms();
            let claimed = sqlx::query(
                "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
                 WHERE id = $3 AND done_at IS NULL AND run_at <= $4 \
                 AND (locked_until IS NULL OR locked_until < $4)",
            )
            .bind(&self.name)
            .bind(now + self.lease_ms)
            .bind(&id)
            .bind(now)
            .execute(&mut *self.ctx.db.writer().await?)
            .await?;
            if claimed.rows_affected() != 1 {
                continue;
            }
            let result = match self.handlers.get(kind.as_str()) {
                None => Err(format!("no handler for job kind {kind}")),
                Some(handler) => {
                    let payload = serde_json::from_str(&payload).unwrap_or(Value::Null);
                    // While it runs, the lease is renewed: a job held by a live instance is
                    // never taken over; one whose instance died is, once its lease ends.
                    let heartbeat = self.heartbeat(&id);
                    tokio::pin!(heartbeat);
                    let work = handler(self.ctx.clone(), payload);
                    tokio::pin!(work);
                    tokio::select! {
                        result = &mut work => result,
                        never = &mut heartbeat => match never {},
                    }
                }
            };
            pass.ran += 1;
            let now = self.ctx.now_ms();
            match result {
                Ok(Outcome::Done) => {
                    sqlx::query("UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2")
                        .bind(now)
                        .bind(&id)
                        .execute(&mut *self.ctx.db.writer().await?)
                        .await?;
                }
                Ok(Outcome::RunAgainAt(at)) => {
                    sqlx::query(
                        "UPDATE jobs SET run_at = $1, attempts = 0, locked_until = NULL, last_error = NULL WHERE id = $2",
                    )
                    .bind(at)
                    .bind(&id)
                    .execute(&mut *self.ctx.db.writer().await?)
                    .await?;
                }
                Err(error) => {
                    pass.failed += 1;
                    tracing::warn!(job = %id, %kind, %error, "job failed");
                    let attempts = attempts + 1;
                    if attempts >= max_attempts {
                        sqlx::query(
                            "UPDATE jobs SET done_at = $1, failed = 1, locked_until = NULL, last_error = $2 WHERE id = $3",
                        )
                        .bind(now)
                        .bind(&error)
                        .bind(&id)
                        .execute(&mut *self.ctx.db.writer().await?)
                        .await?;
                    } else {
                        sqlx::query("UPDATE jobs SET run_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3")
                            .bind(now + backoff_ms(attempts))
                            .bind(&error)
                            .bind(&id)
                            .execute(&mut *self.ctx.db.writer().await?)
                            .await?;
                    }
                }
            }
        }
        Ok(pass)
    }

    /// Renews this worker's lease on job `id` every third of the lease, for as long as it is
    /// polled (it never ends by itself).
    async fn heartbeat(&self, id: &str) -> std::convert::Infallible {
        let every = Duration::from_millis(u64::try_from(self.lease_ms / 3).unwrap_or(1000).max(10));
        loop {
            tokio::time::sleep(every).await;
            let renewed = async {
                sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3")
                    .bind(self.ctx.now_ms() + self.lease_ms)
                    .bind(id)
                    .bind(&self.name)
                    .execute(&mut *self.ctx.db.writer().await?)
                    .await
            };
            if let Err(e) = renewed.await {
                tracing::warn!(job = %id, error = %e, "job lease not renewed");
            }
        }
    }

    /// Polls for due jobs until `shutdown` resolves.
    pub async fn run(self, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = interval.tick() => {
                    if let Err(e) = self.run_due().await {
                        tracing::warn!(error = %e, "job pass failed");
                    }
                }
            }
        }
    }
}

/// 2^attempts seconds, at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    1000 * (1i64 << attempts.clamp(0, 12)).min(3600)
}

/// The foundation's own periodic job: delete expired sessions, old login failures and
/// idempotency records. Scheduled once per database (`unique_key`).
pub const PURGE: &str = "foundation.purge";

/// Schedules the periodic job `kind` to run now, once per database (its kind is its
/// `unique_key`); its handler says when it runs next (`Outcome::RunAgainAt`).
pub async fn schedule(ctx: &Ctx, kind: &str) -> Result<(), sqlx::Error> {
    let mut conn = ctx.db.writer().await?;
    let now = ctx.now_ms();
    enqueue(&mut conn, now, kind, &Value::Null, now, Some(kind)).await
}

pub async fn purge(ctx: Ctx, _payload: Value) -> Result<Outcome, String> {
    let now = ctx.now_ms();
    let day = 24 * 3600 * 1000;
    let pool = ctx.db.pool();
    let run = async {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now - day)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now - day)
            .execute(pool)
            .await?;
        // Mailed links (verification, reset) a day after they stopped working.
        sqlx::query("DELETE FROM email_links WHERE expires_at < $1")
            .bind(now - day)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM jobs WHERE done_at < $1 AND kind <> $2")
            .bind(now - 30 * day)
            .bind(PURGE)
            .execute(pool)
            .await?;
        Ok::<_, sqlx::Error>(())
    };
    run.await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(now + 3600 * 1000))
}

//! Storage: one code path for SQLite (embedded, zero set-up) and PostgreSQL, through sqlx's
//! `Any` driver. Queries use `$1…` placeholders and portable column types (`migrations/README.md`).

use futures_util::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The two engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A pool of connections to one service's database.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    url: String,
    /// SQLite allows one writer at a time, and a writer that finds the lock taken sleeps in
    /// SQLite's busy handler (milliseconds at a time) or fails outright when its read snapshot
    /// went stale. Writes therefore queue here, in the process, instead.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A transaction: a connection (it derefs to one) that commits or rolls back. On SQLite it also
/// holds the process's writer turn until it ends.
pub struct Tx {
    inner: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

/// A pooled connection for a write outside a transaction; on SQLite it holds the process's
/// writer turn (see [`Db::writer`]).
pub struct Writer {
    conn: PoolConnection<Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Deref for Writer {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

/// How long a caller waits for a connection, or for its turn to write on SQLite.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A migration embedded in the binary: version, description, SQL.
pub type EmbeddedMigration = (i64, &'static str, &'static str);

/// The tables every service has (versions 1–99).
pub const COMMON_MIGRATIONS: &[EmbeddedMigration] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/common/0001_foundation.sql"),
    ),
    (
        2,
        "login throttle",
        include_str!("../../migrations/common/0002_login_throttle.sql"),
    ),
    (
        3,
        "topic sequences",
        include_str!("../../migrations/common/0003_topic_sequences.sql"),
    ),
    (
        4,
        "outbox",
        include_str!("../../migrations/common/0004_outbox.sql"),
    ),
    (
        5,
        "addresses",
        include_str!("../../migrations/common/0005_addresses.sql"),
    ),
    (
        6,
        "outbox attachments",
        include_str!("../../migrations/common/0006_outbox_attachments.sql"),
    ),
    (
        7,
        "notifications",
        include_str!("../../migrations/common/0007_notifications.sql"),
    ),
];

#[derive(Debug)]
struct Embedded(Vec<EmbeddedMigration>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .into_iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        version,
                        description.into(),
                        MigrationType::Simple,
                        sql.into(),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The SQLite URL of a service's database file in `data_dir`.
pub fn sqlite_url(data_dir: &Path, service: &str) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(format!("{service}.db")).display()
    )
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). SQLite gets WAL, foreign keys and a
    /// busy timeout on every connection.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 8 } else { 16 })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                             PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db {
            pool,
            engine,
            url: url.to_owned(),
            writer: (engine == Engine::Sqlite).then(Arc::default),
        })
    }

    /// Applies the common migrations and `service`'s, on a dedicated connection that is then
    /// closed (a failed run on PostgreSQL leaves its advisory lock on the connection).
    pub async fn migrate(
        &self,
        service: &[EmbeddedMigration],
    ) -> Result<(), sqlx::migrate::MigrateError> {
        let mut all: Vec<EmbeddedMigration> = COMMON_MIGRATIONS.to_vec();
        all.extend_from_slice(service);
        let migrator = Migrator::new(Embedded(all)).await?;
        let mut conn = AnyConnection::connect(&self.url).await?;
        if self.engine == Engine::Sqlite {
            conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                .await?;
        }
        let result = migrator.run(&mut conn).await;
        let _ = conn.close().await;
        result
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process's turn to write on SQLite (none on PostgreSQL). Bounded like the pool's own
    /// wait, so a bug that nests writes fails loudly rather than hanging.
    async fn turn(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, sqlx::Error> {
        match &self.writer {
            Some(writer) => tokio::time::timeout(ACQUIRE_TIMEOUT, writer.clone().lock_owned())
                .await
                .map(Some)
                .map_err(|_| sqlx::Error::PoolTimedOut),
            None => Ok(None),
        }
    }

    /// A connection for one write outside a transaction: `.execute(&mut *db.writer().await?)`.
    /// Reads go to [`Db::pool`] directly; every write goes through here or [`Db::begin`].
    pub async fn writer(&self) -> Result<Writer, sqlx::Error> {
        let turn = self.turn().await?;
        Ok(Writer {
            conn: self.pool.acquire().await?,
            _turn: turn,
        })
    }

    /// Begins a transaction (on SQLite, once the process's previous write has ended).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let turn = self.turn().await?;
        Ok(Tx {
            // IMMEDIATE takes the write lock now, where the busy timeout applies: a deferred
            // transaction that reads and then writes fails outright (SQLITE_BUSY_SNAPSHOT) when
            // another connection wrote in between.
            inner: match self.engine {
                Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
                Engine::Postgres => self.pool.begin().await?,
            },
            _turn: turn,
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn engine_of(url: &str) -> Result<Engine, sqlx::Error> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Engine::Postgres)
    } else {
        Err(sqlx::Error::Configuration(
            format!("unsupported database URL {url:?} (sqlite:// or postgres://)").into(),
        ))
    }
}

/// `true`/`false` as stored (INTEGER 0/1: `Any` cannot read SQLite booleans).
pub fn flag(value: i64) -> bool {
    value != 0
}

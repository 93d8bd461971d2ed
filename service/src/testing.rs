//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! `CARNET_TEST_POSTGRES_URL` is set (then it is mandatory: a test fails if it cannot connect).
//! Each test gets its own database, so tests run in parallel.

use crate::id::random_token;
use sqlx::{AnyConnection, Connection, Executor};
use std::path::PathBuf;

/// The variable that points tests at a PostgreSQL server (and makes those tests mandatory).
pub const POSTGRES_ENV: &str = "CARNET_TEST_POSTGRES_URL";

/// A database that is removed when dropped.
pub struct TestDatabase {
    pub url: String,
    pub engine: crate::db::Engine,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite database file in a fresh temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!(
            "carnet-test-{}",
            random_token(9).replace(['-', '_'], "x")
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TestDatabase {
            url: crate::db::sqlite_url(&dir, "test"),
            engine: crate::db::Engine::Sqlite,
            cleanup: Cleanup::File(dir),
        }
    }

    /// A new PostgreSQL database, or `None` (with the reason printed) when
    /// `CARNET_TEST_POSTGRES_URL` is not set.
    pub async fn postgres() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            eprintln!("skipping the PostgreSQL variant: {POSTGRES_ENV} is not set");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!(
            "carnet_test_{}",
            random_token(9).to_lowercase().replace(['-', '_'], "x")
        );
        let mut conn = AnyConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin_url}: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            engine: crate::db::Engine::Postgres,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// A scratch directory that lives as long as the database (for file stores).
    pub fn dir(&self) -> PathBuf {
        match &self.cleanup {
            Cleanup::File(dir) => dir.clone(),
            Cleanup::Postgres { name, .. } => std::env::temp_dir().join(name),
        }
    }

    /// SQLite, and PostgreSQL when configured: run a storage test on each.
    pub async fn all() -> Vec<TestDatabase> {
        let mut all = vec![TestDatabase::sqlite()];
        all.extend(TestDatabase::postgres().await);
        all
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let _ = std::fs::remove_dir_all(std::env::temp_dir().join(name));
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(mut conn) = AnyConnection::connect(&admin_url).await {
                                let _ = conn
                                    .execute(
                                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                                            .as_str(),
                                    )
                                    .await;
                                let _ = conn.close().await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

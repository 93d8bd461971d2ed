//! Durable jobs: retries with backoff, exclusive claims when several workers share a
//! database, periodic jobs, and the foundation's purge — with the injected clock.

mod common;

use carnet_service::ServiceKind;
use carnet_service::jobs::{self, Outcome, Worker, backoff_ms};
use common::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn enqueue(app: &TestApp, kind: &str, unique: Option<&str>) {
    let ctx = app.ctx(ServiceKind::Issuer);
    let mut conn = ctx.db.pool().acquire().await.unwrap();
    jobs::enqueue(
        &mut conn,
        ctx.now_ms(),
        kind,
        &json!({"n": 1}),
        ctx.now_ms(),
        unique,
    )
    .await
    .unwrap();
}

async fn job_state(app: &TestApp, kind: &str) -> (i64, Option<i64>, i64, Option<String>) {
    sqlx::query_as("SELECT attempts, done_at, failed, last_error FROM jobs WHERE kind = $1")
        .bind(kind)
        .fetch_one(app.ctx(ServiceKind::Issuer).db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn failing_jobs_are_retried_with_backoff_then_succeed() {
    each_engine(|app| async move {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let worker =
            Worker::new(app.ctx(ServiceKind::Issuer).clone()).handle("flaky", move |_, payload| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert_eq!(payload["n"], 1);
                    if n < 2 {
                        Err(format!("attempt {n} failed"))
                    } else {
                        Ok(Outcome::Done)
                    }
                }
            });
        enqueue(&app, "flaky", None).await;
        assert_eq!(worker.run_due().await.unwrap().failed, 1);
        assert_eq!(
            job_state(&app, "flaky").await.3.as_deref(),
            Some("attempt 0 failed")
        );
        // Not due again before its backoff.
        assert_eq!(worker.run_due().await.unwrap().ran, 0);
        app.clock.advance_secs(backoff_ms(1) / 1000);
        assert_eq!(worker.run_due().await.unwrap().failed, 1);
        app.clock.advance_secs(backoff_ms(2) / 1000);
        let pass = worker.run_due().await.unwrap();
        assert_eq!((pass.ran, pass.failed), (1, 0));
        let (attempts, done_at, failed, error) = job_state(&app, "flaky").await;
        assert_eq!(
            (attempts, done_at.is_some(), failed, error),
            (3, true, 0, None)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    })
    .await;
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_marked_failed() {
    each_engine(|app| async move {
        let worker = Worker::new(app.ctx(ServiceKind::Issuer).clone())
            .handle("broken", |_, _| async { Err("no".to_owned()) });
        enqueue(&app, "broken", None).await;
        for _ in 0..8 {
            worker.run_due().await.unwrap();
            app.clock.advance_secs(3600);
        }
        let (attempts, done_at, failed, _) = job_state(&app, "broken").await;
        assert_eq!((attempts, done_at.is_some(), failed), (8, true, 1));
        assert_eq!(worker.run_due().await.unwrap().ran, 0);
    })
    .await;
}

#[tokio::test]
async fn two_workers_never_run_the_same_job() {
    each_engine(|app| async move {
        let calls = Arc::new(AtomicUsize::new(0));
        let make = |calls: Arc<AtomicUsize>| {
            Worker::new(app.ctx(ServiceKind::Issuer).clone()).handle("once", move |_, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::task::yield_now().await;
                    Ok(Outcome::Done)
                }
            })
        };
        for i in 0..20 {
            enqueue(&app, "once", Some(&format!("u{i}"))).await;
        }
        enqueue(&app, "once", Some("u0")).await; // a duplicate unique key adds nothing
        let (a, b) = (make(calls.clone()), make(calls.clone()));
        let (pa, pb) = tokio::join!(a.run_due(), b.run_due());
        assert_eq!(pa.unwrap().ran + pb.unwrap().ran, 20);
        assert_eq!(calls.load(Ordering::SeqCst), 20);
    })
    .await;
}

#[tokio::test]
async fn purge_removes_expired_sessions_and_reschedules_itself() {
    each_engine(|app| async move {
        let ctx = app.ctx(ServiceKind::Issuer).clone();
        app.register("issuer", "old@example.org", "Old").await;
        jobs::schedule(&ctx, jobs::PURGE).await.unwrap();
        jobs::schedule(&ctx, jobs::PURGE).await.unwrap(); // once per database
        let worker = carnet_issuer::worker(ctx.clone());
        app.clock.advance_secs(8 * 24 * 3600);
        assert_eq!(worker.run_due().await.unwrap().ran, 1);
        let (sessions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions")
            .fetch_one(ctx.db.pool())
            .await
            .unwrap();
        assert_eq!(sessions, 0);
        // Runs again an hour later, not before.
        assert_eq!(worker.run_due().await.unwrap().ran, 0);
        app.clock.advance_secs(3601);
        assert_eq!(worker.run_due().await.unwrap().ran, 1);
        let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs")
            .fetch_one(ctx.db.pool())
            .await
            .unwrap();
        assert_eq!(jobs, 1);
    })
    .await;
}

#[tokio::test]
async fn the_issuer_forgets_expired_nonces_and_access_tokens() {
    each_engine(|app| async move {
        let ctx = app.ctx(ServiceKind::Issuer).clone();
        carnet_issuer::schedule_jobs(&ctx).await.unwrap();
        sqlx::query(
            "INSERT INTO vci_nonces (nonce_hash, expires_at) VALUES ('old', $1), ('fresh', $2)",
        )
        .bind(ctx.now_ms() + 1000)
        .bind(ctx.now_ms() + 10 * 60 * 1000)
        .execute(ctx.db.pool())
        .await
        .unwrap();
        app.clock.advance_secs(2);
        assert_eq!(
            carnet_issuer::worker(ctx.clone())
                .run_due()
                .await
                .unwrap()
                .ran,
            1
        );
        let left: Vec<(String,)> = sqlx::query_as("SELECT nonce_hash FROM vci_nonces")
            .fetch_all(ctx.db.pool())
            .await
            .unwrap();
        assert_eq!(left, [("fresh".to_owned(),)]);
    })
    .await;
}

/// The reliability run's case: a slow job first in a pass, a periodic job after it, two
/// instances. The one that was slow must not run the periodic job again once the other has
/// run it and set its next time: a claim takes only a job still due.
#[tokio::test]
async fn a_slow_job_does_not_make_the_next_one_run_twice() {
    each_engine(|app| async move {
        let ctx = app.ctx(ServiceKind::Issuer).clone();
        let ticks = Arc::new(AtomicUsize::new(0));
        let make = |ticks: Arc<AtomicUsize>| {
            Worker::new(ctx.clone())
                .handle("slow", |_, _| async {
                    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
                    Ok(Outcome::Done)
                })
                .handle("tick", move |ctx, _| {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    async move { Ok(Outcome::RunAgainAt(ctx.now_ms() + 3_600_000)) }
                })
        };
        let now = ctx.now_ms();
        for (kind, run_at) in [("slow", now - 2000), ("tick", now - 1000)] {
            let mut conn = ctx.db.writer().await.unwrap();
            jobs::enqueue(&mut conn, now, kind, &json!({}), run_at, Some(kind))
                .await
                .unwrap();
        }
        let (a, b) = (make(ticks.clone()), make(ticks.clone()));
        let (pa, pb) = tokio::join!(a.run_due(), b.run_due());
        assert_eq!(pa.unwrap().ran + pb.unwrap().ran, 2, "each job once");
        assert_eq!(ticks.load(Ordering::SeqCst), 1);
    })
    .await;
}

/// A job that runs longer than its lease keeps it while its instance lives (the lease is
/// renewed), so another instance does not take it over and run it a second time.
#[tokio::test]
async fn a_long_job_keeps_its_lease_while_it_runs() {
    each_engine(|app| async move {
        let ctx = app.ctx(ServiceKind::Issuer).clone();
        let runs = Arc::new(AtomicUsize::new(0));
        let clock = app.clock.clone();
        let counted = runs.clone();
        let long = Worker::new(ctx.clone())
            .lease(3000)
            .handle("long", move |_, _| {
                counted.fetch_add(1, Ordering::SeqCst);
                let clock = clock.clone();
                async move {
                    // Four seconds of the service's clock pass while it works: past its lease.
                    for _ in 0..4 {
                        clock.advance_secs(1);
                        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
                    }
                    Ok(Outcome::Done)
                }
            });
        let counted = runs.clone();
        let other = Worker::new(ctx.clone())
            .lease(3000)
            .handle("long", move |_, _| {
                counted.fetch_add(1, Ordering::SeqCst);
                async { Ok(Outcome::Done) }
            });
        enqueue(&app, "long", None).await;
        let first = tokio::spawn(async move { long.run_due().await.unwrap() });
        tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
        assert_eq!(
            other.run_due().await.unwrap().ran,
            0,
            "taken over while running"
        );
        assert_eq!(first.await.unwrap().ran, 1);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    })
    .await;
}

/// A presentation request lives ten minutes. Once expired it is refused, answered in plain or
/// encrypted to its key, even before the purge has run; the purge runs every ten minutes and
/// deletes it, leaving the requests still open.
#[tokio::test]
async fn the_verifier_forgets_expired_presentation_requests_within_ten_minutes() {
    use axum::http::{Method, StatusCode};
    use carnet_core::oid4vci::percent_encode;
    use carnet_core::oid4vp::{AuthorizationRequest, RequestSource, parse_request_link};
    each_engine(|app| async move {
        let app = &app;
        let ctx = app.ctx(ServiceKind::Verifier).clone();
        carnet_verifier::schedule_jobs(&ctx).await.unwrap();
        let worker = carnet_verifier::worker(ctx.clone());
        worker.run_due().await.unwrap();
        let new_request = || async {
            let r = app
                .call(
                    Method::POST,
                    "/verifier/api/v1/directory/requests",
                    &Auth::None,
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let Ok(RequestSource::ByValue(request)) =
                parse_request_link(r.body["request"].as_str().unwrap())
            else {
                panic!("a request by value")
            };
            request
        };
        let answer = |request: AuthorizationRequest, encrypted: bool| async move {
            let token = json!({"competencies": ["not even a presentation"]});
            let form: Vec<String> = if encrypted {
                carnet_core::oid4vp::response_form(&request, token.as_object().unwrap(), &[])
                    .unwrap()
                    .into_iter()
                    .map(|(name, value)| format!("{name}={}", percent_encode(&value)))
                    .collect()
            } else {
                vec![
                    format!("vp_token={}", percent_encode(&token.to_string())),
                    format!(
                        "state={}",
                        percent_encode(request.state.as_deref().unwrap())
                    ),
                ]
            };
            app.send(
                Method::POST,
                "/verifier/api/v1/oid4vp/response",
                &Auth::None,
                Some(form.join("&").as_bytes()),
                Some("application/x-www-form-urlencoded"),
                &[],
            )
            .await
        };
        let requests = || async {
            let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM vp_requests ORDER BY id")
                .fetch_all(ctx.db.pool())
                .await
                .unwrap();
            ids.into_iter().map(|(id,)| id).collect::<Vec<_>>()
        };
        let old = new_request().await;
        app.clock.advance_secs(6 * 60);
        let fresh = new_request().await;
        app.clock.advance_secs(5 * 60);

        // Eleven minutes on, the first request has expired; the purge has not run yet.
        assert_eq!(requests().await.len(), 2);
        for encrypted in [true, false] {
            let r = answer(old.clone(), encrypted).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
            assert_eq!(
                r.body["error_description"], "the request has expired",
                "encrypted: {encrypted}"
            );
        }
        worker.run_due().await.unwrap();
        assert_eq!(requests().await, [fresh.state.clone().unwrap()]);

        // Ten minutes later the second one has expired too, and the purge has run again.
        app.clock.advance_secs(10 * 60);
        worker.run_due().await.unwrap();
        assert_eq!(requests().await, Vec::<String>::new());
        let (next,): (i64,) =
            sqlx::query_as("SELECT run_at FROM jobs WHERE kind = 'verifier.purge_requests'")
                .fetch_one(ctx.db.pool())
                .await
                .unwrap();
        assert_eq!(next, ctx.now_ms() + 10 * 60 * 1000);
    })
    .await;
}

//! Durable jobs: retries with backoff, exclusive claims when several workers share a
//! database, periodic jobs, and the foundation's purge — with the injected clock.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use carnet_service::jobs::{self, Outcome, Worker, backoff_ms};
use common::mail::{received, smtp_sink};
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
        let worker = carnet_issuer::worker(ctx.clone());
        // The verification mail goes first (kept in the outbox: no SMTP here).
        assert_eq!(worker.run_due().await.unwrap().ran, 1);
        jobs::schedule(&ctx, jobs::PURGE).await.unwrap();
        jobs::schedule(&ctx, jobs::PURGE).await.unwrap(); // once per database
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
        let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE kind = $1")
            .bind(jobs::PURGE)
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

/// A real SMTP server (`tests/mail/smtp_sink.py`) and an app sending through it from `from`:
/// the app, the server, where it saves what it receives, and its port; none (the test skips)
/// without Python's packages, unless `CARNET_TEST_SMTP` is set.
async fn with_smtp(from: &str) -> Option<(TestApp, std::process::Child, std::path::PathBuf, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!(
        "carnet-smtp-{}",
        carnet_service::id::random_token(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let sink = smtp_sink(port, &dir)?;
    let settings = carnet::config::ServerArgs {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_from: Some(from.into()),
        ..Default::default()
    };
    let app = TestApp::with_settings(carnet_service::db::Engine::Sqlite, settings).await;
    Some((app, sink, dir, port))
}

fn stop(mut sink: std::process::Child, dir: &std::path::Path) {
    sink.kill().unwrap();
    let _ = sink.wait();
    let _ = std::fs::remove_dir_all(dir);
}

/// Without a mail server, an invitation's e-mail is kept in the outbox (its body sealed: the
/// raw database holds no link) where the platform's administrator reads it, on the portal's
/// « Courriers envoyés » too; the link it carries opens the invitation.
#[tokio::test]
async fn without_smtp_the_mail_waits_in_the_outbox_for_the_platform_admin() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let r = app
            .call(Method::POST, &format!("/issuer/api/v1/organisations/{}/invitations", c.org), &c.admin,
                Some(json!({"email": "lea.nouvelle@example.org", "role": "trainee", "session_id": c.session})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let link = r.body["link"].as_str().unwrap().to_owned();
        let token = link.rsplit('/').next().unwrap().to_owned();
        let pass = Worker::new(app.ctx(ServiceKind::Issuer).clone()).run_due().await.unwrap();
        assert_eq!(pass.failed, 0);
        let raw = app.raw_contents(ServiceKind::Issuer, &["outbox"]).await;
        assert!(raw.contains("lea.nouvelle@example.org") && !raw.contains(&token), "sealed at rest");
        let (admin, admin_id) = app.register("issuer", "admin@plateforme.example", "Admin").await;
        let r = app.call(Method::GET, "/issuer/api/v1/outbox", &c.admin, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "the platform's, not a centre's");
        app.make_platform_admin(ServiceKind::Issuer, &admin_id).await;
        let r = app.call(Method::GET, "/issuer/api/v1/outbox", &admin, None).await;
        let mail = r.body.as_array().unwrap().iter().find(|m| m["kind"] == "invitation").expect("the invitation").clone();
        assert_eq!(mail["recipient"], "lea.nouvelle@example.org");
        assert_eq!(mail["subject"], "Invitation : Centre Lyon Métallerie");
        assert!(mail["text_body"].as_str().unwrap().contains(&link), "{mail}");
        assert!(mail["sent_at"].is_null());
        let page = html(&open_page(&app, "/issuer/outbox", &admin).await);
        assert!(page.contains("Courriers envoyés") && page.contains("gardé ici"), "{page}");
        let invitation = &link[link.find("/issuer/").unwrap()..];
        let r = open_page(&app, invitation, &Auth::None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        // A credential waiting: the trainee is told where, never given the PIN by e-mail.
        let offered = c.evaluate(&app, json!("or")).await;
        let pin = offered["offer"]["tx_code"].as_str().unwrap().to_owned();
        let r = app.call(Method::GET, "/issuer/api/v1/outbox", &admin, None).await;
        let mail = r.body.as_array().unwrap().iter().find(|m| m["kind"] == "credential_offer").expect("the offer's mail").clone();
        assert_eq!(mail["recipient"], "camille@example.org");
        let text = mail["text_body"].as_str().unwrap();
        assert!(text.contains("Soudure TIG") && !text.contains(&pin), "{text}");
    })
    .await;
}

/// Through a real SMTP server: the message arrives once, multipart (text and HTML), UTF-8
/// subject, the recipient's name safely encoded; the server stopped, the message waits and
/// arrives once when it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_through_smtp_once_even_when_the_server_was_away() {
    let Some((app, mut sink, dir, port)) = with_smtp("Carnet démo <no-reply@carnet.example>").await
    else {
        return;
    };
    let c = centre(&app).await;
    let worker = Worker::new(app.ctx(ServiceKind::Issuer).clone());
    let invite = |email: &'static str| {
        let (app, org, admin) = (&app, c.org.clone(), c.admin.clone());
        async move {
            let r = app
                .call(
                    Method::POST,
                    &format!("/issuer/api/v1/organisations/{org}/invitations"),
                    &admin,
                    Some(json!({"email": email, "role": "trainee"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["link"].as_str().unwrap().to_owned()
        }
    };
    // A new account's verification arrives; its link, followed over HTTP, confirms.
    let (lea, _) = app
        .register_unverified("issuer", "lea.nouvelle@example.org", "Léa Nouvelle")
        .await;
    assert_eq!(worker.run_due().await.unwrap().failed, 0);
    let got = received(&dir);
    let verification = got
        .iter()
        .find(|m| m["to"] == json!(["lea.nouvelle@example.org"]))
        .expect("Léa's verification");
    assert_eq!(verification["subject"], "Confirmez votre adresse e-mail");
    // The name went encoded (RFC 2047) and decodes back.
    assert_eq!(
        verification["header_to"],
        "Léa Nouvelle <lea.nouvelle@example.org>"
    );
    let text = verification["text"].as_str().unwrap();
    let token = text
        .lines()
        .find_map(|l| l.trim().split_once("/issuer/verify/"))
        .map(|(_, token)| token.to_owned())
        .expect("a link");
    let r = app
        .call(
            Method::POST,
            &format!("/issuer/api/v1/verifications/{token}"),
            &Auth::None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me = app.call(Method::GET, "/issuer/api/v1/me", &lea, None).await;
    assert_eq!(me.body["account"]["email_verified"], true);
    // From here on, the invitations.
    let received = |dir: &std::path::Path| {
        received(dir)
            .into_iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Invitation")
            })
            .collect::<Vec<_>>()
    };
    let link = invite("lea.nouvelle@example.org").await;
    assert_eq!(worker.run_due().await.unwrap().failed, 0);
    let got = received(&dir);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["to"], json!(["lea.nouvelle@example.org"]));
    assert_eq!(got[0]["subject"], "Invitation : Centre Lyon Métallerie");
    assert_eq!(got[0]["content_type"], "multipart/alternative");
    assert!(
        got[0]["text"].as_str().unwrap().contains(&link),
        "{}",
        got[0]
    );
    assert!(
        got[0]["html"]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"{link}\"")),
        "{}",
        got[0]
    );
    assert!(got[0]["message_id"].as_str().unwrap().starts_with("<mail_"));

    // The server goes away: the message waits, with the reason; back, it arrives once.
    sink.kill().unwrap();
    let _ = sink.wait();
    invite("yanis.benali@example.org").await;
    assert_eq!(worker.run_due().await.unwrap().failed, 1);
    let (admin, admin_id) = app
        .register("issuer", "admin@plateforme.example", "Admin")
        .await;
    app.make_platform_admin(ServiceKind::Issuer, &admin_id)
        .await;
    let r = app
        .call(Method::GET, "/issuer/api/v1/outbox", &admin, None)
        .await;
    // Both were written at the same instant: find Yanis's by its recipient, not its place.
    let waiting = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["recipient"] == "yanis.benali@example.org")
        .expect("Yanis's mail in the outbox");
    assert!(
        waiting["sent_at"].is_null()
            && waiting["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("SMTP")),
        "{}",
        r.body
    );
    let sink = smtp_sink(port, &dir).expect("the sink again");
    app.clock.advance_secs(backoff_ms(1) / 1000 + 1);
    assert_eq!(worker.run_due().await.unwrap().failed, 0);
    app.clock.advance_secs(3600);
    worker.run_due().await.unwrap();
    let got = received(&dir);
    let to_yanis = got
        .iter()
        .filter(|m| m["to"] == json!(["yanis.benali@example.org"]))
        .count();
    assert_eq!((got.len(), to_yanis), (2, 1), "{got:?}");
    let r = app
        .call(Method::GET, "/issuer/api/v1/outbox", &admin, None)
        .await;
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["sent_at"].is_i64()),
        "{}",
        r.body
    );
    let page = html(&open_page(&app, "/issuer/outbox", &admin).await);
    assert!(page.contains("envoyé"), "{page}");
    stop(sink, &dir);
}

/// A calendar change reaches every member of the session by mail (not the manager who made
/// it), with the iCalendar message a calendar application reads: the convocation
/// (`METHOD:REQUEST`), the change (same `UID`, next `SEQUENCE`), the cancellation
/// (`METHOD:CANCEL`), with the feed's `UID` and `SEQUENCE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_changes_reach_the_session_with_their_invitation() {
    let Some((app, sink, dir, _)) = with_smtp("Carnet <no-reply@carnet.example>").await else {
        return;
    };
    let c = centre(&app).await;
    let worker = Worker::new(app.ctx(ServiceKind::Issuer).clone());
    let events = format!(
        "/issuer/api/v1/organisations/{}/sessions/{}/events",
        c.org, c.session
    );
    let r = app
        .call(
            Method::POST,
            &events,
            &c.manager,
            Some(
                json!({"kind": "course", "title": "Soudure TIG", "starts_at": "2027-01-19T13:30",
                        "ends_at": "2027-01-19T17:00", "place": "Atelier 3"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let event = r.body["id"].as_str().unwrap().to_owned();
    let to_camille = |kind: &str| {
        received(&dir)
            .into_iter()
            .filter(|m| m["to"] == json!(["camille@example.org"]))
            .filter(|m| {
                m["attachments"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a["calendar"]["method"] == kind))
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(worker.run_due().await.unwrap().failed, 0);
    let convocation = to_camille("REQUEST");
    assert_eq!(convocation.len(), 1, "{:?}", received(&dir));
    let m = &convocation[0];
    assert_eq!(
        m["subject"],
        "Convocation : Soudure TIG — le 19 janvier de 13:30 à 17:00"
    );
    assert!(
        m["text"].as_str().unwrap().contains(", à Atelier 3,"),
        "{}",
        m["text"]
    );
    let attachment = &m["attachments"][0];
    assert_eq!(attachment["filename"], "invitation.ics");
    assert_eq!(attachment["content_type"], "text/calendar");
    assert_eq!(attachment["method"], "REQUEST");
    let e = &attachment["calendar"]["events"][0];
    let uid = e["uid"].as_str().unwrap().to_owned();
    assert!(uid.starts_with(&format!("{event}@")), "{uid}");
    assert_eq!(
        (
            e["sequence"].as_i64(),
            e["status"].as_str(),
            e["start"].as_str()
        ),
        (
            Some(0),
            Some("CONFIRMED"),
            Some("2027-01-19T13:30:00+01:00")
        )
    );
    assert_eq!(e["attendee"], "mailto:camille@example.org");
    // The manager who made it is not told of their own change.
    assert!(
        received(&dir)
            .iter()
            .filter(|m| m["to"] == json!(["gestion@centre.example"]))
            .all(|m| m["subject"] == "Confirmez votre adresse e-mail"),
        "{:?}",
        received(&dir)
    );

    // Moved half an hour later, then cancelled: the same event, the next sequence.
    let r = app
        .call(
            Method::PATCH,
            &format!("{events}/{event}"),
            &c.manager,
            Some(json!({"starts_at": "2027-01-19T14:00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    worker.run_due().await.unwrap();
    let requests = to_camille("REQUEST");
    let changed = requests
        .iter()
        .find(|m| m["subject"].as_str().unwrap().starts_with("Modifié"))
        .expect("the change");
    let e = &changed["attachments"][0]["calendar"]["events"][0];
    assert_eq!(
        (
            e["uid"].as_str(),
            e["sequence"].as_i64(),
            e["start"].as_str()
        ),
        (
            Some(uid.as_str()),
            Some(1),
            Some("2027-01-19T14:00:00+01:00")
        )
    );
    // Enrolled now, a trainee gets the session's convocation with what is planned attached.
    app.register("issuer", "lea@example.org", "Léa Nouvelle")
        .await;
    for path in [
        format!("/issuer/api/v1/organisations/{}/members", c.org),
        format!(
            "/issuer/api/v1/organisations/{}/sessions/{}/members",
            c.org, c.session
        ),
    ] {
        let r = app
            .call(
                Method::POST,
                &path,
                &c.admin,
                Some(json!({"email": "lea@example.org", "role": "trainee"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    worker.run_due().await.unwrap();
    let lea = received(&dir)
        .into_iter()
        .find(|m| {
            m["to"] == json!(["lea@example.org"]) && m["subject"] == "Convocation : Soudeur 2026"
        })
        .expect("Léa's convocation");
    assert!(
        lea["text"]
            .as_str()
            .unwrap()
            .contains("du 5 janvier 2026 au 26 juin 2026"),
        "{}",
        lea["text"]
    );
    let planned = &lea["attachments"][0]["calendar"];
    assert_eq!(planned["method"], "PUBLISH");
    assert_eq!(planned["events"][0]["uid"], uid.as_str());
    // Camille, enrolled before anything was planned, got hers without a calendar.
    let camille = received(&dir)
        .into_iter()
        .find(|m| {
            m["to"] == json!(["camille@example.org"])
                && m["subject"] == "Convocation : Soudeur 2026"
        })
        .expect("Camille's convocation");
    assert_eq!(camille["attachments"], json!([]));
    let r = app
        .call(
            Method::DELETE,
            &format!("{events}/{event}"),
            &c.manager,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    worker.run_due().await.unwrap();
    let cancels = to_camille("CANCEL");
    assert_eq!(cancels.len(), 1);
    assert!(
        cancels[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Annulé : Soudure TIG")
    );
    let e = &cancels[0]["attachments"][0]["calendar"]["events"][0];
    assert_eq!(
        (
            e["uid"].as_str(),
            e["sequence"].as_i64(),
            e["status"].as_str()
        ),
        (Some(uid.as_str()), Some(2), Some("CANCELLED"))
    );
    // The feed says the same of it.
    let r = app
        .call(
            Method::POST,
            &format!(
                "/issuer/api/v1/organisations/{}/sessions/{}/calendar-feed",
                c.org, c.session
            ),
            &c.trainee,
            None,
        )
        .await;
    let url = r.body["url"].as_str().unwrap();
    let path = &url[url.find("/issuer/").unwrap()..];
    let feed = app.call(Method::GET, path, &Auth::None, None).await;
    let text = String::from_utf8(feed.raw).unwrap();
    assert!(
        text.contains(&format!("UID:{uid}\r\nSEQUENCE:2\r\n")),
        "{text}"
    );
    stop(sink, &dir);
}

/// How each kind reaches a person is theirs to choose: a credential waiting only in their
/// list, convocations in one summary a day; the mail keeping the account safe always goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_mail_comes_as_its_reader_chose() {
    let Some((app, sink, dir, _)) = with_smtp("Carnet <no-reply@carnet.example>").await else {
        return;
    };
    let c = centre(&app).await;
    let worker = Worker::new(app.ctx(ServiceKind::Issuer).clone());
    let prefs = "/issuer/api/v1/me/notification-preferences";
    let r = app
        .call(
            Method::PUT,
            prefs,
            &c.trainee,
            Some(json!({"no_such_kind": "never"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .call(
            Method::PUT,
            prefs,
            &c.trainee,
            Some(json!({"credential_offer": "never", "convocation": "daily", "calendar_changed": "daily"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["credential_offer"], "never");
    assert_eq!(r.body["quiz_opened"], "immediate");
    c.evaluate(&app, json!("or")).await;
    let events = format!(
        "/issuer/api/v1/organisations/{}/sessions/{}/events",
        c.org, c.session
    );
    for (title, day) in [("Soudure TIG", "19"), ("Soudure MIG", "20")] {
        let r = app
            .call(
                Method::POST,
                &events,
                &c.manager,
                Some(json!({"kind": "course", "title": title, "starts_at": format!("2027-01-{day}T08:30"),
                            "ends_at": format!("2027-01-{day}T12:00")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    assert_eq!(worker.run_due().await.unwrap().failed, 0);
    let to_camille = || {
        received(&dir)
            .into_iter()
            .filter(|m| m["to"] == json!(["camille@example.org"]))
            .map(|m| m["subject"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        to_camille(),
        ["Confirmez votre adresse e-mail"],
        "the rest waits or stays in the list"
    );
    // The trainer chose nothing: their convocations went at once.
    assert!(
        received(&dir)
            .iter()
            .any(|m| m["to"] == json!(["formateur@centre.example"])
                && m["subject"].as_str().unwrap().starts_with("Convocation")),
    );
    // At the day's summary hour, one mail with both convocations; the credential never.
    app.clock.advance_secs(9 * 3600 + 1);
    worker.run_due().await.unwrap();
    worker.run_due().await.unwrap();
    let got = to_camille();
    assert_eq!(got.len(), 2, "{got:?}");
    // The session's convocation (its mail had not gone yet when she chose) and both events'.
    assert_eq!(got[1], "Votre résumé du jour : 3 notification·s");
    let summary = received(&dir)
        .into_iter()
        .rfind(|m| m["to"] == json!(["camille@example.org"]))
        .unwrap();
    let text = summary["text"].as_str().unwrap();
    assert!(
        text.contains("• Convocation : Soudure TIG")
            && text.contains("• Convocation : Soudure MIG"),
        "{text}"
    );
    // Everything is in her list all the same, the credential included.
    let r = app
        .call(
            Method::GET,
            "/issuer/api/v1/me/notifications",
            &c.trainee,
            None,
        )
        .await;
    let subjects: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.starts_with("Une attestation vous attend")),
        "{subjects:?}"
    );
    stop(sink, &dir);
}

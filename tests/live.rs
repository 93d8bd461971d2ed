//! Live streams are exact: with eight people posting to one room at once, on one SQLite
//! instance and on two PostgreSQL instances behind one database, every watcher receives every
//! message exactly once, also after reconnecting mid-stream with `Last-Event-ID`.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tower::ServiceExt;

const POSTERS: usize = 8;
const EACH: usize = 15;

/// An open event stream and what has been read of it.
struct Watcher {
    body: Body,
    buffer: String,
    /// Message id → times received.
    seen: HashMap<String, usize>,
    last_id: Option<String>,
}

impl Watcher {
    async fn open(router: &Router, path: &str, auth: &Auth, last: Option<&str>) -> Watcher {
        let mut request = Request::builder().uri(path);
        if let Auth::Session { cookie, .. } = auth {
            request = request.header("cookie", cookie.as_str());
        }
        if let Some(last) = last {
            request = request.header("last-event-id", last);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Watcher {
            body: response.into_body(),
            buffer: String::new(),
            seen: HashMap::new(),
            last_id: last.map(str::to_owned),
        }
    }

    /// Reads events until `total` distinct messages have come, or `stop_after` more have,
    /// then whatever else comes within a moment (a message twice would show there).
    async fn read(&mut self, total: usize, stop_after: Option<usize>) {
        let mut read = 0;
        // Keep-alive comments come every 15 s: the deadline is for the whole read.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if stop_after.is_some_and(|n| read >= n) {
                return;
            }
            let done = self.seen.len() >= total;
            let until = if done {
                tokio::time::Instant::now() + Duration::from_millis(300)
            } else {
                deadline
            };
            let frame = match tokio::time::timeout_at(until, self.body.frame()).await {
                Err(_) if done => return,
                Err(_) => panic!("stuck at {} of {total} messages", self.seen.len()),
                Ok(frame) => frame.expect("the stream ended").unwrap(),
            };

            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            while let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                for line in event.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(v.trim().to_owned());
                    }
                }
                let (Some(id), Some(data)) = (id, data) else {
                    continue;
                };
                let message: Value = serde_json::from_str(&data).unwrap();
                *self
                    .seen
                    .entry(message["id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
                self.last_id = Some(id);
                read += 1;
            }
        }
    }
}

async fn post(router: &Router, path: &str, auth: &Auth, body: &str) -> String {
    let Auth::Session { cookie, csrf } = auth else {
        unreachable!()
    };
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("cookie", cookie.as_str())
        .header("x-csrf-token", csrf.as_str())
        .header("content-type", "application/json")
        .body(Body::from(json!({ "body": body }).to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let message: Value = serde_json::from_slice(&bytes).unwrap();
    message["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_watcher_receives_every_message_once() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        // On PostgreSQL, two instances behind a load balancer; on SQLite, the one process.
        let instances = if engine == carnet_service::db::Engine::Postgres {
            vec![app.router.clone(), app.another_instance().await]
        } else {
            vec![app.router.clone()]
        };
        let c = centre(&app).await;
        let base = format!(
            "/issuer/api/v1/organisations/{}/sessions/{}",
            c.org, c.session
        );
        let r = app
            .call(Method::GET, &format!("{base}/rooms"), &c.trainer, None)
            .await;
        let room = r.body[0]["id"].as_str().unwrap().to_owned();
        let messages = format!("{base}/rooms/{room}/messages");
        let events = format!("{base}/rooms/{room}/events");

        // Two watchers on each instance, one of which will reconnect mid-stream.
        let mut watchers = Vec::new();
        for router in &instances {
            for auth in [&c.trainee, &c.admin] {
                watchers.push(Watcher::open(router, &events, auth, None).await);
            }
        }
        // Eight posters at once, across the instances.
        let total = POSTERS * EACH;
        let posters: Vec<_> = (0..POSTERS)
            .map(|p| {
                let router = instances[p % instances.len()].clone();
                let (messages, auth) = (
                    messages.clone(),
                    if p % 2 == 0 {
                        c.trainer.clone()
                    } else {
                        c.admin.clone()
                    },
                );
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for i in 0..EACH {
                        ids.push(
                            post(
                                &router,
                                &messages,
                                &auth,
                                &format!("poster {p}, message {i}"),
                            )
                            .await,
                        );
                    }
                    ids
                })
            })
            .collect();
        // Meanwhile the first watcher reads a part, drops its connection and comes back with
        // the last id it saw, as a browser's EventSource does.
        let mut first = watchers.remove(0);
        first.read(total, Some(total / 3)).await;
        let last = first.last_id.clone().expect("an event id");
        let seen = std::mem::take(&mut first.seen);
        drop(first);
        let mut resumed = Watcher::open(&instances[0], &events, &c.trainee, Some(&last)).await;
        resumed.seen = seen;

        let mut posted = Vec::new();
        for poster in posters {
            posted.extend(poster.await.unwrap());
        }
        assert_eq!(posted.len(), total);
        watchers.insert(0, resumed);
        for (n, watcher) in watchers.iter_mut().enumerate() {
            watcher.read(total, None).await;
            for id in &posted {
                assert_eq!(
                    watcher.seen.get(id),
                    Some(&1),
                    "watcher {n} ({engine:?}): {id}"
                );
            }
            assert_eq!(watcher.seen.len(), total, "watcher {n} ({engine:?})");
        }
    }
}

/// A room's page shows its messages, then its script opens the live stream at the page's
/// `data-live` URL: a message posted in between (on PostgreSQL, through another instance)
/// still arrives, and what the page showed does not come again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_stream_starts_where_the_page_ends() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let other = if engine == carnet_service::db::Engine::Postgres {
            app.another_instance().await
        } else {
            app.router.clone()
        };
        let c = centre(&app).await;
        let base = format!(
            "/issuer/api/v1/organisations/{}/sessions/{}",
            c.org, c.session
        );
        let r = app
            .call(Method::GET, &format!("{base}/rooms"), &c.trainer, None)
            .await;
        let room = r.body[0]["id"].as_str().unwrap().to_owned();
        let messages = format!("{base}/rooms/{room}/messages");
        let shown = post(&app.router, &messages, &c.trainer, "Shown on the page").await;

        let page = app
            .send(
                Method::GET,
                &format!(
                    "/issuer/orgs/{}/sessions/{}/rooms/information",
                    c.org, c.session
                ),
                &c.trainee,
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let page = html(&page);
        assert!(page.contains("Shown on the page"), "{page}");
        let live = attribute_of(&page, "data-live");

        let between = post(
            &other,
            &messages,
            &c.trainer,
            "Posted before the stream opened",
        )
        .await;
        let mut watcher = Watcher::open(&app.router, &live, &c.trainee, None).await;
        watcher.read(1, None).await;
        assert_eq!(watcher.seen.get(&between), Some(&1), "{engine:?}: {live}");
        assert!(
            !watcher.seen.contains_key(&shown),
            "{engine:?}: shown twice"
        );
        let after = post(&other, &messages, &c.trainer, "Posted after").await;
        watcher.read(2, None).await;
        assert_eq!(watcher.seen.get(&after), Some(&1), "{engine:?}");
        assert_eq!(watcher.seen.len(), 2, "{engine:?}");
    }
}

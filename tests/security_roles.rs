//! The findings of the outside security review, each attack performed over HTTP: roles given
//! above one's own (member routes and invitations, organisation and session), a trainer's reach
//! beyond their sessions, self-evaluation and self-certification, check-in codes guessed, and
//! parallel guesses of an offer's PIN.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use common::*;
use serde_json::{Value, json};

const ORG_ROLES: [&str; 4] = ["admin", "manager", "trainer", "trainee"];
const SESSION_ROLES: [&str; 3] = ["manager", "trainer", "trainee"];

fn rank(role: &str) -> usize {
    ["trainee", "trainer", "manager", "admin"]
        .iter()
        .position(|r| *r == role)
        .unwrap()
}

async fn post(app: &TestApp, path: &str, auth: &Auth, body: Value) -> Reply {
    app.call(Method::POST, path, auth, Some(body)).await
}

async fn ok(app: &TestApp, path: &str, auth: &Auth, body: Value) -> Value {
    let r = post(app, path, auth, body).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body
}

/// An organisation and its administrator; `people` get the organisation roles named.
struct Org {
    base: String,
    admin: Auth,
}

async fn organisation(app: &TestApp, admin_email: &str) -> Org {
    let (admin, _) = app.register("issuer", admin_email, "Direction").await;
    let org = ok(
        app,
        "/issuer/api/v1/organisations",
        &admin,
        json!({"name": "Centre", "siret": "45218903800014"}),
    )
    .await;
    Org {
        base: format!(
            "/issuer/api/v1/organisations/{}",
            org["id"].as_str().unwrap()
        ),
        admin,
    }
}

impl Org {
    /// A new account holding `role` in the organisation (none for `""`).
    async fn person(&self, app: &TestApp, email: &str, role: &str) -> (Auth, String) {
        let (auth, id) = app.register("issuer", email, email).await;
        if !role.is_empty() {
            ok(
                app,
                &format!("{}/members", self.base),
                &self.admin,
                json!({"email": email, "role": role}),
            )
            .await;
        }
        (auth, id)
    }

    async fn my_roles(&self, app: &TestApp, auth: &Auth) -> Vec<String> {
        let r = app.call(Method::GET, &self.base, auth, None).await;
        if r.status == StatusCode::NOT_FOUND {
            return Vec::new();
        }
        r.body["my_roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    }

    async fn session_roles(&self, app: &TestApp, sid: &str, email: &str) -> Vec<String> {
        let r = app
            .call(
                Method::GET,
                &format!("{}/sessions/{sid}/members", self.base),
                &self.admin,
                None,
            )
            .await;
        r.body
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["email"] == email)
            .map(|m| m["role"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Accepts an invitation as a new account of the invited address.
async fn accept(app: &TestApp, email: &str, token: &str) -> Reply {
    let (auth, _) = app.register("issuer", email, email).await;
    post(
        app,
        "/issuer/api/v1/invitations/accept",
        &auth,
        json!({ "token": token }),
    )
    .await
}

#[tokio::test]
async fn organisation_roles_are_given_by_rank() {
    each_engine(|app| async move {
        let org = organisation(&app, "direction@centre.example").await;
        let mut granters = vec![("admin", org.admin.clone())];
        for role in ["manager", "trainer", "trainee"] {
            let (auth, _) = org
                .person(&app, &format!("{role}@centre.example"), role)
                .await;
            granters.push((role, auth));
        }
        let (platform, platform_id) = app.register("issuer", "platform@carnet.example", "P").await;
        app.make_platform_admin(ServiceKind::Issuer, &platform_id)
            .await;
        granters.push(("platform", platform));

        for (who, auth) in &granters {
            let granter_rank = if *who == "platform" { 3 } else { rank(who) };
            for role in ORG_ROLES {
                // The member route: organisation administrators give every role, and nobody else
                // any.
                let email = format!("member-{who}-{role}@example.org");
                app.register("issuer", &email, "x").await;
                let r = post(
                    &app,
                    &format!("{}/members", org.base),
                    auth,
                    json!({"email": email, "role": role}),
                )
                .await;
                let expected = if granter_rank == 3 {
                    StatusCode::CREATED
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(r.status, expected, "{who} gives {role}: {}", r.body);

                // An invitation: managers too, none above their own role.
                let email = format!("invited-{who}-{role}@example.org");
                let r = post(
                    &app,
                    &format!("{}/invitations", org.base),
                    auth,
                    json!({"email": email, "role": role}),
                )
                .await;
                let allowed = granter_rank >= 2 && rank(role) <= granter_rank;
                if !allowed {
                    assert_eq!(r.problem(), "forbidden", "{who} invites as {role}");
                    continue;
                }
                assert_eq!(r.status, StatusCode::CREATED, "{who} invites as {role}");
                let accepted = accept(&app, &email, r.body["token"].as_str().unwrap()).await;
                assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
                assert_eq!(accepted.body["role"], role);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_manager_cannot_invite_themselves_as_administrator() {
    each_engine(|app| async move {
        let org = organisation(&app, "direction@centre.example").await;
        let (manager, _) = org.person(&app, "manager@centre.example", "manager").await;
        for session in [None, Some(())] {
            let mut body = json!({"email": "manager@centre.example", "role": "admin"});
            if session.is_some() {
                let s = ok(
                    &app,
                    &format!("{}/sessions", org.base),
                    &manager,
                    json!({"title": "S", "starts_on": "2026-01-05", "ends_on": "2026-02-05"}),
                )
                .await;
                body["session_id"] = s["id"].clone();
            }
            let r = post(&app, &format!("{}/invitations", org.base), &manager, body).await;
            assert_eq!(r.problem(), "forbidden", "{}", r.body);
        }
        assert_eq!(org.my_roles(&app, &manager).await, ["manager"]);
        // The page offers the manager only what they may give; the administrator everything.
        let id = org.base.rsplit('/').next().unwrap();
        for (who, offered) in [
            (&manager, vec!["trainee", "trainer", "manager"]),
            (&org.admin, vec!["trainee", "trainer", "manager", "admin"]),
        ] {
            let Auth::Session { cookie, .. } = who else {
                unreachable!()
            };
            let page = app
                .send(
                    Method::GET,
                    &format!("/issuer/orgs/{id}"),
                    &Auth::None,
                    None,
                    None,
                    &[("cookie", cookie.as_str())],
                )
                .await;
            let page = String::from_utf8(page.raw).unwrap();
            let at = page.find("/invite\"").expect("the invitation form");
            let select = &page[at..at + page[at..].find("</select>").unwrap()];
            let values: Vec<&str> = select
                .split("<option value=\"")
                .skip(1)
                .map(|o| o.split('"').next().unwrap())
                .collect();
            assert_eq!(values, offered);
        }
        let pending = app
            .call(
                Method::GET,
                &format!("{}/invitations", org.base),
                &org.admin,
                None,
            )
            .await;
        assert_eq!(pending.body, json!([]), "nothing was written");
    })
    .await;
}

#[tokio::test]
async fn session_roles_are_given_by_rank_in_ones_own_session() {
    each_engine(|app| async move {
        let org = organisation(&app, "direction@centre.example").await;
        // The session is created (so managed) by one manager of the organisation; a trainer
        // manages another session, and that one only.
        let (manager, _) = org.person(&app, "manager@centre.example", "manager").await;
        let (other_manager, _) = org
            .person(&app, "other-manager@centre.example", "trainer")
            .await;
        let dates = json!({"title": "S", "starts_on": "2026-01-05", "ends_on": "2026-02-05"});
        let sid = ok(
            &app,
            &format!("{}/sessions", org.base),
            &manager,
            dates.clone(),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let other_sid = ok(&app, &format!("{}/sessions", org.base), &org.admin, dates).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ok(
            &app,
            &format!("{}/sessions/{other_sid}/members", org.base),
            &org.admin,
            json!({"email": "other-manager@centre.example", "role": "manager"}),
        )
        .await;
        let session_members = format!("{}/sessions/{sid}/members", org.base);
        let (trainer, _) = org.person(&app, "trainer@centre.example", "trainer").await;
        let (trainee, _) = org.person(&app, "trainee@centre.example", "trainee").await;
        for (email, role) in [
            ("trainer@centre.example", "trainer"),
            ("trainee@centre.example", "trainee"),
        ] {
            ok(
                &app,
                &session_members,
                &org.admin,
                json!({"email": email, "role": role}),
            )
            .await;
        }
        // (who, their authority in the session: 2 manager, else none).
        let granters = [
            ("admin", org.admin.clone(), true),
            ("session-manager", manager.clone(), true),
            ("session-trainer", trainer, false),
            ("session-trainee", trainee, false),
            ("other-session-manager", other_manager.clone(), false),
        ];
        for (who, auth, manages) in &granters {
            for role in SESSION_ROLES {
                // The member route, to members of the organisation of every rank.
                for grantee_role in ["trainee", "trainer", "manager"] {
                    let email = format!("{who}-{role}-to-{grantee_role}@example.org");
                    org.person(&app, &email, grantee_role).await;
                    let r = post(
                        &app,
                        &session_members,
                        auth,
                        json!({"email": email, "role": role}),
                    )
                    .await;
                    // A trainee stays a trainee; staff of the organisation may manage a session.
                    let ceiling = if grantee_role == "trainee" { 0 } else { 2 };
                    if !manages {
                        assert_eq!(r.problem(), "forbidden", "{who} gives {role}");
                    } else if rank(role) > ceiling {
                        assert_eq!(
                            (r.problem().as_str(), r.body["field"].as_str()),
                            ("invalid", Some("role")),
                            "{who} makes an organisation {grantee_role} session {role}"
                        );
                    } else {
                        assert_eq!(r.status, StatusCode::CREATED, "{who} {role} {}", r.body);
                    }
                    let expected: Vec<String> = if *manages && rank(role) <= ceiling {
                        vec![role.to_owned()]
                    } else {
                        Vec::new()
                    };
                    assert_eq!(org.session_roles(&app, &sid, &email).await, expected);
                }

                // An invitation into the session (the same role in the organisation).
                let email = format!("invited-{who}-{role}@example.org");
                let r = post(
                    &app,
                    &format!("{}/invitations", org.base),
                    auth,
                    json!({"email": email, "role": role, "session_id": sid}),
                )
                .await;
                if !manages {
                    assert_eq!(r.problem(), "forbidden", "{who} invites as {role}");
                    continue;
                }
                assert_eq!(r.status, StatusCode::CREATED, "{who} invites as {role}");
                let accepted = accept(&app, &email, r.body["token"].as_str().unwrap()).await;
                assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
                assert_eq!(org.session_roles(&app, &sid, &email).await, [role]);
            }
        }
        // The attack of the review: a manager of another session invites themselves to manage
        // this one.
        let r = post(
            &app,
            &format!("{}/invitations", org.base),
            &other_manager,
            json!({"email": "other-manager@centre.example", "role": "manager", "session_id": sid}),
        )
        .await;
        assert_eq!(r.problem(), "forbidden");
        assert!(
            org.session_roles(&app, &sid, "other-manager@centre.example")
                .await
                .is_empty()
        );
    })
    .await;
}

/// What the service logs, kept for the test.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything this test binary logs at INFO and above (the level the link was logged at), from
/// every test: a subscriber for the whole process, since a thread's own is not reliably asked
/// while other tests run on other threads.
fn logs() -> &'static Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    })
}

#[tokio::test]
async fn the_invitation_link_is_not_logged() {
    let logs = logs();
    each_engine(|app| async move {
        let org = organisation(&app, "direction@centre.example").await;
        let r = post(
            &app,
            &format!("{}/invitations", org.base),
            &org.admin,
            json!({"email": "newcomer@example.org", "role": "trainee"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let (id, token) = (
            r.body["id"].as_str().unwrap(),
            r.body["token"].as_str().unwrap(),
        );
        let written = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(written.contains(id), "the log is captured");
        assert!(!written.contains(token), "{written}");
    })
    .await;
}

#[tokio::test]
async fn an_invitation_is_checked_again_when_accepted() {
    each_engine(|app| async move {
        let org = organisation(&app, "direction@centre.example").await;
        let (manager, manager_id) = org.person(&app, "manager@centre.example", "manager").await;
        let sid = ok(
            &app,
            &format!("{}/sessions", org.base),
            &manager,
            json!({"title": "S", "starts_on": "2026-01-05", "ends_on": "2026-02-05"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut tokens = Vec::new();
        for (email, session) in [
            ("new-manager@example.org", None),
            ("new-trainer@example.org", Some(&sid)),
        ] {
            let role = if session.is_some() {
                "trainer"
            } else {
                "manager"
            };
            let r = post(
                &app,
                &format!("{}/invitations", org.base),
                &manager,
                json!({"email": email, "role": role, "session_id": session}),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            tokens.push((email, r.body["token"].as_str().unwrap().to_owned()));
        }
        // The manager is made a mere trainer before the invitations are accepted.
        ok(
            &app,
            &format!("{}/members", org.base),
            &org.admin,
            json!({"email": "manager@centre.example", "role": "trainer"}),
        )
        .await;
        let r = app
            .call(
                Method::DELETE,
                &format!("{}/members/{manager_id}/manager", org.base),
                &org.admin,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        for (email, token) in tokens {
            let r = accept(&app, email, &token).await;
            assert_eq!(r.problem(), "conflict", "{email}: {}", r.body);
            let (auth, _) = (session_of(&app.login("issuer", email, PASSWORD).await), ());
            assert!(org.my_roles(&app, &auth).await.is_empty(), "{email}");
            assert!(org.session_roles(&app, &sid, email).await.is_empty());
        }
    })
    .await;
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The path of a URL of the test service.
fn local(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/", |i| &rest[i..])
}

async fn token(app: &TestApp, org: &str, code: &str, pin: &str) -> Value {
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}&tx_code={pin}"
    );
    app.send(
        Method::POST,
        &format!("/issuer/orgs/{org}/token"),
        &Auth::None,
        Some(form.as_bytes()),
        Some("application/x-www-form-urlencoded"),
        &[],
    )
    .await
    .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_pin_guesses_are_counted_before_they_are_compared() {
    each_engine(|app| async move {
        let app = std::sync::Arc::new(app);
        let c = centre(&app).await;
        let evaluated = c.evaluate(&app, json!("or")).await;
        let pin = evaluated["offer"]["tx_code"].as_str().unwrap().to_owned();
        let link = evaluated["offer"]["offer_link"].as_str().unwrap();
        let uri = percent_decode(
            link.strip_prefix("openid-credential-offer://?credential_offer_uri=")
                .unwrap(),
        );
        let offer = app
            .send(Method::GET, local(&uri), &Auth::None, None, None, &[])
            .await
            .body;
        let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
            ["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
        let wrong = if pin == "000000" { "111111" } else { "000000" };
        let mut guesses = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let (app, org, code) = (app.clone(), c.org.clone(), code.clone());
            guesses.spawn(async move { token(&app, &org, &code, wrong).await });
        }
        let mut compared = 0;
        while let Some(answer) = guesses.join_next().await {
            let answer = answer.unwrap();
            assert_eq!(answer["error"], "invalid_grant", "{answer}");
            match answer["error_description"].as_str().unwrap() {
                "wrong transaction code" => compared += 1,
                d => assert!(d.starts_with("too many wrong transaction codes"), "{d}"),
            }
        }
        assert!(
            (1..=5).contains(&compared),
            "{compared} guesses were compared"
        );
        // Locked: the right PIN no longer works.
        let answer = token(&app, &c.org, &code, &pin).await;
        assert_eq!(answer["error"], "invalid_grant", "{answer}");
    })
    .await;
}

/// Monday 18 January 2027, 09:10 in Paris: the morning slot is open.
const MONDAY_MORNING_MS: i64 = 1_800_259_800_000;

/// A centre with a morning slot open now, and a second trainee; the slot's path.
async fn open_slot(app: &TestApp) -> (Centre, String, Auth) {
    let c = centre(app).await;
    let base = format!("/issuer/api/v1/organisations/{}", c.org);
    let (lea, _) = app
        .register("issuer", "lea@example.org", "Léa Martin")
        .await;
    for path in [
        format!("{base}/members"),
        format!("{base}/sessions/{}/members", c.session),
    ] {
        ok(
            app,
            &path,
            &c.admin,
            json!({"email": "lea@example.org", "role": "trainee"}),
        )
        .await;
    }
    let slot = ok(
        app,
        &format!("{base}/sessions/{}/attendance/slots", c.session),
        &c.trainer,
        json!({"day": "2027-01-18", "half": "morning"}),
    )
    .await;
    app.clock.set_ms(MONDAY_MORNING_MS);
    let path = format!(
        "{base}/sessions/{}/attendance/slots/{}",
        c.session,
        slot["id"].as_str().unwrap()
    );
    (c, path, lea)
}

async fn current_code(app: &TestApp, c: &Centre, slot: &str) -> String {
    let r = app
        .call(Method::GET, &format!("{slot}/code"), &c.trainer, None)
        .await;
    r.body["code"].as_str().unwrap().to_owned()
}

/// Six digits that are not `code`.
fn wrong_code(code: &str, n: u32) -> String {
    let guess = format!("{:06}", 100_000 + n * 7919 % 900_000);
    if guess == code {
        format!("{:06}", 100_001 + n)
    } else {
        guess
    }
}

#[tokio::test]
async fn check_in_locks_after_five_wrong_codes() {
    each_engine(|app| async move {
        let (c, slot, lea) = open_slot(&app).await;
        let code = current_code(&app, &c, &slot).await;
        for n in 1..=4 {
            let r = post(
                &app,
                &format!("{slot}/check-in"),
                &c.trainee,
                json!({"code": wrong_code(&code, n)}),
            )
            .await;
            assert_eq!(r.problem(), "invalid", "guess {n}");
            assert_eq!(r.body["field"], "code");
        }
        let r = post(
            &app,
            &format!("{slot}/check-in"),
            &c.trainee,
            json!({"code": wrong_code(&code, 5)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert_eq!(r.problem(), "rate-limited");
        assert!(r.headers.contains_key("retry-after"));
        // Locked for that slot: even the right code is no longer compared.
        let r = post(
            &app,
            &format!("{slot}/check-in"),
            &c.trainee,
            json!({"code": code}),
        )
        .await;
        assert_eq!(r.problem(), "rate-limited");
        let sid = &c.session;
        let table = app
            .call(
                Method::GET,
                &format!(
                    "/issuer/api/v1/organisations/{}/sessions/{sid}/attendance",
                    c.org
                ),
                &c.trainer,
                None,
            )
            .await;
        assert_eq!(table.body["marks"], json!([]), "nobody checked in");
        assert_eq!(
            table.body["check_in_failures"][0]["trainee_id"],
            c.trainee_id.as_str()
        );
        assert_eq!(table.body["check_in_failures"][0]["failures"], 5);
        assert_eq!(table.body["check_in_failures"][0]["locked"], true);

        // The audit log says so, and the trainer sees it on the half-day's page (FR and EN).
        let audit = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/organisations/{}/audit", c.org),
                &c.admin,
                None,
            )
            .await;
        let actions: Vec<&str> = audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == "attendance.check_in_failed")
                .count(),
            4
        );
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == "attendance.check_in_locked")
                .count(),
            1
        );
        let slot_id = slot.rsplit('/').next().unwrap();
        for (lang, words) in [
            ("fr", "Émargement par code bloqué"),
            ("en", "Check-in by code locked"),
        ] {
            let page = app
                .call(
                    Method::GET,
                    &format!(
                        "/issuer/orgs/{}/sessions/{sid}/attendance/{slot_id}?lang={lang}",
                        c.org
                    ),
                    &c.trainer,
                    None,
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);
            let html = String::from_utf8(page.raw).unwrap();
            assert!(html.contains(words), "{lang}: {html}");
        }

        // Another trainee of the same slot is not affected, and a right code still counts
        // nothing against them.
        let r = post(
            &app,
            &format!("{slot}/check-in"),
            &lea,
            json!({"code": wrong_code(&code, 9)}),
        )
        .await;
        assert_eq!(r.problem(), "invalid");
        let r = post(
            &app,
            &format!("{slot}/check-in"),
            &lea,
            json!({"code": current_code(&app, &c, &slot).await}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_check_in_guesses_are_counted_atomically() {
    each_engine(|app| async move {
        let app = std::sync::Arc::new(app);
        let (c, slot, lea) = open_slot(&app).await;
        let code = current_code(&app, &c, &slot).await;
        let mut guesses = tokio::task::JoinSet::new();
        for n in 0..30 {
            let (app, slot, lea, guess) =
                (app.clone(), slot.clone(), lea.clone(), wrong_code(&code, n));
            guesses.spawn(async move {
                app.call(
                    Method::POST,
                    &format!("{slot}/check-in"),
                    &lea,
                    Some(json!({"code": guess})),
                )
                .await
                .status
            });
        }
        let mut wrong = 0;
        while let Some(status) = guesses.join_next().await {
            match status.unwrap() {
                StatusCode::UNPROCESSABLE_ENTITY => wrong += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("{other}"),
            }
        }
        assert_eq!(wrong, 4, "four wrong codes told as such, the fifth locks");
        let table = app
            .call(
                Method::GET,
                &format!(
                    "/issuer/api/v1/organisations/{}/sessions/{}/attendance",
                    c.org, c.session
                ),
                &c.trainer,
                None,
            )
            .await;
        assert_eq!(
            table.body["check_in_failures"][0]["failures"], 5,
            "{}",
            table.body
        );
        let r = post(
            &app,
            &format!("{slot}/check-in"),
            &lea,
            json!({"code": code}),
        )
        .await;
        assert_eq!(r.problem(), "rate-limited");
    })
    .await;
}

/// The centre of `centre`, and a second session with its own trainer and trainee (Léa), whom
/// that trainer failed with a comment and also validated (a credential she received).
struct TwoSessions {
    c: Centre,
    base: String,
    other_session: String,
    lea_id: String,
    manager: Auth,
}

async fn two_sessions(app: &TestApp) -> TwoSessions {
    let c = centre(app).await;
    let base = format!("/issuer/api/v1/organisations/{}", c.org);
    let (_, lea_id) = app
        .register("issuer", "lea@example.org", "Léa Martin")
        .await;
    let (other_trainer, _) = app
        .register("issuer", "autre@centre.example", "Autre Formateur")
        .await;
    let (manager, _) = app
        .register("issuer", "manager@centre.example", "Responsable")
        .await;
    for (email, role) in [
        ("lea@example.org", "trainee"),
        ("autre@centre.example", "trainer"),
        ("manager@centre.example", "manager"),
    ] {
        ok(
            app,
            &format!("{base}/members"),
            &c.admin,
            json!({"email": email, "role": role}),
        )
        .await;
    }
    let other = ok(
        app,
        &format!("{base}/sessions"),
        &c.admin,
        json!({"title": "Autre", "starts_on": "2026-01-05", "ends_on": "2026-06-26"}),
    )
    .await;
    let other_session = other["id"].as_str().unwrap().to_owned();
    for (email, role) in [
        ("lea@example.org", "trainee"),
        ("autre@centre.example", "trainer"),
    ] {
        ok(
            app,
            &format!("{base}/sessions/{other_session}/members"),
            &c.admin,
            json!({"email": email, "role": role}),
        )
        .await;
    }
    let evaluations = format!("{base}/sessions/{other_session}/evaluations");
    ok(app, &evaluations, &other_trainer, json!({"trainee_id": lea_id, "competency_id": c.competency, "assessment": "bronze", "comment": "Échec : à reprendre"})).await;
    let validated = ok(app, &evaluations, &other_trainer, json!({"trainee_id": lea_id, "competency_id": c.competency, "assessment": "or", "pin": false})).await;
    receive_offer(
        app,
        validated["offer"]["offer_link"].as_str().unwrap(),
        None,
    )
    .await;
    // And in the trainer's own session, a credential for Camille.
    let mine = c.evaluate(app, json!("argent")).await;
    receive_offer(
        app,
        mine["offer"]["offer_link"].as_str().unwrap(),
        mine["offer"]["tx_code"].as_str(),
    )
    .await;
    TwoSessions {
        c,
        base,
        other_session,
        lea_id,
        manager,
    }
}

async fn get(app: &TestApp, path: &str, auth: &Auth) -> Reply {
    app.call(Method::GET, path, auth, None).await
}

fn column<'a>(reply: &'a Reply, key: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{}", reply.body))
        .iter()
        .map(|row| row[key].as_str().unwrap())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[tokio::test]
async fn a_trainer_reads_only_their_sessions() {
    each_engine(|app| async move {
        let t = two_sessions(&app).await;
        let (c, base) = (&t.c, &t.base);
        let lea = t.lea_id.as_str();

        // The trainer of the first session: its evaluations, credentials and people only.
        let evaluations = get(&app, &format!("{base}/evaluations"), &c.trainer).await;
        assert_eq!(column(&evaluations, "session_id"), [c.session.as_str()]);
        assert!(
            !String::from_utf8_lossy(&evaluations.raw).contains("reprendre"),
            "no other comment"
        );
        let of_lea = get(
            &app,
            &format!("{base}/evaluations?trainee_id={lea}"),
            &c.trainer,
        )
        .await;
        assert_eq!(of_lea.body, json!([]), "another session's failures");
        let credentials = get(&app, &format!("{base}/credentials"), &c.trainer).await;
        assert_eq!(column(&credentials, "account_id"), [c.trainee_id.as_str()]);
        let of_lea = get(
            &app,
            &format!("{base}/credentials?account_id={lea}"),
            &c.trainer,
        )
        .await;
        assert_eq!(of_lea.body, json!([]));
        let members = get(&app, &format!("{base}/members"), &c.trainer).await;
        let emails = column(&members, "email");
        assert!(emails.contains(&"camille@example.org"), "{emails:?}");
        assert!(
            !emails.contains(&"lea@example.org") && !emails.contains(&"autre@centre.example"),
            "{emails:?}"
        );
        let resources = get(
            &app,
            &format!("{base}/sessions/{}/resources", t.other_session),
            &c.trainer,
        )
        .await;
        assert_eq!(resources.problem(), "forbidden");
        assert_eq!(
            get(
                &app,
                &format!("{base}/sessions/{}/resources", c.session),
                &c.trainer
            )
            .await
            .status,
            StatusCode::OK
        );
        // A trainee reads their own session's resources, not another's.
        assert_eq!(
            get(
                &app,
                &format!("{base}/sessions/{}/resources", c.session),
                &c.trainee
            )
            .await
            .status,
            StatusCode::OK
        );
        assert_eq!(
            get(
                &app,
                &format!("{base}/sessions/{}/resources", t.other_session),
                &c.trainee
            )
            .await
            .problem(),
            "forbidden"
        );

        // The sessions listed to a trainer and a trainee are the ones they may open.
        for who in [&c.trainer, &c.trainee] {
            let sessions = get(&app, &format!("{base}/sessions"), who).await;
            assert_eq!(column(&sessions, "id"), [c.session.as_str()]);
        }

        // Administrators and managers read the whole organisation.
        for who in [&c.admin, &t.manager] {
            let sessions = get(&app, &format!("{base}/sessions"), who).await;
            assert_eq!(column(&sessions, "id").len(), 2);
            let evaluations = get(&app, &format!("{base}/evaluations"), who).await;
            assert_eq!(column(&evaluations, "session_id").len(), 2);
            let credentials = get(&app, &format!("{base}/credentials"), who).await;
            assert_eq!(column(&credentials, "account_id").len(), 2);
            let members = get(&app, &format!("{base}/members"), who).await;
            assert!(column(&members, "email").contains(&"lea@example.org"));
            assert_eq!(
                get(
                    &app,
                    &format!("{base}/sessions/{}/resources", t.other_session),
                    who
                )
                .await
                .status,
                StatusCode::OK
            );
        }
    })
    .await;
}

/// The centre's manager (a role in the organisation, in no session) runs every session: the
/// calendar, attendance, rooms, quizzes and members, in the API and on the pages; a trainer
/// still works only in the sessions they teach.
#[tokio::test]
async fn the_organisations_manager_runs_every_session() {
    each_engine(|app| async move {
        let t = two_sessions(&app).await;
        let (c, base) = (&t.c, &t.base);
        let other = format!("{base}/sessions/{}", t.other_session);
        for path in ["/members", "/events", "/attendance", "/rooms", "/quizzes", "/resources"] {
            let r = get(&app, &format!("{other}{path}"), &t.manager).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            let refused = get(&app, &format!("{other}{path}"), &c.trainer).await;
            assert_eq!(refused.problem(), "forbidden", "{path}");
        }
        ok(&app, &format!("{other}/events"), &t.manager, json!({"kind": "course", "title": "Module 2", "starts_at": "2027-01-18T09:00", "ends_at": "2027-01-18T12:30"})).await;
        ok(&app, &format!("{other}/attendance/slots"), &t.manager, json!({"day": "2027-01-18", "half": "morning"})).await;
        let rooms = get(&app, &format!("{other}/rooms"), &t.manager).await;
        let room = rooms.body[0]["id"].as_str().unwrap();
        ok(&app, &format!("{other}/rooms/{room}/messages"), &t.manager, json!({"body": "Bonjour à tous"})).await;
        ok(&app, &format!("{other}/members"), &t.manager, json!({"email": "camille@example.org", "role": "trainee"})).await;
        // The pages too: the session and its attendance, rooms and quizzes.
        let session_page = format!("/issuer/orgs/{}/sessions/{}", c.org, t.other_session);
        for path in ["", "/attendance", "/quizzes", &format!("/rooms/{room}")] {
            let r = app
                .send(Method::GET, &format!("{session_page}{path}"), &t.manager, None, None, &[("accept", "text/html")])
                .await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", html(&r));
        }
    })
    .await;
}

#[tokio::test]
async fn nobody_evaluates_or_certifies_themselves() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let base = format!("/issuer/api/v1/organisations/{}", c.org);
        let sid = &c.session;
        let me = |auth: &Auth| {
            let auth = auth.clone();
            let app = &app;
            async move { get(app, "/issuer/api/v1/me", &auth).await.body["account"]["id"].as_str().unwrap_or_default().to_owned() }
        };
        let (trainer_id, admin_id) = (me(&c.trainer).await, me(&c.admin).await);
        assert!(!trainer_id.is_empty() && !admin_id.is_empty());
        // The trainer and the administrator are also trainees of the session.
        for email in ["formateur@centre.example", "direction@centre.example"] {
            ok(&app, &format!("{base}/members"), &c.admin, json!({"email": email, "role": "trainee"})).await;
            ok(&app, &format!("{base}/sessions/{sid}/members"), &c.admin, json!({"email": email, "role": "trainee"})).await;
        }
        let evaluations = format!("{base}/sessions/{sid}/evaluations");
        for (who, id) in [(&c.trainer, &trainer_id), (&c.admin, &admin_id)] {
            let r = post(&app, &evaluations, who, json!({"trainee_id": id, "competency_id": c.competency, "assessment": "or", "pin": false})).await;
            assert_eq!((r.problem().as_str(), r.body["field"].as_str()), ("invalid", Some("trainee_id")), "{}", r.body);
        }
        let bulk = ok(&app, &format!("{evaluations}/bulk"), &c.trainer, json!({"competency_id": c.competency, "rows": [{"email": "formateur@centre.example", "assessment": "or"}]})).await;
        assert_eq!((bulk["created"].as_u64(), bulk["failed"].as_u64()), (Some(0), Some(1)), "{bulk}");
        // The administrator certifies neither their own identity nor their own completion.
        let identity = json!({"given_name": "Nathalie", "family_name": "Girard", "birthdate": "1980-02-03"});
        let r = app
            .call(Method::PUT, &format!("{base}/trainees/{admin_id}/identity"), &c.admin, Some(identity.clone()))
            .await;
        assert_eq!((r.problem().as_str(), r.body["field"].as_str()), ("invalid", Some("account_id")), "{}", r.body);
        let r = post(&app, &format!("{base}/sessions/{sid}/completions"), &c.admin, json!({"trainee_id": admin_id})).await;
        assert_eq!((r.problem().as_str(), r.body["field"].as_str()), ("invalid", Some("trainee_id")), "{}", r.body);
        // Nor grade their own answers to a quiz, nor mark their own attendance.
        let quiz = ok(&app, &format!("{base}/quizzes"), &c.trainer, json!({"title": "Q", "questions": [
            {"id": "q1", "prompt": "Pourquoi meuler la pointe ?", "kind": "short_answer", "points": 3}
        ]}))
        .await;
        let opening = ok(&app, &format!("{base}/sessions/{sid}/quizzes"), &c.trainer, json!({"quiz_id": quiz["id"], "opens_at": "2027-01-15T09:00", "closes_at": "2027-01-15T10:00"})).await;
        let opening = opening["id"].as_str().unwrap();
        ok(&app, &format!("{base}/sessions/{sid}/quizzes/{opening}/answers"), &c.trainer, json!({"answers": {"q1": "Pour concentrer l'arc"}})).await;
        let grades = format!("{base}/sessions/{sid}/quizzes/{opening}/results/{trainer_id}/grades");
        let r = post(&app, &grades, &c.trainer, json!({"points": {"q1": 3}})).await;
        assert_eq!((r.problem().as_str(), r.body["field"].as_str()), ("invalid", Some("trainee")), "{}", r.body);
        assert_eq!(post(&app, &grades, &c.admin, json!({"points": {"q1": 2}})).await.status, StatusCode::OK);
        let slot = ok(&app, &format!("{base}/sessions/{sid}/attendance/slots"), &c.trainer, json!({"day": "2027-01-18", "half": "morning"})).await;
        let r = app
            .call(
                Method::PUT,
                &format!("{base}/sessions/{sid}/attendance/slots/{}/marks", slot["id"].as_str().unwrap()),
                &c.trainer,
                Some(json!({"marks": [{"trainee_id": trainer_id, "status": "present"}]})),
            )
            .await;
        assert_eq!((r.problem().as_str(), r.body["field"].as_str()), ("invalid", Some("marks[0].trainee_id")), "{}", r.body);

        // Nothing was offered to them; the same acts for another person work.
        for who in [&c.trainer, &c.admin] {
            assert_eq!(get(&app, "/issuer/api/v1/me/evaluations", who).await.body, json!([]));
            assert_eq!(get(&app, "/issuer/api/v1/me/credential-offers", who).await.body, json!([]));
        }
        let r = app
            .call(Method::PUT, &format!("{base}/trainees/{}/identity", c.trainee_id), &c.admin, Some(identity))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c.evaluate(&app, json!("or")).await;
    })
    .await;
}

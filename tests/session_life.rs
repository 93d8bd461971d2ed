//! Life inside a session at the centre: the calendar (managers edit, everyone reads, iCalendar
//! feeds behind secret links) and attendance per half-day (slots from the calendar or by hand,
//! check-in with the rotating code, the trainer's marks and countersignature, the table, the
//! CSV export, the printable sheet, and the hours attended in the completion certificate) —
//! with the permissions of each role.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use common::*;
use serde_json::{Value, json};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_and_attendance() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        life(&app).await;
    }
}

async fn life(app: &TestApp) {
    // START_MS is Friday 15 January 2027, 09:00 in Paris.
    let c = centre(app).await;
    let base = format!(
        "/issuer/api/v1/organisations/{}/sessions/{}",
        c.org, c.session
    );
    let call = |method: Method, path: String, auth: Auth, body: Option<Value>| async move {
        app.call(method, &path, &auth, body).await
    };

    // The calendar: the manager writes, the trainer and the trainee only read.
    let course = json!({"kind": "course", "title": "Soudure TIG, module 1", "starts_at": "2027-01-15T09:00", "ends_at": "2027-01-15T12:30", "place": "Atelier 3"});
    for who in [&c.trainee, &c.trainer] {
        let r = call(
            Method::POST,
            format!("{base}/events"),
            who.clone(),
            Some(course.clone()),
        )
        .await;
        assert_eq!(r.problem(), "forbidden", "{}", r.body);
    }
    let r = call(
        Method::POST,
        format!("{base}/events"),
        c.admin.clone(),
        Some(course.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let morning_event = r.body["id"].as_str().unwrap().to_owned();
    for event in [
        json!({"kind": "exam", "title": "Épreuve pratique", "starts_at": "2027-01-15T14:00", "ends_at": "2027-01-15T16:00"}),
        json!({"kind": "other", "title": "Visite d'entreprise", "starts_at": "2027-01-19T10:00", "ends_at": "2027-01-19T11:00"}),
    ] {
        let r = call(
            Method::POST,
            format!("{base}/events"),
            c.admin.clone(),
            Some(event),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for bad in [
        json!({"kind": "party", "title": "x", "starts_at": "2027-01-15T09:00", "ends_at": "2027-01-15T10:00"}),
        json!({"kind": "course", "title": "x", "starts_at": "2027-01-15T09:00", "ends_at": "2027-01-15T08:00"}),
        json!({"kind": "course", "title": "x", "starts_at": "2027-01-15 09:00", "ends_at": "2027-01-15T10:00"}),
        json!({"kind": "course", "title": "x", "starts_at": "2027-01-01T09:00", "ends_at": "2027-03-01T10:00"}),
        json!({"kind": "course", "title": "", "starts_at": "2027-01-15T09:00", "ends_at": "2027-01-15T10:00"}),
        json!({"kind": "course", "title": "x", "starts_at": "2027-01-15T09:00", "ends_at": "2027-01-15T10:00", "course_id": "crs_nope"}),
    ] {
        let r = call(
            Method::POST,
            format!("{base}/events"),
            c.admin.clone(),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(r.problem(), "invalid", "{bad}: {}", r.body);
    }
    let r = call(
        Method::GET,
        format!("{base}/events"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    let visit = r.body[2]["id"].as_str().unwrap().to_owned();
    let r = call(
        Method::GET,
        format!("{base}/events?from=2027-01-16"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.body);
    let r = call(
        Method::PATCH,
        format!("{base}/events/{morning_event}"),
        c.trainer.clone(),
        Some(json!({"place": "Atelier 4"})),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::PATCH,
        format!("{base}/events/{morning_event}"),
        c.admin.clone(),
        Some(json!({"place": "Atelier 4"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["place"], "Atelier 4");
    assert_eq!(r.body["sequence"], 1);
    let r = call(
        Method::DELETE,
        format!("{base}/events/{visit}"),
        c.admin.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // A trainer of another session of the centre reads nothing of this one.
    let (other, _) = app
        .register("issuer", "autre@centre.example", "Autre Formateur")
        .await;
    let org = format!("/issuer/api/v1/organisations/{}", c.org);
    let r = call(
        Method::POST,
        format!("{org}/members"),
        c.admin.clone(),
        Some(json!({"email": "autre@centre.example", "role": "trainer"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = call(Method::POST, format!("{org}/sessions"), c.admin.clone(), Some(json!({"title": "Autre", "starts_on": "2027-01-04", "ends_on": "2027-02-26", "timezone": "Indian/Reunion"}))).await;
    assert_eq!(r.body["timezone"], "Indian/Reunion");
    let other_session = r.body["id"].as_str().unwrap().to_owned();
    let r = call(
        Method::POST,
        format!("{org}/sessions/{other_session}/members"),
        c.admin.clone(),
        Some(json!({"email": "autre@centre.example", "role": "trainer"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    for path in ["events", "attendance"] {
        let r = call(Method::GET, format!("{base}/{path}"), other.clone(), None).await;
        assert_eq!(r.problem(), "forbidden", "{path}");
    }
    let r = call(Method::POST, format!("{org}/sessions"), c.admin.clone(), Some(json!({"title": "x", "starts_on": "2027-01-04", "ends_on": "2027-02-26", "timezone": "Mars/Olympus"}))).await;
    assert_eq!(r.problem(), "invalid");

    // The iCalendar feed behind a secret link; a new link replaces the old one.
    let r = call(
        Method::POST,
        format!("{base}/calendar-feed"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = local(r.body["url"].as_str().unwrap());
    let feed = app.call(Method::GET, &first, &Auth::None, None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.headers["content-type"], "text/calendar; charset=utf-8");
    let text = String::from_utf8(feed.raw.clone()).unwrap();
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris"),
        "{text}"
    );
    assert!(
        text.contains("DTSTART;TZID=Europe/Paris:20270115T090000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("SUMMARY:Soudure TIG\\, module 1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("LOCATION:Atelier 4\r\nDESCRIPTION:Soudeur 2026\r\nSTATUS:CONFIRMED"),
        "{text}"
    );
    assert!(text.contains("SUMMARY:Visite d'entreprise\r\n"));
    assert_eq!(text.matches("STATUS:CANCELLED").count(), 1);
    assert!(text.contains("SEQUENCE:1\r\n"));
    let r = call(
        Method::POST,
        format!("{base}/calendar-feed"),
        c.trainee.clone(),
        None,
    )
    .await;
    let second = local(r.body["url"].as_str().unwrap());
    assert_eq!(
        app.call(Method::GET, &first, &Auth::None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, &second, &Auth::None, None)
            .await
            .status,
        StatusCode::OK
    );
    let r = call(
        Method::POST,
        "/issuer/api/v1/calendar-feed".into(),
        c.trainer.clone(),
        None,
    )
    .await;
    let personal = local(r.body["url"].as_str().unwrap());
    let text = String::from_utf8(
        app.call(Method::GET, &personal, &Auth::None, None)
            .await
            .raw,
    )
    .unwrap();
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 3, "{text}");

    // Attendance: the slots of the calendar's half-days, once.
    let r = call(
        Method::POST,
        format!("{base}/attendance/slots/from-calendar"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::POST,
        format!("{base}/attendance/slots/from-calendar"),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(r.body, json!({"created": 2, "existing": 0}), "{}", r.body);
    let r = call(
        Method::POST,
        format!("{base}/attendance/slots/from-calendar"),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(r.body, json!({"created": 0, "existing": 2}));
    let r = call(
        Method::POST,
        format!("{base}/attendance/slots"),
        c.trainer.clone(),
        Some(json!({"day": "2027-01-18", "half": "morning"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["starts"].as_str(), r.body["minutes"].as_i64()),
        (Some("09:00"), Some(210))
    );
    let monday = r.body["id"].as_str().unwrap().to_owned();
    let r = call(
        Method::POST,
        format!("{base}/attendance/slots"),
        c.trainer.clone(),
        Some(json!({"day": "2027-01-18", "half": "morning"})),
    )
    .await;
    assert_eq!(r.problem(), "conflict");
    for bad in [
        json!({"day": "2027-01-18", "half": "evening"}),
        json!({"day": "2027-01-18", "half": "morning", "starts": "14:00", "ends": "15:00"}),
        json!({"day": "18/01/2027", "half": "morning"}),
    ] {
        let r = call(
            Method::POST,
            format!("{base}/attendance/slots"),
            c.trainer.clone(),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(r.problem(), "invalid", "{bad}");
    }
    let table = call(
        Method::GET,
        format!("{base}/attendance"),
        c.trainer.clone(),
        None,
    )
    .await;
    let slots = table.body["slots"].as_array().unwrap().clone();
    assert_eq!(slots.len(), 3, "{}", table.body);
    let (morning, afternoon) = (
        slots[0]["id"].as_str().unwrap().to_owned(),
        slots[1]["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        (slots[0]["starts"].as_str(), slots[0]["ends"].as_str()),
        (Some("09:00"), Some("12:30"))
    );
    assert_eq!(
        (
            slots[1]["half"].as_str(),
            slots[1]["starts"].as_str(),
            slots[1]["ends"].as_str()
        ),
        (Some("afternoon"), Some("14:00"), Some("16:00"))
    );
    assert_eq!(slots[0]["rate"], Value::Null);

    // The trainee checks in with the code the trainer shows; only that code, only once.
    let slot = |id: &str| format!("{base}/attendance/slots/{id}");
    let r = call(
        Method::GET,
        format!("{}/code", slot(&morning)),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let code = call(
        Method::GET,
        format!("{}/code", slot(&morning)),
        c.trainer.clone(),
        None,
    )
    .await;
    let code = code.body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let r = call(
        Method::POST,
        format!("{}/check-in", slot(&morning)),
        c.trainee.clone(),
        Some(json!({"code": wrong})),
    )
    .await;
    assert_eq!(r.problem(), "invalid");
    let r = call(
        Method::POST,
        format!("{}/check-in", slot(&morning)),
        c.trainer.clone(),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(r.problem(), "forbidden", "only trainees check in");
    app.clock.advance_secs(20);
    let r = call(
        Method::POST,
        format!("{}/check-in", slot(&morning)),
        c.trainee.clone(),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "present");
    let r = call(
        Method::POST,
        format!("{}/check-in", slot(&morning)),
        c.trainee.clone(),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(r.problem(), "conflict");
    // Monday's slot is not open on Friday.
    let monday_code = call(
        Method::GET,
        format!("{}/code", slot(&monday)),
        c.trainer.clone(),
        None,
    )
    .await;
    let r = call(
        Method::POST,
        format!("{}/check-in", slot(&monday)),
        c.trainee.clone(),
        Some(json!({"code": monday_code.body["code"]})),
    )
    .await;
    assert_eq!(r.problem(), "conflict");
    // 14:20: late for the 14:00 exam.
    app.clock.advance_secs(5 * 3600 + 20 * 60);
    let code = call(
        Method::GET,
        format!("{}/code", slot(&afternoon)),
        c.trainer.clone(),
        None,
    )
    .await;
    let r = call(
        Method::POST,
        format!("{}/check-in", slot(&afternoon)),
        c.trainee.clone(),
        Some(json!({"code": code.body["code"]})),
    )
    .await;
    assert_eq!(r.body["status"], "late", "{}", r.body);

    // The trainer marks, and countersigns once everyone is marked.
    let r = call(
        Method::POST,
        format!("{}/countersign", slot(&monday)),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "conflict", "Camille is not marked on Monday");
    let r = call(
        Method::PUT,
        format!("{}/marks", slot(&afternoon)),
        c.trainee.clone(),
        Some(json!({"marks": [{"trainee_id": c.trainee_id, "status": "present"}]})),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    for bad in [
        json!({"marks": [{"trainee_id": c.trainee_id, "status": "asleep"}]}),
        json!({"marks": [{"trainee_id": "acc_nobody", "status": "present"}]}),
        json!({"marks": []}),
    ] {
        let r = call(
            Method::PUT,
            format!("{}/marks", slot(&afternoon)),
            c.trainer.clone(),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(r.problem(), "invalid", "{bad}");
    }
    let r = call(
        Method::POST,
        format!("{}/countersign", slot(&morning)),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["countersigned_by_name"], "Julien Martin");
    let r = call(Method::PUT, format!("{}/marks", slot(&afternoon)), c.trainer.clone(), Some(json!({"marks": [{"trainee_id": c.trainee_id, "status": "excused", "note": "=convocation, préfecture"}]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body[0]["source"], "trainer");
    let r = call(
        Method::PUT,
        format!("{}/marks", slot(&monday)),
        c.trainer.clone(),
        Some(json!({"marks": [{"trainee_id": c.trainee_id, "status": "absent"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let table = call(
        Method::GET,
        format!("{base}/attendance"),
        c.admin.clone(),
        None,
    )
    .await;
    let trainee = &table.body["trainees"][0];
    assert_eq!(trainee["display_name"], "Camille Durand");
    assert_eq!(
        (trainee["taken"].as_i64(), trainee["attended"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(trainee["attended_minutes"], 210);
    assert_eq!(table.body["slots"][0]["rate"], 1.0);
    assert_eq!(table.body["slots"][1]["counts"]["excused"], 1);
    assert!(table.body["slots"][0]["countersigned_at"].is_i64());
    // The trainee sees their own attendance, not another's.
    let mine = call(
        Method::GET,
        format!("{base}/attendance/trainees/{}", c.trainee_id),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["summary"]["rate"], 0.333);
    assert_eq!(mine.body["slots"][1]["status"], "excused");
    let trainer_id = table.body["slots"][0]["countersigned_by"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = call(
        Method::GET,
        format!("{base}/attendance/trainees/{trainer_id}"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::GET,
        format!("{base}/attendance"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");

    // CSV export and the printable half-day sheet, French by default.
    let csv = call(
        Method::GET,
        format!("{base}/attendance/export"),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = String::from_utf8(csv.raw).unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert!(
        lines[0].starts_with("\u{feff}Date,Demi-journée,Début"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].contains(
            "Camille Durand,camille@example.org,present,,check_in,Julien Martin,2027-01-15 "
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",excused,\"'=convocation, préfecture\",trainer,,"),
        "{}",
        lines[2]
    );
    let sheet = app
        .send(
            Method::GET,
            &format!("{}/sheet", slot(&morning)),
            &c.trainer,
            None,
            None,
            &[],
        )
        .await;
    let html = String::from_utf8(sheet.raw).unwrap();
    assert!(
        html.contains("Feuille d'émargement") && html.contains("Camille Durand"),
        "{html}"
    );
    assert!(
        html.contains("Présence attestée par code le 15 janvier 2027 à 09:00"),
        "{html}"
    );
    assert!(html.contains("Contresigné par Julien Martin"), "{html}");
    // The page keeps to the Content-Security-Policy: its style and script are files.
    assert!(
        !html.contains("<style") && !html.contains("onclick"),
        "{html}"
    );
    assert!(html.contains("/issuer/assets/carnet.css"), "{html}");
    let css = app
        .send(
            Method::GET,
            "/issuer/assets/carnet.css",
            &Auth::None,
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    let sheet = app
        .send(
            Method::GET,
            &format!("{}/sheet", slot(&morning)),
            &c.trainer,
            None,
            None,
            &[("accept-language", "en-GB,en;q=0.9")],
        )
        .await;
    assert!(
        String::from_utf8(sheet.raw)
            .unwrap()
            .contains("Attendance sheet")
    );

    // Changing a countersigned slot withdraws the countersignature.
    let r = call(
        Method::PUT,
        format!("{}/marks", slot(&morning)),
        c.trainer.clone(),
        Some(json!({"marks": [{"trainee_id": c.trainee_id, "status": "late"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let table = call(
        Method::GET,
        format!("{base}/attendance"),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(table.body["slots"][0]["countersigned_at"], Value::Null);

    // The completion certificate carries the hours attended: 3.5 (late still counts).
    let r = call(
        Method::POST,
        format!("{base}/completions"),
        c.admin.clone(),
        Some(json!({"trainee_id": c.trainee_id, "pin": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (claims,): (String,) = sqlx::query_as(
        "SELECT claims FROM credential_offers WHERE configuration_id = 'completion'",
    )
    .fetch_one(app.ctx(ServiceKind::Issuer).db.pool())
    .await
    .unwrap();
    let claims: Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(claims["hours"]["attended"], 3.5, "{claims}");
}

/// The path of an issuer URL on the test router.
fn local(url: &str) -> String {
    let path = url.split_once("://").map_or(url, |(_, rest)| {
        &rest[rest.find('/').unwrap_or(rest.len())..]
    });
    path.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_and_moderation() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        rooms(&app).await;
    }
}

async fn rooms(app: &TestApp) {
    let c = centre(app).await;
    let org = format!("/issuer/api/v1/organisations/{}", c.org);
    let base = format!("{org}/sessions/{}", c.session);
    let call = |method: Method, path: String, auth: Auth, body: Option<Value>| async move {
        app.call(method, &path, &auth, body).await
    };
    // A second trainee; a trainer of another session.
    let (b, b_id) = app
        .register("issuer", "lea@example.org", "Léa Martin")
        .await;
    let (other, _) = app
        .register("issuer", "autre@centre.example", "Autre Formateur")
        .await;
    for (email, role) in [
        ("lea@example.org", "trainee"),
        ("autre@centre.example", "trainer"),
    ] {
        let r = call(
            Method::POST,
            format!("{org}/members"),
            c.admin.clone(),
            Some(json!({"email": email, "role": role})),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let r = call(
        Method::POST,
        format!("{base}/members"),
        c.admin.clone(),
        Some(json!({"email": "lea@example.org", "role": "trainee"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = call(
        Method::POST,
        format!("{org}/sessions"),
        c.admin.clone(),
        Some(json!({"title": "Autre", "starts_on": "2027-01-04", "ends_on": "2027-02-26"})),
    )
    .await;
    let r = call(
        Method::POST,
        format!("{org}/sessions/{}/members", r.body["id"].as_str().unwrap()),
        c.admin.clone(),
        Some(json!({"email": "autre@centre.example", "role": "trainer"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);

    // The information room: staff post, trainees read.
    let r = call(
        Method::GET,
        format!("{base}/rooms"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(
        (r.body[0]["kind"].as_str(), r.body[0]["can_post"].as_bool()),
        (Some("information"), Some(false))
    );
    let info = r.body[0]["id"].as_str().unwrap().to_owned();
    let messages = |room: &str| format!("{base}/rooms/{room}/messages");
    let r = call(
        Method::POST,
        messages(&info),
        c.trainee.clone(),
        Some(json!({"body": "Bonjour"})),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::POST,
        messages(&info),
        c.trainer.clone(),
        Some(json!({"body": "Atelier 3 demain, 9 h."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = call(Method::GET, messages(&info), b.clone(), None).await;
    assert_eq!(r.body[0]["body"], "Atelier 3 demain, 9 h.");

    // A private chat between two trainees, found again rather than doubled; moderated, and
    // every member is told.
    let r = call(
        Method::POST,
        format!("{base}/rooms"),
        c.trainee.clone(),
        Some(json!({"with": b_id})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let chat = r.body["id"].as_str().unwrap().to_owned();
    assert!(
        r.body["notice"].as_str().unwrap().contains("modérées"),
        "{}",
        r.body
    );
    let r = call(
        Method::POST,
        format!("{base}/rooms"),
        b.clone(),
        Some(json!({"with": c.trainee_id})),
    )
    .await;
    assert_eq!(
        (r.status, r.body["id"].as_str()),
        (StatusCode::OK, Some(chat.as_str()))
    );
    for bad in [json!({"with": c.trainee_id}), json!({"with": "acc_nobody"})] {
        let r = call(
            Method::POST,
            format!("{base}/rooms"),
            c.trainee.clone(),
            Some(bad),
        )
        .await;
        assert_eq!(r.problem(), "invalid");
    }
    let trainer_id = call(
        Method::GET,
        "/issuer/api/v1/me".into(),
        c.trainer.clone(),
        None,
    )
    .await
    .body["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_id = call(
        Method::GET,
        "/issuer/api/v1/me".into(),
        c.admin.clone(),
        None,
    )
    .await
    .body["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = call(
        Method::POST,
        format!("{base}/rooms"),
        c.admin.clone(),
        Some(json!({"with": trainer_id})),
    )
    .await;
    assert_eq!(
        r.problem(),
        "invalid",
        "no trainee between staff: {}",
        r.body
    );
    let r = app
        .send(
            Method::GET,
            &format!("{base}/rooms"),
            &b,
            None,
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    assert!(r.body[1]["notice"].as_str().unwrap().contains("moderated"));

    // The live stream of the chat: what is posted arrives, and a reconnection resumes.
    let events_path = format!("{base}/rooms/{chat}/events");
    let stream = |auth: Auth, last: Option<String>| {
        let path = events_path.clone();
        async move {
            let mut req = axum::http::Request::builder().uri(path);
            if let Auth::Session { cookie, .. } = &auth {
                req = req.header("cookie", cookie.as_str());
            }
            if let Some(last) = last {
                req = req.header("last-event-id", last);
            }
            let response = app
                .router
                .clone()
                .oneshot(req.body(axum::body::Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.into_body()
        }
    };
    async fn next_event(body: &mut axum::body::Body) -> String {
        use http_body_util::BodyExt;
        loop {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .unwrap();
            if let Ok(data) = frame.into_data() {
                let text = String::from_utf8(data.to_vec()).unwrap();
                if text.contains("data:") {
                    return text;
                }
            }
        }
    }
    let mut live = stream(b.clone(), None).await;
    let r = call(
        Method::POST,
        messages(&chat),
        c.trainee.clone(),
        Some(json!({"body": "Tu as le support du module 2 ?"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.body["id"].as_str().unwrap().to_owned();
    // The stream resumes after a message's position (its events' id).
    let first_cursor = r.body["position"].as_i64().unwrap().to_string();
    let event = next_event(&mut live).await;
    assert!(
        event.contains("event: message") && event.contains("support du module 2"),
        "{event}"
    );
    app.clock.advance_secs(1);
    let r = call(
        Method::POST,
        messages(&chat),
        b.clone(),
        Some(json!({"body": "Oui, je te l'envoie."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut resumed = stream(c.trainee.clone(), Some(first_cursor)).await;
    let event = next_event(&mut resumed).await;
    assert!(
        event.contains("je te l'envoie") && !event.contains("module 2"),
        "{event}"
    );

    // Moderation: a trainer of the session reads and removes; one of another session cannot.
    let r = call(
        Method::GET,
        format!("{base}/rooms"),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(
        r.body.as_array().unwrap().len(),
        2,
        "moderators see every chat"
    );
    for path in [format!("{base}/rooms"), messages(&chat)] {
        let r = call(Method::GET, path, other.clone(), None).await;
        assert_eq!(r.problem(), "forbidden");
    }
    let r = call(
        Method::DELETE,
        format!("{}/{first}", messages(&chat)),
        other.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::DELETE,
        format!("{}/{first}", messages(&chat)),
        b.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::DELETE,
        format!("{}/{first}", messages(&chat)),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // The stream was not read meanwhile: the removal and the reply come now.
    let events = next_event(&mut live).await + &next_event(&mut live).await;
    assert!(events.contains("je te l'envoie"), "{events}");
    assert!(
        events.contains("event: removed") && events.contains(&first),
        "{events}"
    );
    let r = call(Method::GET, messages(&chat), c.trainee.clone(), None).await;
    assert_eq!(r.body[1]["removed"], true);
    assert_eq!(r.body[1]["body"], Value::Null);
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_log WHERE action = 'room.message_removed'")
            .fetch_one(app.ctx(ServiceKind::Issuer).db.pool())
            .await
            .unwrap();
    assert!(
        details.contains("support du module 2"),
        "the removed text is kept in the audit"
    );

    // A muted member cannot post, until the mute ends.
    let mute = json!({"account_id": b_id, "minutes": 60, "reason": "propos déplacés"});
    let r = call(
        Method::POST,
        format!("{base}/mutes"),
        c.trainee.clone(),
        Some(mute.clone()),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::POST,
        format!("{base}/mutes"),
        other.clone(),
        Some(mute.clone()),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::POST,
        format!("{base}/mutes"),
        c.trainer.clone(),
        Some(json!({"account_id": b_id, "minutes": 0})),
    )
    .await;
    assert_eq!(r.problem(), "invalid");
    let r = call(
        Method::POST,
        format!("{base}/mutes"),
        c.trainer.clone(),
        Some(mute),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        Method::POST,
        messages(&chat),
        b.clone(),
        Some(json!({"body": "..."})),
    )
    .await;
    assert_eq!(r.problem(), "conflict");
    let r = call(Method::GET, format!("{base}/rooms"), b.clone(), None).await;
    assert_eq!(r.body[1]["can_post"], false);
    app.clock.advance_secs(1);
    let r = call(
        Method::POST,
        messages(&chat),
        c.trainee.clone(),
        Some(json!({"body": "Et le module 3 ?"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.clock.advance_secs(61 * 60);
    let b = session_of(&app.login("issuer", "lea@example.org", PASSWORD).await);
    let r = call(
        Method::POST,
        messages(&chat),
        b.clone(),
        Some(json!({"body": "Pardon."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let _ = admin_id;

    // History pages backwards.
    let page = call(
        Method::GET,
        format!("{}?limit=2", messages(&chat)),
        b.clone(),
        None,
    )
    .await;
    assert_eq!(page.body.as_array().unwrap().len(), 2);
    assert_eq!(page.body[0]["body"], "Pardon.");
    assert_eq!(page.body[1]["body"], "Et le module 3 ?");
    let before = page.body[1]["cursor"].as_str().unwrap();
    let older = call(
        Method::GET,
        format!("{}?limit=2&before={before}", messages(&chat)),
        b.clone(),
        None,
    )
    .await;
    assert_eq!(
        older.body[0]["body"], "Oui, je te l'envoie.",
        "{}",
        older.body
    );
    assert_eq!(older.body[1]["removed"], true);

    // With PostgreSQL, another instance's watchers are woken too (LISTEN/NOTIFY).
    if app.engine == carnet_service::db::Engine::Postgres {
        let elsewhere = carnet_service::bus::Bus::new(&app.ctx(ServiceKind::Issuer).db);
        let mut woken = elsewhere.subscribe(&format!("room:{chat}"));
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let r = call(
            Method::POST,
            messages(&chat),
            b.clone(),
            Some(json!({"body": "Vu."})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        tokio::time::timeout(std::time::Duration::from_secs(10), woken.recv())
            .await
            .expect("the other instance is woken")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quizzes_open_answer_once_grade_and_evidence() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        quizzes(&app).await;
    }
}

async fn quizzes(app: &TestApp) {
    let c = centre(app).await;
    let org = format!("/issuer/api/v1/organisations/{}", c.org);
    let base = format!("{org}/sessions/{}", c.session);
    let call = |method: Method, path: String, auth: Auth, body: Option<Value>| async move {
        app.call(method, &path, &auth, body).await
    };
    let quiz = json!({"title": "Sécurité à l'atelier", "questions": [
        {"id": "q1", "prompt": "Gaz de protection du TIG ?", "kind": "single_choice", "options": ["Argon", "CO2"], "correct": 0, "points": 2},
        {"id": "q2", "prompt": "Équipements obligatoires ?", "kind": "multiple_choice", "options": ["Masque", "Gants", "Cravate"], "correct": [0, 1], "points": 2},
        {"id": "q3", "prompt": "Pourquoi meuler la pointe ?", "kind": "short_answer", "points": 3}
    ]});
    let r = call(
        Method::POST,
        format!("{org}/quizzes"),
        c.trainee.clone(),
        Some(quiz.clone()),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::POST,
        format!("{org}/quizzes"),
        c.trainer.clone(),
        Some(json!({"title": "x", "questions": []})),
    )
    .await;
    assert_eq!(r.problem(), "invalid");
    let r = call(
        Method::POST,
        format!("{org}/quizzes"),
        c.trainer.clone(),
        Some(quiz),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["max"], 7);
    let quiz_id = r.body["id"].as_str().unwrap().to_owned();

    // Opened to the session from 09:00 to 10:00 on 15 January (now is 09:00).
    let window = json!({"quiz_id": quiz_id, "opens_at": "2027-01-15T09:00", "closes_at": "2027-01-15T10:00"});
    let r = call(
        Method::POST,
        format!("{base}/quizzes"),
        c.trainee.clone(),
        Some(window.clone()),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(Method::POST, format!("{base}/quizzes"), c.trainer.clone(), Some(json!({"quiz_id": quiz_id, "opens_at": "2027-01-15T10:00", "closes_at": "2027-01-15T09:00"}))).await;
    assert_eq!(r.problem(), "invalid");
    let r = call(
        Method::POST,
        format!("{base}/quizzes"),
        c.trainer.clone(),
        Some(window),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["state"], "open");
    let opening = r.body["id"].as_str().unwrap().to_owned();
    let later = call(Method::POST, format!("{base}/quizzes"), c.trainer.clone(), Some(json!({"quiz_id": quiz_id, "opens_at": "2027-01-20T09:00", "closes_at": "2027-01-20T10:00"}))).await;
    let later = later.body["id"].as_str().unwrap().to_owned();

    // The trainee sees the questions without their answers.
    let r = call(
        Method::GET,
        format!("{base}/quizzes"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let shown = r.body[0]["questions"].to_string();
    assert!(
        shown.contains("Gaz de protection") && !shown.contains("correct"),
        "{shown}"
    );
    assert_eq!(r.body[1]["state"], "upcoming");
    assert_eq!(r.body[1]["questions"], Value::Null);

    // Answered once; not before it opens; not after it closes; trainers do not answer.
    let answers = json!({"answers": {"q1": 0, "q2": [0, 1], "q3": "Pour concentrer l'arc"}});
    let answer = |opening: &str| format!("{base}/quizzes/{opening}/answers");
    let r = call(
        Method::POST,
        answer(&opening),
        c.trainer.clone(),
        Some(answers.clone()),
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::POST,
        answer(&later),
        c.trainee.clone(),
        Some(answers.clone()),
    )
    .await;
    assert_eq!(r.problem(), "conflict");
    let r = call(
        Method::POST,
        answer(&opening),
        c.trainee.clone(),
        Some(json!({"answers": {"q9": 0}})),
    )
    .await;
    assert_eq!(r.problem(), "invalid");
    let r = call(
        Method::POST,
        answer(&opening),
        c.trainee.clone(),
        Some(answers.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["score"].as_u64(), r.body["pending"].as_bool()),
        (Some(4), Some(true))
    );
    let r = call(
        Method::POST,
        answer(&opening),
        c.trainee.clone(),
        Some(answers.clone()),
    )
    .await;
    assert_eq!(r.problem(), "conflict", "a quiz is answered once");
    app.clock.advance_secs(3600);
    let (lea, _) = app
        .register("issuer", "lea@example.org", "Léa Martin")
        .await;
    for path in [format!("{org}/members"), format!("{base}/members")] {
        let r = call(
            Method::POST,
            path,
            c.admin.clone(),
            Some(json!({"email": "lea@example.org", "role": "trainee"})),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let r = call(Method::POST, answer(&opening), lea.clone(), Some(answers)).await;
    assert_eq!(r.problem(), "conflict", "closed at 10:00");

    // Results per trainee; the short answer graded by hand.
    let r = call(
        Method::GET,
        format!("{base}/quizzes/{opening}/results"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.problem(), "forbidden");
    let r = call(
        Method::GET,
        format!("{base}/quizzes/{opening}/results"),
        c.trainer.clone(),
        None,
    )
    .await;
    assert_eq!(r.body.as_array().unwrap().len(), 2, "{}", r.body);
    let camille = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["trainee_id"] == c.trainee_id.as_str())
        .unwrap();
    assert_eq!(camille["answers"]["q3"], "Pour concentrer l'arc");
    let grades = format!("{base}/quizzes/{opening}/results/{}/grades", c.trainee_id);
    let r = call(
        Method::POST,
        grades.clone(),
        c.trainer.clone(),
        Some(json!({"points": {"q3": 9}})),
    )
    .await;
    assert_eq!(r.problem(), "invalid");
    let r = call(
        Method::POST,
        grades,
        c.trainer.clone(),
        Some(json!({"points": {"q3": 3}})),
    )
    .await;
    assert_eq!(
        (r.body["score"].as_u64(), r.body["pending"].as_bool()),
        (Some(7), Some(false))
    );
    let r = call(
        Method::GET,
        format!("{base}/quizzes"),
        c.trainee.clone(),
        None,
    )
    .await;
    assert_eq!(r.body[0]["result"]["score"], 7);

    // The result as the evidence of an evaluation: the credential says which quiz and score.
    let evaluate = |evidence: &str| json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "or", "evidence_quiz_id": evidence, "pin": false});
    let r = call(
        Method::POST,
        format!("{base}/evaluations"),
        c.trainer.clone(),
        Some(evaluate(&later)),
    )
    .await;
    assert_eq!(r.problem(), "invalid", "not answered: {}", r.body);
    let r = call(
        Method::POST,
        format!("{base}/evaluations"),
        c.trainer.clone(),
        Some(evaluate(&opening)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["evaluation"]["evidence_quiz_id"], opening.as_str());
    let (claims,): (String,) = sqlx::query_as(
        "SELECT claims FROM credential_offers WHERE configuration_id = 'competency'",
    )
    .fetch_one(app.ctx(ServiceKind::Issuer).db.pool())
    .await
    .unwrap();
    let claims: Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(
        claims["evidence"]["quiz"],
        json!({"title": "Sécurité à l'atelier", "score": 7, "max": 7, "pending": false})
    );
}

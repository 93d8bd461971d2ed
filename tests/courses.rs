//! Courses, resources (text, links, checked file uploads; shared or duplicated), formations
//! and the resources of a session.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

#[tokio::test]
async fn courses_resources_formations_sessions() {
    each_engine(|app| async move {
        let (admin, _) = app.register("issuer", "direction@centre.example", "Direction").await;
        let (trainee, _) = app.register("issuer", "trainee@example.org", "Trainee").await;
        let org = app.call(Method::POST, "/issuer/api/v1/organisations", &admin, Some(json!({"name": "C", "siret": "45218903800014"}))).await;
        let base = format!("/issuer/api/v1/organisations/{}", org.body["id"].as_str().unwrap());
        app.call(Method::POST, &format!("{base}/members"), &admin, Some(json!({"email": "trainee@example.org", "role": "trainee"}))).await;
        let post = |path: String, body: serde_json::Value| {
            let admin = admin.clone();
            let app = &app;
            async move {
                let r = app.call(Method::POST, &path, &admin, Some(body)).await;
                assert!(r.status.is_success(), "{path}: {}", r.body);
                r.body
            }
        };
        let welding = post(format!("{base}/courses"), json!({"title": "Soudure TIG", "description": "Bases"})).await;
        let safety = post(format!("{base}/courses"), json!({"title": "Sécurité"})).await;
        let note = post(format!("{base}/resources"), json!({"title": "Consignes", "kind": "text", "body": "# Port des EPI\\nToujours."})).await;
        let link = post(format!("{base}/resources"), json!({"title": "INRS", "kind": "link", "url": "https://www.inrs.fr"})).await;
        let bad = app.call(Method::POST, &format!("{base}/resources"), &admin, Some(json!({"title": "x", "kind": "link", "url": "javascript:alert(1)"}))).await;
        assert_eq!(bad.body["field"], "url");

        // Uploads: the declared type must match the content.
        let pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF";
        let up = |bytes: &'static [u8], ct: &'static str| {
            let app = &app;
            let admin = admin.clone();
            let path = format!("{base}/resources/files?title=Fiche%20technique");
            async move { app.send(Method::POST, &path, &admin, Some(bytes), Some(ct), &[]).await }
        };
        let file = up(pdf, "application/pdf").await;
        assert_eq!(file.status, StatusCode::CREATED, "{}", file.body);
        assert_eq!(file.body["size"], pdf.len());
        assert_eq!(up(b"MZ\\x90\\x00 not a pdf", "application/pdf").await.problem(), "unsupported-media-type");
        assert_eq!(up(b"<html><script>", "text/html").await.problem(), "unsupported-media-type");
        let big = vec![b'%'; 3 * 1024 * 1024];
        let big: &'static [u8] = Box::leak(big.into_boxed_slice());
        let large = app.send(Method::POST, &format!("{base}/resources/files?title=big"), &admin, Some(big), Some("application/pdf"), &[]).await;
        assert_eq!(large.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "3 MiB is accepted in size, refused in type");

        // Shared between two courses, or duplicated.
        for course in [&welding, &safety] {
            let r = app
                .call(Method::POST, &format!("{base}/courses/{}/resources", course["id"].as_str().unwrap()), &admin, Some(json!({"resource_id": note["id"]})))
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT);
        }
        for r in [&link, &file.body] {
            app.call(Method::POST, &format!("{base}/courses/{}/resources", welding["id"].as_str().unwrap()), &admin, Some(json!({"resource_id": r["id"]}))).await;
        }
        let twice = app
            .call(Method::POST, &format!("{base}/courses/{}/resources", safety["id"].as_str().unwrap()), &admin, Some(json!({"resource_id": note["id"]})))
            .await;
        assert_eq!(twice.problem(), "conflict");
        let copy = post(format!("{base}/resources/{}/copy", note["id"].as_str().unwrap()), json!(null)).await;
        assert_ne!(copy["id"], note["id"]);
        assert_eq!(copy["body"], note["body"]);

        // The competencies a course works on.
        let scale = post(format!("{base}/scales"), json!({"name": "m", "scale": {"kind": "levels", "labels": ["acquis"]}})).await;
        let competency = post(format!("{base}/competencies"), json!({"code": "SOUD", "name": "Souder", "scale_id": scale["id"]})).await;
        let wid = welding["id"].as_str().unwrap();
        let set = app.call(Method::PUT, &format!("{base}/courses/{wid}/competencies"), &admin, Some(json!({"competency_ids": [competency["id"]]}))).await;
        assert_eq!(set.status, StatusCode::NO_CONTENT);
        let got = app.call(Method::GET, &format!("{base}/courses/{wid}/competencies"), &trainee, None).await;
        assert_eq!(got.body, json!([competency["id"]]));
        let bad = app.call(Method::PUT, &format!("{base}/courses/{wid}/competencies"), &admin, Some(json!({"competency_ids": ["cmp_nope"]}))).await;
        assert_eq!(bad.body["field"], "competency_ids");

        let formation = post(format!("{base}/formations"), json!({"title": "Soudeur"})).await;
        let fid = formation["id"].as_str().unwrap();
        let set = app
            .call(Method::PUT, &format!("{base}/formations/{fid}/courses"), &admin, Some(json!({"course_ids": [safety["id"], welding["id"]]})))
            .await;
        assert_eq!(set.status, StatusCode::NO_CONTENT);
        let unknown = app.call(Method::PUT, &format!("{base}/formations/{fid}/courses"), &admin, Some(json!({"course_ids": ["crs_nope"]}))).await;
        assert_eq!(unknown.body["field"], "course_ids");
        let session = post(format!("{base}/sessions"), json!({"title": "Promo", "starts_on": "2026-01-05", "ends_on": "2026-06-26", "planned_hours": 455, "formation_id": fid})).await;
        assert_eq!(session["planned_hours"], 455);

        // A trainee of the session reads its courses and resources (a member of the centre
        // outside the session does not), and downloads the file.
        let session_resources = format!("{base}/sessions/{}/resources", session["id"].as_str().unwrap());
        assert_eq!(app.call(Method::GET, &session_resources, &trainee, None).await.problem(), "forbidden");
        post(format!("{base}/sessions/{}/members", session["id"].as_str().unwrap()), json!({"email": "trainee@example.org", "role": "trainee"})).await;
        let listing = app.call(Method::GET, &session_resources, &trainee, None).await;
        let titles: Vec<&str> = listing.body.as_array().unwrap().iter().map(|c| c["course"]["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Sécurité", "Soudure TIG"]);
        assert_eq!(listing.body[1]["resources"].as_array().unwrap().len(), 3);
        let content = app
            .send(Method::GET, &format!("{base}/resources/{}/content", file.body["id"].as_str().unwrap()), &trainee, None, None, &[])
            .await;
        assert_eq!(content.raw, pdf);
        assert_eq!(content.headers.get("content-type").unwrap(), "application/pdf");
        // On the trainee's session page, the text is shown in place, and every resource link
        // opens a document (a text resource linked to a JSON problem).
        let Auth::Session { cookie, .. } = &trainee else { unreachable!() };
        let org_id = base.rsplit('/').next().unwrap();
        let page = app
            .send(Method::GET, &format!("/issuer/orgs/{org_id}/sessions/{}", session["id"].as_str().unwrap()), &Auth::None, None, None, &[("cookie", cookie)])
            .await;
        let page = String::from_utf8_lossy(&page.raw).into_owned();
        assert!(page.contains("Toujours."), "{page}");
        let links: Vec<&str> = page.split("href=\"").skip(1).map(|h| &h[..h.find('"').unwrap()]).filter(|h| h.contains("/resources/")).collect();
        assert_eq!(links.len(), 1, "the file (the link goes out, the text is in place): {links:?}");
        for href in links {
            let r = app.send(Method::GET, href, &Auth::None, None, None, &[("cookie", cookie)]).await;
            assert_eq!(r.status, StatusCode::OK, "{href}");
            assert_eq!(r.raw, pdf, "{href}");
        }
        // Trainees do not write; outsiders do not read.
        assert_eq!(app.call(Method::POST, &format!("{base}/courses"), &trainee, Some(json!({"title": "x"}))).await.problem(), "forbidden");
        let (outsider, _) = app.register("issuer", "outsider@example.org", "Outsider").await;
        assert_eq!(app.call(Method::GET, &format!("{base}/courses"), &outsider, None).await.problem(), "not-found");
    })
    .await;
}

#[tokio::test]
async fn invitations_by_email() {
    each_engine(|app| async move {
        let (admin, _) = app
            .register("issuer", "direction@centre.example", "Direction")
            .await;
        let org = app
            .call(
                Method::POST,
                "/issuer/api/v1/organisations",
                &admin,
                Some(json!({"name": "C", "siret": "45218903800014"})),
            )
            .await;
        let base = format!(
            "/issuer/api/v1/organisations/{}",
            org.body["id"].as_str().unwrap()
        );
        let session = app
            .call(
                Method::POST,
                &format!("{base}/sessions"),
                &admin,
                Some(json!({"title": "S", "starts_on": "2026-01-05", "ends_on": "2026-02-05"})),
            )
            .await;
        let sid = session.body["id"].as_str().unwrap();
        let invited = app
            .call(
                Method::POST,
                &format!("{base}/invitations"),
                &admin,
                Some(
                    json!({"email": "Newcomer@Example.org", "role": "trainee", "session_id": sid}),
                ),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
        let token = invited.body["token"].as_str().unwrap().to_owned();
        assert!(invited.body["link"].as_str().unwrap().ends_with(&token));
        let pending = app
            .call(Method::GET, &format!("{base}/invitations"), &admin, None)
            .await;
        assert_eq!(pending.body[0]["email"], "newcomer@example.org");
        assert!(
            pending.body[0]["token"].is_null(),
            "the secret is shown once"
        );

        // Someone else cannot use the link; the invitee joins the organisation and the session.
        let (eve, _) = app.register("issuer", "eve@example.org", "Eve").await;
        assert_eq!(
            app.call(
                Method::POST,
                "/issuer/api/v1/invitations/accept",
                &eve,
                Some(json!({"token": token}))
            )
            .await
            .problem(),
            "forbidden"
        );
        let (newcomer, _) = app
            .register("issuer", "newcomer@example.org", "Newcomer")
            .await;
        let accepted = app
            .call(
                Method::POST,
                "/issuer/api/v1/invitations/accept",
                &newcomer,
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
        assert_eq!(accepted.body["session_id"], sid);
        let members = app
            .call(
                Method::GET,
                &format!("{base}/sessions/{sid}/members"),
                &admin,
                None,
            )
            .await;
        assert!(
            members
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["email"] == "newcomer@example.org" && m["role"] == "trainee")
        );
        let again = app
            .call(
                Method::POST,
                "/issuer/api/v1/invitations/accept",
                &newcomer,
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(again.problem(), "not-found", "an invitation works once");
        let bad_role = app
            .call(
                Method::POST,
                &format!("{base}/invitations"),
                &admin,
                Some(json!({"email": "x@example.org", "role": "admin", "session_id": sid})),
            )
            .await;
        assert_eq!(bad_role.body["field"], "role");
    })
    .await;
}

/// The claims of an issued SD-JWT VC, every disclosure opened.
fn claims_of(sd_jwt: &str) -> serde_json::Value {
    let parsed = carnet_core::sd_jwt::SdJwt::parse(sd_jwt).unwrap();
    serde_json::Value::Object(parsed.claims().unwrap())
}

/// The audit rows of `action` on `target`, their details.
async fn audited(app: &TestApp, action: &str, target: &str) -> Vec<serde_json::Value> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = $1 AND target = $2 ORDER BY at",
    )
    .bind(action)
    .bind(target)
    .fetch_all(app.ctx(carnet_service::ServiceKind::Issuer).db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|(d,)| serde_json::from_str(d).unwrap())
        .collect()
}

/// A competency renamed from the organisation's page reaches the credentials signed after,
/// never those signed before; once assessed its code stays and it is archived, not deleted;
/// archived, it leaves the evaluation form and comes back when restored. Courses, formations
/// and resources change, archive and detach; each change is audited with before and after, and
/// only the organisation's staff make it.
#[tokio::test]
async fn the_catalogue_changes_without_touching_signed_credentials() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let base = format!("/issuer/api/v1/organisations/{}", c.org);
        let evaluated = c.evaluate(&app, json!("argent")).await;
        let before = receive_offer(
            &app,
            evaluated["offer"]["offer_link"].as_str().unwrap(),
            evaluated["offer"]["tx_code"].as_str(),
        )
        .await;
        assert_eq!(claims_of(&before)["competency"]["name"], "Soudure TIG");

        // From the page: the edit form of the competency, as the administrator fills it.
        let page = html(&open_page(&app, &format!("/issuer/orgs/{}", c.org), &c.admin).await);
        let action = format!("/issuer/do/api/v1/organisations/{}/competencies/{}", c.org, c.competency);
        assert!(page.contains(&format!("action=\"{action}\"")), "{page}");
        assert!(page.contains("Fiche RNCP"), "the codes that tie centres: {page}");
        let body = format!(
            "csrf={}&_method=PATCH&code=SOUD-TIG&name=Soudage+TIG+%28proc%C3%A9d%C3%A9+141%29&description=Souder+%C3%A0+l%27arc+TIG&framework_codes.rome=H2913&framework_codes.rncp=RNCP35192",
            csrf_of(&page)
        );
        let r = post_form(&app, &action, &body, cookie(&c.admin)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let changes = audited(&app, "competency.updated", &c.competency).await;
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0]["before"]["name"], "Soudure TIG");
        assert_eq!(changes[0]["after"]["name"], "Soudage TIG (procédé 141)");
        assert_eq!(changes[0]["after"]["framework_codes"]["rncp"], "RNCP35192");

        // Signed before: unchanged. Signed after: the new name and code.
        assert_eq!(claims_of(&before)["competency"]["name"], "Soudure TIG");
        let evaluated = c.evaluate(&app, json!("or")).await;
        let after = receive_offer(
            &app,
            evaluated["offer"]["offer_link"].as_str().unwrap(),
            evaluated["offer"]["tx_code"].as_str(),
        )
        .await;
        let competency = &claims_of(&after)["competency"];
        assert_eq!(competency["name"], "Soudage TIG (procédé 141)");
        assert_eq!(competency["framework_codes"]["rncp"], "RNCP35192");

        // Assessed: its code stays, it is not deleted; the trainee changes nothing.
        let path = format!("{base}/competencies/{}", c.competency);
        let r = app
            .call(Method::PATCH, &path, &c.admin, Some(json!({"code": "TIG-2"})))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = app.call(Method::DELETE, &path, &c.admin, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = app
            .call(Method::PATCH, &path, &c.trainee, Some(json!({"name": "x"})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

        // Archived: out of the evaluation form and refused; restored: back.
        let r = app
            .call(Method::PATCH, &path, &c.trainer, Some(json!({"archived": true})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body["archived_at"].is_i64(), "{}", r.body);
        let session_page = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        assert!(!page.contains(&format!("<option value=\"{}\"", c.competency)), "{page}");
        let r = app
            .call(
                Method::POST,
                &format!("{base}/sessions/{}/evaluations", c.session),
                &c.trainer,
                Some(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "or"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let page = html(&open_page(&app, &format!("/issuer/orgs/{}", c.org), &c.admin).await);
        assert!(page.contains("Archivées (1)"), "{page}");
        let r = app
            .call(Method::PATCH, &path, &c.admin, Some(json!({"archived": false})))
            .await;
        assert_eq!(r.body["archived_at"], serde_json::Value::Null, "{}", r.body);
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        assert!(page.contains(&format!("<option value=\"{}\"", c.competency)), "{page}");

        // A competency never assessed is deleted; its scale then too.
        let scale = app
            .call(Method::POST, &format!("{base}/scales"), &c.admin,
                Some(json!({"name": "Note", "scale": {"kind": "score", "max": 20, "pass": 10}})))
            .await
            .body;
        let spare = app
            .call(Method::POST, &format!("{base}/competencies"), &c.admin,
                Some(json!({"code": "MIG", "name": "Soudure MIG", "scale_id": scale["id"]})))
            .await
            .body;
        let scale_path = format!("{base}/scales/{}", scale["id"].as_str().unwrap());
        let r = app.call(Method::DELETE, &scale_path, &c.admin, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "in use: {}", r.body);
        let r = app
            .call(Method::PATCH, &scale_path, &c.admin,
                Some(json!({"name": "Note sur 20", "scale": {"kind": "score", "max": 20, "pass": 12}})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "never assessed, redefined: {}", r.body);
        let r = app
            .call(Method::DELETE, &format!("{base}/competencies/{}", spare["id"].as_str().unwrap()), &c.admin, None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = app.call(Method::DELETE, &scale_path, &c.admin, None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

        // Courses, formations, resources: changed, archived, detached; audited.
        let course = app
            .call(Method::POST, &format!("{base}/courses"), &c.admin, Some(json!({"title": "Soudure TIG : bases"})))
            .await
            .body;
        let course_id = course["id"].as_str().unwrap();
        let resource = app
            .call(Method::POST, &format!("{base}/resources"), &c.admin,
                Some(json!({"title": "Fiche sécurité", "kind": "text", "body": "Gants, masque."})))
            .await
            .body;
        let resource_id = resource["id"].as_str().unwrap();
        let r = app
            .call(Method::POST, &format!("{base}/courses/{course_id}/resources"), &c.admin,
                Some(json!({"resource_id": resource_id})))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let page = html(&open_page(&app, &format!("/issuer/orgs/{}/courses", c.org), &c.admin).await);
        let csrf = csrf_of(&page);
        for (action, body) in [
            (format!("/issuer/do/api/v1/organisations/{}/courses/{course_id}", c.org),
             "_method=PATCH&title=Soudure+TIG+%3A+les+bases&description=Premier+module"),
            (format!("/issuer/do/api/v1/organisations/{}/resources/{resource_id}", c.org),
             "_method=PATCH&title=Fiche+s%C3%A9curit%C3%A9&body=Gants%2C+masque%2C+tablier."),
        ] {
            assert!(page.contains(&format!("action=\"{action}\"")), "{action}: {page}");
            let r = post_form(&app, &action, &format!("csrf={csrf}&{body}"), cookie(&c.admin)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", html(&r));
        }
        let r = app.call(Method::GET, &format!("{base}/courses"), &c.trainee, None).await;
        assert_eq!(r.body[0]["title"], "Soudure TIG : les bases", "{}", r.body);
        let r = app.call(Method::GET, &format!("{base}/courses/{course_id}/resources"), &c.trainee, None).await;
        assert_eq!(r.body[0]["body"], "Gants, masque, tablier.", "{}", r.body);
        assert_eq!(audited(&app, "course.updated", course_id).await.len(), 1);
        assert_eq!(audited(&app, "resource.updated", resource_id).await[0]["before"]["body"], "Gants, masque.");
        let detach = format!("/issuer/do/api/v1/organisations/{}/courses/{course_id}/resources/{resource_id}", c.org);
        assert!(page.contains(&format!("action=\"{detach}\"")), "{page}");
        let r = post_form(&app, &detach, &format!("csrf={csrf}&_method=DELETE"), cookie(&c.admin)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app.call(Method::GET, &format!("{base}/courses/{course_id}/resources"), &c.admin, None).await;
        assert_eq!(r.body, json!([]));
        let formation = app
            .call(Method::POST, &format!("{base}/formations"), &c.admin, Some(json!({"title": "Soudeur"})))
            .await
            .body;
        let formation_path = format!("{base}/formations/{}", formation["id"].as_str().unwrap());
        let r = app
            .call(Method::PATCH, &formation_path, &c.admin, Some(json!({"title": "Soudeur TIG", "archived": true})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .call(Method::POST, &format!("{base}/sessions"), &c.admin,
                Some(json!({"title": "x", "starts_on": "2026-01-05", "ends_on": "2026-01-06", "formation_id": formation["id"]})))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no new session of an archived formation: {}", r.body);
        let r = app
            .call(Method::PATCH, &format!("{base}/courses/{course_id}"), &c.trainee, Some(json!({"archived": true})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    })
    .await;
}

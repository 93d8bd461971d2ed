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

//! `carnet demo` seeds through the services' own API: it must succeed on a fresh data
//! directory (the directory too: the wallets publish over HTTP while the seed serves the
//! services), and a second start must find the seed and leave it alone.

use carnet::config::ServerArgs;
use carnet_service::ServiceKind;

#[path = "common/words.rs"]
mod words;

/// A fresh data directory and a free port: the seed serves the services there while the
/// wallets publish.
fn fresh(name: &str) -> (std::path::PathBuf, carnet::config::Settings) {
    let dir = std::env::temp_dir().join(format!(
        "carnet-demo-{name}-{}",
        carnet_service::id::random_token(6)
    ));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = ServerArgs {
        addr: Some(([127, 0, 0, 1], port).into()),
        data_dir: Some(dir.clone()),
        log: Some("warn".into()),
        ..ServerArgs::default()
    }
    .resolve()
    .unwrap();
    (dir, settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_once() {
    let (dir, settings) = fresh("test");
    let services = carnet::demo::prepare(&settings).await.unwrap();
    let issuer = &services
        .iter()
        .find(|s| s.kind == ServiceKind::Issuer)
        .unwrap()
        .ctx;
    let count = |table: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(issuer.db.pool())
            .await
            .unwrap();
        n
    };
    assert_eq!(count("courses").await, 4);
    assert_eq!(count("formations").await, 2);
    assert!(count("credential_offers").await > 20);
    // Each session's first days: calendar, attendance taken, a word from staff, a quiz; and
    // the session under way has a day of courses today (or next Monday).
    assert_eq!(count("calendar_events").await, 8);
    assert_eq!(count("attendance_slots").await, 8);
    assert!(count("attendance_marks").await >= 10);
    assert_eq!(count("room_messages").await, 2);
    assert_eq!(count("quiz_openings").await, 2);
    let offers = count("credential_offers").await;
    // Every trainee's wallet published a profile; a recruiter sent an offer to the welders.
    let verifier = &services
        .iter()
        .find(|s| s.kind == ServiceKind::Verifier)
        .unwrap()
        .ctx;
    let verifier_count = |table: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(verifier.db.pool())
            .await
            .unwrap();
        n
    };
    assert_eq!(verifier_count("profiles").await, 12);
    // The offers at every stage: sent, seen, declined, accepted (verified or declared), a chat.
    let statuses: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM offer_recipients GROUP BY status ORDER BY status",
    )
    .fetch_all(verifier.db.pool())
    .await
    .unwrap();
    let of = |s: &str| statuses.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    assert_eq!((of("accepted"), of("declined")), (2, 1), "{statuses:?}");
    assert!(of("viewed") >= 1 && of("sent") >= 1, "{statuses:?}");
    let (verified, declared): (i64, i64) =
        sqlx::query_as("SELECT COUNT(verified_by), COUNT(declared) FROM disclosures")
            .fetch_one(verifier.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (verified, declared),
        (2, 2),
        "an identity and an address verified (by a centre, by the carnet), both with declared details"
    );
    let (by_carnet,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM disclosures WHERE verified_by = 'Carnet (adresses e-mail confirmées)'",
    )
    .fetch_one(verifier.db.pool())
    .await
    .unwrap();
    assert_eq!(by_carnet, 1, "Yanis's address, confirmed by his carnet");
    assert_eq!(verifier_count("chat_messages").await, 2);
    // Two trainees were certified in first aid at both centres, by the code both use.
    let (both,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT e.trainee_id FROM evaluations e JOIN competencies c ON c.id = e.competency_id \
         WHERE c.framework_codes LIKE '%RS727%' AND e.validated = 1 GROUP BY e.trainee_id HAVING COUNT(DISTINCT c.organisation_id) = 2) t",
    )
    .fetch_one(issuer.db.pool())
    .await
    .unwrap();
    assert_eq!(both, 2);
    drop(services);
    // Seeded already: nothing is added.
    let services = carnet::demo::prepare(&settings).await.unwrap();
    let (again,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM credential_offers")
        .fetch_one(services[0].ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(again, offers);
    drop(services);
    // `--reset` empties the data directory's databases: the next start seeds again.
    carnet::demo::reset(&settings).unwrap();
    assert!(!dir.join("issuer.db").exists() && !dir.join("files").exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// What is wrong with the forms of `page` (of `service`) that call its API through the page
/// bridge (`/do/api/v1/…`, `web::act`): each must name an operation of the API's OpenAPI
/// document (its path, and the method `_method` chooses, else POST), and each field must be a
/// member of the operation's JSON body (after `form_json`: the name before `:`, `.` or `[]`;
/// `csrf` and `_…` are the form's own; `editor.…` makes `questions`).
/// Returns how many forms it checked, and the problems.
fn forms_against_api(page: &str, service: &str, api: &serde_json::Value) -> (usize, Vec<String>) {
    let (mut checked, mut problems) = (0, Vec::new());
    for form in page.split("<form").skip(1) {
        let form = &form[..form.find("</form>").unwrap_or(form.len())];
        let head = &form[..form.find('>').unwrap_or(form.len())];
        let attribute = |text: &str, name: &str| {
            let at = text.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(unescape(&text[at..at + text[at..].find('"')?]))
        };
        let Some(action) = attribute(head, "action") else {
            continue;
        };
        let Some(call) = action.split_once("/do/").map(|(_, c)| c.to_owned()) else {
            continue;
        };
        let call = format!("/{}", call.split('?').next().unwrap_or_default());
        checked += 1;
        let names: Vec<String> = form
            .match_indices(" name=\"")
            .filter_map(|(i, _)| attribute(&form[i..], "name"))
            .collect();
        let method = form
            .find("name=\"_method\"")
            .and_then(|i| attribute(&form[i..], "value"))
            .unwrap_or_else(|| "POST".to_owned())
            .to_lowercase();
        let segments: Vec<&str> = call.split('/').collect();
        let operation = api["paths"].as_object().and_then(|paths| {
            paths.iter().find_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p.starts_with('{') || p == s);
                fits.then(|| &item[method.as_str()])
                    .filter(|op| op.is_object())
            })
        });
        let Some(operation) = operation else {
            problems.push(format!(
                "{service}: a form calls {} {call}, which the API has not",
                method.to_uppercase()
            ));
            continue;
        };
        let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.rsplit('/').next().unwrap_or_default();
                &api["components"]["schemas"][name]
            }
            None => schema,
        };
        let Some(members) = schema["properties"].as_object() else {
            continue;
        };
        for name in &names {
            let top = name.split([':', '.', '[']).next().unwrap_or_default();
            let top = if top == "editor" { "questions" } else { top };
            if top == "csrf" || top.starts_with('_') || members.contains_key(top) {
                continue;
            }
            problems.push(format!(
                "{service}: field {name:?} of the form calling {} {call} is not in its body",
                method.to_uppercase()
            ));
        }
    }
    (checked, problems)
}

/// HTML entities of an attribute, decoded as a browser does.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e < 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[..=end]),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The links of a page (`href`), resolved against its path, within the service, without
/// fragments; stylesheets, scripts and the API's documentation left out.
fn links_of(page: &str, at: &str, service: &str) -> Vec<String> {
    let base_path = at.split('?').next().unwrap_or(at);
    page.match_indices("href=\"")
        .filter_map(|(i, m)| {
            let start = i + m.len();
            let raw = unescape(&page[start..start + page[start..].find('"')?]);
            let raw = raw.split('#').next().unwrap_or_default().to_owned();
            let link = if raw.is_empty() {
                return None;
            } else if let Some(query) = raw.strip_prefix('?') {
                format!("{base_path}?{query}")
            } else if raw.starts_with('/') && !raw.starts_with("//") {
                raw
            } else {
                return None;
            };
            let ours = link.starts_with(&format!("/{service}"));
            let skipped = link.contains("/assets/") || link.contains("/api/docs");
            (ours && !skipped).then_some(link)
        })
        .collect()
}

/// Every person of the demo follows every link their portal shows, from its home, three
/// clicks deep: each answers a page (HTML, or a file they asked for), never a problem document
/// nor raw JSON, never an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_of_every_portal_opens_a_page() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let (dir, settings) = fresh("crawl");
    let services = carnet::demo::prepare(&settings).await.unwrap();
    let router = carnet::server::router(&services, &settings);
    // Served at their address too, as a page may make a service call another.
    let listener = tokio::net::TcpListener::bind(settings.addr).await.unwrap();
    let served = router.clone();
    tokio::spawn(async move { axum::serve(listener, served).await });
    let send = |request: Request<Body>| {
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, headers, body)
        }
    };
    let people = [
        ("issuer", "direction@lyon-metallerie.demo"),
        ("issuer", "gestion@lyon-metallerie.demo"),
        ("issuer", "j.martin@lyon-metallerie.demo"),
        ("issuer", "camille.durand@exemple.fr"),
        ("wallet", "camille.durand@exemple.fr"),
        ("wallet", "lea.martin@exemple.fr"),
        ("verifier", "recrutement@chaudronnerie-ra.demo"),
        ("verifier", "rh@chaudronnerie-ra.demo"),
        ("verifier", "admin@carnet.demo"),
        ("issuer", "gestion@ibn.demo"),
    ];
    let mut failures = Vec::new();
    // Each service's API as it describes itself: every form of a page must be a call of it.
    let mut apis = std::collections::HashMap::new();
    for service in ["issuer", "verifier", "wallet"] {
        let request = Request::get(format!("/{service}/api/openapi.json"))
            .body(Body::empty())
            .unwrap();
        let (_, _, body) = send(request).await;
        let spec: serde_json::Value = serde_json::from_slice(&body).unwrap();
        apis.insert(service, spec);
    }
    let mut forms = 0;
    let mut opened = 0;
    let mut two_centres = false;
    for (lang, (service, email)) in ["fr", "en"]
        .into_iter()
        .flat_map(|lang| people.iter().map(move |p| (lang, *p)))
    {
        let sign_in = Request::post(format!("/{service}/api/v1/session"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"email": email, "password": carnet::demo::PASSWORD}).to_string(),
            ))
            .unwrap();
        let (status, headers, body) = send(sign_in).await;
        assert!(status.is_success(), "{email}: {status} {body:?}");
        let cookie = headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut seen = std::collections::HashSet::new();
        let mut frontier = vec![format!("/{service}")];
        for _depth in 0..3 {
            let mut next = Vec::new();
            for path in frontier {
                if !seen.insert(path.clone()) || seen.len() > 400 {
                    continue;
                }
                let request = Request::get(&path)
                    .header("accept", "text/html")
                    .header("accept-language", lang)
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap();
                let (status, headers, body) = send(request).await;
                opened += 1;
                let kind = headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let page = String::from_utf8_lossy(&body);
                // A page, or a file people download (a sheet, a calendar, a document).
                let attachment = headers
                    .get(header::CONTENT_DISPOSITION)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|d| d.starts_with("attachment"));
                let file = attachment
                    || [
                        "text/csv",
                        "text/calendar",
                        "application/pdf",
                        "image/",
                        "text/plain",
                        "text/markdown",
                    ]
                    .iter()
                    .any(|t| kind.starts_with(t));
                if !status.is_success() || (!kind.starts_with("text/html") && !file) {
                    failures.push(format!(
                        "{email} → {path}: {status} {kind} {}",
                        page.chars().take(200).collect::<String>()
                    ));
                    continue;
                }
                if kind.starts_with("text/html") {
                    next.extend(links_of(&page, &path, service));
                    let (checked, problems) = forms_against_api(&page, service, &apis[service]);
                    forms += checked;
                    for problem in problems {
                        failures.push(format!("{email} → {path}: {problem}"));
                    }
                    // UX.md's checks on every page: no technical word, raw id or ISO date,
                    // nothing in the other language.
                    let shown = page
                        .split("<html lang=\"")
                        .nth(1)
                        .and_then(|r| r.get(..2))
                        .unwrap_or(lang);
                    // What people were written (notifications, the mail sent) stays in the
                    // language it was written in.
                    let written = path.contains("/notifications") || path.contains("/outbox");
                    for problem in words::problems(&words::visible_text(&page), shown) {
                        if written && problem.contains("is not in the page's language") {
                            continue;
                        }
                        failures.push(format!("{email} ({lang}) → {path}: {problem}"));
                    }
                }
                // One person, two centres: first aid, certified at both by the code both
                // use, is one history in Camille's carnet.
                if service == "wallet"
                    && email.starts_with("camille")
                    && path == "/wallet"
                    && lang == "fr"
                {
                    assert_eq!(page.matches("RS727").count(), 1, "one history: {page}");
                    let history = &page[page.find("RS727").unwrap()..];
                    let history = &history[..history.find("</section>").unwrap_or(history.len())];
                    assert!(
                        history.contains("Institut bordelais du numérique")
                            && history.contains("Centre de formation Lyon Métallerie"),
                        "{history}"
                    );
                    two_centres = true;
                }
            }
            frontier = next;
        }
    }
    drop(services);
    let _ = std::fs::remove_dir_all(dir);
    eprintln!("{opened} pages opened, {forms} forms checked against the API");
    assert!(forms > 100, "{forms} forms");
    assert!(two_centres, "Camille's carnet was read");
    assert!(opened > 100, "{opened} pages opened");
    assert!(
        failures.is_empty(),
        "{} links fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

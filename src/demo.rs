//! `carnet demo`: seeds a realistic demo — two training centres with staff, trainees, level
//! scales, competencies (one, first aid at work, taught at both: two trainees have one history
//! for it across the centres), courses with resources, a formation and a session each run by
//! the centre's manager, evaluations with their credential offers, an identity attested, the
//! trainees' wallets holding their credentials and publishing profiles, two approved
//! companies whose offers are at every stage (sent, seen, declined, accepted with what was
//! verified and declared, a chat going on) — then serves. Seeding goes through the services'
//! own HTTP API, so it passes every check a user's request would. It happens once per data
//! directory (`--reset` empties it first); later runs print the accounts and serve. Names,
//! SIRETs and framework codes are illustrative.

use crate::config::Settings;
use crate::server::{self, Service};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use carnet_service::ServiceKind;
use carnet_service::accounts::{create_account, find_by_email};
use carnet_service::audit::Actor;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::io::Write;
use tower::ServiceExt;

/// Every demo account signs in with this password.
pub const PASSWORD: &str = "carnet-demo-2026";
const PLATFORM_ADMIN: &str = "admin@carnet.demo";

struct Person {
    email: &'static str,
    name: &'static str,
}

const fn p(email: &'static str, name: &'static str) -> Person {
    Person { email, name }
}

struct Centre {
    name: &'static str,
    siret: &'static str,
    address: &'static str,
    admin: Person,
    manager: Person,
    trainers: [Person; 2],
    /// Indices into TRAINEES.
    trainees: &'static [usize],
    /// The session: its title, its first day counted from this week's Monday, its length in
    /// days (so that the demo always shows one session under way and one ended).
    session: (&'static str, i64, i64),
    /// Planned hours of the session's formation.
    hours: u32,
    /// The formation's courses: (title, Markdown text of its first resource, a link).
    courses: &'static [(&'static str, &'static str, &'static str)],
    /// (code, name, ROME code, RS code identifying it across centres, scale: 0 medals / 1 score)
    competencies: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        usize,
    )],
}

/// The first-aid certificate both centres deliver, by the code that makes one history of it
/// in a wallet (an RS record; illustrative).
const SST_RS: &str = "RS727";

const TRAINEES: [Person; 12] = [
    p("camille.durand@exemple.fr", "Camille Durand"),
    p("yanis.benali@exemple.fr", "Yanis Benali"),
    p("lea.martin@exemple.fr", "Léa Martin"),
    p("hugo.lefebvre@exemple.fr", "Hugo Lefebvre"),
    p("ines.moreau@exemple.fr", "Inès Moreau"),
    p("theo.garcia@exemple.fr", "Théo Garcia"),
    p("chloe.roux@exemple.fr", "Chloé Roux"),
    p("mathis.fournier@exemple.fr", "Mathis Fournier"),
    p("sarah.nguyen@exemple.fr", "Sarah Nguyen"),
    p("lucas.petit@exemple.fr", "Lucas Petit"),
    p("jade.bertrand@exemple.fr", "Jade Bertrand"),
    p("nolan.mercier@exemple.fr", "Nolan Mercier"),
];

const CENTRES: [Centre; 2] = [
    Centre {
        name: "Centre de formation Lyon Métallerie",
        siret: "45218903800014",
        address: "12 rue de l'Industrie, 69007 Lyon",
        admin: p("direction@lyon-metallerie.demo", "Nathalie Girard"),
        manager: p("gestion@lyon-metallerie.demo", "Karim Haddad"),
        trainers: [
            p("j.martin@lyon-metallerie.demo", "Julien Martin"),
            p("s.blanc@lyon-metallerie.demo", "Sophie Blanc"),
        ],
        trainees: &[0, 1, 2, 3, 4, 5, 6],
        session: ("Soudeur TIG — promotion 2026", -28, 186),
        hours: 735,
        courses: &[
            (
                "Procédé TIG : principes et réglages",
                "# Le procédé TIG\n\nArc électrique entre une électrode de **tungstène** infusible et la pièce, \
                 sous gaz inerte (argon).\n\n- Intensité : 1 A par 0,025 mm d'épaisseur (acier)\n- Débit de gaz : 8 à 12 l/min",
                "https://www.inrs.fr/risques/soudage/ce-qu-il-faut-retenir.html",
            ),
            (
                "Lecture de plans et cotation",
                "# Lire un plan\n\n1. Cartouche et échelle\n2. Vues et projections\n3. Cotes, tolérances et symboles de soudure (ISO 2553)",
                "https://www.iso.org/standard/62285.html",
            ),
        ],
        competencies: &[
            ("SOUD-TIG", "Souder à l'arc TIG", "H2913", "", 0),
            ("LECT-PLAN", "Lire un plan de fabrication", "H2902", "", 0),
            (
                "SECU-ATEL",
                "Appliquer les règles de sécurité en atelier",
                "H2913",
                "",
                1,
            ),
            ("SST", "Sauveteur secouriste du travail", "", SST_RS, 1),
        ],
    },
    Centre {
        name: "Institut bordelais du numérique",
        siret: "81234567600017",
        address: "4 quai des Chartrons, 33000 Bordeaux",
        admin: p("direction@ibn.demo", "Claire Dubois"),
        manager: p("gestion@ibn.demo", "Olivier Lambert"),
        trainers: [
            p("a.rousseau@ibn.demo", "Antoine Rousseau"),
            p("m.faure@ibn.demo", "Manon Faure"),
        ],
        // Camille and Yanis follow a second formation here: their carnet spans two centres.
        trainees: &[0, 1, 7, 8, 9, 10, 11],
        session: ("Développeur web — session d'automne", -441, 193),
        hours: 602,
        courses: &[
            (
                "Accessibilité des interfaces web",
                "# Accessibilité\n\nLe RGAA reprend les critères WCAG 2.1 niveau AA.\n\n- Contrastes d'au moins 4,5:1\n- \
                 Navigation complète au clavier\n- Libellés pour chaque champ",
                "https://accessibilite.numerique.gouv.fr/",
            ),
            (
                "Bases de données relationnelles",
                "# Modèle relationnel\n\nTables, clés primaires et étrangères, formes normales, jointures.",
                "https://www.postgresql.org/docs/current/tutorial.html",
            ),
        ],
        competencies: &[
            (
                "WEB-FRONT",
                "Développer une interface web accessible",
                "M1805",
                "",
                0,
            ),
            (
                "WEB-BDD",
                "Concevoir une base de données relationnelle",
                "M1805",
                "",
                1,
            ),
            ("SST-IBN", "Secourisme au travail (SST)", "", SST_RS, 1),
        ],
    },
];

struct Company {
    name: &'static str,
    siret: &'static str,
    address: &'static str,
    admin: Person,
    recruiter: Person,
}

const COMPANIES: [Company; 2] = [
    Company {
        name: "Chaudronnerie Rhône-Alpes",
        siret: "52876431900018",
        address: "ZI Nord, 38200 Vienne",
        admin: p("rh@chaudronnerie-ra.demo", "Élodie Perrin"),
        recruiter: p("recrutement@chaudronnerie-ra.demo", "Marc Chevalier"),
    },
    Company {
        name: "Atelier numérique Aquitaine",
        siret: "90345612700013",
        address: "22 cours Victor-Hugo, 33000 Bordeaux",
        admin: p("rh@atelier-aquitaine.demo", "Lucie Morel"),
        recruiter: p("talents@atelier-aquitaine.demo", "Samuel Roche"),
    },
];

pub async fn run(settings: Settings, reset: bool) -> Result<(), String> {
    if reset {
        self::reset(&settings)?;
    }
    let services = prepare(&settings).await?;
    print_accounts(&settings);
    server::serve(services, &settings).await
}

/// Empties what the demo keeps in the data directory (the three embedded databases and the
/// uploaded files), so that it is seeded again from scratch. PostgreSQL databases are the
/// operator's to drop: refused.
pub fn reset(settings: &Settings) -> Result<(), String> {
    for kind in ServiceKind::ALL {
        let url = settings.database_url(kind);
        if !url.starts_with("sqlite:") {
            return Err(format!(
                "--reset empties the embedded databases only; drop the {} database yourself",
                kind.name()
            ));
        }
        let file = settings.data_dir.join(format!("{}.db", kind.name()));
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
    }
    let files = settings.data_dir.join("files");
    match std::fs::remove_dir_all(&files) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", files.display())),
    }
    println!("Demo data removed from {}.", settings.data_dir.display());
    Ok(())
}

/// Opens the three services of `settings` and seeds them unless that was done before.
pub async fn prepare(settings: &Settings) -> Result<Vec<Service>, String> {
    let services = vec![
        server::service(settings, ServiceKind::Issuer).await?,
        server::service(settings, ServiceKind::Wallet).await?,
        server::service(settings, ServiceKind::Verifier).await?,
    ];
    let seeded = find_by_email(&services[0].ctx, PLATFORM_ADMIN)
        .await
        .map_err(|e| e.to_string())?;
    if seeded.is_none() {
        seed(&services, settings)
            .await
            .map_err(|e| format!("seeding the demo: {e}"))?;
    } else {
        println!("Demo already seeded in {}.", settings.data_dir.display());
    }
    Ok(services)
}

/// A signed-in caller of one service's API, in process.
#[derive(Clone)]
struct Api {
    router: Router,
    prefix: String,
    cookie: String,
    csrf: String,
}

async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Result<(u16, Value, Vec<String>), String> {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .map_err(|e| e.to_string())?;
    let response = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        cookies,
    ))
}

impl Api {
    /// Registers `person` on `service`, who then confirms their address as anyone would:
    /// the verification link from the mail they were sent.
    async fn register(service: &Service, router: &Router, person: &Person) -> Result<Api, String> {
        let prefix = service.ctx.config.path_prefix();
        let api = Api::sign_up(router, prefix, person, false).await?;
        let mail = carnet_service::mail::messages_to(&service.ctx, person.email)
            .await
            .map_err(|e| e.to_string())?;
        let token = mail
            .iter()
            .find(|m| m.kind == "verification")
            .and_then(|m| carnet_service::addresses::link_in(&m.text_body, &service.ctx))
            .ok_or_else(|| format!("{}: no verification mail", person.email))?;
        let (status, body, _) = call(
            router,
            Method::POST,
            &format!("{prefix}/api/v1/verifications/{token}"),
            &[],
            None,
        )
        .await?;
        if status >= 300 {
            return Err(format!("{}: {body}", person.email));
        }
        Ok(api)
    }

    /// Registers `person` (or signs in, for accounts made beforehand).
    async fn sign_up(
        router: &Router,
        prefix: &str,
        person: &Person,
        existing: bool,
    ) -> Result<Api, String> {
        let (path, body) = if existing {
            (
                "session",
                json!({"email": person.email, "password": PASSWORD}),
            )
        } else {
            (
                "accounts",
                json!({"email": person.email, "password": PASSWORD, "display_name": person.name}),
            )
        };
        let (status, body, cookies) = call(
            router,
            Method::POST,
            &format!("{prefix}/api/v1/{path}"),
            &[],
            Some(body),
        )
        .await?;
        if status >= 300 {
            return Err(format!("{}: {body}", person.email));
        }
        let cookie = cookies
            .first()
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_owned();
        Ok(Api {
            router: router.clone(),
            prefix: prefix.to_owned(),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap_or_default().to_owned(),
        })
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        let (status, reply, _) = call(
            &self.router,
            Method::GET,
            &format!("{}{path}", self.prefix),
            &[("cookie", self.cookie.as_str())],
            None,
        )
        .await?;
        if status >= 300 {
            return Err(format!("GET {path}: {status} {reply}"));
        }
        Ok(reply)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.send(Method::POST, path, body).await
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> Result<Value, String> {
        let headers = [
            ("cookie", self.cookie.as_str()),
            ("x-csrf-token", self.csrf.as_str()),
        ];
        let (status, reply, _) = call(
            &self.router,
            method.clone(),
            &format!("{}{path}", self.prefix),
            &headers,
            Some(body),
        )
        .await?;
        if status >= 300 {
            return Err(format!("{method} {path}: {status} {reply}"));
        }
        Ok(reply)
    }
}

fn progress(step: &str, done: usize, total: usize) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        print!("\r  {step:<28} {done:>3}/{total}");
        let _ = std::io::stdout().flush();
        if done == total {
            println!();
        }
    } else if done == total {
        println!("  {step:<28} {done:>3}/{total}");
    }
}

async fn platform_admin(service: &Service, router: &Router, prefix: &str) -> Result<Api, String> {
    // The account and its audit row together; committed (and the writer turn given back)
    // before signing in writes the session.
    let mut tx = service.ctx.db.begin().await.map_err(|e| e.to_string())?;
    let account = create_account(
        &mut tx,
        &service.ctx,
        &Actor::system(),
        PLATFORM_ADMIN,
        PASSWORD,
        "Administration Carnet",
        true,
    )
    .await
    .map_err(|e| e.to_string())?;
    carnet_service::addresses::confirm_by_operator(
        &mut tx,
        &service.ctx,
        &carnet_service::id::AccountId(account.id),
    )
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Api::sign_up(router, prefix, &p(PLATFORM_ADMIN, ""), true).await
}

async fn seed(services: &[Service], settings: &Settings) -> Result<(), String> {
    println!("Seeding the demo:");
    let router = server::router(services, settings);
    let [issuer, wallet, verifier] = [
        ServiceKind::Issuer,
        ServiceKind::Wallet,
        ServiceKind::Verifier,
    ]
    .map(|k| {
        let s = services
            .iter()
            .find(|s| s.kind == k)
            .expect("all three services");
        (s, s.ctx.config.path_prefix().to_owned())
    });

    // Issuer: a platform administrator, every trainee, then each centre.
    platform_admin(issuer.0, &router, &issuer.1).await?;
    for (i, t) in TRAINEES.iter().enumerate() {
        Api::register(issuer.0, &router, t).await?;
        progress("trainee accounts (centres)", i + 1, TRAINEES.len());
    }
    let (mut competencies, mut courses, mut evaluations, mut offers) = (0, 0, 0, 0);
    let mut organisations = Vec::new();
    for (n, c) in CENTRES.iter().enumerate() {
        let admin = Api::register(issuer.0, &router, &c.admin).await?;
        let org = admin
            .post(
                "/api/v1/organisations",
                json!({"name": c.name, "siret": c.siret, "address": c.address}),
            )
            .await?;
        organisations.push((org["id"].as_str().unwrap_or_default().to_owned(), c.name));
        let base = format!(
            "/api/v1/organisations/{}",
            org["id"].as_str().unwrap_or_default()
        );
        let staff = [
            (&c.manager, "manager"),
            (&c.trainers[0], "trainer"),
            (&c.trainers[1], "trainer"),
        ];
        for (person, role) in staff {
            Api::register(issuer.0, &router, person).await?;
            admin
                .post(
                    &format!("{base}/members"),
                    json!({"email": person.email, "role": role}),
                )
                .await?;
        }
        for &i in c.trainees {
            admin
                .post(
                    &format!("{base}/members"),
                    json!({"email": TRAINEES[i].email, "role": "trainee"}),
                )
                .await?;
        }
        let medals = admin
            .post(&format!("{base}/scales"), json!({"name": "Bronze, argent, or", "scale": {"kind": "levels", "labels": ["bronze", "argent", "or"]}}))
            .await?;
        let score = admin
            .post(
                &format!("{base}/scales"),
                json!({"name": "Note sur 100", "scale": {"kind": "score", "max": 100, "pass": 50}}),
            )
            .await?;
        let mut competency_ids = Vec::new();
        for (code, name, rome, rs, scale) in c.competencies {
            let scale_id = if *scale == 0 {
                &medals["id"]
            } else {
                &score["id"]
            };
            let created = admin
                .post(&format!("{base}/competencies"), json!({"code": code, "name": name, "framework_codes": {"rome": rome, "rs": rs}, "scale_id": scale_id}))
                .await?;
            competency_ids.push((
                created["id"].as_str().unwrap_or_default().to_owned(),
                *scale,
            ));
            competencies += 1;
        }
        let (title, first, length) = c.session;
        let monday = this_monday();
        let (starts_on, ends_on) = (
            carnet_core::calendar::day_text(monday + first),
            carnet_core::calendar::day_text(monday + first + length),
        );
        let (starts_on, ends_on) = (starts_on.as_str(), ends_on.as_str());
        let competency_list: Vec<&str> = competency_ids.iter().map(|(id, _)| id.as_str()).collect();
        let mut course_ids = Vec::new();
        for (course_title, text, link) in c.courses {
            let course = admin
                .post(&format!("{base}/courses"), json!({"title": course_title}))
                .await?;
            let course_base = format!(
                "{base}/courses/{}",
                course["id"].as_str().unwrap_or_default()
            );
            for resource in [
                json!({"title": course_title, "kind": "text", "body": text}),
                json!({"title": "Pour aller plus loin", "kind": "link", "url": link}),
            ] {
                let resource = admin.post(&format!("{base}/resources"), resource).await?;
                admin
                    .post(
                        &format!("{course_base}/resources"),
                        json!({"resource_id": resource["id"]}),
                    )
                    .await?;
            }
            admin
                .send(
                    Method::PUT,
                    &format!("{course_base}/competencies"),
                    json!({"competency_ids": competency_list}),
                )
                .await?;
            course_ids.push(course["id"].clone());
            courses += 1;
        }
        let formation = admin
            .post(
                &format!("{base}/formations"),
                json!({"title": title.split(" — ").next().unwrap_or(title)}),
            )
            .await?;
        admin
            .send(
                Method::PUT,
                &format!(
                    "{base}/formations/{}/courses",
                    formation["id"].as_str().unwrap_or_default()
                ),
                json!({"course_ids": course_ids}),
            )
            .await?;
        let session = admin
            .post(
                &format!("{base}/sessions"),
                json!({"title": title, "starts_on": starts_on, "ends_on": ends_on,
                       "planned_hours": c.hours, "formation_id": formation["id"]}),
            )
            .await?;
        let session_base = format!(
            "{base}/sessions/{}",
            session["id"].as_str().unwrap_or_default()
        );
        admin
            .post(
                &format!("{session_base}/members"),
                json!({"email": c.trainers[0].email, "role": "trainer"}),
            )
            .await?;
        for &i in c.trainees {
            admin
                .post(
                    &format!("{session_base}/members"),
                    json!({"email": TRAINEES[i].email, "role": "trainee"}),
                )
                .await?;
        }
        // The trainer evaluates every trainee on every competency; a few fail.
        let trainer = Api::sign_up(&router, &issuer.1, &c.trainers[0], true).await?;
        let medals_levels = ["bronze", "argent", "or"];
        for (k, (competency, scale)) in competency_ids.iter().enumerate() {
            let rows: Vec<Value> = c
                .trainees
                .iter()
                .enumerate()
                .map(|(j, &i)| {
                    let assessment = if *scale == 0 { json!(medals_levels[(j + k + n) % 3]) } else { json!(35 + ((j * 17 + k * 11) % 60)) };
                    json!({"email": TRAINEES[i].email, "assessment": assessment, "comment": "Évaluation de fin de module"})
                })
                .collect();
            let report = trainer
                .post(
                    &format!("{session_base}/evaluations/bulk"),
                    json!({"competency_id": competency, "rows": rows}),
                )
                .await?;
            evaluations += report["created"].as_u64().unwrap_or(0) as usize;
            offers += report["offers"].as_u64().unwrap_or(0) as usize;
        }
        // The identity of the first trainee, checked on a document by the first centre.
        if n == 0 {
            let members = admin.get(&format!("{base}/members")).await?;
            let first = members
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| m["email"] == TRAINEES[0].email)
                .and_then(|m| m["account_id"].as_str())
                .unwrap_or_default()
                .to_owned();
            admin
                .send(
                    Method::PUT,
                    &format!("{base}/trainees/{first}/identity"),
                    json!({"given_name": "Camille", "family_name": "Durand", "birthdate": "2001-04-17",
                           "email": TRAINEES[0].email, "phone_number": "+33 6 12 34 56 78",
                           "address": {"street_address": "8 rue Paul-Bert", "postal_code": "69003", "locality": "Lyon", "country": "FR"}}),
                )
                .await?;
        }
        // The centre's manager runs the session: its calendar.
        let manager = Api::sign_up(&router, &issuer.1, &c.manager, true).await?;
        session_life(
            &manager,
            &trainer,
            &session_base,
            &base,
            (starts_on, ends_on),
            &course_ids,
        )
        .await?;
        progress("training centres", n + 1, CENTRES.len());
    }

    // Wallet: one holder account per trainee.
    for (i, t) in TRAINEES.iter().enumerate() {
        Api::register(wallet.0, &router, t).await?;
        progress("wallet accounts", i + 1, TRAINEES.len());
    }

    // Verifier: a platform administrator approves two companies.
    let v_admin = platform_admin(verifier.0, &router, &verifier.1).await?;
    for (i, c) in COMPANIES.iter().enumerate() {
        let admin = Api::register(verifier.0, &router, &c.admin).await?;
        let company = admin
            .post(
                "/api/v1/companies",
                json!({"name": c.name, "siret": c.siret, "address": c.address}),
            )
            .await?;
        let id = company["id"].as_str().unwrap_or_default();
        Api::register(verifier.0, &router, &c.recruiter).await?;
        admin
            .post(
                &format!("/api/v1/companies/{id}/members"),
                json!({"email": c.recruiter.email, "role": "recruiter"}),
            )
            .await?;
        v_admin
            .post(&format!("/api/v1/companies/{id}/approval"), json!(null))
            .await?;
        progress("recruiter companies", i + 1, COMPANIES.len());
    }
    println!(
        "Seeded {} centres ({competencies} competencies, {courses} courses, {evaluations} evaluations, {offers} credential offers), \
         {} trainees with wallets, {} companies.",
        CENTRES.len(),
        TRAINEES.len(),
        COMPANIES.len()
    );
    // The directory needs the services to reach each other over HTTP: best effort.
    match directory(&router, settings, &v_admin, &organisations).await {
        Ok((published, sent)) => println!(
            "Seeded the directory: {published} profiles published from the wallets, an offer sent to {sent} of them."
        ),
        Err(e) => println!("The directory was not seeded ({e}); wallets can publish later."),
    }
    Ok(())
}

/// Today, in days since 1970-01-01 (UTC).
fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    secs.div_euclid(86_400)
}

/// The Monday of this week, in days since 1970-01-01 (a Thursday).
fn this_monday() -> i64 {
    let today = today();
    today - (today + 3).rem_euclid(7)
}

/// The first days of a session: its calendar (two courses and an exam), the attendance of the
/// first half-day taken and countersigned, a word in the information room, a quiz open for the
/// whole session; a session under way also has a day of courses today (or next Monday, on a
/// weekend), for its people's dashboards.
async fn session_life(
    manager: &Api,
    trainer: &Api,
    session_base: &str,
    base: &str,
    (starts_on, ends_on): (&str, &str),
    course_ids: &[Value],
) -> Result<(), String> {
    let days = |iso: &str| carnet_core::calendar::day_number(iso).unwrap_or_default();
    let first = days(starts_on);
    let day = |d: i64| carnet_core::calendar::day_text(first + d);
    // Today's day of courses (a weekday), while the session runs.
    let weekday = (today() + 3).rem_euclid(7);
    let working = if weekday < 5 {
        today()
    } else {
        this_monday() + 7
    };
    let running = working > first + 1 && working <= days(ends_on);
    let course = |i: usize| {
        course_ids
            .get(i)
            .or(course_ids.first())
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut events = vec![
        (
            "course",
            "Accueil et module 1",
            format!("{}T09:00", day(0)),
            format!("{}T12:30", day(0)),
            course(0),
        ),
        (
            "course",
            "Module 1 : pratique à l'atelier",
            format!("{}T13:30", day(0)),
            format!("{}T17:00", day(0)),
            course(0),
        ),
        (
            "exam",
            "Évaluation du module 1",
            format!("{}T14:00", day(1)),
            format!("{}T16:00", day(1)),
            course(1),
        ),
    ];
    if running {
        let today = carnet_core::calendar::day_text(working);
        events.extend([
            (
                "course",
                "Module 2 : soudure bout à bout",
                format!("{today}T08:30"),
                format!("{today}T12:00"),
                course(0),
            ),
            (
                "course",
                "Module 2 : pratique en cabine",
                format!("{today}T13:30"),
                format!("{today}T17:00"),
                course(0),
            ),
        ]);
    }
    for (kind, title, start, end, course) in events {
        manager
            .post(
                &format!("{session_base}/events"),
                json!({"kind": kind, "title": title, "starts_at": start, "ends_at": end, "place": "Atelier 1", "course_id": course}),
            )
            .await?;
    }
    trainer
        .post(
            &format!("{session_base}/attendance/slots/from-calendar"),
            json!(null),
        )
        .await?;
    let table = trainer.get(&format!("{session_base}/attendance")).await?;
    if let Some(first) = table["slots"][0]["id"].as_str() {
        let marks: Vec<Value> = table["trainees"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| json!({"trainee_id": t["account_id"], "status": if i == 2 { "late" } else { "present" }}))
            .collect();
        let slot = format!("{session_base}/attendance/slots/{first}");
        trainer
            .send(
                Method::PUT,
                &format!("{slot}/marks"),
                json!({"marks": marks}),
            )
            .await?;
        trainer
            .post(&format!("{slot}/countersign"), json!(null))
            .await?;
    }
    let rooms = trainer.get(&format!("{session_base}/rooms")).await?;
    if let Some(info) = rooms[0]["id"].as_str() {
        trainer
            .post(
                &format!("{session_base}/rooms/{info}/messages"),
                json!({"body": "Bienvenue ! Pensez à vos équipements de protection dès le premier jour."}),
            )
            .await?;
    }
    let quiz = trainer
        .post(
            &format!("{base}/quizzes"),
            json!({"title": "Sécurité à l'atelier", "questions": [
                {"id": "q1", "prompt": "Quels équipements sont obligatoires ?", "kind": "multiple_choice",
                 "options": ["Masque", "Gants", "Lunettes de soleil"], "correct": [0, 1], "points": 2},
                {"id": "q2", "prompt": "Que faire avant d'allumer le poste ?", "kind": "short_answer", "points": 2}
            ]}),
        )
        .await?;
    trainer
        .post(
            &format!("{session_base}/quizzes"),
            json!({"quiz_id": quiz["id"], "opens_at": format!("{}T08:00", day(0)), "closes_at": format!("{}T18:00", day(4))}),
        )
        .await?;
    Ok(())
}

/// Over the network, as in real use: the platform trusts the centres' issuers; every trainee's
/// wallet receives its credential offers and publishes a profile with a declared
/// availability; a recruiter sends an offer to the welders found. The services are served on
/// the configured address for the time it takes.
async fn directory(
    router: &Router,
    settings: &Settings,
    v_admin: &Api,
    organisations: &[(String, &str)],
) -> Result<(usize, u64), String> {
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let result = async {
        let prefix = |k: ServiceKind| settings.service_url(k);
        let path = |k: ServiceKind| {
            let url = settings.service_url(k);
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r).to_owned();
            rest.find('/').map_or(String::new(), |i| rest[i..].to_owned())
        };
        // The platform trusts the centres, and the carnet's confirmations of e-mail addresses.
        v_admin
            .post(
                "/api/v1/trusted-issuers",
                json!({"issuer": prefix(ServiceKind::Wallet), "name": "Carnet (adresses e-mail confirmées)"}),
            )
            .await?;
        for (org, name) in organisations {
            v_admin
                .post(
                    "/api/v1/trusted-issuers",
                    json!({"issuer": format!("{}/orgs/{org}", prefix(ServiceKind::Issuer)), "name": name}),
                )
                .await?;
        }
        let situations = ["seeking", "in_training", "seeking", "employed"];
        let regions = ["84", "75", "11", "84", "93"];
        let mut published = 0;
        let mut wallets = Vec::new();
        for (i, t) in TRAINEES.iter().enumerate() {
            let at_centre = Api::sign_up(router, &path(ServiceKind::Issuer), t, true).await?;
            let offers = at_centre.get("/api/v1/me/credential-offers").await?;
            let wallet = Api::sign_up(router, &path(ServiceKind::Wallet), t, true).await?;
            let open = offers.as_array().into_iter().flatten().filter(|o| o["redeemed"] == false);
            for offer in open {
                wallet
                    .post(
                        "/api/v1/credentials/receive",
                        json!({"offer": offer["offer_link"], "tx_code": offer["tx_code"], "copies": 2}),
                    )
                    .await?;
            }
            wallet
                .send(
                    Method::PUT,
                    "/api/v1/availability",
                    json!({"situation": situations[i % 4], "available_from": "2026-09-01",
                           "regions": [regions[i % 5]], "contracts": if i % 2 == 0 { json!(["cdi"]) } else { json!(["alternance", "cdd"]) }}),
                )
                .await?;
            if wallet
                .post(
                    "/api/v1/directory/publications",
                    // What each trainee agreed to share on the consent page: the competency
                    // facts, not the evaluator's name.
                    json!({"verifier": prefix(ServiceKind::Verifier), "republish": true,
                           "claims": [["name"], ["competency", "code"], ["competency", "name"], ["level", "label"],
                                      ["competency", "framework_codes"], ["level", "value"], ["validated_on"],
                                      ["establishment", "name"], ["session", "title"]]}),
                )
                .await
                .is_ok()
            {
                published += 1;
            }
            progress("directory profiles", i + 1, TRAINEES.len());
            wallets.push(wallet);
        }
        // Each company sends an offer to those it found: every trainee has one to answer.
        let verifier = path(ServiceKind::Verifier);
        let mut sent = 0;
        let mut welders = String::new();
        for (c, title, body, competency) in [
            (&COMPANIES[0], "Soudeur TIG (H/F)", "CDI à Vénissieux, atelier de chaudronnerie inox.", "SOUD-TIG"),
            (&COMPANIES[1], "Développeur web (H/F) en alternance", "Alternance de 12 mois, équipe produit à Bordeaux.", "WEB-FRONT"),
        ] {
            let recruiter = Api::sign_up(router, &verifier, &c.recruiter, true).await?;
            let companies = recruiter.get("/api/v1/companies").await?;
            let company = companies["items"][0]["id"].as_str().unwrap_or_default().to_owned();
            let offer = recruiter
                .post(
                    &format!("/api/v1/companies/{company}/offers"),
                    json!({"title": title, "body": body, "contract_type": if competency == "SOUD-TIG" { "cdi" } else { "alternance" },
                           "place": if competency == "SOUD-TIG" { "Vénissieux" } else { "Bordeaux" },
                           "claims": [{"path": ["email"], "required": true}, {"path": ["phone_number"]}],
                           "recipients": {"search": {"competency": competency}}}),
                )
                .await?;
            sent += offer["recipients"].as_u64().unwrap_or(0);
            if welders.is_empty() {
                welders = company;
            }
        }
        answers(router, &verifier, &welders, &wallets).await?;
        Ok((published, sent))
    }
    .await;
    let _ = stop.send(());
    let _ = server.await;
    result
}

/// The welders' offer at every stage: Camille accepts with her identity credential (the
/// centre verified it) and a presentation of her own, and chats with the recruiter; Yanis
/// accepts with the address his carnet confirmed, declaring the rest (no centre attested his
/// identity); Léa declines; Hugo has seen it; the others have it to answer.
async fn answers(
    router: &Router,
    verifier: &str,
    company: &str,
    wallets: &[Api],
) -> Result<(), String> {
    let welders_offer = |inbox: &Value| {
        inbox
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["offer"]["title"] == "Soudeur TIG (H/F)")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let accept = |wallet: &Api, entry: Value, queries: &'static [&'static str], declared: Value| {
        let wallet = wallet.clone();
        async move {
            let pending = wallet
                .post(
                    "/api/v1/presentations/requests",
                    json!({"request": entry["offer"]["request"]}),
                )
                .await?;
            let choices: Vec<Value> = pending["queries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|q| queries.iter().any(|id| q["query_id"] == *id))
                .filter_map(|q| {
                    let c = q["candidates"].get(0)?;
                    Some(json!({"query_id": q["query_id"], "credential_id": c["credential_id"], "optional": c["optional"]}))
                })
                .collect();
            wallet
                .post(
                    &format!(
                        "/api/v1/presentations/requests/{}/response",
                        pending["id"].as_str().unwrap_or_default()
                    ),
                    json!({"choices": choices, "declared": declared}),
                )
                .await
        }
    };
    let camille = &wallets[0];
    let entry = welders_offer(&camille.get("/api/v1/inbox").await?);
    let publication = entry["publication_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    accept(
        camille,
        entry,
        &["identity", "email"],
        json!({"presentation": "Soudeuse TIG, mobile sur Lyon et sa région. Disponible dès septembre."}),
    )
    .await?;
    let yanis = &wallets[1];
    let entry = welders_offer(&yanis.get("/api/v1/inbox").await?);
    accept(
        yanis,
        entry,
        &["email"],
        json!({"phone_number": "06 48 22 19 07", "address": {"locality": "Villeurbanne"}}),
    )
    .await?;
    let lea = &wallets[2];
    let entry = welders_offer(&lea.get("/api/v1/inbox").await?);
    lea.post(
        &format!(
            "/api/v1/inbox/{}/{}/decline",
            entry["publication_id"].as_str().unwrap_or_default(),
            entry["offer"]["id"].as_str().unwrap_or_default()
        ),
        json!(null),
    )
    .await?;
    // Hugo opened his offers: seen, not answered.
    wallets[3].get("/api/v1/inbox").await?;
    // A chat going on between the recruiter and Camille.
    let recruiter = Api::sign_up(router, verifier, &COMPANIES[0].recruiter, true).await?;
    let candidates = recruiter
        .get(&format!("/api/v1/companies/{company}/candidates"))
        .await?;
    let chat = candidates
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == TRAINEES[0].name)
        .and_then(|c| c["chat_id"].as_str())
        .unwrap_or_default()
        .to_owned();
    recruiter
        .post(
            &format!("/api/v1/companies/{company}/chats/{chat}/messages"),
            json!({"body": "Bonjour Camille, merci pour votre réponse ! Seriez-vous disponible jeudi à 10 h pour visiter l'atelier ?"}),
        )
        .await?;
    camille
        .post(
            &format!("/api/v1/inbox/{publication}/chats/{chat}/messages"),
            json!({"body": "Bonjour, avec plaisir. Jeudi 10 h me convient très bien."}),
        )
        .await?;
    Ok(())
}

fn print_accounts(settings: &Settings) {
    let url = |k| settings.service_url(k);
    println!("\nCarnet demo — every account's password is: {PASSWORD}\n");
    println!("Centre portal   {}", url(ServiceKind::Issuer));
    println!("  platform admin          {PLATFORM_ADMIN}");
    for c in &CENTRES {
        println!("  {}", c.name);
        println!("    admin                 {}", c.admin.email);
        println!("    manager               {}", c.manager.email);
        println!(
            "    trainers              {}, {}",
            c.trainers[0].email, c.trainers[1].email
        );
    }
    println!("Wallet          {}", url(ServiceKind::Wallet));
    println!(
        "  trainees                {} … {} ({} accounts)",
        TRAINEES[0].email,
        TRAINEES[11].email,
        TRAINEES.len()
    );
    println!(
        "  (their credential offers: GET {}/api/v1/me/credential-offers)",
        url(ServiceKind::Issuer)
    );
    println!("Recruiter portal {}", url(ServiceKind::Verifier));
    println!("  platform admin          {PLATFORM_ADMIN}");
    for c in &COMPANIES {
        println!(
            "  {} — admin {}, recruiter {}",
            c.name, c.admin.email, c.recruiter.email
        );
    }
    println!("\nOpen {}/ (Ctrl-C stops).", settings.public_url);
}

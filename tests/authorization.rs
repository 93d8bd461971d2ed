//! Every role is refused what it may not do, in its own tenant and across tenants.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use common::*;
use serde_json::{Value, json};

struct Case<'a> {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Who may; everyone else in `people` is refused with the status given beside them.
    allowed: &'a [&'a str],
}

async fn check(app: &TestApp, people: &[(&str, Auth, StatusCode)], case: Case<'_>) {
    for (who, auth, refusal) in people {
        let r = app
            .call(case.method.clone(), &case.path, auth, case.body.clone())
            .await;
        if case.allowed.contains(who) {
            assert!(
                r.status.is_success(),
                "{who} {} {}: {} {}",
                case.method,
                case.path,
                r.status,
                r.body
            );
        } else {
            assert_eq!(
                r.status, *refusal,
                "{who} {} {}: {}",
                case.method, case.path, r.body
            );
            r.problem();
        }
    }
}

async fn create_tenant(app: &TestApp, path: &str, auth: &Auth, name: &str, siret: &str) -> String {
    let r = app
        .call(
            Method::POST,
            path,
            auth,
            Some(json!({"name": name, "siret": siret})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn add(app: &TestApp, path: &str, auth: &Auth, email: &str, role: &str) {
    let r = app
        .call(
            Method::POST,
            path,
            auth,
            Some(json!({"email": email, "role": role})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn organisation_roles() {
    each_engine(|app| async move {
        let mut people = Vec::new();
        let mut ids = std::collections::HashMap::new();
        for who in [
            "admin",
            "manager",
            "trainer",
            "trainee",
            "other_admin",
            "outsider",
            "platform",
            "newcomer",
        ] {
            let (auth, id) = app
                .register("issuer", &format!("{who}@example.org"), who)
                .await;
            ids.insert(who, id);
            people.push((who, auth));
        }
        let auth = |who: &str| people.iter().find(|(w, _)| *w == who).unwrap().1.clone();
        app.make_platform_admin(ServiceKind::Issuer, &ids["platform"])
            .await;
        let org = create_tenant(
            &app,
            "/issuer/api/v1/organisations",
            &auth("admin"),
            "Centre A",
            "45218903800014",
        )
        .await;
        create_tenant(
            &app,
            "/issuer/api/v1/organisations",
            &auth("other_admin"),
            "Centre B",
            "81234567600017",
        )
        .await;
        let members = format!("/issuer/api/v1/organisations/{org}/members");
        for role in ["manager", "trainer", "trainee"] {
            add(
                &app,
                &members,
                &auth("admin"),
                &format!("{role}@example.org"),
                role,
            )
            .await;
        }

        // Outsiders and other centres' admins do not see the organisation at all (404); members
        // without the role are refused (403); without a session, 401.
        let refusal = |who: &str| match who {
            "other_admin" | "outsider" | "newcomer" => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        };
        let mut table: Vec<(&str, Auth, StatusCode)> = people
            .iter()
            .filter(|(w, _)| *w != "newcomer")
            .map(|(w, a)| (*w, a.clone(), refusal(w)))
            .collect();
        table.push(("anonymous", Auth::None, StatusCode::UNAUTHORIZED));

        Case {
            method: Method::GET,
            path: format!("/issuer/api/v1/organisations/{org}"),
            body: None,
            allowed: &["admin", "manager", "trainer", "trainee", "platform"],
        }
        .run(&app, &table)
        .await;
        Case {
            method: Method::GET,
            path: members.clone(),
            body: None,
            allowed: &["admin", "manager", "trainer", "platform"],
        }
        .run(&app, &table)
        .await;
        // Only administrators give roles: try to make the newcomer a trainer (each allowed
        // caller gives a different role, so none conflicts with the previous one).
        for (who, role) in [("admin", "trainer"), ("platform", "manager")] {
            let r = app
                .call(
                    Method::POST,
                    &members,
                    &auth(who),
                    Some(json!({"email": "newcomer@example.org", "role": role})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{who}");
        }
        Case {
            method: Method::POST,
            path: members.clone(),
            body: Some(json!({"email": "newcomer@example.org", "role": "admin"})),
            allowed: &[],
        }
        .only_refusals(&[
            "manager",
            "trainer",
            "trainee",
            "other_admin",
            "outsider",
            "anonymous",
        ])
        .run(&app, &table)
        .await;
        let trainee_role = format!("{members}/{}/trainee", ids["trainee"]);
        Case {
            method: Method::DELETE,
            path: trainee_role,
            body: None,
            allowed: &[],
        }
        .only_refusals(&[
            "manager",
            "trainer",
            "trainee",
            "other_admin",
            "outsider",
            "anonymous",
        ])
        .run(&app, &table)
        .await;
        // The audit log is for platform administrators: everyone else signed in gets 403.
        let service_wide: Vec<(&str, Auth, StatusCode)> = table
            .iter()
            .map(|(w, a, _)| {
                (
                    *w,
                    a.clone(),
                    if *w == "anonymous" {
                        StatusCode::UNAUTHORIZED
                    } else {
                        StatusCode::FORBIDDEN
                    },
                )
            })
            .collect();
        Case {
            method: Method::GET,
            path: "/issuer/api/v1/audit".into(),
            body: None,
            allowed: &["platform"],
        }
        .run(&app, &service_wide)
        .await;
        // An organisation's audit log is for its administrators.
        let org_audit = format!("/issuer/api/v1/organisations/{org}/audit");
        Case {
            method: Method::GET,
            path: org_audit.clone(),
            body: None,
            allowed: &["admin", "platform"],
        }
        .run(&app, &table)
        .await;
        let entries = app
            .call(Method::GET, &org_audit, &auth("admin"), None)
            .await;
        let actions: Vec<&str> = entries.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"organisation.created")
                && actions.contains(&"organisation.member_added"),
            "{actions:?}"
        );
        assert!(
            entries.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["tenant_id"] == org.as_str())
        );
        // Lists show only one's own organisations.
        let list = app
            .call(
                Method::GET,
                "/issuer/api/v1/organisations",
                &auth("other_admin"),
                None,
            )
            .await;
        let names: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Centre B"]);
        let all = app
            .call(
                Method::GET,
                "/issuer/api/v1/organisations",
                &auth("platform"),
                None,
            )
            .await;
        assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
        // The last administrator cannot be removed.
        let last = app
            .call(
                Method::DELETE,
                &format!("{members}/{}/admin", ids["admin"]),
                &auth("admin"),
                None,
            )
            .await;
        assert_eq!(last.problem(), "conflict");
    })
    .await;
}

impl<'a> Case<'a> {
    /// Checks only that these people are refused (the allowed ones are exercised elsewhere,
    /// because a success changes state).
    fn only_refusals(self, refused: &'a [&'a str]) -> Refusals<'a> {
        Refusals {
            case: self,
            refused,
        }
    }
}

struct Refusals<'a> {
    case: Case<'a>,
    refused: &'a [&'a str],
}

async fn check_refusals(app: &TestApp, people: &[(&str, Auth, StatusCode)], r: Refusals<'_>) {
    let subset: Vec<(&str, Auth, StatusCode)> = people
        .iter()
        .filter(|(w, _, _)| r.refused.contains(w))
        .cloned()
        .collect();
    check(app, &subset, r.case).await;
}

trait Checkable {
    async fn run(self, app: &TestApp, people: &[(&str, Auth, StatusCode)]);
}

impl Checkable for Case<'_> {
    async fn run(self, app: &TestApp, people: &[(&str, Auth, StatusCode)]) {
        check(app, people, self).await
    }
}

impl Checkable for Refusals<'_> {
    async fn run(self, app: &TestApp, people: &[(&str, Auth, StatusCode)]) {
        check_refusals(app, people, self).await
    }
}

#[tokio::test]
async fn company_roles_and_approval() {
    each_engine(|app| async move {
        let mut people = Vec::new();
        let mut ids = std::collections::HashMap::new();
        for who in ["admin", "recruiter", "other_admin", "outsider", "platform"] {
            let (auth, id) = app
                .register("verifier", &format!("{who}@example.org"), who)
                .await;
            ids.insert(who, id);
            people.push((who, auth));
        }
        let auth = |who: &str| people.iter().find(|(w, _)| *w == who).unwrap().1.clone();
        app.make_platform_admin(ServiceKind::Verifier, &ids["platform"])
            .await;
        // SIRETs are checked.
        let bad = app
            .call(
                Method::POST,
                "/verifier/api/v1/companies",
                &auth("admin"),
                Some(json!({"name": "X", "siret": "73282932000075"})),
            )
            .await;
        assert_eq!(bad.problem(), "invalid");
        assert_eq!(bad.body["field"], "siret");
        let company = create_tenant(
            &app,
            "/verifier/api/v1/companies",
            &auth("admin"),
            "Soudure SA",
            "52876431900018",
        )
        .await;
        create_tenant(
            &app,
            "/verifier/api/v1/companies",
            &auth("other_admin"),
            "Autre SARL",
            "90345612700013",
        )
        .await;
        add(
            &app,
            &format!("/verifier/api/v1/companies/{company}/members"),
            &auth("admin"),
            "recruiter@example.org",
            "recruiter",
        )
        .await;

        let refusal = |who: &str| match who {
            "other_admin" | "outsider" => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        };
        let mut table: Vec<(&str, Auth, StatusCode)> = people
            .iter()
            .map(|(w, a)| (*w, a.clone(), refusal(w)))
            .collect();
        table.push(("anonymous", Auth::None, StatusCode::UNAUTHORIZED));
        // Approval is the platform administrator's: a company's own admin gets 403.
        let approval = |who: &str| match who {
            "anonymous" => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        let approval_table: Vec<(&str, Auth, StatusCode)> = table
            .iter()
            .map(|(w, a, _)| (*w, a.clone(), approval(w)))
            .collect();
        Case {
            method: Method::POST,
            path: format!("/verifier/api/v1/companies/{company}/approval"),
            body: None,
            allowed: &["platform"],
        }
        .run(&app, &approval_table)
        .await;
        let again = app
            .call(
                Method::POST,
                &format!("/verifier/api/v1/companies/{company}/approval"),
                &auth("platform"),
                None,
            )
            .await;
        assert_eq!(again.problem(), "conflict");
        let got = app
            .call(
                Method::GET,
                &format!("/verifier/api/v1/companies/{company}"),
                &auth("recruiter"),
                None,
            )
            .await;
        assert_eq!(got.body["approved"], true);

        Case {
            method: Method::GET,
            path: format!("/verifier/api/v1/companies/{company}/members"),
            body: None,
            allowed: &["admin", "recruiter", "platform"],
        }
        .run(&app, &table)
        .await;
        Case {
            method: Method::POST,
            path: format!("/verifier/api/v1/companies/{company}/members"),
            body: Some(json!({"email": "outsider@example.org", "role": "admin"})),
            allowed: &[],
        }
        .only_refusals(&["recruiter", "other_admin", "outsider", "anonymous"])
        .run(&app, &table)
        .await;
        // Pending companies: the platform administrator sees them all, others only their own.
        let pending = app
            .call(
                Method::GET,
                "/verifier/api/v1/companies?pending=true",
                &auth("platform"),
                None,
            )
            .await;
        let names: Vec<&str> = pending.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Autre SARL"]);
        let mine = app
            .call(
                Method::GET,
                "/verifier/api/v1/companies",
                &auth("outsider"),
                None,
            )
            .await;
        assert!(mine.body["items"].as_array().unwrap().is_empty());
    })
    .await;
}

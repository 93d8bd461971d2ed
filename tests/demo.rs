//! `carnet demo` seeds through the services' own API: it must succeed on a fresh data
//! directory (the directory too: the wallets publish over HTTP while the seed serves the
//! services), and a second start must find the seed and leave it alone.

use carnet::config::ServerArgs;
use carnet_service::ServiceKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_once() {
    let dir = std::env::temp_dir().join(format!(
        "carnet-demo-test-{}",
        carnet_service::id::random_token(6)
    ));
    // A free port: the seed serves the services there while the wallets publish.
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
    // Each session's first days: calendar, attendance taken, a word from staff, a quiz.
    assert_eq!(count("calendar_events").await, 6);
    assert_eq!(count("attendance_slots").await, 6);
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
        (1, 2),
        "one identity verified, two declared"
    );
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

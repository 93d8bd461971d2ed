//! The portals in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver, started by the test). Skipped, saying why, when chromium or chromedriver is
//! missing, unless `CARNET_TEST_BROWSER=1` (set by `.ci/run`, which installs them) makes them
//! mandatory. A screenshot of each page goes to `target/screenshots/` for review.
//!
//! Two journeys. A trainee creates a carnet in the wallet (the recovery code shown once),
//! receives a competency a centre validated, sees it in the carnet, reads it in English, signs
//! out and in again. And DESIGN.md's main journey across the three portals: a centre creates a
//! session and validates a competency; the trainee receives it in the wallet and publishes a
//! profile; a recruiter finds them and sends an offer; the trainee accepts, sharing only the
//! e-mail; the recruiter sees the e-mail and they chat.

mod common;

use carnet_service::ServiceKind;
use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The link to an organisation on the centre's dashboard (its sessions are listed there too).
const ORGANISATION: &str = "ul.links a[href*='/orgs/']:not([href*='/sessions/'])";

/// A Chrome DevTools Protocol command sent through chromedriver (`goog/cdp/execute`): how a
/// test emulates a phone's screen.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.0, "params": self.1});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// chromedriver and its browser session; both stop when this is dropped.
struct Browser {
    client: Client,
    driver: Child,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// axe-core's script (`CARNET_TEST_AXE`: the npm package's `axe.min.js`, which `.ci/run`
/// installs), or `None` after saying why.
fn axe() -> Option<String> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let Ok(path) = std::env::var("CARNET_TEST_AXE") else {
            eprintln!("accessibility check skipped: CARNET_TEST_AXE names no axe.min.js");
            return None;
        };
        let script = std::fs::read_to_string(&path);
        Some(script.unwrap_or_else(|e| panic!("CARNET_TEST_AXE={path}: {e}")))
    })
    .clone()
}

/// A browser, or `None` (after saying why) when this machine has none and CI did not ask.
async fn browser() -> Option<Browser> {
    let required = std::env::var("CARNET_TEST_BROWSER").is_ok_and(|v| v == "1");
    let driver = find("chromedriver");
    if driver.is_none() || !Path::new(CHROMIUM).is_file() {
        assert!(
            !required,
            "CARNET_TEST_BROWSER=1 but chromium or chromedriver is missing"
        );
        eprintln!(
            "skipped: no chromium and chromedriver here (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile = TempDir(std::env::temp_dir().join(format!(
        "carnet-browser-{}",
        carnet_service::id::random_token(8)
    )));
    std::fs::create_dir_all(profile.0.join("xdg")).unwrap();
    let child = Command::new(driver.unwrap())
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        // Chromium writes into the home directory unless told otherwise.
        .env("XDG_CONFIG_HOME", profile.0.join("xdg"))
        .env("XDG_CACHE_HOME", profile.0.join("xdg"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        // A French-speaking user, as most of Carnet's.
        "--lang=fr-FR",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([format!(
        "--user-data-dir={}",
        profile.0.join("profile").display()
    )])
    .collect::<Vec<_>>();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "prefs": { "intl.accept_languages": "fr-FR,fr" },
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&url)
        .await
        .expect("a WebDriver session");
    Some(Browser {
        client,
        driver: child,
        _profile: profile,
    })
}

impl Browser {
    /// A screenshot of the page, once it passes UX.md's checks (see [`Browser::check`]).
    async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        self.check(name).await;
    }

    /// UX.md's automatic checks on the page shown: its words (`common::words`), and nothing
    /// scrolling sideways on a 360-pixel-wide phone.
    async fn check(&self, name: &str) {
        let js = |script: &'static str| async move {
            self.client.execute(script, vec![]).await.unwrap()
        };
        let text = js("return document.body.innerText").await;
        let lang = js("return document.documentElement.lang").await;
        let (text, lang) = (
            text.as_str().unwrap_or_default(),
            lang.as_str().unwrap_or_default(),
        );
        let problems = words::problems(text, lang);
        assert!(problems.is_empty(), "{name}: {problems:#?}\n{text}");
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await;
        let widths = js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        assert!(
            widths[0].as_i64() <= widths[1].as_i64(),
            "{name} scrolls sideways at 360 px: {widths}"
        );
        // No serious or critical accessibility violation (axe-core, RGAA's WCAG 2.1 AA).
        if let Some(axe) = axe() {
            self.client.execute(&axe, vec![]).await.unwrap();
            let found = self
                .client
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     axe.run(document, { resultTypes: ['violations'] })
                       .then(r => done(r.violations
                         .filter(v => v.impact === 'serious' || v.impact === 'critical')
                         .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(found, json!([]), "{name}: accessibility");
        }
    }

    /// A Chrome DevTools command, through chromedriver.
    async fn cdp(&self, cmd: &'static str, params: Value) {
        self.client
            .issue_cmd(Cdp(cmd, params))
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    }

    /// The page's main text once it holds `expected` (a form's navigation may still be under
    /// way when the WebDriver call returns); panics with the text after 15 s.
    async fn wait_for(&self, expected: &str) -> String {
        let mut text = String::new();
        for _ in 0..150 {
            if let Ok(main) = self.client.find(Locator::Css("main")).await {
                text = main.text().await.unwrap_or_default();
                if text.contains(expected) {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.screenshot("failure").await;
        let url = self.client.current_url().await.map(|u| u.to_string());
        let source = self.client.source().await.unwrap_or_default();
        panic!("the page never showed {expected:?}: {text}\nat {url:?}\n{source}");
    }

    /// Right after signing up: the page says where the verification went; the code from
    /// that mail (the mailbox is the outbox here) is typed in, as its owner would.
    async fn confirm_address(&self, app: &TestApp, kind: ServiceKind, email: &str) {
        self.wait_for("Nous avons écrit à").await;
        let code = app.verification_code(kind, email).await;
        self.fill("form[action$='/verify']", &[("code", &code)])
            .await;
    }

    async fn fill(&self, form: &str, fields: &[(&str, &str)]) {
        // Forms folded in a <details> are opened first, as a person would.
        self.client
            .execute(
                "document.querySelectorAll('details').forEach(d => d.open = true)",
                vec![],
            )
            .await
            .unwrap();
        let form = self.client.form(Locator::Css(form)).await.unwrap();
        for (name, value) in fields {
            form.set_by_name(name, value).await.unwrap();
        }
        form.submit().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainee_keeps_a_carnet_in_the_browser() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::listening(carnet_service::db::Engine::Sqlite).await;
    let wallet = app.ctx(ServiceKind::Wallet).config.public_url.clone();
    let b = &browser;

    // The wallet's home, in French: sign in or create a carnet.
    b.client.goto(&wallet).await.unwrap();
    b.wait_for("Créer mon carnet").await;
    b.screenshot("wallet-sign-in").await;
    b.fill(
        "form[action$='/sign-up']",
        &[
            ("display_name", "Camille Durand"),
            ("email", "camille@example.org"),
            ("password", PASSWORD),
        ],
    )
    .await;
    b.wait_for("Votre carnet est prêt").await;
    b.screenshot("wallet-recovery-code").await;

    // A centre validates a competency; the trainee pastes the offer link and its PIN.
    let c = centre(&app).await;
    let evaluated = c.evaluate(&app, json!("or")).await;
    b.client
        .find(Locator::Css("a[href$='/wallet']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("Ajouter une attestation").await;
    b.fill(
        "form[action$='/receive']",
        &[
            ("offer", evaluated["offer"]["offer_link"].as_str().unwrap()),
            ("tx_code", evaluated["offer"]["tx_code"].as_str().unwrap()),
        ],
    )
    .await;
    let carnet = b.wait_for("Centre Lyon Métallerie").await;
    assert!(
        carnet.contains("Soudure TIG") && carnet.contains("valide"),
        "{carnet}"
    );
    b.screenshot("wallet-carnet").await;

    // In English, on request.
    b.client
        .find(Locator::Css("a[hreflang='en']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("My competency logbook").await;
    b.screenshot("wallet-carnet-en").await;
    // The choice holds for the pages after, until switched back.
    b.click("nav.tabs a[href$='/credentials']").await;
    b.click("main a[href$='/shared']").await;
    b.wait_for("What I shared").await;
    b.click("a[hreflang='fr']").await;
    b.wait_for("Ce que j'ai partagé").await;

    // Out, and in again.
    b.client
        .find(Locator::Css("form[action$='/sign-out'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("Créer mon carnet").await;
    b.fill(
        "form[action$='/sign-in']",
        &[("email", "camille@example.org"), ("password", PASSWORD)],
    )
    .await;
    b.wait_for("Centre Lyon Métallerie").await;
    browser.client.clone().close().await.unwrap();
}

impl Browser {
    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Clicks what `css` finds, scrolled to the middle of the screen first, as a person
    /// would (on a phone, the wallet's bottom bar covers the screen's bottom edge).
    async fn click(&self, css: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'})",
                vec![serde_json::to_value(&element).unwrap()],
            )
            .await
            .unwrap();
        element.click().await.unwrap();
    }

    /// Clicks what leads to another page (a form's button), and waits for that page.
    async fn click_and_load(&self, css: &str) {
        self.client
            .execute("window.carnetBefore = true", vec![])
            .await
            .unwrap();
        self.click(css).await;
        for _ in 0..150 {
            let loaded = self
                .client
                .execute(
                    "return window.carnetBefore === undefined && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} led to no page");
    }

    async fn value(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    async fn sign_in(&self, home: &str, email: &str) {
        self.goto(home).await;
        self.fill(
            "form[action$='/sign-in']",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    }

    async fn sign_out(&self) {
        self.click("form[action$='/sign-out'] button").await;
        self.wait_for("J'ai déjà un compte").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn centre_trainee_and_recruiter_meet_in_the_browser() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::listening(carnet_service::db::Engine::Sqlite).await;
    let url = |kind| app.ctx(kind).config.public_url.clone();
    let (issuer, wallet, verifier) = (
        url(ServiceKind::Issuer),
        url(ServiceKind::Wallet),
        url(ServiceKind::Verifier),
    );
    let b = &browser;

    // What a centre has before its sessions: accounts, an organisation, a scale, a competency.
    let (admin, _) = app
        .register("issuer", "direction@centre.example", "Nathalie Girard")
        .await;
    app.register("issuer", "camille@example.org", "Camille Durand")
        .await;
    let post = |path: String, body: Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let r = app
                .call(axum::http::Method::POST, &path, &admin, Some(body))
                .await;
            assert!(r.status.is_success(), "{path}: {}", r.body);
            r.body
        }
    };
    let org = post(
        "/issuer/api/v1/organisations".into(),
        json!({"name": "Centre Lyon Métallerie", "siret": "45218903800014"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/issuer/api/v1/organisations/{org}");
    post(
        format!("{base}/members"),
        json!({"email": "camille@example.org", "role": "trainee"}),
    )
    .await;

    // The centre's portal: the scale and the competency by its forms.
    b.sign_in(&issuer, "direction@centre.example").await;
    b.wait_for("Mes organisations").await;
    b.screenshot("centre-home").await;
    b.click(&format!("a[href$='/orgs/{org}']")).await;
    b.wait_for("Compétences").await;
    b.fill(
        "form[action$='/scales']:has(input[name='scale.labels:list'])",
        &[
            ("name", "Médailles"),
            ("scale.labels:list", "bronze, argent, or"),
        ],
    )
    .await;
    b.wait_for("bronze < argent < or").await;
    b.fill(
        "form[action$='/competencies']",
        &[
            ("code", "SOUD-TIG"),
            ("name", "Soudure TIG"),
            ("description", "Souder à l'arc TIG"),
            ("framework_codes.rome", "H2913"),
        ],
    )
    .await;
    b.wait_for("SOUD-TIG").await;

    // A session, its trainee, a validated competency: the offer to hand over.
    b.fill(
        "form[action$='/sessions']",
        &[
            ("title", "Soudeur 2026"),
            ("starts_on", "2026-01-05"),
            ("ends_on", "2026-06-26"),
            ("planned_hours:int", "420"),
        ],
    )
    .await;
    b.wait_for("Valider une compétence").await;
    b.fill(
        "form[action$='/members']",
        &[("email", "camille@example.org"), ("role", "trainee")],
    )
    .await;
    b.wait_for("stagiaire").await;
    b.fill(
        "form[action$='/events']",
        &[
            ("title", "Soudure en position"),
            ("kind", "course"),
            ("starts_at", "2026-01-05T09:00"),
            ("ends_at", "2026-01-05T12:30"),
            ("place", "Atelier B"),
        ],
    )
    .await;
    b.wait_for("Atelier B").await;
    b.screenshot("centre-session").await;
    let session_page = b.path().await;

    // Attendance: the half-days from the calendar, the marks taken, countersigned.
    b.click("a[href$='/attendance']").await;
    b.wait_for("Émargement").await;
    b.click("form[action$='/from-calendar'] button").await;
    b.wait_for("non émargé").await;
    b.click("table.attendance thead a").await;
    b.wait_for("Code d'émargement").await;
    b.fill("form[action$='/marks']", &[("marks.0.status", "late")])
        .await;
    b.wait_for("en retard").await;
    b.screenshot("centre-attendance").await;
    b.click("a[href='?view=calendar']").await;
    let month = b.wait_for("janvier 2026").await;
    assert!(month.contains("matin 1/1"), "{month}");
    b.screenshot("centre-attendance-calendar").await;
    b.goto(&format!("{}{session_page}", origin(&issuer))).await;
    b.fill(
        "form[action$='/evaluate']",
        &[("assessment", "or"), ("comment", "Cordons réguliers")],
    )
    .await;
    b.wait_for("Attestation prête à remettre").await;
    b.screenshot("centre-credential-offer").await;
    // What the trainee's phone would photograph: the screen with its QR code.
    let photo = std::env::temp_dir().join(format!(
        "carnet-offer-{}.png",
        carnet_service::id::random_token(6)
    ));
    std::fs::write(&photo, b.client.screenshot().await.unwrap()).unwrap();
    let competency_link = b.value("input[data-select]").await;
    let competency_pin = b.text("[data-pin]").await;
    assert!(competency_link.starts_with("openid-credential-offer://"));
    assert!(
        b.client.find(Locator::Css(".qr svg")).await.is_ok(),
        "a QR code"
    );
    // The identity, checked on a document, for the trainee to share from.
    b.goto(&format!("{}{session_page}", origin(&issuer))).await;
    b.fill(
        "form[action$='/identity']",
        &[
            ("given_name", "Camille"),
            ("family_name", "Durand"),
            ("birthdate", "1999-12-31"),
            ("address.street_address", "17 impasse des Canuts"),
            ("address.postal_code", "69004"),
            ("address.locality", "Lyon"),
        ],
    )
    .await;
    b.wait_for("Attestation prête à remettre").await;
    let identity_link = b.value("input[data-select]").await;
    let identity_pin = b.text("[data-pin]").await;
    b.goto(&format!("{}{session_page}", origin(&issuer))).await;
    let session_text = b.wait_for("Cordons réguliers").await;
    assert!(session_text.contains("Soudure TIG"), "{session_text}");
    b.click(&format!("a[href$='/orgs/{org}']")).await;
    b.wait_for("Attestations émises").await;
    b.screenshot("centre-organisation").await;

    // The recruiter declares a company; the platform approves it and trusts the centre.
    let (_, admin_id) = app
        .register("verifier", "admin@plateforme.example", "Admin Plateforme")
        .await;
    app.make_platform_admin(ServiceKind::Verifier, &admin_id)
        .await;
    b.goto(&verifier).await;
    b.wait_for("Recruter sur compétences vérifiées").await;
    b.screenshot("recruiter-sign-in").await;
    b.fill(
        "form[action$='/sign-up']",
        &[
            ("display_name", "Inès Morel"),
            ("email", "rh@acier.example"),
            ("password", PASSWORD),
        ],
    )
    .await;
    b.screenshot("recruiter-verify-address").await;
    b.confirm_address(&app, ServiceKind::Verifier, "rh@acier.example")
        .await;
    b.wait_for("Déclarer mon entreprise").await;
    b.fill(
        "form[action$='/do/api/v1/companies']",
        &[("name", "Aciéries du Rhône"), ("siret", "73282932000074")],
    )
    .await;
    b.wait_for("en attente de validation").await;
    b.sign_out().await;
    b.sign_in(&verifier, "admin@plateforme.example").await;
    b.wait_for("Entreprises à valider").await;
    b.fill(
        "form[action$='/trusted-issuers']",
        &[
            ("issuer", &format!("{issuer}/orgs/{org}")),
            ("name", "Centre Lyon Métallerie"),
        ],
    )
    .await;
    b.wait_for(&format!("{issuer}/orgs/{org}")).await;
    b.click("form[action$='/approval'] button").await;
    b.wait_for("Aucune.").await;
    b.screenshot("platform-admin").await;
    b.sign_out().await;

    // The trainee: a carnet, both credentials, availability, and the profile published.
    b.goto(&wallet).await;
    b.fill(
        "form[action$='/sign-up']",
        &[
            ("display_name", "Camille Durand"),
            ("email", "camille@example.org"),
            ("password", PASSWORD),
        ],
    )
    .await;
    b.wait_for("Votre carnet est prêt").await;
    b.goto(&wallet).await;
    // The competency from the photo of its QR code, the identity from its pasted link.
    let upload = b
        .client
        .form(Locator::Css("form[action$='/receive/photo']"))
        .await
        .unwrap();
    upload
        .set_by_name("tx_code", &competency_pin)
        .await
        .unwrap();
    b.client
        .find(Locator::Css(
            "form[action$='/receive/photo'] input[type='file']",
        ))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    // Choosing the photo (taking it, on a phone) sends it: no button to press.
    b.wait_for("Soudure TIG").await;
    let _ = std::fs::remove_file(&photo);
    b.fill(
        "form[action$='/receive']",
        &[("offer", &identity_link), ("tx_code", &identity_pin)],
    )
    .await;
    b.wait_for("Soudure TIG").await;
    b.click("nav.tabs a[href$='/credentials']").await;
    let held = b.wait_for("Mes attestations").await;
    assert!(
        held.contains("dentité") && held.contains("Soudure TIG") && held.contains("Niveau or"),
        "{held}"
    );
    b.screenshot("wallet-credentials").await;
    // A credential's card opens what it contains and where it went.
    b.click("a.credential.competency").await;
    let details = b.wait_for("Ce qu'elle contient").await;
    assert!(
        details.contains("Validée le")
            && details.contains("Vous ne l'avez encore partagée avec personne"),
        "{details}"
    );
    b.screenshot("wallet-credential").await;
    b.click("nav.tabs a[href$='/profile']").await;
    b.wait_for("Ma disponibilité").await;
    // Regions are picked by name.
    b.click("details.pick summary").await;
    b.click("input[name='regions[]'][value='84']").await;
    b.fill(
        "form[action$='/availability']",
        &[("situation", "seeking"), ("available_from", "2026-07-01")],
    )
    .await;
    b.wait_for("Ma disponibilité").await;
    b.fill(
        "form[action$='/profile/publish']",
        &[("verifier", &verifier)],
    )
    .await;
    // What will be shared, claim by claim: the usual facts the platform requires are ticked.
    b.wait_for("Ce que vous partagez avec cette plateforme")
        .await;
    b.screenshot("wallet-publish-consent").await;
    b.fill("form[method='post'][action$='/profile/publish']", &[])
        .await;
    b.wait_for("compétences publiées").await;
    b.wait_for("Profil publié. Seules les informations que vous avez cochées")
        .await;
    b.screenshot("wallet-profile").await;

    // The recruiter finds the trainee and sends an offer asking the e-mail, the phone optional.
    b.goto(&format!("{verifier}?lang=fr")).await;
    b.sign_in(&verifier, "rh@acier.example").await;
    b.wait_for("Mes entreprises").await;
    b.click("ul.links a[href*='/companies/']").await;
    b.wait_for("Rechercher des profils").await;
    // A quiz to send with the offer, written as text.
    b.click("nav.tabs a[href$='/quizzes']").await;
    b.wait_for("Nouveau questionnaire").await;
    b.fill(
        "form[action$='/quizzes']",
        &[
            ("title", "Pré-requis soudure"),
            (
                "questions:quiz",
                "Gaz de protection du TIG ? [2]\n* Argon\n- CO2\n\nPourquoi ce poste ? [3]",
            ),
        ],
    )
    .await;
    b.wait_for("noté à la main").await;
    b.click("nav.tabs a:nth-of-type(1)").await;
    b.wait_for("Rechercher des profils").await;
    b.fill("form.filters", &[("q", "soudure")]).await;
    let found = b.wait_for("Camille Durand").await;
    assert!(
        found.contains("Soudure TIG") && found.contains("or"),
        "{found}"
    );
    b.screenshot("recruiter-search").await;
    b.click("article.card h3 a").await;
    b.wait_for("Compétences vérifiées").await;
    let quiz_id = b.value("select[name='quiz_id'] option:nth-child(2)").await;
    b.fill(
        "form[action$='/offers']",
        &[
            ("title", "Soudeur TIG (H/F)"),
            ("body", "CDI à Vénissieux, équipe de jour."),
            ("contract_type", "cdi"),
            ("place", "Vénissieux"),
            ("claim.email", "required"),
            ("claim.phone_number", "optional"),
            ("quiz_id", &quiz_id),
        ],
    )
    .await;
    b.wait_for("Destinataires").await;
    b.screenshot("recruiter-offer").await;

    // The trainee accepts, sharing only the e-mail.
    b.goto(&format!("{wallet}/inbox")).await;
    let inbox = b.wait_for("Soudeur TIG (H/F)").await;
    assert!(inbox.contains("Aciéries du Rhône"), "{inbox}");
    b.screenshot("wallet-inbox").await;
    // On a phone's screen.
    b.client.set_window_size(390, 844).await.unwrap();
    b.screenshot("wallet-inbox-phone").await;
    b.client.set_window_size(1200, 900).await.unwrap();
    b.click("main a[href$='/quizzes']").await;
    b.wait_for("Pré-requis soudure").await;
    b.click("input[type='radio'][value='0']").await;
    b.fill(
        "form[action$='/answers']",
        &[("answers.q2", "J'aime le métal bien soudé.")],
    )
    .await;
    b.wait_for("Répondu le").await;
    b.screenshot("wallet-quizzes").await;
    b.click("nav.tabs a[href$='/inbox']").await;
    b.wait_for("Soudeur TIG (H/F)").await;
    b.click("form[action$='/accept'] button").await;
    let picker = b.wait_for("Que partager ?").await;
    assert!(
        picker.contains("Adresse e-mail") && picker.contains("Téléphone"),
        "{picker}"
    );
    b.screenshot("wallet-accept").await;
    // The e-mail goes verified; the centre did not attest a phone: she declares it, and a
    // word of her own. The recruiter will read them as declared.
    assert!(
        picker.contains("Attesté par Centre Lyon Métallerie")
            && picker.contains("Sera transmis : Adresse e-mail"),
        "{picker}"
    );
    b.fill(
        "form[action*='/answer/']",
        &[
            ("declare./phone_number", "06 31 41 59 26"),
            (
                "declare./presentation",
                "Soudeuse TIG, mobile sur la métropole lyonnaise.",
            ),
        ],
    )
    .await;
    b.wait_for("acceptée").await;
    b.click("a[href*='/chats/']").await;
    b.wait_for("Discussion").await;

    // The recruiter's pipeline: Camille accepted the offer; the e-mail verified by the centre,
    // the phone and her words as she declared them. They chat.
    b.goto(&verifier).await;
    b.click("ul.links a[href*='/companies/']").await;
    b.click("nav.tabs a[href$='/candidates']").await;
    let candidates = b.wait_for("camille@example.org").await;
    let accepted = &candidates[candidates.find("Ont accepté").expect("the accepted stage")..];
    assert!(
        accepted.contains("Camille Durand")
            && accepted.contains("Soudeur TIG (H/F)")
            && accepted.contains("acceptée"),
        "{accepted}"
    );
    assert!(
        candidates.contains("Vérifié par Centre Lyon Métallerie")
            && candidates.contains("Déclaré par la personne")
            && candidates.contains("06 31 41 59 26")
            && candidates.contains("Soudeuse TIG, mobile sur la métropole lyonnaise."),
        "{candidates}"
    );
    b.screenshot("recruiter-candidates").await;
    b.click("nav.tabs a[href$='/quizzes']").await;
    b.click("table a[href*='/quizzes/']").await;
    let results = b.wait_for("J'aime le métal bien soudé.").await;
    assert!(
        results.contains("2 / 5") && results.contains("à noter"),
        "{results}"
    );
    b.fill("form[action$='/grades']", &[("points.q2:int", "3")])
        .await;
    b.wait_for("5 / 5").await;
    b.screenshot("recruiter-quiz").await;
    b.click("nav.tabs a[href$='/candidates']").await;
    b.wait_for("camille@example.org").await;
    b.click("a[href*='/chats/']").await;
    b.fill(
        "form[action$='/messages']",
        &[("body", "Bonjour, êtes-vous disponible jeudi ?")],
    )
    .await;
    b.wait_for("Bonjour, êtes-vous disponible jeudi ?").await;

    // The trainee answers in another tab; on the recruiter's page, open all along, the answer
    // arrives by itself (server-sent events, and a catch-up when the tab comes back to the
    // front; a_session_lives_in_the_browser sees the events alone, both pages in view).
    let recruiter_tab = b.client.window().await.unwrap();
    let trainee_tab = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(trainee_tab.handle).await.unwrap();
    b.goto(&format!("{wallet}/inbox")).await;
    b.click("a[href*='/chats/']").await;
    b.wait_for("Bonjour, êtes-vous disponible jeudi ?").await;
    b.fill("form[action$='/messages']", &[("body", "Oui, à 10 h.")])
        .await;
    b.wait_for("Oui, à 10 h.").await;
    b.screenshot("wallet-chat").await;
    b.client.switch_to_window(recruiter_tab).await.unwrap();
    b.wait_for("Oui, à 10 h.").await;
    b.screenshot("recruiter-chat").await;
    browser.client.clone().close().await.unwrap();
}

/// `http://host:port` of a service URL.
fn origin(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find('/') {
        Some(i) => url[..after + i].to_owned(),
        None => url.to_owned(),
    }
}

/// A session's life in two browsers, the trainer's and the trainee's: a quiz written as text,
/// opened to the session, answered by the trainee and graded; the information room, where what
/// the staff write — and remove — reaches the trainee's open page by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lives_in_the_browser() {
    let Some(staff) = browser().await else {
        return;
    };
    let trainee = browser().await.expect("a second browser");
    let app = TestApp::listening(carnet_service::db::Engine::Sqlite).await;
    let issuer = app.ctx(ServiceKind::Issuer).config.public_url.clone();
    let c = centre(&app).await;
    let session = format!("{issuer}/orgs/{}/sessions/{}", c.org, c.session);

    // The centre's manager runs the session's week from their home: a calendar event, the
    // half-days it makes, the marks and the countersignature.
    staff.sign_in(&issuer, "gestion@centre.example").await;
    staff.wait_for("Mes organisations").await;
    staff.click_and_load(ORGANISATION).await;
    staff.click_and_load("ul.links a[href*='/sessions/']").await;
    // A mistake in the session's dates: the page says it beside the field, in French, and
    // keeps what was typed.
    let edit = format!("form[action$='/sessions/{}']", c.session);
    staff
        .fill(
            &edit,
            &[("title", "Soudeur 2026 bis"), ("ends_on", "2025-01-01")],
        )
        .await;
    staff
        .wait_for("La session se termine avant de commencer.")
        .await;
    assert_eq!(
        staff.value(&format!("{edit} input[name='title']")).await,
        "Soudeur 2026 bis"
    );
    assert!(
        staff
            .client
            .find(Locator::Css("p.field-error"))
            .await
            .is_ok()
    );
    staff.screenshot("centre-session-refused").await;
    staff
        .fill(
            "form[action$='/events']",
            &[
                ("title", "Soudure en position"),
                ("kind", "course"),
                ("starts_at", "2027-01-15T13:30"),
                ("ends_at", "2027-01-15T17:00"),
                ("place", "Atelier B"),
            ],
        )
        .await;
    staff.wait_for("Atelier B").await;
    staff
        .click_and_load("nav.tabs a[href$='/attendance']")
        .await;
    staff
        .click_and_load("form[action$='/from-calendar'] button")
        .await;
    let sheet = staff.wait_for("après-midi").await;
    assert!(
        !sheet.contains("matin"),
        "13:30–17:00 is an afternoon: {sheet}"
    );
    staff.click_and_load("table.attendance thead a").await;
    staff.wait_for("Code d'émargement").await;
    staff
        .fill("form[action$='/marks']", &[("marks.0.status", "present")])
        .await;
    staff.wait_for("présent").await;
    staff.click_and_load("table.attendance thead a").await;
    staff
        .click_and_load("form[action$='/countersign'] button")
        .await;
    let signed = staff.wait_for("Karim Haddad").await;
    // The check-in code's end, on the session's clock (the test clock: 09:00 in Paris).
    assert!(
        signed.contains("valable jusqu'à 09:0") && !signed.contains("UTC"),
        "{signed}"
    );
    staff.screenshot("manager-attendance").await;

    // The staff write a quiz and open it for the day (the test clock: 2027-01-15, 09:00 in
    // Paris).
    // In the form editor: two right answers ticked among three, then a question added for a
    // free answer.
    staff.goto(&format!("{session}/quizzes")).await;
    staff.wait_for("Nouveau questionnaire").await;
    let editor = "form[action$='/quizzes']:has([data-quiz-editor])";
    staff
        .click(&format!("{editor} input[name='editor.0.right.0']"))
        .await;
    staff
        .click(&format!("{editor} input[name='editor.0.right.1']"))
        .await;
    staff.click(&format!("{editor} [data-add-question]")).await;
    staff.screenshot("centre-quiz-editor").await;
    staff
        .fill(
            editor,
            &[
                ("title", "Sécurité à l'atelier"),
                ("editor.0.prompt", "Que porter pour souder ?"),
                ("editor.0.points", "2"),
                ("editor.0.option.0", "Un masque"),
                ("editor.0.option.1", "Des gants"),
                ("editor.0.option.2", "Une cravate"),
                ("editor.1.prompt", "Un risque du TIG ?"),
                ("editor.1.points", "2"),
            ],
        )
        .await;
    staff.wait_for("Ouvrir à la session").await;
    staff
        .fill(
            "form[action$='/quizzes']:has(select[name='quiz_id'])",
            &[
                ("opens_at", "2027-01-15T08:00"),
                ("closes_at", "2027-01-15T18:00"),
            ],
        )
        .await;
    staff.wait_for("ouvert").await;
    staff.screenshot("centre-session-quizzes").await;

    // The trainee answers, on the centre's portal.
    trainee.sign_in(&issuer, "camille@example.org").await;
    trainee.wait_for("Centre Lyon Métallerie").await;
    trainee.click(ORGANISATION).await;
    trainee.wait_for("Soudeur 2026").await;
    trainee.click("ul.links a[href*='/sessions/']").await;
    trainee.wait_for("Questionnaires").await;
    trainee.screenshot("trainee-session").await;
    trainee.click("nav.tabs a[href$='/quizzes']").await;
    trainee.wait_for("Que porter pour souder ?").await;
    for option in ["0", "1"] {
        trainee
            .click(&format!("input[type='checkbox'][value='{option}']"))
            .await;
    }
    trainee
        .fill(
            "form[action$='/answers']",
            &[("answers.q2", "Les UV de l'arc")],
        )
        .await;
    let mine = trainee.wait_for("Mon résultat").await;
    assert!(mine.contains("2 / 4"), "{mine}");
    trainee.screenshot("trainee-session-quizzes").await;

    // The staff grade the free answer.
    staff.goto(&format!("{session}/quizzes")).await;
    staff.click("a[href*='/quizzes/']").await;
    staff.wait_for("Les UV de l'arc").await;
    staff
        .fill("form[action$='/grades']", &[("points.q2:int", "2")])
        .await;
    staff.wait_for("4 / 4").await;
    staff.screenshot("centre-quiz-results").await;

    // Courses and resources: a course, a text and a file, the competency it teaches, a
    // formation made of it.
    staff
        .goto(&format!("{issuer}/orgs/{}/courses", c.org))
        .await;
    staff.wait_for("Cours, ressources et formations").await;
    staff
        .fill(
            "form[action$='/courses']",
            &[
                ("title", "Soudure TIG — bases"),
                ("description", "Réglages, amorçage, cordons."),
            ],
        )
        .await;
    staff.wait_for("Réglages, amorçage, cordons.").await;
    staff
        .fill(
            "form[action$='/resources']:has(input[value='text'])",
            &[
                ("title", "Consignes de sécurité"),
                ("body", "Masque, gants, ventilation."),
            ],
        )
        .await;
    staff.wait_for("Consignes de sécurité").await;
    let pdf = std::env::temp_dir().join(format!(
        "carnet-{}.pdf",
        carnet_service::id::random_token(6)
    ));
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
    )
    .unwrap();
    staff
        .client
        .execute(
            "document.querySelectorAll('details').forEach(d => d.open = true)",
            vec![],
        )
        .await
        .unwrap();
    let upload = staff
        .client
        .form(Locator::Css("form[action$='/upload']"))
        .await
        .unwrap();
    upload
        .set_by_name("title", "Fiche de poste (PDF)")
        .await
        .unwrap();
    staff
        .client
        .find(Locator::Css("form[action$='/upload'] input[type='file']"))
        .await
        .unwrap()
        .send_keys(pdf.to_str().unwrap())
        .await
        .unwrap();
    upload.submit().await.unwrap();
    staff.wait_for("application/pdf").await;
    let _ = std::fs::remove_file(&pdf);
    staff
        .click_and_load("form[action*='/courses/'][action$='/resources'] button")
        .await;
    staff
        .click("form[action$='/competencies'] input[type='checkbox']")
        .await;
    staff
        .click_and_load("form[action$='/competencies'] button")
        .await;
    staff.wait_for("Nouvelle formation").await;
    staff
        .fill("form[action$='/formations']", &[("title", "Soudeur TIG")])
        .await;
    staff.wait_for("Cours de la formation").await;
    staff
        .click("form[action*='/formations/'] input[type='checkbox']")
        .await;
    staff
        .click_and_load(
            "form[action*='/formations/'][action$='/courses']:has(input[type='checkbox']) button",
        )
        .await;
    let courses = staff.wait_for("Cours de la formation").await;
    assert!(courses.contains("Consignes de sécurité"), "{courses}");
    staff.screenshot("centre-courses").await;

    // The information room: the trainee's page open, the staff write, then remove.
    trainee.goto(&format!("{session}/rooms/information")).await;
    trainee
        .wait_for("Seule l'équipe écrit dans ce salon.")
        .await;
    staff.goto(&format!("{session}/rooms/information")).await;
    staff
        .fill(
            "form[action$='/messages']",
            &[("body", "Atelier B fermé demain matin.")],
        )
        .await;
    staff.wait_for("Atelier B fermé demain matin.").await;
    trainee.wait_for("Atelier B fermé demain matin.").await;
    staff.screenshot("centre-room").await;
    // Removing asks once more.
    staff.click("ol.messages details.confirm summary").await;
    staff
        .click("ol.messages form[action*='/messages/'] button")
        .await;
    staff.wait_for("message retiré par la modération").await;
    trainee.wait_for("message retiré par la modération").await;
    trainee.screenshot("trainee-room").await;

    // The end of the session: the completion certificate to hand over; a calendar feed.
    staff.goto(&session).await;
    staff
        .click_and_load("form[action$='/completion'] button")
        .await;
    staff.wait_for("Attestation prête à remettre").await;
    staff.goto(&session).await;
    staff.click_and_load("form[action$='/feed'] button").await;
    staff.wait_for("Abonnement au calendrier").await;
    assert!(
        staff
            .value("input[data-select]")
            .await
            .contains("/calendar/")
    );

    // An invitation: the link, shown once, opens the way in for someone new.
    staff.goto(&format!("{issuer}/orgs/{}", c.org)).await;
    staff
        .fill(
            "form[action$='/invite']",
            &[("email", "nouvelle@example.org"), ("role", "trainee")],
        )
        .await;
    staff.wait_for("Invitation prête").await;
    let link = staff.value("input[data-select]").await;
    trainee.sign_out().await;
    trainee.goto(&link).await;
    trainee.wait_for("Vous êtes invité").await;
    trainee
        .fill(
            "form[action$='/sign-up']",
            &[
                ("display_name", "Léa Nouvelle"),
                ("email", "nouvelle@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    // The invitation waits for the address: confirmed with the mailed code, back to it.
    trainee
        .confirm_address(&app, ServiceKind::Issuer, "nouvelle@example.org")
        .await;
    // Back on the invitation, signed in.
    trainee.wait_for("Rejoindre l'organisation").await;
    trainee
        .click_and_load("form[action$='/invitations/accept'] button")
        .await;
    trainee.wait_for("Centre Lyon Métallerie").await;
    staff.client.clone().close().await.unwrap();
    trainee.client.clone().close().await.unwrap();
}

/// The trainer validates a competency from the session page; the trainee, on their phone,
/// opens their page at the centre and adds the credential to their carnet in one tap: the
/// wallet opens with the offer and its PIN filled in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validated_competency_reaches_the_carnet_in_one_tap() {
    let Some(staff) = browser().await else {
        return;
    };
    let trainee = browser().await.expect("a second browser");
    trainee.client.set_window_size(390, 844).await.unwrap();
    let app = TestApp::listening(carnet_service::db::Engine::Sqlite).await;
    let issuer = app.ctx(ServiceKind::Issuer).config.public_url.clone();
    let wallet = app.ctx(ServiceKind::Wallet).config.public_url.clone();
    centre(&app).await;
    app.register("wallet", "camille@example.org", "Camille Durand")
        .await;

    // The trainer, from their home to the session, evaluates.
    staff.sign_in(&issuer, "formateur@centre.example").await;
    staff.wait_for("Centre Lyon Métallerie").await;
    staff.click_and_load(ORGANISATION).await;
    staff.click_and_load("ul.links a[href*='/sessions/']").await;
    staff.wait_for("Évaluer").await;
    staff
        .fill(
            "form[action$='/evaluate']:has(select[name='trainee_id'])",
            &[("assessment", "or"), ("comment", "Cordons réguliers")],
        )
        .await;
    let handed = staff.wait_for("Attestation prête à remettre").await;
    assert!(
        handed.contains("Camille Durand") && handed.contains("Soudure TIG"),
        "{handed}"
    );
    staff.screenshot("centre-hand-over").await;

    // The trainee, signed in to both, taps once.
    trainee.sign_in(&wallet, "camille@example.org").await;
    trainee.wait_for("Ajouter une attestation").await;
    trainee.sign_in(&issuer, "camille@example.org").await;
    trainee.wait_for("Ajouter à mon carnet").await;
    trainee.screenshot("trainee-centre-home-phone").await;
    trainee.click_and_load("a.button[href*='offer=']").await;
    trainee.wait_for("Ajouter une attestation").await;
    let pin = trainee.value("input[name='tx_code']").await;
    assert_eq!(pin.len(), 6, "the PIN filled in from the address");
    assert!(
        !trainee
            .client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("tx_code")
    );
    trainee.screenshot("wallet-offer-filled-phone").await;
    trainee
        .click_and_load("form[action$='/receive'] button[type='submit']")
        .await;
    let carnet = trainee.wait_for("Soudure TIG").await;
    assert!(carnet.contains("Centre Lyon Métallerie"), "{carnet}");
    let wide = trainee
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, Value::Bool(true), "no sideways scrolling on a phone");
    trainee.screenshot("wallet-carnet-phone").await;
    staff.client.clone().close().await.unwrap();
    trainee.client.clone().close().await.unwrap();
}

#[test]
fn the_checks_find_what_they_look_for() {
    assert!(words::problems("Reçue le 3 décembre 2026", "fr").is_empty());
    assert_eq!(words::problems("Reçue le 2026-12-03", "fr").len(), 1);
    assert_eq!(
        words::problems("Émetteur org_9Fo27KfKxcHCgPgZ2HZcHA", "fr").len(),
        1
    );
    assert_eq!(words::problems("Le vct de la claim", "fr").len(), 2);
    assert!(
        words::problems(
            "https://carnet.example/issuer/orgs/org_9Fo27KfKxcHCgPgZ2HZcHA",
            "fr"
        )
        .is_empty()
    );
    assert!(!words::problems("Where it was shared", "fr").is_empty());
    assert!(!words::problems("Où elle a été partagée", "en").is_empty());
}

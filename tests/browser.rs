//! The portals in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver, started by the test). Skipped, saying why, when chromium or chromedriver is
//! missing, unless `CARNET_TEST_BROWSER=1` (set by `.ci/run`, which installs them) makes them
//! mandatory. A screenshot of each page goes to `target/screenshots/` for review.
//!
//! The journey so far: a trainee creates a carnet in the wallet (the recovery code shown once),
//! receives a competency a centre validated, sees it in the carnet, reads it in English, signs
//! out and in again.

mod common;

use carnet_service::ServiceKind;
use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

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
    async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
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
        panic!("the page never showed {expected:?}: {text}");
    }

    async fn fill(&self, form: &str, fields: &[(&str, &str)]) {
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

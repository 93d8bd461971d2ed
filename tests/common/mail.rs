//! A real SMTP server for the mail tests: `tests/mail/smtp_sink.py` (aiosmtpd), which saves
//! each message as JSON; skipped with a reason when Python's packages are missing, unless
//! `CARNET_TEST_SMTP` makes it mandatory.
#![allow(dead_code)]

/// The SMTP server of the tests (`tests/mail/smtp_sink.py`, aiosmtpd from PyPI), saving what
/// it receives in `dir`; `None` (the test skips, saying why) without Python's aiosmtpd, unless
/// `CARNET_TEST_SMTP` makes it mandatory.
pub fn smtp_sink(port: u16, dir: &std::path::Path) -> Option<std::process::Child> {
    use std::io::BufRead;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/smtp_sink.py");
    let child = std::process::Command::new("python3")
        .args([script, &port.to_string(), dir.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var_os("CARNET_TEST_SMTP").is_none(),
                "python3: {e}"
            );
            eprintln!("SMTP test skipped: no python3 ({e})");
            return None;
        }
    };
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    if line.trim() != "ready" {
        let _ = child.kill();
        assert!(
            std::env::var_os("CARNET_TEST_SMTP").is_none(),
            "the SMTP sink did not start (pip install aiosmtpd icalendar)"
        );
        eprintln!(
            "SMTP test skipped: aiosmtpd or icalendar is not installed (pip install aiosmtpd icalendar)"
        );
        return None;
    }
    Some(child)
}

pub fn received(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

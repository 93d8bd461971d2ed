//! Server configuration: flags, then `CARNET_*` environment variables (clap reads both), then
//! an optional TOML file (`--config`), then defaults.

use carnet_service::ServiceKind;
use carnet_service::crypto::SecretKey;
use carnet_service::remote::OutboundPolicy;
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run the services.
#[derive(Args, Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerArgs {
    /// A TOML file with any of these settings (keys in snake_case, e.g. `data_dir = "…"`).
    #[arg(long, env = "CARNET_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "CARNET_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Directory of the embedded SQLite databases, one file per service [default: ./carnet-data].
    #[arg(long, env = "CARNET_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Public base URL of this process [default: http://<addr>].
    #[arg(long, env = "CARNET_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Public URL of the issuer [default: <public-url>/issuer].
    #[arg(long, env = "CARNET_ISSUER_URL")]
    pub issuer_url: Option<String>,
    /// Public URL of the wallet [default: <public-url>/wallet].
    #[arg(long, env = "CARNET_WALLET_URL")]
    pub wallet_url: Option<String>,
    /// Public URL of the verifier [default: <public-url>/verifier].
    #[arg(long, env = "CARNET_VERIFIER_URL")]
    pub verifier_url: Option<String>,
    /// PostgreSQL URL of the issuer's database [default: SQLite in the data directory].
    #[arg(long, env = "CARNET_ISSUER_DATABASE_URL")]
    pub issuer_database_url: Option<String>,
    /// PostgreSQL URL of the wallet's database [default: SQLite in the data directory].
    #[arg(long, env = "CARNET_WALLET_DATABASE_URL")]
    pub wallet_database_url: Option<String>,
    /// PostgreSQL URL of the verifier's database [default: SQLite in the data directory].
    #[arg(long, env = "CARNET_VERIFIER_DATABASE_URL")]
    pub verifier_database_url: Option<String>,
    /// Where uploaded files go: a directory, or an S3-compatible bucket as
    /// `s3+https://host[:port]/bucket[/prefix]` with `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and `AWS_REGION` from the environment [default: <data-dir>/files].
    #[arg(long, env = "CARNET_FILES")]
    pub files: Option<String>,
    /// Key (32 bytes, base64url) sealing secrets at rest, such as issuer private keys
    /// [default: <data-dir>/secret.key, created on first start].
    #[arg(long, env = "CARNET_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Days the verifier keeps what a candidate disclosed after the last contact
    /// [default: 730, two years as the CNIL advises].
    #[arg(long, env = "CARNET_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Where outbound requests may go besides public addresses and Carnet's own URLs, for a
    /// deployment on a private network: hosts, host:port pairs or CIDR ranges, comma-separated
    /// (`idp.internal, 10.1.0.0/16, 127.0.0.1:9000`) [default: none].
    #[arg(long, env = "CARNET_ALLOW_OUTBOUND")]
    pub allow_outbound: Option<String>,
    /// State-changing requests (POST, PUT, PATCH, DELETE) allowed per minute from one client
    /// address, in bursts of a fifth of it; the whole process takes a hundred times as many;
    /// 0 turns the limit off [default: 300].
    #[arg(long, env = "CARNET_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// Load balancers or reverse proxies in front of Carnet, as CIDR ranges, comma-separated:
    /// requests from them are counted against the address they forward for
    /// (`X-Forwarded-For`) [default: none].
    #[arg(long, env = "CARNET_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// The SMTP server e-mail goes through: `smtp://user:password@host:587` (STARTTLS when
    /// offered), `smtps://host:465` [default: none, messages are kept in each service's outbox,
    /// which platform administrators read in the portals].
    #[arg(long, env = "CARNET_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of the e-mail [default: `Carnet <no-reply@carnet.invalid>`].
    #[arg(long, env = "CARNET_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// How long, in seconds, an instance's claim on a background job (sending a mail…) holds
    /// before another instance, or this one restarted, takes it over; renewed while the job
    /// runs [default: 300].
    #[arg(long, env = "CARNET_JOB_LEASE_SECS")]
    pub job_lease_secs: Option<u32>,
    /// Log filter (tracing's EnvFilter syntax) [default: info].
    #[arg(long, env = "CARNET_LOG")]
    pub log: Option<String>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "CARNET_LOG_JSON")]
    #[serde(default)]
    pub log_json: bool,
}

/// The settings once every source is merged.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub log: String,
    pub log_json: bool,
    pub retention_days: u32,
    /// How long a job's claim holds, in seconds.
    pub job_lease_secs: u32,
    /// Where outbound requests may go besides public addresses: the operator's list and the
    /// public URLs of the three services.
    pub outbound: OutboundPolicy,
    /// Writes per minute per client address (0: no limit).
    pub rate_limit: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    args: ServerArgs,
}

impl ServerArgs {
    pub fn resolve(self) -> Result<Settings, String> {
        let file = match &self.config {
            None => ServerArgs::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        let merged = ServerArgs {
            config: self.config,
            addr: self.addr.or(file.addr),
            data_dir: self.data_dir.or(file.data_dir),
            public_url: self.public_url.or(file.public_url),
            issuer_url: self.issuer_url.or(file.issuer_url),
            wallet_url: self.wallet_url.or(file.wallet_url),
            verifier_url: self.verifier_url.or(file.verifier_url),
            issuer_database_url: self.issuer_database_url.or(file.issuer_database_url),
            wallet_database_url: self.wallet_database_url.or(file.wallet_database_url),
            verifier_database_url: self.verifier_database_url.or(file.verifier_database_url),
            files: self.files.or(file.files),
            secret_key: self.secret_key.or(file.secret_key),
            retention_days: self.retention_days.or(file.retention_days),
            allow_outbound: self.allow_outbound.or(file.allow_outbound),
            rate_limit: self.rate_limit.or(file.rate_limit),
            trusted_proxies: self.trusted_proxies.or(file.trusted_proxies),
            smtp_url: self.smtp_url.or(file.smtp_url),
            mail_from: self.mail_from.or(file.mail_from),
            job_lease_secs: self.job_lease_secs.or(file.job_lease_secs),
            log: self.log.or(file.log),
            log_json: self.log_json || file.log_json,
        };
        let outbound: OutboundPolicy = merged
            .allow_outbound
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| format!("allow_outbound: {e}"))?;
        let trusted_proxies = merged
            .trusted_proxies
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("trusted_proxies: `{s}` is not a CIDR range"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let addr = merged
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        Ok(Settings {
            addr,
            data_dir: merged
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("carnet-data")),
            public_url: merged
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"))
                .trim_end_matches('/')
                .to_owned(),
            log: merged.log.clone().unwrap_or_else(|| "info".into()),
            log_json: merged.log_json,
            retention_days: match merged.retention_days {
                None => 730,
                Some(days @ 1..=3650) => days,
                Some(_) => return Err("retention_days: 1 to 3650".into()),
            },
            job_lease_secs: match merged.job_lease_secs {
                None => 300,
                Some(secs @ 1..=3600) => secs,
                Some(_) => return Err("job_lease_secs: 1 to 3600".into()),
            },
            outbound,
            rate_limit: merged.rate_limit.unwrap_or(300),
            trusted_proxies,
            args: merged,
        }
        .with_own_urls())
    }
}

impl Settings {
    /// Where e-mail goes: the SMTP server given, or the outbox alone.
    pub fn mail(&self) -> Result<carnet_service::mail::MailSettings, String> {
        let from = self
            .args
            .mail_from
            .clone()
            .unwrap_or_else(|| "Carnet <no-reply@carnet.invalid>".to_owned());
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "mail_from: {from:?} is not an address such as Carnet <no-reply@example.org>"
            ));
        }
        Ok(carnet_service::mail::MailSettings {
            smtp_url: self.args.smtp_url.clone().filter(|u| !u.trim().is_empty()),
            from,
        })
    }

    fn with_own_urls(mut self) -> Settings {
        let own: Vec<String> = ServiceKind::ALL
            .iter()
            .map(|k| self.service_url(*k))
            .chain([self.public_url.clone()])
            .collect();
        for url in own {
            self.outbound.allow_url(&url);
        }
        self
    }

    /// Where `kind` keeps its uploaded files: its own folder of the configured location.
    pub fn files_location(&self, kind: ServiceKind) -> String {
        match &self.args.files {
            Some(location) => format!("{}/{}", location.trim_end_matches('/'), kind.name()),
            None => self
                .data_dir
                .join("files")
                .join(kind.name())
                .display()
                .to_string(),
        }
    }

    /// The key sealing secrets at rest: given, or read from (or first written to)
    /// `<data-dir>/secret.key` with owner-only permissions.
    pub fn secret_key(&self) -> Result<SecretKey, String> {
        if let Some(text) = &self.args.secret_key {
            return SecretKey::from_base64(text).map_err(|e| format!("CARNET_SECRET_KEY: {e}"));
        }
        let path = self.data_dir.join("secret.key");
        let failed = |e: std::io::Error| format!("{}: {e}", path.display());
        match std::fs::read_to_string(&path) {
            // An empty file is what a first start stopped before writing left (the key is
            // written whole or not at all since, below): nothing was sealed with it.
            Ok(text) if text.trim().is_empty() => {
                std::fs::remove_file(&path).map_err(failed)?;
                self.secret_key()
            }
            Ok(text) => {
                SecretKey::from_base64(&text).map_err(|e| format!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.data_dir)
                    .map_err(|e| format!("{}: {e}", self.data_dir.display()))?;
                let key = SecretKey::generate();
                match write_new(&path, &key.to_base64()) {
                    Ok(()) => Ok(key),
                    // Another process started at the same moment and wrote its key first.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.secret_key(),
                    Err(e) => Err(failed(e)),
                }
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// Where `kind` is reached from outside.
    pub fn service_url(&self, kind: ServiceKind) -> String {
        let explicit = match kind {
            ServiceKind::Issuer => &self.args.issuer_url,
            ServiceKind::Wallet => &self.args.wallet_url,
            ServiceKind::Verifier => &self.args.verifier_url,
        };
        explicit
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.public_url, kind.name()))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The database of `kind`: its PostgreSQL URL, or its SQLite file in the data directory.
    pub fn database_url(&self, kind: ServiceKind) -> String {
        let explicit = match kind {
            ServiceKind::Issuer => &self.args.issuer_database_url,
            ServiceKind::Wallet => &self.args.wallet_database_url,
            ServiceKind::Verifier => &self.args.verifier_database_url,
        };
        explicit
            .clone()
            .unwrap_or_else(|| carnet_service::db::sqlite_url(&self.data_dir, kind.name()))
    }
}

/// Writes `text` at `path`, readable by the owner only, whole or not at all: into a file of
/// its own first, then linked at `path`, which fails if `path` exists.
fn write_new(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let draft = path.with_extension(format!("new-{}", std::process::id()));
    let _ = std::fs::remove_file(&draft);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_secret_key_left_by_an_interrupted_start_is_replaced() {
        let dir = std::env::temp_dir().join(format!("carnet-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret.key"), "").unwrap();
        let settings = ServerArgs {
            data_dir: Some(dir.clone()),
            ..ServerArgs::default()
        }
        .resolve()
        .unwrap();
        let key = settings.secret_key().unwrap();
        // Written whole, and the same key at the next start.
        let again = settings.secret_key().unwrap();
        assert_eq!(key.to_base64(), again.to_base64());
        let text = std::fs::read_to_string(dir.join("secret.key")).unwrap();
        assert_eq!(text, key.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no draft left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let dir = std::env::temp_dir().join(format!("carnet-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("carnet.toml");
        std::fs::write(
            &file,
            "addr = \"0.0.0.0:9000\"\ndata_dir = \"/var/lib/carnet\"\npublic_url = \"https://carnet.example/\"\n\
             verifier_database_url = \"postgres://db/verifier\"\n",
        )
        .unwrap();
        let args = ServerArgs {
            config: Some(file.clone()),
            data_dir: Some(PathBuf::from("/srv/flag")),
            ..ServerArgs::default()
        };
        let s = args.resolve().unwrap();
        assert_eq!(s.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(s.data_dir, PathBuf::from("/srv/flag"));
        assert_eq!(
            s.service_url(ServiceKind::Issuer),
            "https://carnet.example/issuer"
        );
        assert_eq!(
            s.database_url(ServiceKind::Verifier),
            "postgres://db/verifier"
        );
        assert!(
            s.database_url(ServiceKind::Wallet)
                .starts_with("sqlite:///srv/flag/wallet.db")
        );
        std::fs::write(&file, "unknown_key = 1\n").unwrap();
        let err = ServerArgs {
            config: Some(file),
            ..ServerArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.contains("unknown_key"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn defaults() {
        let s = ServerArgs::default().resolve().unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!(
            s.service_url(ServiceKind::Wallet),
            "http://127.0.0.1:8080/wallet"
        );
        assert_eq!(
            s.database_url(ServiceKind::Issuer),
            "sqlite://carnet-data/issuer.db?mode=rwc"
        );
    }
}

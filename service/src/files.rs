//! Where uploaded files live: a [`FileStore`] keyed by content (SHA-256), a local directory by
//! default. Services store the key in their database and never a path, so another store
//! (S3-compatible object storage) is a matter of configuration.

use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
    #[error("file store: {0}")]
    Remote(String),
    #[error("no such file")]
    NotFound,
}

/// Content-addressed blob storage.
pub trait FileStore: Send + Sync + 'static {
    /// Stores `bytes` and returns their key (base64url SHA-256); storing twice is harmless.
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<String, FileError>>;
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileError>>;
}

/// The key of some content.
pub fn key_of(bytes: &[u8]) -> String {
    carnet_core::b64::encode(Sha256::digest(bytes))
}

/// Keys are base64url SHA-256 digests; anything else names no file.
fn check_key(key: &str) -> Result<(), FileError> {
    if key.len() == 43 && crate::id::looks_like_id(key) {
        Ok(())
    } else {
        Err(FileError::NotFound)
    }
}

/// Where a service keeps its files, from configuration: a directory, or an S3-compatible
/// bucket given as `s3+https://host[:port]/bucket[/prefix]` (or `s3+http://…` for a local
/// server), with credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` and the region
/// from `AWS_REGION` (default `us-east-1`).
pub fn open_store(location: &str) -> Result<Arc<dyn FileStore>, FileError> {
    if location.starts_with("s3+") {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| FileError::Remote(format!("{name} is not set")))
        };
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        Ok(Arc::new(S3FileStore::new(
            location,
            &region,
            &var("AWS_ACCESS_KEY_ID")?,
            &var("AWS_SECRET_ACCESS_KEY")?,
        )?))
    } else {
        Ok(LocalFileStore::new(location)?)
    }
}

/// Files in a directory, one per key.
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    dir: PathBuf,
}

impl LocalFileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Result<Arc<LocalFileStore>, FileError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Arc::new(LocalFileStore { dir }))
    }
}

impl FileStore for LocalFileStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<String, FileError>> {
        Box::pin(async move {
            let key = key_of(bytes);
            let path = self.dir.join(&key);
            if !tokio::fs::try_exists(&path).await? {
                // Write then rename, so a reader never sees half a file.
                let tmp = self
                    .dir
                    .join(format!(".{key}.{}", crate::id::random_token(6)));
                tokio::fs::write(&tmp, bytes).await?;
                tokio::fs::rename(&tmp, &path).await?;
            }
            Ok(key)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileError>> {
        Box::pin(async move {
            check_key(key)?;
            tokio::fs::read(self.dir.join(key))
                .await
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => FileError::NotFound,
                    _ => FileError::Io(e),
                })
        })
    }
}

/// Objects in an S3-compatible bucket (AWS S3, MinIO, Garage, Ceph…), addressed path-style and
/// signed with AWS Signature Version 4.
pub struct S3FileStore {
    http: reqwest::Client,
    /// `scheme://host[:port]`.
    endpoint: String,
    /// `host[:port]`, as the `Host` header carries it.
    host: String,
    /// `/bucket/prefix/`, URI-encoded.
    path: String,
    region: String,
    access_key: String,
    secret_key: String,
}

impl S3FileStore {
    pub fn new(
        location: &str,
        region: &str,
        access_key: &str,
        secret_key: &str,
    ) -> Result<S3FileStore, FileError> {
        let bad = |why: &str| FileError::Remote(format!("{location}: {why}"));
        let url = reqwest::Url::parse(location.strip_prefix("s3+").unwrap_or(location))
            .map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(bad("expected s3+https://host/bucket[/prefix]"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?;
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = url.path().trim_matches('/');
        if path.is_empty() {
            return Err(bad("no bucket"));
        }
        Ok(S3FileStore {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(|e| bad(&e.to_string()))?,
            endpoint: format!("{}://{host}", url.scheme()),
            host,
            // `Url` has percent-encoded the path already.
            path: format!("/{path}/"),
            region: region.to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, FileError> {
        let path = format!("{}{key}", self.path);
        let payload_hash = hex(&Sha256::digest(&body));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let (authorization, amz_date) = sigv4(&SigV4 {
            method: method.as_str(),
            path: &path,
            headers: &[("host", &self.host)],
            payload_hash: &payload_hash,
            now_secs: now,
            region: &self.region,
            access_key: &self.access_key,
            secret_key: &self.secret_key,
        });
        self.http
            .request(method, format!("{}{path}", self.endpoint))
            .header("x-amz-content-sha256", payload_hash)
            .header("x-amz-date", amz_date)
            .header("authorization", authorization)
            .body(body)
            .send()
            .await
            .map_err(|e| FileError::Remote(e.to_string()))
    }
}

impl FileStore for S3FileStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<String, FileError>> {
        Box::pin(async move {
            let key = key_of(bytes);
            let response = self
                .send(reqwest::Method::PUT, &key, bytes.to_vec())
                .await?;
            if !response.status().is_success() {
                return Err(FileError::Remote(format!(
                    "PUT {key}: {}",
                    response.status()
                )));
            }
            Ok(key)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileError>> {
        Box::pin(async move {
            check_key(key)?;
            let response = self.send(reqwest::Method::GET, key, Vec::new()).await?;
            match response.status() {
                s if s.is_success() => Ok(response
                    .bytes()
                    .await
                    .map_err(|e| FileError::Remote(e.to_string()))?
                    .to_vec()),
                reqwest::StatusCode::NOT_FOUND => Err(FileError::NotFound),
                s => Err(FileError::Remote(format!("GET {key}: {s}"))),
            }
        })
    }
}

/// One request to sign with AWS Signature Version 4 (service `s3`, no query string).
struct SigV4<'a> {
    method: &'a str,
    /// Already URI-encoded.
    path: &'a str,
    /// Signed headers besides `x-amz-content-sha256` and `x-amz-date`, names in lower case.
    headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body.
    payload_hash: &'a str,
    now_secs: i64,
    region: &'a str,
    access_key: &'a str,
    secret_key: &'a str,
}

/// The `Authorization` and `x-amz-date` header values of a request.
fn sigv4(r: &SigV4) -> (String, String) {
    let (y, mo, d, h, mi, s) = crate::clock::utc(r.now_secs);
    let date = format!("{y:04}{mo:02}{d:02}");
    let amz_date = format!("{date}T{h:02}{mi:02}{s:02}Z");
    let mut headers: Vec<(&str, &str)> = r.headers.to_vec();
    headers.push(("x-amz-content-sha256", r.payload_hash));
    headers.push(("x-amz-date", &amz_date));
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let canonical_request = format!(
        "{}\n{}\n\n{canonical_headers}\n{signed}\n{}",
        r.method, r.path, r.payload_hash
    );
    let scope = format!("{date}/{}/s3/aws4_request", r.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = format!("AWS4{}", r.secret_key).into_bytes();
    for part in [date.as_str(), r.region, "s3", "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, to_sign.as_bytes()));
    (
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            r.access_key
        ),
        amz_date,
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The media types accepted for uploads, recognised by their first bytes (the declared type
/// must agree with the content).
pub fn sniff(declared: &str, bytes: &[u8]) -> Option<&'static str> {
    let declared = declared.split(';').next().unwrap_or_default().trim();
    let actual = if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if std::str::from_utf8(bytes).is_ok()
        && matches!(declared, "text/plain" | "text/markdown")
    {
        if declared == "text/plain" {
            "text/plain"
        } else {
            "text/markdown"
        }
    } else {
        return None;
    };
    (actual == declared).then_some(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_and_sniff() {
        let dir = std::env::temp_dir().join(format!("carnet-files-{}", crate::id::random_token(6)));
        let store = LocalFileStore::new(&dir).unwrap();
        let key = store.put(b"%PDF-1.7 hello").await.unwrap();
        assert_eq!(store.put(b"%PDF-1.7 hello").await.unwrap(), key);
        assert_eq!(store.get(&key).await.unwrap(), b"%PDF-1.7 hello");
        assert!(matches!(
            store.get("../etc/passwd").await,
            Err(FileError::NotFound)
        ));
        assert!(matches!(
            store.get(&key_of(b"never stored")).await,
            Err(FileError::NotFound)
        ));
        assert_eq!(
            sniff("application/pdf", b"%PDF-1.4"),
            Some("application/pdf")
        );
        assert_eq!(
            sniff("application/pdf", b"MZ\x90\x00"),
            None,
            "an executable named .pdf"
        );
        assert_eq!(
            sniff("image/png", b"%PDF-1.4"),
            None,
            "declared type must match"
        );
        assert_eq!(
            sniff("text/markdown", "# Titre".as_bytes()),
            Some("text/markdown")
        );
        assert_eq!(sniff("text/html", b"<script>"), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The example of AWS's Signature Version 4 documentation for S3 ("GET Object"), also
    /// reproduced with botocore.
    #[test]
    fn sigv4_matches_the_aws_example() {
        let empty = hex(&Sha256::digest(b""));
        let (authorization, date) = sigv4(&SigV4 {
            method: "GET",
            path: "/test.txt",
            headers: &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
            ],
            payload_hash: &empty,
            now_secs: 1_369_353_600,
            region: "us-east-1",
            access_key: "AKIAIOSFODNN7EXAMPLE",
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        });
        assert_eq!(date, "20130524T000000Z");
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        // A path-style PUT on a local server with a port, checked against botocore.
        let (authorization, _) = sigv4(&SigV4 {
            method: "PUT",
            path: "/bucket/pre%20fix/key",
            headers: &[("host", "127.0.0.1:9000")],
            payload_hash: &hex(&Sha256::digest(b"hello")),
            now_secs: 1_795_608_000,
            region: "eu-west-3",
            access_key: "AKIAIOSFODNN7EXAMPLE",
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        });
        assert!(authorization.ends_with(
            "Signature=52e0b85e42077968f001f1253e8fb9019e0caf6b0d86dfce7b1f77b83bb7d210"
        ));
    }

    /// Against a real S3-compatible server when `CARNET_TEST_S3_URL` names a bucket
    /// (`s3+http://127.0.0.1:9555/carnet-test`; `.ci/run` starts one), with `AWS_*` credentials.
    #[tokio::test]
    async fn s3_store_round_trip() {
        let Ok(location) = std::env::var("CARNET_TEST_S3_URL") else {
            eprintln!("skipped: CARNET_TEST_S3_URL is not set (an S3-compatible bucket)");
            return;
        };
        let store = open_store(&location).unwrap();
        let content = format!("%PDF-1.7 {}", crate::id::random_token(8));
        let key = store.put(content.as_bytes()).await.unwrap();
        assert_eq!(key, key_of(content.as_bytes()));
        assert_eq!(store.put(content.as_bytes()).await.unwrap(), key);
        assert_eq!(store.get(&key).await.unwrap(), content.as_bytes());
        assert!(matches!(
            store.get(&key_of(b"never stored")).await,
            Err(FileError::NotFound)
        ));
    }
}

//! Where uploaded files live: a [`FileStore`] keyed by content (SHA-256), a local directory by
//! default. Services store the key in their database and never a path, so another store
//! (S3-compatible object storage) is a matter of configuration.

use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
    #[error("no such file")]
    NotFound,
}

/// Content-addressed blob storage.
pub trait FileStore: Send + Sync + 'static {
    /// Stores `bytes` and returns their key (base64url SHA-256); storing twice is harmless.
    fn put(&self, bytes: &[u8]) -> Result<String, FileError>;
    fn get(&self, key: &str) -> Result<Vec<u8>, FileError>;
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

    fn path(&self, key: &str) -> Result<PathBuf, FileError> {
        // Keys are base64url digests; anything else never names a file.
        if key.len() != 43 || !crate::id::looks_like_id(key) {
            return Err(FileError::NotFound);
        }
        Ok(self.dir.join(key))
    }
}

impl FileStore for LocalFileStore {
    fn put(&self, bytes: &[u8]) -> Result<String, FileError> {
        use sha2::{Digest, Sha256};
        let key = carnet_core::b64::encode(Sha256::digest(bytes));
        let path = self.path(&key)?;
        if !path.exists() {
            // Write then rename, so a reader never sees half a file.
            let tmp = self
                .dir
                .join(format!(".{key}.{}", crate::id::random_token(6)));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)?;
        }
        Ok(key)
    }

    fn get(&self, key: &str) -> Result<Vec<u8>, FileError> {
        std::fs::read(self.path(key)?).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound,
            _ => FileError::Io(e),
        })
    }
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

    #[test]
    fn store_and_sniff() {
        let dir = std::env::temp_dir().join(format!("carnet-files-{}", crate::id::random_token(6)));
        let store = LocalFileStore::new(&dir).unwrap();
        let key = store.put(b"%PDF-1.7 hello").unwrap();
        assert_eq!(store.put(b"%PDF-1.7 hello").unwrap(), key);
        assert_eq!(store.get(&key).unwrap(), b"%PDF-1.7 hello");
        assert!(matches!(
            store.get("../etc/passwd"),
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
}

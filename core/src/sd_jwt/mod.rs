//! SD-JWT (RFC 9901) with the SD-JWT VC profile: issuance, presentation with key binding, and
//! strict verification.
//!
//! ```text
//! issuer:   issue(Credential, key, rng)          -> "<JWT>~<D1>~…~<Dn>~"
//! holder:   SdJwt::parse(..).present(paths, kb)   -> "<JWT>~<chosen Ds>~<KB-JWT>"
//! verifier: verify(presentation, keys, options)   -> Verified { claims, disclosed, status }
//! ```

mod disclosure;
mod issue;
mod present;
mod process;
mod verify;

pub use disclosure::{Disclosure, SdAlg};
pub use issue::{Credential, Disclose, IssueError, issue};
pub use present::{KeyBindingInput, PresentError, SdJwt};
pub use verify::{
    IssuerKeys, KbPolicy, Limits, Verified, VerifyError, VerifyOptions, verify, verify_batch,
};

/// `typ` of an SD-JWT VC.
pub const TYP_SD_JWT_VC: &str = "dc+sd-jwt";
/// `typ` of a key binding JWT.
pub const TYP_KB_JWT: &str = "kb+jwt";

/// Top-level claims SD-JWT VC forbids to make selectively disclosable (they, and what is under
/// them, must be plaintext).
pub const NEVER_DISCLOSABLE: [&str; 8] = [
    "iss",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "aka_vcts",
    "status",
];

/// A reference to a credential's entry in a Token Status List (`status.status_list`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusReference {
    pub idx: u64,
    pub uri: String,
}

//! What a holder declares of themselves when answering an offer: the personal details an offer
//! asks that no centre attested (a phone number, a town…), and a short presentation and links.
//! The wallet keeps them; an acceptance carries them signed by the holder's key, in the consent
//! receipt; the recruiter sees them as *declared*, never as *verified*. Nobody certifies them.

use crate::dcql::resolve;
use crate::path::ClaimPath;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest presentation, in characters.
pub const MAX_PRESENTATION: usize = 1000;
/// The most links.
pub const MAX_LINKS: usize = 3;
const MAX_FIELD: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
}

/// Declared details, under the names of the identity credential's claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// A declared value that cannot be kept, with the field it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DeclaredError {
    pub field: &'static str,
    pub reason: &'static str,
}

fn error(field: &'static str, reason: &'static str) -> DeclaredError {
    DeclaredError { field, reason }
}

/// Trimmed, `None` when empty, refused when too long or holding control characters.
fn clean(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, DeclaredError> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(error(field, "is too long"));
    }
    let multiline = field == "presentation";
    if value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
    {
        return Err(error(field, "holds control characters"));
    }
    Ok(Some(value.to_owned()))
}

fn checked(
    field: &'static str,
    value: Option<String>,
    ok: impl Fn(&str) -> bool,
    reason: &'static str,
) -> Result<Option<String>, DeclaredError> {
    match clean(field, value, MAX_FIELD)? {
        Some(v) if !ok(&v) => Err(error(field, reason)),
        other => Ok(other),
    }
}

fn is_email(v: &str) -> bool {
    let mut parts = v.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                && !domain.ends_with('.') && !v.contains(char::is_whitespace)
    )
}

/// Digits, spaces, dots, dashes and parentheses, an optional leading `+`, 6 to 15 digits.
fn is_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let rest = v.strip_prefix('+').unwrap_or(v);
    (6..=15).contains(&digits)
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'))
}

fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&v[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&v[8..10].parse::<u8>().unwrap_or(0))
}

fn is_link(v: &str) -> bool {
    (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() > "https://".len()
        && !v.contains(char::is_whitespace)
}

impl Declared {
    /// The same details trimmed and checked: empty values dropped, each value within its
    /// limits and of its shape (an e-mail address, a phone number, a date, web links).
    pub fn normalise(self) -> Result<Declared, DeclaredError> {
        let address = match self.address {
            None => None,
            Some(a) => {
                let a = Address {
                    street_address: clean("street_address", a.street_address, MAX_FIELD)?,
                    postal_code: clean("postal_code", a.postal_code, 20)?,
                    locality: clean("locality", a.locality, MAX_FIELD)?,
                };
                (a != Address::default()).then_some(a)
            }
        };
        let mut links = Vec::new();
        for link in self.links {
            if let Some(link) = checked("links", Some(link), is_link, "is not a web address")? {
                links.push(link);
            }
        }
        if links.len() > MAX_LINKS {
            return Err(error("links", "too many"));
        }
        Ok(Declared {
            given_name: clean("given_name", self.given_name, MAX_FIELD)?,
            family_name: clean("family_name", self.family_name, MAX_FIELD)?,
            birthdate: checked("birthdate", self.birthdate, is_date, "is not a date")?,
            email: checked("email", self.email, is_email, "is not an e-mail address")?,
            phone_number: checked(
                "phone_number",
                self.phone_number,
                is_phone,
                "is not a phone number",
            )?,
            address,
            presentation: clean("presentation", self.presentation, MAX_PRESENTATION)?,
            links,
        })
    }

    pub fn is_empty(&self) -> bool {
        self == &Declared::default()
    }

    fn value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether these details say the claim at `path`.
    pub fn says(&self, path: &ClaimPath) -> bool {
        !resolve(&self.value(), path).is_empty()
    }

    /// Only the personal details at `paths` (and an address part when the whole address is
    /// asked), with the presentation and links, which are always the holder's to add.
    pub fn only(&self, paths: &[&ClaimPath]) -> Declared {
        // A claim is asked when an asked path is it or one of its parents.
        let asked = |pointer: &str| {
            let claim: Vec<&str> = pointer[1..].split('/').collect();
            paths.iter().any(|p| {
                let keys: Vec<&str> = p
                    .elements()
                    .iter()
                    .map_while(|e| match e {
                        crate::path::PathElement::Key(k) => Some(k.as_str()),
                        _ => None,
                    })
                    .collect();
                keys.len() == p.elements().len() && claim.starts_with(&keys)
            })
        };
        let keep = |pointer: &str, v: &Option<String>| v.clone().filter(|_| asked(pointer));
        let address = self.address.as_ref().map(|a| Address {
            street_address: keep("/address/street_address", &a.street_address),
            postal_code: keep("/address/postal_code", &a.postal_code),
            locality: keep("/address/locality", &a.locality),
        });
        Declared {
            given_name: keep("/given_name", &self.given_name),
            family_name: keep("/family_name", &self.family_name),
            birthdate: keep("/birthdate", &self.birthdate),
            email: keep("/email", &self.email),
            phone_number: keep("/phone_number", &self.phone_number),
            address: address.filter(|a| a != &Address::default()),
            presentation: self.presentation.clone(),
            links: self.links.clone(),
        }
    }

    /// The text of the field at `pointer` (one of [`FIELDS`]; links one per line).
    pub fn get(&self, pointer: &str) -> String {
        let address = self.address.clone().unwrap_or_default();
        let value = match pointer {
            "/given_name" => &self.given_name,
            "/family_name" => &self.family_name,
            "/birthdate" => &self.birthdate,
            "/email" => &self.email,
            "/phone_number" => &self.phone_number,
            "/address/street_address" => &address.street_address,
            "/address/postal_code" => &address.postal_code,
            "/address/locality" => &address.locality,
            "/presentation" => &self.presentation,
            "/links" => return self.links.join("\n"),
            _ => &None,
        };
        value.clone().unwrap_or_default()
    }

    fn address_mut(&mut self) -> &mut Address {
        self.address.get_or_insert_with(Address::default)
    }

    /// Sets the field at `pointer` to `text` as typed (links one per line); `false` for a
    /// pointer that is not one of [`FIELDS`]. [`Declared::normalise`] checks it afterwards.
    pub fn set(&mut self, pointer: &str, text: &str) -> bool {
        let value = Some(text.to_owned());
        match pointer {
            "/given_name" => self.given_name = value,
            "/family_name" => self.family_name = value,
            "/birthdate" => self.birthdate = value,
            "/email" => self.email = value,
            "/phone_number" => self.phone_number = value,
            "/address/street_address" => self.address_mut().street_address = value,
            "/address/postal_code" => self.address_mut().postal_code = value,
            "/address/locality" => self.address_mut().locality = value,
            "/presentation" => self.presentation = value,
            "/links" => {
                self.links = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            _ => return false,
        }
        true
    }
}

/// The fields of declared details by claim pointer, in the order a form shows them.
pub const FIELDS: [&str; 10] = [
    "/given_name",
    "/family_name",
    "/birthdate",
    "/email",
    "/phone_number",
    "/address/street_address",
    "/address/postal_code",
    "/address/locality",
    "/presentation",
    "/links",
];

/// The fields that say the claim at `pointer`: itself, or an address's parts.
pub fn fields_of(pointer: &str) -> Vec<&'static str> {
    FIELDS
        .iter()
        .filter(|f| **f == pointer || f.starts_with(&format!("{pointer}/")))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn declared(v: Value) -> Result<Declared, String> {
        serde_json::from_value::<Declared>(v)
            .map_err(|e| e.to_string())?
            .normalise()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn values_are_trimmed_and_checked() {
        let d = declared(json!({
            "phone_number": " +33 6 12 34 56 78 ", "email": "", "address": {"locality": " Lyon "},
            "links": ["https://exemple.fr/camille"], "presentation": "Soudeuse TIG.\nMobile."
        }))
        .unwrap();
        assert_eq!(d.phone_number.as_deref(), Some("+33 6 12 34 56 78"));
        assert_eq!(d.email, None);
        assert_eq!(d.address.unwrap().locality.as_deref(), Some("Lyon"));
        for (bad, field) in [
            (json!({"phone_number": "appelez-moi"}), "phone_number"),
            (json!({"email": "camille@"}), "email"),
            (json!({"birthdate": "1999-13-01"}), "birthdate"),
            (json!({"links": ["javascript:alert(1)"]}), "links"),
            (json!({"given_name": "a\u{7}b"}), "given_name"),
            (json!({"presentation": "x".repeat(1001)}), "presentation"),
        ] {
            assert!(declared(bad).unwrap_err().starts_with(field));
        }
        assert!(declared(json!({"nationality": "FR"})).is_err());
        assert!(
            declared(json!({"address": {"street_address": "  "}}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn only_what_was_asked_and_what_says_it() {
        let d = declared(json!({
            "phone_number": "0612345678", "birthdate": "1999-04-01",
            "address": {"locality": "Lyon", "postal_code": "69007"}, "presentation": "Bonjour"
        }))
        .unwrap();
        let path = |p| ClaimPath::from_pointer(p).unwrap();
        let (phone, locality, address) = (
            path("/phone_number"),
            path("/address/locality"),
            path("/address"),
        );
        let kept = d.only(&[&phone, &locality]);
        assert_eq!(kept.birthdate, None);
        assert_eq!(kept.address.as_ref().unwrap().postal_code, None);
        assert_eq!(kept.presentation.as_deref(), Some("Bonjour"));
        assert!(kept.says(&phone) && kept.says(&locality) && !kept.says(&path("/email")));
        assert_eq!(d.only(&[&address]).address, d.address);
        let mut typed = Declared::default();
        assert!(typed.set("/links", "https://a.fr\n\n https://b.fr "));
        assert!(typed.set("/address/locality", "Lyon"));
        assert!(!typed.set("/nationality", "FR"));
        assert_eq!(typed.links, ["https://a.fr", "https://b.fr"]);
        assert_eq!(typed.get("/links"), "https://a.fr\nhttps://b.fr");
        assert_eq!(typed.get("/address/locality"), "Lyon");
        assert_eq!(
            fields_of("/address"),
            [
                "/address/street_address",
                "/address/postal_code",
                "/address/locality"
            ]
        );
        assert_eq!(fields_of("/email"), ["/email"]);
    }
}

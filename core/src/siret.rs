//! French establishment identifiers: a SIRET is 14 digits, the company's SIREN (9) and the
//! establishment's NIC (5), checked by the Luhn algorithm — except La Poste's establishments,
//! whose SIRETs are checked by a digit sum. Syntax only: whether the establishment exists is
//! for the INSEE Sirene directory to say.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// La Poste's SIREN, whose establishments follow another check.
const LA_POSTE_SIREN: &str = "356000000";

/// A syntactically valid SIRET.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiretError {
    #[error("a SIRET has 14 digits")]
    Length,
    #[error("a SIRET has only digits")]
    NotDigits,
    #[error("the SIREN (first 9 digits) fails its check digit")]
    Siren,
    #[error("the SIRET fails its check digit")]
    Checksum,
}

impl Siret {
    /// The company part.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

impl FromStr for Siret {
    type Err = SiretError;

    /// Accepts the digits with spaces between groups (`732 829 320 00074`).
    fn from_str(s: &str) -> Result<Siret, SiretError> {
        let compact: String = s.chars().filter(|c| *c != ' ' && *c != '\u{a0}').collect();
        if !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SiretError::NotDigits);
        }
        if compact.len() != 14 {
            return Err(SiretError::Length);
        }
        if !luhn(&compact[..9]) {
            return Err(SiretError::Siren);
        }
        let la_poste = &compact[..9] == LA_POSTE_SIREN
            && compact.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0;
        if !luhn(&compact) && !la_poste {
            return Err(SiretError::Checksum);
        }
        Ok(Siret(compact))
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Siret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Siret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Siret, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors() {
        // DOMAIN.md §4's computed vectors.
        assert!("73282932000074".parse::<Siret>().is_ok());
        assert_eq!("73282932000075".parse::<Siret>(), Err(SiretError::Checksum));
        assert!(
            "35600000000048".parse::<Siret>().is_ok(),
            "La Poste head office, Luhn-valid"
        );
        assert!(
            "35600000049837".parse::<Siret>().is_ok(),
            "La Poste, digit sum 45"
        );
        assert_eq!("35600000049838".parse::<Siret>(), Err(SiretError::Checksum));
        assert_eq!(
            "732 829 320 00074".parse::<Siret>().unwrap().siren(),
            "732829320"
        );
    }

    #[test]
    fn malformed() {
        assert_eq!("7328293200007".parse::<Siret>(), Err(SiretError::Length));
        assert_eq!(
            "7328293200007a".parse::<Siret>(),
            Err(SiretError::NotDigits)
        );
        assert_eq!("73282932100074".parse::<Siret>(), Err(SiretError::Siren));
        assert_eq!("".parse::<Siret>(), Err(SiretError::Length));
        assert_eq!("٣٣".parse::<Siret>(), Err(SiretError::NotDigits));
    }
}

//! Availability ("disponibilités"): what a holder declares of their situation — in training,
//! seeking a job, employed — from when they are available, where (French regions, by INSEE
//! code) and for which contracts. The wallet keeps it; a directory profile carries it, signed
//! by the holder in the consent receipt; the verifier filters on it. Nobody certifies it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    InTraining,
    Seeking,
    Employed,
}

impl Situation {
    pub fn as_str(self) -> &'static str {
        match self {
            Situation::InTraining => "in_training",
            Situation::Seeking => "seeking",
            Situation::Employed => "employed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    Cdi,
    Cdd,
    Interim,
    Alternance,
    Stage,
    Freelance,
}

impl Contract {
    /// Every contract type, in the order people are offered them.
    pub const ALL: [Contract; 6] = [
        Contract::Cdi,
        Contract::Cdd,
        Contract::Alternance,
        Contract::Stage,
        Contract::Interim,
        Contract::Freelance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Contract::Cdi => "cdi",
            Contract::Cdd => "cdd",
            Contract::Interim => "interim",
            Contract::Alternance => "alternance",
            Contract::Stage => "stage",
            Contract::Freelance => "freelance",
        }
    }
}

/// The regions of France by INSEE code (2016 boundaries), overseas included.
pub const REGIONS: [(&str, &str); 18] = [
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Île-de-France"),
    ("24", "Centre-Val de Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// Not declared yet when absent.
    #[serde(default)]
    pub situation: Option<Situation>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub available_from: Option<String>,
    /// INSEE region codes (`84` Auvergne-Rhône-Alpes, `11` Île-de-France…).
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub contracts: Vec<Contract>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvailabilityError {
    #[error("available_from: a date YYYY-MM-DD")]
    Date,
    #[error("regions: {0} is not a region code (INSEE: 84, 11…)")]
    Region(String),
}

impl AvailabilityError {
    /// The field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            AvailabilityError::Date => "available_from",
            AvailabilityError::Region(_) => "regions",
        }
    }
}

/// Whether `value` is a calendar-shaped date `YYYY-MM-DD`.
pub fn is_date(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap_or(0))
}

impl Availability {
    /// Checks the date and the regions; sorts and deduplicates the lists.
    pub fn normalise(mut self) -> Result<Availability, AvailabilityError> {
        if self.available_from.as_deref().is_some_and(|d| !is_date(d)) {
            return Err(AvailabilityError::Date);
        }
        if let Some(unknown) = self
            .regions
            .iter()
            .find(|r| !REGIONS.iter().any(|(code, _)| code == r))
        {
            return Err(AvailabilityError::Region(unknown.clone()));
        }
        self.regions.sort();
        self.regions.dedup();
        self.contracts.sort_by_key(|c| c.as_str());
        self.contracts.dedup();
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn availability_is_checked_and_normalised() {
        let a: Availability = serde_json::from_value(json!({
            "situation": "seeking", "available_from": "2027-01-04",
            "regions": ["84", "11", "84"], "contracts": ["cdi", "alternance", "cdi"],
        }))
        .unwrap();
        let a = a.normalise().unwrap();
        assert_eq!(a.regions, ["11", "84"]);
        assert_eq!(a.contracts, [Contract::Alternance, Contract::Cdi]);
        let bad = Availability {
            regions: vec!["99".into()],
            ..Availability::default()
        };
        assert_eq!(bad.normalise(), Err(AvailabilityError::Region("99".into())));
        let bad = Availability {
            available_from: Some("2027-13-01".into()),
            ..Availability::default()
        };
        assert_eq!(bad.normalise(), Err(AvailabilityError::Date));
        assert!(serde_json::from_value::<Availability>(json!({"situation": "retired"})).is_err());
    }
}

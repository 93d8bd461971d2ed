//! Level scales, defined by each centre: ordered labels (bronze < argent < or) or a score out
//! of a maximum with a pass mark. Every assessed level has a rank and a value in [0, 1], so
//! levels from different centres compare.

use serde::{Deserialize, Serialize};

/// A centre's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LevelScale {
    /// Labels from lowest to highest; every level is a validation.
    Levels { labels: Vec<String> },
    /// A score from 0 to `max`; validated from `pass` up.
    Score { max: u32, pass: u32 },
}

/// An assessed level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub label: String,
    /// 1-based position among the labels, or the score.
    pub rank: u32,
    /// Normalised: rank / number of labels, or score / max.
    pub value: f64,
    pub validated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    #[error("a scale has 1 to 20 distinct, non-empty labels of at most 60 characters")]
    Labels,
    #[error("a score scale needs 0 < pass ≤ max ≤ 10000")]
    Score,
    #[error("`{0}` is not a level of this scale")]
    UnknownLabel(String),
    #[error("the score must be between 0 and {0}")]
    ScoreOutOfRange(u32),
    #[error("this scale is assessed with {0}")]
    WrongKind(&'static str),
}

/// What an evaluator gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Assessment {
    Score(u32),
    Label(String),
}

impl LevelScale {
    /// Checks the scale's definition.
    pub fn check(&self) -> Result<(), LevelError> {
        match self {
            LevelScale::Levels { labels } => {
                let mut seen = std::collections::HashSet::new();
                let ok = (1..=20).contains(&labels.len())
                    && labels.iter().all(|l| {
                        let t = l.trim();
                        !t.is_empty() && t.chars().count() <= 60 && seen.insert(t.to_lowercase())
                    });
                if ok { Ok(()) } else { Err(LevelError::Labels) }
            }
            LevelScale::Score { max, pass } => {
                if *pass > 0 && pass <= max && *max <= 10_000 {
                    Ok(())
                } else {
                    Err(LevelError::Score)
                }
            }
        }
    }

    /// The level an assessment gives on this scale.
    pub fn assess(&self, assessment: &Assessment) -> Result<Level, LevelError> {
        match (self, assessment) {
            (LevelScale::Levels { labels }, Assessment::Label(label)) => {
                let index = labels
                    .iter()
                    .position(|l| l.trim().eq_ignore_ascii_case(label.trim()))
                    .ok_or_else(|| LevelError::UnknownLabel(label.clone()))?;
                let rank = index as u32 + 1;
                Ok(Level {
                    label: labels[index].trim().to_owned(),
                    rank,
                    value: f64::from(rank) / labels.len() as f64,
                    validated: true,
                })
            }
            (LevelScale::Score { max, pass }, Assessment::Score(score)) => {
                if score > max {
                    return Err(LevelError::ScoreOutOfRange(*max));
                }
                Ok(Level {
                    label: format!("{score}/{max}"),
                    rank: *score,
                    value: f64::from(*score) / f64::from(*max),
                    validated: score >= pass,
                })
            }
            (LevelScale::Levels { .. }, Assessment::Score(_)) => {
                Err(LevelError::WrongKind("a label"))
            }
            (LevelScale::Score { .. }, Assessment::Label(_)) => {
                Err(LevelError::WrongKind("a score"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_scores() {
        let medals = LevelScale::Levels {
            labels: vec!["bronze".into(), "argent".into(), "or".into()],
        };
        medals.check().unwrap();
        let argent = medals.assess(&Assessment::Label("Argent".into())).unwrap();
        assert_eq!(
            (argent.label.as_str(), argent.rank, argent.validated),
            ("argent", 2, true)
        );
        assert!((argent.value - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            medals.assess(&Assessment::Label("platine".into())),
            Err(LevelError::UnknownLabel("platine".into()))
        );
        let score = LevelScale::Score { max: 100, pass: 50 };
        assert!(!score.assess(&Assessment::Score(49)).unwrap().validated);
        assert_eq!(score.assess(&Assessment::Score(80)).unwrap().value, 0.8);
        assert_eq!(
            score.assess(&Assessment::Score(101)),
            Err(LevelError::ScoreOutOfRange(100))
        );
        assert_eq!(
            score.assess(&Assessment::Label("or".into())),
            Err(LevelError::WrongKind("a score"))
        );
    }

    #[test]
    fn bad_scales() {
        assert!(LevelScale::Levels { labels: vec![] }.check().is_err());
        assert!(
            LevelScale::Levels {
                labels: vec!["a".into(), "A".into()]
            }
            .check()
            .is_err()
        );
        assert!(LevelScale::Score { max: 10, pass: 11 }.check().is_err());
        assert!(LevelScale::Score { max: 10, pass: 0 }.check().is_err());
    }
}

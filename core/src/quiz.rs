//! Quizzes, shared by training centres and recruiters: single choice, multiple choice and short
//! answer questions with points; checked when written; shown to candidates without their
//! answers; graded deterministically — a choice question scores its points only when the
//! answer is exactly right, a short answer scores when it matches an accepted answer (case,
//! accents and spacing aside) and otherwise waits for a person to grade it. Nobody is rejected
//! automatically: a grade is a number for a person to read.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_QUESTIONS: usize = 100;
pub const MAX_OPTIONS: usize = 20;
pub const MAX_TEXT: usize = 2000;
pub const MAX_POINTS: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub title: String,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Unique within the quiz (`[A-Za-z0-9_-]`).
    pub id: String,
    pub prompt: String,
    #[serde(default = "one")]
    pub points: u32,
    #[serde(flatten)]
    pub kind: Kind,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    SingleChoice {
        options: Vec<String>,
        /// Index of the right option.
        correct: usize,
    },
    MultipleChoice {
        options: Vec<String>,
        /// Indexes of the right options (the answer must be exactly these).
        correct: BTreeSet<usize>,
    },
    ShortAnswer {
        /// Answers accepted automatically; none: graded by a person.
        #[serde(default)]
        accepted: Vec<String>,
    },
}

/// A candidate's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Choice(usize),
    Choices(BTreeSet<usize>),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuizError {
    #[error("{0}")]
    Invalid(String),
}

fn invalid(text: impl Into<String>) -> QuizError {
    QuizError::Invalid(text.into())
}

fn text_ok(text: &str) -> bool {
    !text.trim().is_empty() && text.chars().count() <= MAX_TEXT && !text.contains('\0')
}

/// How one question was graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "grade", rename_all = "snake_case")]
pub enum Graded {
    /// Scored automatically.
    Auto {
        points: u32,
    },
    /// A short answer waiting for a person.
    Pending,
    /// Graded by a person.
    Manual {
        points: u32,
    },
    Unanswered,
}

/// The grading of a whole quiz.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    pub questions: BTreeMap<String, Graded>,
    pub score: u32,
    pub max: u32,
    /// Whether some answers still wait for a person.
    pub pending: bool,
}

/// Lower case, accents and repeated spaces removed: how short answers compare.
fn normalise(text: &str) -> String {
    let folded: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Quiz {
    /// Checks a quiz as written: a title, 1 to 100 questions with unique ids, prompts, 2 to 20
    /// options, right answers among them, points up to 1000.
    pub fn check(&self) -> Result<(), QuizError> {
        if !text_ok(&self.title) || self.title.chars().count() > 200 {
            return Err(invalid("title: 1 to 200 characters"));
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return Err(invalid(format!("questions: 1 to {MAX_QUESTIONS}")));
        }
        let mut ids = BTreeSet::new();
        for q in &self.questions {
            let id_ok = (1..=64).contains(&q.id.len())
                && q.id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !id_ok || !ids.insert(q.id.as_str()) {
                return Err(invalid(format!(
                    "question id {:?}: unique, A-Z a-z 0-9 _ -",
                    q.id
                )));
            }
            if !text_ok(&q.prompt) {
                return Err(invalid(format!("question {}: a prompt", q.id)));
            }
            if q.points > MAX_POINTS {
                return Err(invalid(format!(
                    "question {}: at most {MAX_POINTS} points",
                    q.id
                )));
            }
            let options_ok = |options: &[String]| {
                (2..=MAX_OPTIONS).contains(&options.len()) && options.iter().all(|o| text_ok(o))
            };
            match &q.kind {
                Kind::SingleChoice { options, correct } => {
                    if !options_ok(options) || *correct >= options.len() {
                        return Err(invalid(format!(
                            "question {}: 2 to {MAX_OPTIONS} options, the right one among them",
                            q.id
                        )));
                    }
                }
                Kind::MultipleChoice { options, correct } => {
                    if !options_ok(options) || correct.iter().any(|c| *c >= options.len()) {
                        return Err(invalid(format!(
                            "question {}: 2 to {MAX_OPTIONS} options, the right ones among them",
                            q.id
                        )));
                    }
                }
                Kind::ShortAnswer { accepted } => {
                    if accepted.len() > MAX_OPTIONS || !accepted.iter().all(|a| text_ok(a)) {
                        return Err(invalid(format!(
                            "question {}: at most {MAX_OPTIONS} accepted answers",
                            q.id
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The quiz as a candidate sees it: no right answers.
    pub fn for_candidates(&self) -> serde_json::Value {
        let questions: Vec<serde_json::Value> = self
            .questions
            .iter()
            .map(|q| {
                let (kind, options) = match &q.kind {
                    Kind::SingleChoice { options, .. } => ("single_choice", Some(options)),
                    Kind::MultipleChoice { options, .. } => ("multiple_choice", Some(options)),
                    Kind::ShortAnswer { .. } => ("short_answer", None),
                };
                serde_json::json!({"id": q.id, "prompt": q.prompt, "points": q.points, "kind": kind, "options": options})
            })
            .collect();
        serde_json::json!({"title": self.title, "questions": questions})
    }

    /// The questions as [`Quiz::questions_from_text`] reads them, to edit them again (a
    /// multiple choice with a single right option reads back as a single choice).
    pub fn questions_to_text(&self) -> String {
        self.questions
            .iter()
            .map(|q| {
                let mut block = q.prompt.clone();
                if q.points != 1 {
                    block.push_str(&format!(" [{}]", q.points));
                }
                let options = |options: &[String], right: &dyn Fn(usize) -> bool| {
                    options
                        .iter()
                        .enumerate()
                        .map(|(i, o)| format!("\n{} {o}", if right(i) { '*' } else { '-' }))
                        .collect::<String>()
                };
                match &q.kind {
                    Kind::SingleChoice {
                        options: o,
                        correct,
                    } => block.push_str(&options(o, &|i| i == *correct)),
                    Kind::MultipleChoice {
                        options: o,
                        correct,
                    } => block.push_str(&options(o, &|i| correct.contains(&i))),
                    Kind::ShortAnswer { accepted } => {
                        for a in accepted {
                            block.push_str(&format!("\n= {a}"));
                        }
                    }
                }
                block
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Questions written as plain text, as a trainer types them in a form: one block per
    /// question, blocks apart by a blank line. The block's first line is the prompt, its points
    /// in brackets at the end (`[2]`, else 1); then `* ` marks a right option and `- ` a wrong
    /// one (one right: single choice; several: multiple choice); `= ` an answer accepted
    /// automatically; a block without options is a short answer (graded by a person when it
    /// accepts nothing). Ids are `q1`, `q2`… The quiz is then checked as any other.
    pub fn questions_from_text(text: &str) -> Result<Vec<Question>, QuizError> {
        let mut questions = Vec::new();
        // Forms send a text area's lines ending in CR LF.
        let text = text.replace("\r\n", "\n");
        let blocks = text.split("\n\n").map(str::trim).filter(|b| !b.is_empty());
        for (i, block) in blocks.enumerate() {
            let n = i + 1;
            let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or_default();
            let (prompt, points) = match first.strip_suffix(']').and_then(|l| l.rsplit_once('[')) {
                Some((prompt, points)) => (
                    prompt.trim(),
                    points
                        .trim()
                        .trim_end_matches(|c: char| c.is_alphabetic() || c == ' ')
                        .parse::<u32>()
                        .map_err(|_| invalid(format!("question {n}: points as [2]")))?,
                ),
                None => (first, 1),
            };
            let (mut options, mut accepted) = (Vec::new(), Vec::new());
            for line in lines {
                if let Some(option) = line.strip_prefix("* ") {
                    options.push((option.trim().to_owned(), true));
                } else if let Some(option) = line.strip_prefix("- ") {
                    options.push((option.trim().to_owned(), false));
                } else if let Some(answer) = line.strip_prefix("= ") {
                    accepted.push(answer.trim().to_owned());
                } else {
                    return Err(invalid(format!(
                        "question {n}: {line:?} starts with neither \"* \", \"- \" nor \"= \""
                    )));
                }
            }
            questions.push(Quiz::question(n, prompt, points, options, accepted)?);
        }
        Ok(questions)
    }

    /// Question `n` (numbered from 1) as an author writes it, in the text or in a form: its
    /// options each with whether it is right, or the answers accepted for a short answer.
    /// One right option makes a single choice, several a multiple choice; no option, a short
    /// answer.
    pub fn question(
        n: usize,
        prompt: &str,
        points: u32,
        options: Vec<(String, bool)>,
        accepted: Vec<String>,
    ) -> Result<Question, QuizError> {
        let correct: BTreeSet<usize> = options
            .iter()
            .enumerate()
            .filter(|(_, (_, right))| *right)
            .map(|(i, _)| i)
            .collect();
        let options: Vec<String> = options.into_iter().map(|(text, _)| text).collect();
        let kind = match (options.is_empty(), correct.len()) {
            (true, _) => Kind::ShortAnswer { accepted },
            (false, _) if !accepted.is_empty() => {
                return Err(invalid(format!(
                    "question {n}: options or accepted answers, not both"
                )));
            }
            (false, 1) => Kind::SingleChoice {
                options,
                correct: correct.into_iter().next().unwrap_or_default(),
            },
            (false, 0) => {
                return Err(invalid(format!("question {n}: mark the right option")));
            }
            (false, _) => Kind::MultipleChoice { options, correct },
        };
        Ok(Question {
            id: format!("q{n}"),
            prompt: prompt.trim().to_owned(),
            points,
            kind,
        })
    }

    pub fn max(&self) -> u32 {
        self.questions.iter().map(|q| q.points).sum()
    }

    /// Grades a candidate's answers. An answer to no question, or of the wrong shape for its
    /// question, is refused; a question left out is unanswered.
    pub fn grade(&self, answers: &BTreeMap<String, Answer>) -> Result<Grade, QuizError> {
        if let Some(unknown) = answers
            .keys()
            .find(|id| !self.questions.iter().any(|q| &q.id == *id))
        {
            return Err(invalid(format!("no question {unknown:?}")));
        }
        let mut questions = BTreeMap::new();
        for q in &self.questions {
            let points = |right: bool| Graded::Auto {
                points: if right { q.points } else { 0 },
            };
            let graded = match (&q.kind, answers.get(&q.id)) {
                (_, None) => Graded::Unanswered,
                (Kind::SingleChoice { options, correct }, Some(Answer::Choice(c)))
                    if *c < options.len() =>
                {
                    points(c == correct)
                }
                (Kind::MultipleChoice { options, correct }, Some(answer)) => {
                    let chosen: BTreeSet<usize> = match answer {
                        Answer::Choices(c) => c.clone(),
                        Answer::Choice(c) => BTreeSet::from([*c]),
                        Answer::Text(_) => {
                            return Err(invalid(format!("question {}: option numbers", q.id)));
                        }
                    };
                    if chosen.iter().any(|c| *c >= options.len()) {
                        return Err(invalid(format!("question {}: no such option", q.id)));
                    }
                    points(&chosen == correct)
                }
                (Kind::ShortAnswer { accepted }, Some(Answer::Text(text))) => {
                    if text.chars().count() > MAX_TEXT || text.contains('\0') {
                        return Err(invalid(format!(
                            "question {}: at most {MAX_TEXT} characters",
                            q.id
                        )));
                    }
                    let given = normalise(text);
                    if accepted.iter().any(|a| normalise(a) == given) {
                        points(true)
                    } else if accepted.is_empty() {
                        Graded::Pending
                    } else {
                        points(false)
                    }
                }
                _ => {
                    return Err(invalid(format!(
                        "question {}: not an answer of its kind",
                        q.id
                    )));
                }
            };
            questions.insert(q.id.clone(), graded);
        }
        Ok(Grade::total(questions, self.max()))
    }

    /// Applies a person's points to pending (or manually graded) short answers.
    pub fn grade_by_hand(
        &self,
        grade: &Grade,
        points: &BTreeMap<String, u32>,
    ) -> Result<Grade, QuizError> {
        let mut questions = grade.questions.clone();
        for (id, given) in points {
            let q = self
                .questions
                .iter()
                .find(|q| &q.id == id)
                .ok_or_else(|| invalid(format!("no question {id:?}")))?;
            if !matches!(q.kind, Kind::ShortAnswer { .. }) {
                return Err(invalid(format!(
                    "question {id}: only short answers are graded by hand"
                )));
            }
            if *given > q.points {
                return Err(invalid(format!(
                    "question {id}: at most {} points",
                    q.points
                )));
            }
            match questions.get(id) {
                Some(Graded::Pending | Graded::Manual { .. } | Graded::Auto { .. }) => {
                    questions.insert(id.clone(), Graded::Manual { points: *given });
                }
                _ => return Err(invalid(format!("question {id}: not answered"))),
            }
        }
        Ok(Grade::total(questions, self.max()))
    }
}

impl Grade {
    fn total(questions: BTreeMap<String, Graded>, max: u32) -> Grade {
        let score = questions
            .values()
            .map(|g| match g {
                Graded::Auto { points } | Graded::Manual { points } => *points,
                _ => 0,
            })
            .sum();
        let pending = questions.values().any(|g| *g == Graded::Pending);
        Grade {
            questions,
            score,
            max,
            pending,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quizzes_written_as_text() {
        let text = "Gaz de protection du TIG ? [2]\r\n* Argon\r\n- CO2\r\n\r\n\
                    Équipements obligatoires ?\n* Masque\n* Gants\n- Cravate\n\n\
                    Métal d'apport de l'inox ? [3 points]\n= 316L\n= 308L\n\n\
                    Pourquoi ce poste ?";
        let questions = Quiz::questions_from_text(text).unwrap();
        let quiz = Quiz {
            title: "Soudure".into(),
            questions,
        };
        quiz.check().unwrap();
        assert_eq!(quiz.max(), 2 + 1 + 3 + 1);
        assert_eq!(
            quiz.questions[0].kind,
            Kind::SingleChoice {
                options: vec!["Argon".into(), "CO2".into()],
                correct: 0
            }
        );
        assert!(
            matches!(&quiz.questions[1].kind, Kind::MultipleChoice { correct, .. } if correct.len() == 2)
        );
        assert_eq!(
            quiz.questions[2].kind,
            Kind::ShortAnswer {
                accepted: vec!["316L".into(), "308L".into()]
            }
        );
        assert_eq!(quiz.questions[3].id, "q4");
        for bad in [
            "Sans bonne réponse\n- a\n- b",
            "Points ? [deux]\n* a\n- b",
            "Mélange\n* a\n= b",
            "Ligne\nperdue",
        ] {
            assert!(Quiz::questions_from_text(bad).is_err(), "{bad}");
        }
    }

    use super::*;
    use serde_json::json;

    fn quiz() -> Quiz {
        serde_json::from_value(json!({"title": "Soudure", "questions": [
            {"id": "gaz", "prompt": "Gaz de protection du TIG ?", "kind": "single_choice", "options": ["Argon", "CO2"], "correct": 0, "points": 2},
            {"id": "epi", "prompt": "Équipements obligatoires ?", "kind": "multiple_choice", "options": ["Masque", "Gants", "Cravate"], "correct": [0, 1]},
            {"id": "electrode", "prompt": "Matériau de l'électrode ?", "kind": "short_answer", "accepted": ["Tungstène"]},
            {"id": "motivation", "prompt": "Pourquoi ce métier ?", "kind": "short_answer", "points": 3},
        ]}))
        .unwrap()
    }

    #[test]
    fn grading_is_deterministic() {
        let q = quiz();
        q.check().unwrap();
        assert_eq!(q.max(), 7);
        let answers: BTreeMap<String, Answer> = serde_json::from_value(json!({
            "gaz": 0, "epi": [1, 0], "electrode": "  TUNGSTENE ", "motivation": "J'aime le métal."
        }))
        .unwrap();
        let grade = q.grade(&answers).unwrap();
        assert_eq!((grade.score, grade.pending), (4, true));
        assert_eq!(grade.questions["motivation"], Graded::Pending);
        let graded = q
            .grade_by_hand(&grade, &BTreeMap::from([("motivation".into(), 2)]))
            .unwrap();
        assert_eq!((graded.score, graded.pending), (6, false));
        assert!(
            q.grade_by_hand(&grade, &BTreeMap::from([("motivation".into(), 4)]))
                .is_err()
        );
        assert!(
            q.grade_by_hand(&grade, &BTreeMap::from([("gaz".into(), 1)]))
                .is_err()
        );
        // Partly right is wrong; left out is unanswered; no question is invented.
        let answers: BTreeMap<String, Answer> =
            serde_json::from_value(json!({"epi": [0]})).unwrap();
        let grade = q.grade(&answers).unwrap();
        assert_eq!(grade.questions["epi"], Graded::Auto { points: 0 });
        assert_eq!(grade.questions["gaz"], Graded::Unanswered);
        let answers: BTreeMap<String, Answer> = serde_json::from_value(json!({"nope": 1})).unwrap();
        assert!(q.grade(&answers).is_err());
        let answers: BTreeMap<String, Answer> = serde_json::from_value(json!({"gaz": 5})).unwrap();
        assert!(q.grade(&answers).is_err());
        let answers: BTreeMap<String, Answer> =
            serde_json::from_value(json!({"gaz": "Argon"})).unwrap();
        assert!(q.grade(&answers).is_err());
    }

    #[test]
    fn candidates_do_not_see_the_answers() {
        let shown = quiz().for_candidates().to_string();
        assert!(
            !shown.contains("correct") && !shown.contains("accepted") && !shown.contains("Tungst")
        );
        assert!(shown.contains("Gaz de protection"));
    }

    #[test]
    fn quizzes_are_checked() {
        let typo = json!({"title": "T", "questions": [{"id": "a", "prompt": "P", "kind": "short_answer", "acepted": []}]});
        assert!(serde_json::from_value::<Quiz>(typo).is_err());
        let mut q = quiz();
        q.questions[0].kind = Kind::SingleChoice {
            options: vec!["A".into(), "B".into()],
            correct: 2,
        };
        assert!(q.check().is_err());
        let mut q = quiz();
        q.questions[1].id = "gaz".into();
        assert!(q.check().is_err());
        let mut q = quiz();
        q.questions.clear();
        assert!(q.check().is_err());
        let mut q = quiz();
        q.questions[0].points = MAX_POINTS + 1;
        assert!(q.check().is_err());
    }

    #[test]
    fn questions_read_back_as_written() {
        let text = "Gaz de protection du TIG ? [2]\n* Argon\n- CO2\n\nEPI obligatoires\n* Gants\n* Masque\n- Sandales\n\nUn mot sur l'arc\n= arc";
        let questions = Quiz::questions_from_text(text).unwrap();
        let quiz = Quiz {
            title: "TIG".into(),
            questions,
        };
        assert_eq!(quiz.questions_to_text(), text);
        assert_eq!(
            Quiz::questions_from_text(&quiz.questions_to_text()).unwrap(),
            quiz.questions
        );
    }
}

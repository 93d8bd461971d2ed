//! Enrolling a list of trainees in a session at once, as a centre's spreadsheet holds them:
//! the file read as its spreadsheet wrote it (`read_roster`: comma, semicolon or tab; UTF-8 or
//! Windows-1252; the columns found by their French or English headings, or by the addresses
//! when there is no heading), then each row enrolled on its own — a member of the organisation
//! takes the trainee role in the session, anyone else is invited to both — with a result per
//! row and the counts. A dry run says what would happen without doing it: the preview.

use crate::invitations::{self, NewInvitation};
use crate::sessions::{self, SessionManager};
use axum::extract::State;
use carnet_service::Ctx;
use carnet_service::auth::normalise_email;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Rows of one enrolment, at most.
pub const MAX_ROWS: usize = 1000;

pub fn router() -> OpenApiRouter<crate::IssuerState> {
    OpenApiRouter::new().routes(routes!(enrol_many))
}

/// One person of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterRow {
    #[serde(default)]
    pub name: String,
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    pub rows: Vec<RosterRow>,
    /// Say what would happen, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A member of the organisation, now a trainee of the session.
    Enrolled,
    /// Not a member yet: invited to the organisation and the session.
    Invited,
    /// Already a trainee of the session, or already on the list.
    Already,
    /// Not enrolled: see `detail`.
    Refused,
}

/// Why a row was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The address is not an e-mail address.
    InvalidEmail,
    /// A member of the staff: their session role is given one by one.
    Staff,
    /// Not a member of the organisation, and the caller may not invite.
    NotMember,
    /// Something else, said in `detail`.
    Other,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowResult {
    /// The row's place in the list, from 1.
    pub row: usize,
    pub name: String,
    pub email: String,
    pub outcome: Outcome,
    /// For a refused row.
    pub reason: Option<Reason>,
    pub detail: Option<String>,
    /// The invitation's link, shown once.
    pub link: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentReport {
    pub dry_run: bool,
    pub rows: Vec<RowResult>,
    /// Rows by outcome.
    pub counts: BTreeMap<Outcome, usize>,
}

/// Enrols a list of trainees in the session, each row on its own: what happened to each
/// (or, as a dry run, what would). Those who run the session; inviting someone new takes an
/// administrator or manager of the organisation.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/enrolments", tag = "sessions", request_body = Enrolment,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = EnrolmentReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn enrol_many(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Json(input): Json<Enrolment>,
) -> ApiResult<Json<EnrolmentReport>> {
    if input.rows.is_empty() || input.rows.len() > MAX_ROWS {
        return Err(ApiError::invalid_field(
            "rows",
            format!("1 to {MAX_ROWS} rows"),
        ));
    }
    let org = &access.org.tenant.id;
    let invites = sessions::runs_every_session(&access.org);
    let members: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.email, m.role FROM accounts a JOIN tenant_members m ON m.account_id = a.id WHERE m.tenant_id = $1",
    )
    .bind(org)
    .fetch_all(ctx.db.pool())
    .await?;
    let enrolled: Vec<(String,)> = sqlx::query_as(
        "SELECT a.email FROM accounts a JOIN session_members s ON s.account_id = a.id \
         WHERE s.session_id = $1 AND s.role = 'trainee'",
    )
    .bind(&access.session.id)
    .fetch_all(ctx.db.pool())
    .await?;
    let mut seen: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(input.rows.len());
    for (i, row) in input.rows.into_iter().enumerate() {
        let name = row.name.trim().to_owned();
        let result = |outcome, refused: Option<(Reason, String)>, email: String, link| RowResult {
            row: i + 1,
            name: name.clone(),
            email,
            outcome,
            reason: refused.as_ref().map(|r| r.0),
            detail: refused.map(|r| r.1),
            link,
        };
        let email = match normalise_email(&row.email) {
            Ok(email) => email,
            Err(_) => {
                rows.push(result(
                    Outcome::Refused,
                    Some((Reason::InvalidEmail, "not an e-mail address".into())),
                    row.email.trim().to_owned(),
                    None,
                ));
                continue;
            }
        };
        if seen.contains(&email) || enrolled.iter().any(|(e,)| *e == email) {
            rows.push(result(Outcome::Already, None, email, None));
            continue;
        }
        seen.push(email.clone());
        let member = members.iter().any(|(e, _)| *e == email);
        let staff = members.iter().any(|(e, r)| *e == email && r != "trainee");
        let refused = |reason, detail: &str| Some((reason, detail.to_owned()));
        let done = if staff {
            Err(refused(
                Reason::Staff,
                "a member of the staff: give them a role in the session one by one",
            ))
        } else if member {
            if input.dry_run {
                Ok((Outcome::Enrolled, None))
            } else {
                match sessions::enrol(&ctx, &access, &email, "trainee").await {
                    Ok(_) => Ok((Outcome::Enrolled, None)),
                    Err(ApiError::Conflict(_)) => Ok((Outcome::Already, None)),
                    Err(e) => Err(refused(Reason::Other, &e.to_string())),
                }
            }
        } else if !invites {
            Err(refused(
                Reason::NotMember,
                "not a member of the organisation: an administrator or manager invites them",
            ))
        } else if input.dry_run {
            Ok((Outcome::Invited, None))
        } else {
            let invitation = NewInvitation {
                email: email.clone(),
                role: "trainee".into(),
                session_id: Some(access.session.id.clone()),
            };
            match invitations::invite_address(&ctx, &access.org, invitation).await {
                Ok(invitation) => Ok((Outcome::Invited, invitation.link)),
                Err(e) => Err(refused(Reason::Other, &e.to_string())),
            }
        };
        rows.push(match done {
            Ok((outcome, link)) => result(outcome, None, email, link),
            Err(detail) => result(Outcome::Refused, detail, email, None),
        });
    }
    let mut counts = BTreeMap::new();
    for r in &rows {
        *counts.entry(r.outcome).or_insert(0) += 1;
    }
    if !input.dry_run {
        let mut tx = ctx.db.begin().await?;
        access
            .audit(
                &mut tx,
                ctx.now_ms(),
                "session.bulk_enrolment",
                None,
                json!({ "counts": counts }),
            )
            .await?;
        tx.commit().await?;
    }
    Ok(Json(EnrolmentReport {
        dry_run: input.dry_run,
        rows,
        counts,
    }))
}

/// Headings of the e-mail column, the full name's, the given name's and the family name's,
/// compared without case nor accents.
const EMAIL: [&str; 8] = [
    "email",
    "e-mail",
    "mail",
    "courriel",
    "adresse e-mail",
    "adresse email",
    "adresse mail",
    "adresse electronique",
];
const FULL_NAME: [&str; 6] = [
    "nom complet",
    "nom et prenom",
    "nom prenom",
    "name",
    "full name",
    "stagiaire",
];
const GIVEN: [&str; 3] = ["prenom", "first name", "given name"];
const FAMILY: [&str; 5] = [
    "nom",
    "nom de famille",
    "last name",
    "family name",
    "surname",
];

fn folded(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            '_' => ' ',
            c => c,
        })
        .collect()
}

/// A list of people from a spreadsheet's CSV export: UTF-8 (with or without its byte-order
/// mark) or Windows-1252 as French spreadsheets save it; fields apart by a semicolon, a comma
/// or a tab, whichever the first line has most of; the columns by their headings, else the
/// one holding addresses and the others as the name. Empty lines are skipped.
pub fn read_roster(bytes: &[u8]) -> Result<Vec<RosterRow>, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text).to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    };
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b';');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("the file cannot be read as CSV: {e}"))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        records.push(record.iter().map(str::to_owned).collect::<Vec<_>>());
        if records.len() > MAX_ROWS + 1 {
            return Err(format!("at most {MAX_ROWS} people in one file"));
        }
    }
    let Some(head) = records.first() else {
        return Err("the file is empty".into());
    };
    let find = |names: &[&str]| {
        head.iter()
            .position(|h| names.contains(&folded(h).as_str()))
    };
    let (email, full, given, family) =
        (find(&EMAIL), find(&FULL_NAME), find(&GIVEN), find(&FAMILY));
    let body: &[Vec<String>] = if email.is_some() {
        &records[1..]
    } else {
        &records
    };
    let email_column = match email {
        Some(c) => c,
        None => head
            .iter()
            .position(|f| f.contains('@'))
            .ok_or("no column of e-mail addresses (a heading such as « E-mail »)")?,
    };
    let cell =
        |row: &[String], c: Option<usize>| c.and_then(|c| row.get(c)).cloned().unwrap_or_default();
    let rows: Vec<RosterRow> = body
        .iter()
        .map(|row| {
            let name = match (full, given, family) {
                (Some(f), _, _) => cell(row, Some(f)),
                (None, None, None) if email.is_none() => row
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| *i != email_column && !f.is_empty())
                    .map(|(_, f)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                (None, g, f) => [cell(row, g), cell(row, f)]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            RosterRow {
                name,
                email: cell(row, Some(email_column)),
            }
        })
        .collect();
    if rows.is_empty() {
        return Err("the file has its headings and nobody under them".into());
    }
    if rows.len() > MAX_ROWS {
        return Err(format!("at most {MAX_ROWS} people in one file"));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, email: &str) -> RosterRow {
        RosterRow {
            name: name.into(),
            email: email.into(),
        }
    }

    #[test]
    fn spreadsheets_as_they_export() {
        // A French spreadsheet: semicolons, Windows-1252, the given and family names apart.
        let (latin, _, _) = encoding_rs::WINDOWS_1252
            .encode("Nom;Prénom;Adresse e-mail;Téléphone\r\nDurand;Camille;camille.durand@exemple.fr;06\r\n;;;\r\nLefèvre;Anaïs;anais@exemple.fr;\r\n");
        assert_eq!(
            read_roster(&latin).unwrap(),
            [
                row("Camille Durand", "camille.durand@exemple.fr"),
                row("Anaïs Lefèvre", "anais@exemple.fr")
            ]
        );
        // UTF-8 with its mark, commas, quotes, one full-name column.
        let utf8 = "\u{feff}\"Nom complet\",Email\n\"Martin, Julie\",julie@exemple.fr\n";
        assert_eq!(
            read_roster(utf8.as_bytes()).unwrap(),
            [row("Martin, Julie", "julie@exemple.fr")]
        );
        // No headings: the addresses are found, the rest is the name.
        let bare = "Camille\tDurand\tcamille@exemple.fr\nLéo\tPetit\tleo@exemple.fr\n";
        assert_eq!(
            read_roster(bare.as_bytes()).unwrap(),
            [
                row("Camille Durand", "camille@exemple.fr"),
                row("Léo Petit", "leo@exemple.fr")
            ]
        );
        for bad in ["", "Nom;Prénom\nDurand;Camille\n", "E-mail\n"] {
            assert!(read_roster(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let many: String = std::iter::once("email\n".to_owned())
            .chain((0..=MAX_ROWS).map(|i| format!("p{i}@exemple.fr\n")))
            .collect();
        assert!(read_roster(many.as_bytes()).is_err());
    }
}

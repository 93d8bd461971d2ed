//! Attendance: the session's half-days by list, month and week, one half-day's sheet, and each trainee's own record.

use super::*;

#[derive(Deserialize)]
pub(super) struct Slot {
    pub(super) id: String,
    pub(super) day: String,
    pub(super) half: String,
    pub(super) starts: String,
    pub(super) ends: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) countersigned_by_name: Option<String>,
}

/// The catalog key of a half-day as the API names it (`morning`, `afternoon`).
pub(super) fn half_key(half: &str) -> &'static str {
    if half == "afternoon" { "pm" } else { "am" }
}

impl Slot {
    pub(super) fn half_key(&self) -> &'static str {
        half_key(&self.half)
    }
}

#[derive(Deserialize)]
pub(super) struct Mark {
    pub(super) slot_id: String,
    pub(super) trainee_id: String,
    pub(super) status: String,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize, Clone)]
pub(super) struct TraineeSummary {
    pub(super) account_id: String,
    pub(super) display_name: String,
    #[serde(default)]
    pub(super) rate: Option<f64>,
    pub(super) attended_minutes: i64,
}

#[derive(Deserialize)]
pub(super) struct Table {
    pub(super) slots: Vec<Slot>,
    pub(super) trainees: Vec<TraineeSummary>,
    pub(super) marks: Vec<Mark>,
    #[serde(default)]
    pub(super) check_in_failures: Vec<CheckInFailures>,
}

/// Wrong check-in codes a trainee gave in a slot.
#[derive(Deserialize, Clone)]
pub(super) struct CheckInFailures {
    pub(super) slot_id: String,
    pub(super) trainee_id: String,
    pub(super) failures: i64,
    pub(super) locked: bool,
}

impl Table {
    pub(super) fn mark(&self, slot: &str, trainee: &str) -> Option<&Mark> {
        self.marks
            .iter()
            .find(|m| m.slot_id == slot && m.trainee_id == trainee)
    }
}

/// The catalog key of an attendance status.
pub(super) fn status_key(status: &str) -> &'static str {
    match status {
        "present" => "present",
        "absent" => "absent",
        "late" => "late",
        "excused" => "excused",
        _ => "att.unmarked",
    }
}

#[derive(Deserialize)]
pub(super) struct TraineeSlot {
    pub(super) id: String,
    pub(super) day: String,
    pub(super) half: String,
    pub(super) starts: String,
    pub(super) ends: String,
    #[serde(default)]
    pub(super) status: Option<String>,
}

impl TraineeSlot {
    pub(super) fn half_key(&self) -> &'static str {
        half_key(&self.half)
    }
}

#[derive(Deserialize)]
pub(super) struct TraineeAttendance {
    pub(super) summary: TraineeSummary,
    pub(super) slots: Vec<TraineeSlot>,
}

#[derive(Template)]
#[template(path = "issuer_attendance.html")]
pub(super) struct AttendancePage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: String,
    pub(super) title: String,
    /// The whole table for staff; a trainee's own list otherwise.
    pub(super) table: Option<Table>,
    pub(super) mine: Option<TraineeAttendance>,
    /// The month shown, when the calendar view is asked (`?view=calendar&month=YYYY-MM`),
    /// with the months before and after it that have half-days.
    pub(super) calendar: Option<Month>,
    /// The week shown (`?view=week&week=YYYY-MM-DD`, its Monday): its days with their
    /// half-days, and the weeks before and after.
    pub(super) week: Option<Week>,
    /// The links to the previous and next month or week, when there are.
    pub(super) previous: String,
    pub(super) next: String,
}

/// A week of the week view: each day's date in words and its half-days.
pub(super) struct Week {
    /// « semaine du 2 novembre 2026 ».
    pub(super) title: String,
    pub(super) days: Vec<(String, Vec<CalendarEntry>)>,
}

/// A half-day in the calendar view: its catalog keys (half, status), a count for staff, and the
/// page to mark it (staff).
pub(super) struct CalendarEntry {
    pub(super) half: &'static str,
    pub(super) status: &'static str,
    pub(super) count: String,
    pub(super) link: String,
    /// « 09:00 – 12:30 », and what is taught (staff).
    pub(super) hours: String,
    pub(super) title: String,
}

/// A day of the calendar view (its number and half-days), or none before the first.
pub(super) type Day = Option<(u32, Vec<CalendarEntry>)>;

/// A month of the calendar view, Monday first.
pub(super) struct Month {
    pub(super) year: i64,
    pub(super) month: u32,
    pub(super) weeks: Vec<Vec<Day>>,
}

/// Entries by day (days since 1970-01-01).
pub(super) fn by_day(entries: Vec<(String, CalendarEntry)>) -> BTreeMap<i64, Vec<CalendarEntry>> {
    let mut by_day: BTreeMap<i64, Vec<CalendarEntry>> = BTreeMap::new();
    for (day, entry) in entries {
        if let Some(n) = day_number(&day) {
            by_day.entry(n).or_default().push(entry);
        }
    }
    by_day
}

/// The week starting on the Monday `monday` (days since 1970-01-01), with the previous and
/// next weeks' Mondays when half-days lie before or after it.
pub(super) fn week_of(
    lang: Lang,
    mut by_day: BTreeMap<i64, Vec<CalendarEntry>>,
    monday: i64,
) -> (Week, Option<String>, Option<String>) {
    let first = by_day.keys().next().copied();
    let last = by_day.keys().last().copied();
    let days = (monday..monday + 7)
        .map(|n| {
            let name = lang.t(CATALOG, &format!("day.{}", n - monday + 1));
            let date = carnet_service::web::short_date(lang, &day_text(n));
            (
                format!("{name} {date}"),
                by_day.remove(&n).unwrap_or_default(),
            )
        })
        .collect();
    let week = Week {
        title: format!(
            "{} {}",
            lang.t(CATALOG, "att.week_of"),
            carnet_service::web::date(lang, &day_text(monday))
        ),
        days,
    };
    let previous = first.filter(|f| *f < monday).map(|_| day_text(monday - 7));
    let next = last
        .filter(|l| *l >= monday + 7)
        .map(|_| day_text(monday + 7));
    (week, previous, next)
}

/// The months spanning `entries` (by `YYYY-MM-DD`), as weeks of days.
pub(super) fn months(entries: Vec<(String, CalendarEntry)>) -> Vec<Month> {
    use carnet_core::calendar::{civil, days_from_civil};
    let mut by_day = by_day(entries);
    let (Some(first), Some(last)) = (by_day.keys().next().copied(), by_day.keys().last().copied())
    else {
        return Vec::new();
    };
    let mut months = Vec::new();
    let (mut y, mut m, _) = civil(first);
    let (last_y, last_m, _) = civil(last);
    // At most two years of months, whatever the data says.
    while (y, m) <= (last_y, last_m) && months.len() < 24 {
        let start = days_from_civil(y, m, 1);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let end = days_from_civil(ny, nm, 1);
        // 1970-01-01 was a Thursday: Monday is 0.
        let lead = (start + 3).rem_euclid(7);
        let mut cells: Vec<Day> = (0..lead).map(|_| None).collect();
        for day in start..end {
            cells.push(Some((
                civil(day).2,
                by_day.remove(&day).unwrap_or_default(),
            )));
        }
        while cells.len() % 7 != 0 {
            cells.push(None);
        }
        let mut weeks = Vec::new();
        let mut cells = cells.into_iter().peekable();
        while cells.peek().is_some() {
            weeks.push(cells.by_ref().take(7).collect());
        }
        months.push(Month {
            year: y,
            month: m,
            weeks,
        });
        (y, m) = (ny, nm);
    }
    months
}

impl AttendancePage {
    pub(super) fn status_key(&self, status: &str) -> &'static str {
        status_key(status)
    }

    pub(super) fn percent(&self, rate: &Option<f64>) -> String {
        rate.map_or_else(|| "—".to_owned(), |r| format!("{:.0} %", r * 100.0))
    }

    pub(super) fn hours(&self, minutes: &i64) -> String {
        format!("{}h{:02}", minutes / 60, minutes % 60)
    }

    pub(super) fn month_key(&self, month: &u32) -> String {
        format!("month.{month}")
    }

    pub(super) fn day_key(&self, n: &usize) -> String {
        format!("day.{n}")
    }

    pub(super) fn class_of(&self, key: &str) -> String {
        key.replace('.', "-")
    }

    pub(super) fn cell(&self, slot: &str, trainee: &str) -> &'static str {
        self.table
            .as_ref()
            .and_then(|t| t.mark(slot, trainee))
            .map_or("att.unmarked", |m| status_key(&m.status))
    }
}

/// Attendance: the table for the session's staff; one's own list and check-in for a trainee.
pub(super) async fn attendance(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let view_name = query.get("view").map_or("", String::as_str);
    let as_calendar = matches!(view_name, "calendar" | "week");
    let view = async {
        let base = format!("/api/v1/organisations/{org}/sessions/{sid}");
        let (title, zone) = api
            .get::<Vec<TrainingSession>>(&format!("/api/v1/organisations/{org}/sessions"))
            .await?
            .into_iter()
            .find(|s| s.id == sid)
            .map(|s| (s.title, s.timezone))
            .unwrap_or_default();
        let (table, mine) = match api.get::<Table>(&format!("{base}/attendance")).await {
            // Staff: the table, or one trainee's own list (`?trainee=`).
            Ok(table) => {
                let one = match query.get("trainee") {
                    Some(t) if table.trainees.iter().any(|x| &x.account_id == t) => {
                        Some(api.get(&format!("{base}/attendance/trainees/{t}")).await?)
                    }
                    _ => None,
                };
                (Some(table), one)
            }
            Err(p) if p.status == StatusCode::FORBIDDEN => {
                let me = page_session.0.account_id.as_str();
                let mine: TraineeAttendance =
                    api.get(&format!("{base}/attendance/trainees/{me}")).await?;
                (None, Some(mine))
            }
            Err(p) => return Err(p),
        };
        let entries: Vec<(String, CalendarEntry)> = match (&table, &mine) {
            _ if !as_calendar => Vec::new(),
            (Some(table), None) => table
                .slots
                .iter()
                .map(|slot| {
                    let marks: Vec<&Mark> = table
                        .marks
                        .iter()
                        .filter(|m| m.slot_id == slot.id)
                        .collect();
                    let attended = marks
                        .iter()
                        .filter(|m| m.status == "present" || m.status == "late")
                        .count();
                    let entry = CalendarEntry {
                        half: half_key(&slot.half),
                        status: if marks.is_empty() {
                            "att.unmarked"
                        } else {
                            "present"
                        },
                        count: format!("{attended}/{}", table.trainees.len()),
                        link: format!(
                            "{}/orgs/{org}/sessions/{sid}/attendance/{}",
                            state.ctx.config.path_prefix(),
                            slot.id
                        ),
                        hours: format!("{} – {}", slot.starts, slot.ends),
                        title: slot.title.clone(),
                    };
                    (slot.day.clone(), entry)
                })
                .collect(),
            (_, Some(mine)) => mine
                .slots
                .iter()
                .map(|slot| {
                    let entry = CalendarEntry {
                        half: half_key(&slot.half),
                        status: status_key(slot.status.as_deref().unwrap_or_default()),
                        count: String::new(),
                        link: String::new(),
                        hours: format!("{} – {}", slot.starts, slot.ends),
                        title: String::new(),
                    };
                    (slot.day.clone(), entry)
                })
                .collect(),
            _ => Vec::new(),
        };
        // Today on the session's clock: the month or week shown unless another is asked.
        let today = carnet_service::web::local_time(state.ctx.now_ms(), &zone)[..10].to_owned();
        let (mut calendar, mut week, mut previous, mut next) =
            (None, None, String::new(), String::new());
        let link = |key: &str, value: Option<String>| {
            value.map_or_else(String::new, |v| format!("?view={view_name}&{key}={v}"))
        };
        if view_name == "week" {
            let asked = query.get("week").and_then(|w: &String| day_number(w));
            let days = by_day(entries);
            // The week asked, else this week when the session has half-days then, else the
            // first week with any.
            let around = asked
                .or_else(|| {
                    day_number(&today).filter(|t| {
                        days.keys().next().is_some_and(|f| f <= t)
                            && days.keys().last().is_some_and(|l| l >= t)
                    })
                })
                .or_else(|| days.keys().next().copied())
                .unwrap_or_default();
            let monday = around - (around + 3).rem_euclid(7);
            let (shown, before, after) = week_of(lang, days, monday);
            (week, previous, next) = (Some(shown), link("week", before), link("week", after));
        } else if as_calendar {
            let all = months(entries);
            let key = |m: &Month| format!("{:04}-{:02}", m.year, m.month);
            let wanted = query
                .get("month")
                .cloned()
                .unwrap_or_else(|| today[..7].to_owned());
            let at = all.iter().position(|m| key(m) == wanted).unwrap_or(0);
            previous = link("month", at.checked_sub(1).and_then(|i| all.get(i)).map(key));
            next = link("month", all.get(at + 1).map(key));
            calendar = all.into_iter().nth(at);
        }
        Ok(AttendancePage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session: sid,
            title,
            calendar,
            week,
            previous,
            next,
            table,
            mine,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A trainee in a half-day: their mark (present by default), its note, and the wrong check-in
/// codes they gave there with whether their check-in is locked.
pub(super) type SlotRow = (TraineeSummary, String, String, Option<(i64, bool)>);

#[derive(Template)]
#[template(path = "issuer_slot.html")]
pub(super) struct SlotPage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: String,
    pub(super) slot: Slot,
    pub(super) rows: Vec<SlotRow>,
    pub(super) code: String,
    pub(super) code_until: String,
}

impl SlotPage {
    pub(super) fn status_key(&self, status: &str) -> &'static str {
        status_key(status)
    }
}

/// One half-day: the marks to take or change, the check-in code, the countersignature.
pub(super) async fn slot(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid, slot)): Path<(String, String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}/sessions/{sid}/attendance");
        let table: Table = api.get(&base).await?;
        let code: Value = api.get(&format!("{base}/slots/{slot}/code")).await?;
        let rows = table
            .trainees
            .iter()
            .map(|t| {
                let mark = table.mark(&slot, &t.account_id);
                let failures = table
                    .check_in_failures
                    .iter()
                    .find(|f| f.slot_id == slot && f.trainee_id == t.account_id)
                    .map(|f| (f.failures, f.locked));
                (
                    t.clone(),
                    mark.map_or_else(|| "present".to_owned(), |m| m.status.clone()),
                    mark.and_then(|m| m.note.clone()).unwrap_or_default(),
                    failures,
                )
            })
            .collect();
        let slot = table
            .slots
            .into_iter()
            .find(|s| s.id == slot)
            .ok_or(Problem::not_found())?;
        // The code's end on the session's wall clock, to the second (it turns every minute).
        let zone = find_session(&api, &org, &sid).await?.timezone;
        let until = code["valid_until"].as_i64().unwrap_or(0);
        let local = carnet_core::calendar::Zone::parse(&zone)
            .unwrap_or(carnet_core::calendar::Zone::Paris)
            .local(until.div_euclid(1000));
        Ok(SlotPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session: sid,
            slot,
            rows,
            code: code["code"].as_str().unwrap_or_default().to_owned(),
            code_until: format!(
                "{}:{:02}",
                local.time(),
                until.div_euclid(1000).rem_euclid(60)
            ),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[cfg(test)]
mod tests {
    #[test]
    pub(super) fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(super::CATALOG);
    }

    use carnet_service::i18n::Lang;

    pub(super) fn entry() -> super::CalendarEntry {
        super::CalendarEntry {
            half: "am",
            status: "present",
            count: String::new(),
            link: String::new(),
            hours: "09:00 – 12:30".into(),
            title: String::new(),
        }
    }

    #[test]
    pub(super) fn a_week_from_its_monday_with_the_weeks_around_it() {
        let days = super::by_day(vec![
            ("2026-01-05".into(), entry()),
            ("2026-01-07".into(), entry()),
            ("2026-01-20".into(), entry()),
        ]);
        let monday = super::day_number("2026-01-12").unwrap();
        let (week, previous, next) = super::week_of(Lang::Fr, days, monday);
        assert_eq!(week.title, "Semaine du 12 janvier 2026");
        assert_eq!(week.days.len(), 7);
        assert_eq!(week.days[0].0, "lun. 12 janv.");
        assert!(week.days.iter().all(|(_, e)| e.is_empty()));
        assert_eq!(previous.as_deref(), Some("2026-01-05"));
        assert_eq!(next.as_deref(), Some("2026-01-19"));
        let days = super::by_day(vec![("2026-01-13".into(), entry())]);
        let (week, previous, next) = super::week_of(Lang::Fr, days, monday);
        assert_eq!(week.days[1].1.len(), 1);
        assert_eq!((previous, next), (None, None));
    }

    #[test]
    pub(super) fn months_of_weeks_from_monday() {
        let months = super::months(vec![
            ("2026-02-02".into(), entry()),
            ("2026-01-05".into(), entry()),
            ("2026-01-05".into(), entry()),
            ("not a day".into(), entry()),
        ]);
        assert_eq!(months.len(), 2);
        let january = &months[0];
        assert_eq!((january.year, january.month), (2026, 1));
        // 2026-01-01 is a Thursday: three empty days first, five weeks in all.
        assert!(january.weeks[0][..3].iter().all(Option::is_none));
        assert_eq!(january.weeks[0][3].as_ref().map(|d| d.0), Some(1));
        assert_eq!(january.weeks.len(), 5);
        assert_eq!(
            january.weeks[1][0].as_ref().map(|d| (d.0, d.1.len())),
            Some((5, 2))
        );
        // 2026-02-01 is a Sunday, the last day of its first week.
        assert_eq!(months[1].weeks[0][6].as_ref().map(|d| d.0), Some(1));
        assert_eq!(
            months[1].weeks[1][0].as_ref().map(|d| (d.0, d.1.len())),
            Some((2, 1))
        );
        assert!(super::months(Vec::new()).is_empty());
    }
}

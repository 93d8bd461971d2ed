//! The portal's home: the signed-in person's dashboard (today's half-days, sessions under way), or the sign-in.

use super::*;

#[derive(Template)]
#[template(path = "issuer_home.html")]
pub(super) struct HomePage {
    pub(super) chrome: Chrome,
    pub(super) organisations: Vec<Tenant>,
    pub(super) offers: Vec<Offer>,
    /// Today's slots in the visitor's sessions, in order.
    pub(super) today: Vec<TodaySlot>,
    /// Sessions under way or to come, soonest first; then those ended, latest first.
    pub(super) current: Vec<SessionCard>,
    pub(super) past: Vec<SessionCard>,
}

/// A session as the dashboard shows it.
pub(super) struct SessionCard {
    pub(super) page: String,
    pub(super) title: String,
    pub(super) organisation: String,
    /// « du 5 janvier au 26 juin 2026 ».
    pub(super) dates: String,
    /// Under way today.
    pub(super) running: bool,
}

/// A slot of today in one of the visitor's sessions.
pub(super) struct TodaySlot {
    pub(super) session: String,
    pub(super) title: String,
    /// « 08:30 – 12:00 ».
    pub(super) hours: String,
    pub(super) place: String,
    /// The session's page.
    pub(super) page: String,
    /// Where its attendance is taken: the slot's own page for the session's staff, else the
    /// session's attendance.
    pub(super) attendance: String,
}

/// The dashboard's sessions and today's slots, across the visitor's organisations.
pub(super) async fn dashboard(
    api: &Backend,
    lang: Lang,
    base: &str,
    now: i64,
    organisations: &[Tenant],
) -> Result<(Vec<TodaySlot>, Vec<SessionCard>, Vec<SessionCard>), Problem> {
    let (mut today, mut current, mut past) = (Vec::new(), Vec::new(), Vec::new());
    for org in organisations {
        let sessions: Vec<TrainingSession> = api
            .get(&format!("/api/v1/organisations/{}/sessions", org.id))
            .await?;
        for s in sessions {
            let local = carnet_service::web::local_time(now, &s.timezone);
            let day = &local[..10];
            let page = format!("{base}/orgs/{}/sessions/{}", org.id, s.id);
            let card = SessionCard {
                page: page.clone(),
                title: s.title.clone(),
                organisation: org.name.clone(),
                dates: carnet_service::web::period(lang, &s.starts_on, &s.ends_on),
                running: s.starts_on.as_str() <= day && day <= s.ends_on.as_str(),
            };
            if card.running {
                // The slots made from the calendar, for the staff (others are refused them).
                let slots: Vec<Value> = api
                    .get::<Value>(&format!(
                        "/api/v1/organisations/{}/sessions/{}/attendance",
                        org.id, s.id
                    ))
                    .await
                    .map(|table| table["slots"].as_array().cloned().unwrap_or_default())
                    .unwrap_or_default();
                let events: Vec<Event> = api
                    .get(&format!(
                        "/api/v1/organisations/{}/sessions/{}/events?from={day}&to={day}",
                        org.id, s.id
                    ))
                    .await?;
                for e in events.into_iter().filter(|e| !e.cancelled) {
                    let clock = |at: &str| at.get(11..16).unwrap_or_default().to_owned();
                    let attendance = slots
                        .iter()
                        .find(|slot| slot["event_id"].as_str() == Some(e.id.as_str()))
                        .and_then(|slot| slot["id"].as_str())
                        .map_or_else(
                            || format!("{page}/attendance"),
                            |slot| format!("{page}/attendance/{slot}"),
                        );
                    today.push(TodaySlot {
                        attendance,
                        session: s.title.clone(),
                        title: e.title,
                        hours: format!("{} – {}", clock(&e.starts_at), clock(&e.ends_at)),
                        place: e.place.unwrap_or_default(),
                        page: page.clone(),
                    });
                }
            }
            if s.ends_on.as_str() < day {
                past.push((s.ends_on.clone(), card));
            } else {
                current.push((s.starts_on.clone(), card));
            }
        }
    }
    today.sort_by(|a, b| a.hours.cmp(&b.hours));
    current.sort_by(|a, b| a.0.cmp(&b.0));
    past.sort_by(|a, b| b.0.cmp(&a.0));
    let cards = |v: Vec<(String, SessionCard)>| v.into_iter().map(|(_, c)| c).collect();
    Ok((today, cards(current), cards(past)))
}

pub(super) async fn home(
    State(state): State<IssuerState>,
    lang: Lang,
    session: Result<PageSession, ApiError>,
    api: Backend,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    // Signed out, the portal's home is where one signs in (and then goes on to `next`).
    let Ok(session) = session else {
        let next = query.get("next").map_or("", String::as_str);
        return sign_in_page(
            &state.ctx,
            lang,
            CATALOG,
            StatusCode::OK,
            String::new(),
            next,
        );
    };
    let view = async {
        let organisations = api
            .get::<Items<Tenant>>("/api/v1/organisations?limit=100")
            .await?
            .items;
        // Until the address is confirmed (the banner of every page says so), none.
        let offers = if session.0.email_verified {
            api.get::<Vec<OfferLink>>("/api/v1/me/credential-offers")
                .await?
        } else {
            Vec::new()
        };
        let offers = offers
            .into_iter()
            .filter(|o| !o.redeemed)
            .map(|o| offer(lang, o, &state.ctx.config.wallet_url))
            .collect();
        let (today, current, past) = dashboard(
            &api,
            lang,
            state.ctx.config.path_prefix(),
            state.ctx.now_ms(),
            &organisations,
        )
        .await?;
        Ok(HomePage {
            chrome: chrome(&state, lang, &session),
            organisations,
            offers,
            today,
            current,
            past,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

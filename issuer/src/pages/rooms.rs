//! A session's rooms, live, and the private chats between trainees and staff.

use super::*;

#[derive(Deserialize)]
pub(super) struct Participant {
    pub(super) display_name: String,
}

#[derive(Deserialize)]
pub(super) struct Room {
    pub(super) id: String,
    pub(super) kind: String,
    pub(super) members: Vec<Participant>,
    pub(super) can_post: bool,
    #[serde(default)]
    pub(super) notice: String,
}

impl Room {
    /// The information room, or the names in a private chat.
    pub(super) fn name(&self, chrome: &Chrome) -> String {
        if self.kind == "information" {
            chrome.t("room.information").to_owned()
        } else {
            self.members
                .iter()
                .map(|m| m.display_name.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RoomMessage {
    pub(super) id: String,
    pub(super) author_id: String,
    pub(super) author_name: String,
    #[serde(default)]
    pub(super) body: Option<String>,
    pub(super) at: i64,
    pub(super) removed: bool,
    #[serde(default)]
    pub(super) position: Option<i64>,
}

#[derive(Template)]
#[template(path = "issuer_room.html")]
pub(super) struct RoomPage {
    pub(super) chrome: Chrome,
    pub(super) org: String,
    pub(super) session: TrainingSession,
    pub(super) me: String,
    pub(super) staff: bool,
    pub(super) rooms: Vec<Room>,
    pub(super) room: Room,
    pub(super) messages: Vec<RoomMessage>,
    /// The live stream starts after the last message shown: what is written between the
    /// page and its stream comes too.
    pub(super) after: i64,
    pub(super) contacts: Vec<Member>,
}

impl RoomPage {
    /// When a message was written, on the session's wall clock.
    pub(super) fn time(&self, m: &RoomMessage) -> String {
        carnet_service::web::local_moment(self.chrome.lang, m.at, &self.session.timezone)
    }
}

/// The session's rooms: the information room (staff post, everyone reads) and private chats,
/// with moderation (remove a message, mute someone) for staff; new messages arrive live.
pub(super) async fn room(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid, room)): Path<(String, String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}/sessions/{sid}");
        let session = find_session(&api, &org, &sid).await?;
        let rooms: Vec<Room> = api.get(&format!("{base}/rooms")).await?;
        // A trainee lists only the session's staff.
        let members: Vec<Member> = api
            .get(&format!("{base}/members"))
            .await
            .unwrap_or_default();
        let me = page_session.0.account_id.as_str().to_owned();
        let me_id = me.clone();
        let staff = members
            .iter()
            .any(|m| m.account_id == me && m.role != "trainee")
            || rooms.iter().any(|r| r.kind == "information" && r.can_post);
        let (mut current, others): (Vec<Room>, Vec<Room>) = rooms
            .into_iter()
            .partition(|r| r.id == room || (room == "information" && r.kind == "information"));
        let current = current.pop().ok_or(Problem::not_found())?;
        let mut messages: Vec<RoomMessage> = api
            .get(&format!("{base}/rooms/{}/messages", current.id))
            .await?;
        messages.sort_by_key(|m| m.at);
        let after = messages
            .iter()
            .filter_map(|m| m.position)
            .max()
            .unwrap_or(0);
        Ok(RoomPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session,
            me,
            staff,
            rooms: others,
            room: current,
            messages,
            after,
            // Whom the visitor may write to in private: staff write to trainees, a trainee to
            // the session's staff (the only members a trainee is shown).
            contacts: members
                .into_iter()
                .filter(|m| m.account_id != me_id && (m.role == "trainee") == staff)
                .collect(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

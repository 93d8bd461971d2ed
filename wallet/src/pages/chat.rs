//! A chat with a recruiter whose offer the holder accepted.

use super::*;

pub(super) struct MessageRow {
    pub(super) id: String,
    pub(super) mine: bool,
    pub(super) body: String,
    pub(super) at: String,
}

#[derive(Template)]
#[template(path = "chat.html")]
pub(super) struct ChatPage {
    pub(super) chrome: Chrome,
    pub(super) publication: String,
    pub(super) chat: String,
    pub(super) messages: Vec<MessageRow>,
}

/// A chat with a recruiter whose offer the holder accepted.
pub(super) async fn chat(
    State(state): State<WalletState>,
    page: Page,
    Path((publication, chat)): Path<(String, String)>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let messages = api
            .get::<Vec<Value>>(&format!(
                "/api/v1/inbox/{publication}/chats/{chat}/messages"
            ))
            .await?
            .into_iter()
            .map(|m| MessageRow {
                id: text(&m["id"]),
                mine: m["sender"] == "candidate",
                body: text(&m["body"]),
                at: carnet_service::web::moment(lang, m["at"].as_i64().unwrap_or(0)),
            })
            .collect();
        Ok(ChatPage {
            chrome: page.chrome(CATALOG),
            publication,
            chat,
            messages,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

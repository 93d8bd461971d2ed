//! A chat with a candidate who accepted.

use super::*;

pub(super) struct MessageRow {
    pub(super) id: String,
    pub(super) mine: bool,
    pub(super) body: String,
    pub(super) at: String,
}

#[derive(Template)]
#[template(path = "verifier_chat.html")]
pub(super) struct ChatPage {
    pub(super) frame: Frame,
    pub(super) chrome: Chrome,
    pub(super) chat: Chat,
    pub(super) messages: Vec<MessageRow>,
    /// The live stream starts after the last message shown: what is written between the
    /// page and its stream comes too.
    pub(super) after: i64,
}

pub(super) async fn chat(
    State(state): State<VerifierState>,
    page: Page,
    Path((company, chat)): Path<(String, String)>,
) -> Response {
    let (lang, api) = (page.lang, &page.api);
    let view = async {
        let frame = frame(api, &company).await?;
        let chat: Chat = api
            .get::<Vec<Chat>>(&format!("/api/v1/companies/{company}/chats"))
            .await?
            .into_iter()
            .find(|c| c.id == chat)
            .ok_or(Problem::not_found())?;
        let messages = api
            .get::<Vec<Message>>(&format!(
                "/api/v1/companies/{company}/chats/{}/messages",
                chat.id
            ))
            .await?;
        let after = messages
            .iter()
            .filter_map(|m| m.position)
            .max()
            .unwrap_or(0);
        let messages = messages
            .into_iter()
            .map(|m| MessageRow {
                mine: m.sender == "company",
                id: m.id,
                body: m.body,
                at: carnet_service::web::moment(lang, m.at),
            })
            .collect();
        Ok(ChatPage {
            chrome: page.chrome(CATALOG),
            frame,
            chat,
            messages,
            after,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

//! E-mail: a message is written to the service's outbox in the transaction of the change that
//! causes it (`queue`), with a `mail.send` job; the job sends it through SMTP when the service
//! has a server (`lettre`, configured by one URL: `smtp://` with STARTTLS when offered,
//! `smtps://`, credentials in the URL) and records it sent, or keeps it in the outbox when it
//! has none — the embedded default and the demo — where the platform's administrators read it
//! (`GET /api/v1/outbox`, the portals' « Courriers envoyés »). A failed send is retried with the
//! jobs' backoff; nothing waits on it in the request. Sending is at least once: a crash between
//! the server's answer and the record resends, with the same `Message-ID`.

use crate::Ctx;
use crate::auth::PlatformAdmin;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::id::random_token;
use crate::jobs::{self, Outcome};
use axum::extract::{FromRef, State};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The job that sends one message of the outbox.
pub const SEND: &str = "mail.send";

/// Where a service's mail goes.
#[derive(Clone, Debug, Default)]
pub struct MailSettings {
    /// `smtp://user:password@host:587`, `smtps://host:465`; none: kept in the outbox.
    pub smtp_url: Option<String>,
    /// The sender, `Carnet <no-reply@example.org>`.
    pub from: String,
}

/// A file sent with a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    /// `text/calendar; method=REQUEST; charset=UTF-8`.
    pub content_type: String,
    pub body: String,
}

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// What it is (`invitation`, `credential_offer`…), for the outbox and the tests.
    pub kind: &'static str,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    /// Paragraphs of plain text; a paragraph that is a web address becomes a button in HTML.
    pub paragraphs: Vec<String>,
    pub attachment: Option<Attachment>,
}

impl Outgoing {
    fn text(&self) -> String {
        let mut text = self.paragraphs.join("\n\n");
        text.push_str("\n\n-- \nCarnet\n");
        text
    }

    fn html(&self) -> String {
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let body: String = self
            .paragraphs
            .iter()
            .map(|p| {
                if (p.starts_with("https://") || p.starts_with("http://")) && !p.contains(' ') {
                    format!(
                        "<p><a href=\"{0}\" style=\"display:inline-block;padding:.6em 1.2em;background:#1f4fd1;color:#fff;border-radius:.3em;text-decoration:none\">{0}</a></p>",
                        escape(p)
                    )
                } else {
                    format!("<p>{}</p>", escape(p).replace('\n', "<br>"))
                }
            })
            .collect();
        format!(
            "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1b1f24\">{body}<p style=\"color:#5b6470\">Carnet</p></body></html>"
        )
    }
}

/// The address mail comes from (`no-reply@…` of `Carnet <no-reply@…>`).
pub fn sender_address(ctx: &Ctx) -> String {
    ctx.config
        .mail
        .from
        .parse::<Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| "no-reply@carnet.invalid".to_owned())
}

/// `text` (a catalog's) with each `{key}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |text, (key, value)| {
        text.replace(&format!("{{{key}}}"), value)
    })
}

/// Writes `mail` to the outbox (its bodies sealed: they may carry a secret link) and queues its
/// sending, on `conn` (the transaction of the change that causes it: no change without its
/// mail, no mail without its change).
pub async fn queue(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    mail: &Outgoing,
) -> Result<String, ApiError> {
    let now_ms = ctx.now_ms();
    let id = format!("mail_{}", random_token(16));
    let seal = |part: &str, body: String| {
        ctx.config
            .secret_key
            .seal(&format!("{id}:{part}"), body.as_bytes())
            .map_err(ApiError::internal)
    };
    let (text, html) = (seal("text", mail.text())?, seal("html", mail.html())?);
    let attached = mail
        .attachment
        .as_ref()
        .map(|a| seal("attachment", a.body.clone()))
        .transpose()?;
    // The person's, when the address is an account's: their notifications list.
    let account: Option<(String,)> = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
        .bind(&mail.to)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO outbox (id, kind, recipient, recipient_name, subject, text_body, html_body, created_at, \
         attachment_name, attachment_type, attachment, account_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(mail.kind)
    .bind(&mail.to)
    .bind(&mail.to_name)
    .bind(&mail.subject)
    .bind(text)
    .bind(html)
    .bind(now_ms)
    .bind(mail.attachment.as_ref().map(|a| a.filename.clone()))
    .bind(mail.attachment.as_ref().map(|a| a.content_type.clone()))
    .bind(attached)
    .bind(account.map(|(id,)| id))
    .execute(&mut *conn)
    .await?;
    jobs::enqueue(
        conn,
        now_ms,
        SEND,
        &json!({ "id": id }),
        now_ms,
        Some(&format!("mail:{id}")),
    )
    .await?;
    Ok(id)
}

type Row = (
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    String,
    Option<String>,
    Option<String>,
);

/// A sealed body of message `id`, opened.
fn open(ctx: &Ctx, id: &str, part: &str, sealed: &[u8]) -> Result<String, String> {
    ctx.config
        .secret_key
        .open(&format!("{id}:{part}"), sealed)
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
}

/// A message's text, opened.
pub fn open_text(ctx: &Ctx, id: &str, sealed: &[u8]) -> Result<String, String> {
    open(ctx, id, "text", sealed)
}

/// The `mail.send` job: sends one message of the outbox, or keeps it there without SMTP.
pub async fn send(ctx: Ctx, payload: Value) -> Result<Outcome, String> {
    let id = payload["id"].as_str().unwrap_or_default();
    let row: Option<Row> = sqlx::query_as(
        "SELECT recipient, recipient_name, subject, text_body, html_body, sent_at, \
         attachment_name, attachment_type, attachment, kind, account_id, held FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ctx.db.pool())
    .await
    .map_err(|e| e.to_string())?;
    let Some((
        to,
        name,
        subject,
        text,
        html,
        sent_at,
        file_name,
        file_type,
        file,
        kind,
        account,
        held,
    )) = row
    else {
        return Ok(Outcome::Done);
    };
    // How the person wants this kind: at once, in the day's summary, or only in their list.
    if let (Some(account), None) = (&account, &held) {
        match crate::notifications::mode(&ctx, account, &kind)
            .await
            .map_err(|e| e.to_string())?
        {
            crate::notifications::Mode::Immediate => {}
            mode => {
                crate::notifications::hold(&ctx, id, account, mode)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(Outcome::Done);
            }
        }
    }
    if held.is_some() {
        return Ok(Outcome::Done);
    }
    let Some(url) = ctx.config.mail.smtp_url.clone().filter(|u| !u.is_empty()) else {
        return Ok(Outcome::Done);
    };
    if sent_at.is_some() {
        return Ok(Outcome::Done);
    }
    let attachment = match (file_name, file_type, file) {
        (Some(filename), Some(content_type), Some(sealed)) => Some(Attachment {
            filename,
            content_type,
            body: open(&ctx, id, "attachment", &sealed)?,
        }),
        _ => None,
    };
    let (text, html) = (
        open(&ctx, id, "text", &text)?,
        open(&ctx, id, "html", &html)?,
    );
    let result = deliver(
        &url,
        &ctx.config.mail.from,
        id,
        (&to, &name),
        &subject,
        (text, html),
        attachment,
    )
    .await;
    let now = ctx.now_ms();
    match result {
        Ok(()) => {
            sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *ctx.db.writer().await.map_err(|e| e.to_string())?)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            let _ = sqlx::query("UPDATE outbox SET last_error = $1 WHERE id = $2")
                .bind(&e)
                .bind(id)
                .execute(ctx.db.pool())
                .await;
            Err(e)
        }
    }
}

async fn deliver(
    url: &str,
    from: &str,
    id: &str,
    (to, name): (&str, &str),
    subject: &str,
    (text, html): (String, String),
    attachment: Option<Attachment>,
) -> Result<(), String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("the sender {from:?}: {e}"))?;
    let address = to.parse().map_err(|e| format!("the address {to:?}: {e}"))?;
    let domain = from.email.domain().to_owned();
    let message = Message::builder()
        .from(from)
        .to(Mailbox::new(Some(name.to_owned()), address))
        .subject(subject)
        .message_id(Some(format!("<{id}@{domain}>")))
        .multipart(match attachment {
            None => MultiPart::alternative_plain_html(text, html),
            Some(a) => {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|e| format!("the attachment's type: {e}"))?;
                MultiPart::mixed()
                    .multipart(MultiPart::alternative_plain_html(text, html))
                    .singlepart(
                        lettre::message::Attachment::new(a.filename).body(a.body, content_type),
                    )
            }
        })
        .map_err(|e| e.to_string())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("the SMTP address: {e}"))?
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP: {e}"))
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(outbox))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEntry {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: String,
    pub text_body: String,
    pub created_at: i64,
    /// When the SMTP server took it; empty while it waits, or when the service has none.
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

type EntryRow = (
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    i64,
    Option<i64>,
    Option<String>,
);

/// The service's last 200 messages, newest first, their text opened; platform
/// administrators.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "mail",
    responses((status = 200, body = Vec<OutboxEntry>), (status = 403, body = Problem)))]
async fn outbox(
    State(ctx): State<Ctx>,
    _admin: PlatformAdmin,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    entries(&ctx, None).await.map(Json)
}

/// The messages written to `recipient`, newest first, their text opened: what their mailbox
/// holds from this service (the demo's people follow their links from it).
pub async fn messages_to(ctx: &Ctx, recipient: &str) -> ApiResult<Vec<OutboxEntry>> {
    entries(ctx, Some(recipient)).await
}

/// The last 200 messages, to anyone or to `recipient`.
async fn entries(ctx: &Ctx, recipient: Option<&str>) -> ApiResult<Vec<OutboxEntry>> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT id, kind, recipient, recipient_name, subject, text_body, created_at, sent_at, last_error \
         FROM outbox WHERE ($1 = '' OR recipient = $1) ORDER BY created_at DESC, id LIMIT 200",
    )
    .bind(recipient.unwrap_or_default())
    .fetch_all(ctx.db.pool())
    .await?;
    rows.into_iter()
        .map(
            |(
                id,
                kind,
                recipient,
                recipient_name,
                subject,
                text,
                created_at,
                sent_at,
                last_error,
            )| {
                Ok(OutboxEntry {
                    text_body: open(ctx, &id, "text", &text).map_err(ApiError::internal)?,
                    id,
                    kind,
                    recipient,
                    recipient_name,
                    subject,
                    created_at,
                    sent_at,
                    last_error,
                })
            },
        )
        .collect::<ApiResult<Vec<_>>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_in_text_and_html() {
        let mail = Outgoing {
            kind: "invitation",
            to: "camille@example.org".into(),
            to_name: "Camille <Durand>".into(),
            subject: "Invitation".into(),
            paragraphs: vec![
                "Bonjour <Camille>,".into(),
                "https://carnet.example/issuer/invitations/abc".into(),
            ],
            attachment: None,
        };
        assert!(mail.text().starts_with("Bonjour <Camille>,\n\nhttps://"));
        let html = mail.html();
        assert!(html.contains("Bonjour &lt;Camille&gt;,"));
        assert!(html.contains("<a href=\"https://carnet.example/issuer/invitations/abc\""));
    }
}

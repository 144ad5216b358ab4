//! "My pairings and chat": the caller's mentor or mentees with their pair's conversation, every
//! conversation with its unread count, and one conversation's messages, which the page reads again
//! every few seconds so new ones arrive without a reload.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cohort_api_types::{
    ChatMessage, ChatMessagePage, Conversation, ConversationList, MyPairing, ParticipantRole, SendChatMessage,
};
use cohort_ui::api::{self, ApiError, Method};
use cohort_ui::state::{local_time, use_load, Load, Session};
use uuid::Uuid;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::pages::mentoring::my_pairings;
use crate::shell::Shell;
use crate::Route;

/// How often an open conversation asks for new messages.
const POLL: Duration = Duration::from_secs(3);

async fn conversations() -> Result<Vec<Conversation>, ApiError> {
    let list: ConversationList = api::get("/api/v1/conversations").await?;
    Ok(list.items)
}

/// The conversation's latest messages, oldest first.
async fn messages(conversation: Uuid) -> Result<Vec<ChatMessage>, ApiError> {
    let page: ChatMessagePage = api::get(&format!("/api/v1/conversations/{conversation}/messages?limit=100")).await?;
    Ok(page.items)
}

async fn send(conversation: Uuid, body: String) -> Result<ChatMessage, ApiError> {
    let path = format!("/api/v1/conversations/{conversation}/messages");
    api::write(Method::POST, &path, &SendChatMessage { body }).await
}

async fn mark_read(conversation: Uuid) -> Result<(), ApiError> {
    api::write_empty(Method::POST, &format!("/api/v1/conversations/{conversation}/read"), &()).await
}

#[derive(Clone, PartialEq)]
struct Overview {
    pairings: Vec<MyPairing>,
    conversations: Vec<Conversation>,
}

async fn overview() -> Result<Overview, ApiError> {
    Ok(Overview {
        pairings: my_pairings().await?,
        conversations: conversations().await?,
    })
}

/// What a conversation is called: the partner's name for a pair's own conversation, else its
/// subject.
fn title(conversation: &Conversation, pairings: &[MyPairing]) -> String {
    let partner = pairings.iter().find(|p| p.conversation_id == Some(conversation.id));
    match partner {
        Some(p) => format!("{} ({})", p.partner.name, p.program_name),
        None if conversation.subject.is_empty() => "Program team".to_owned(),
        None => conversation.subject.clone(),
    }
}

/// My mentor or mentees, and my conversations.
#[function_component(Chats)]
pub fn chats() -> Html {
    html! { <Shell><ChatsBody /></Shell> }
}

#[function_component(ChatsBody)]
fn chats_body() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let data = use_load((), |_| overview());
    let provider = session.labels().provider_singular.clone();
    let body = data.view(|o| {
        html! {
            <>
                <section class="card" aria-labelledby="my-pairings">
                    <h2 id="my-pairings">{ "My pairings" }</h2>
                    if o.pairings.is_empty() {
                        <p class="empty">{ "You are not paired yet." }</p>
                    }
                    <ul class="pairings">
                        { for o.pairings.iter().map(|p| {
                            let role = match p.partner.role {
                                ParticipantRole::Mentor => format!("your {}", provider.to_lowercase()),
                                ParticipantRole::Mentee => "your mentee".to_owned(),
                            };
                            html! {
                                <li key={p.pairing_id.to_string()}>
                                    <strong>{ &p.partner.name }</strong>
                                    { format!(", {role}, in {}", p.program_name) }
                                    if !p.partner.bio.is_empty() { <p class="bio">{ &p.partner.bio }</p> }
                                    if let Some(id) = p.conversation_id {
                                        <p><Link<Route> to={Route::Conversation { id }}>
                                            { format!("Chat with {}", p.partner.name) }
                                        </Link<Route>></p>
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                </section>
                <section class="card" aria-labelledby="my-conversations">
                    <h2 id="my-conversations">{ "Conversations" }</h2>
                    if o.conversations.is_empty() {
                        <p class="empty">{ "No conversations yet." }</p>
                    }
                    <ul class="conversations">
                        { for o.conversations.iter().map(|c| html! {
                            <li key={c.id.to_string()}>
                                <Link<Route> to={Route::Conversation { id: c.id }}>{ title(c, &o.pairings) }</Link<Route>>
                                if c.unread_count > 0 {
                                    { " " }<span class="badge">{ format!("{} unread", c.unread_count) }</span>
                                }
                            </li>
                        }) }
                    </ul>
                </section>
            </>
        }
    });
    html! {
        <>
            <h1>{ "My pairings and chat" }</h1>
            { body }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConversationProps {
    pub id: Uuid,
}

/// One conversation: its messages, new ones every few seconds, and a message box.
#[function_component(ConversationPage)]
pub fn conversation_page(props: &ConversationProps) -> Html {
    html! { <Shell narrow=true><ConversationBody id={props.id} /></Shell> }
}

#[function_component(ConversationBody)]
fn conversation_body(props: &ConversationProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let id = props.id;
    let context = use_load(id, |_| overview());
    let shown = use_state(|| Load::<Vec<ChatMessage>>::Loading);
    let draft = use_state(String::new);
    let failed = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let text = use_node_ref();
    {
        let shown = shown.clone();
        use_effect_with(id, move |id| {
            let id = *id;
            let stopped = Rc::new(Cell::new(false));
            let running = stopped.clone();
            yew::platform::spawn_local(async move {
                // The newest message shown (`Some(None)`: none yet), `None` before the first read.
                let mut last: Option<Option<Uuid>> = None;
                while !running.get() {
                    let read = messages(id).await;
                    if running.get() {
                        break;
                    }
                    match read {
                        Ok(items) => {
                            let newest = Some(items.last().map(|m| m.id));
                            if newest != last {
                                last = newest;
                                let _ = mark_read(id).await;
                                shown.set(Load::Loaded(items));
                            }
                        }
                        // A failed poll keeps what is shown; only the first read reports it.
                        Err(e) if last.is_none() => shown.set(Load::Failed(e)),
                        Err(_) => {}
                    }
                    yew::platform::time::sleep(POLL).await;
                }
            });
            move || stopped.set(true)
        });
    }
    let onsubmit = {
        let (draft, failed, busy, shown, text) =
            (draft.clone(), failed.clone(), busy.clone(), shown.clone(), text.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = (*draft).trim().to_owned();
            if body.is_empty() {
                if let Some(t) = text.cast::<HtmlTextAreaElement>() {
                    let _ = t.focus();
                }
                return;
            }
            let (draft, failed, busy, shown) = (draft.clone(), failed.clone(), busy.clone(), shown.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                let result = send(id, body).await;
                busy.set(false);
                match result {
                    Ok(sent) => {
                        failed.set(None);
                        draft.set(String::new());
                        if let Load::Loaded(items) = &*shown {
                            let mut items = items.clone();
                            if !items.iter().any(|m| m.id == sent.id) {
                                items.push(sent);
                            }
                            shown.set(Load::Loaded(items));
                        }
                    }
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    let me = session.me.person.id;
    let zone = session.zone();
    let (heading, names) = match &*context {
        Load::Loaded(o) => {
            let conversation = o.conversations.iter().find(|c| c.id == id);
            let heading = conversation.map_or_else(|| "Conversation".to_owned(), |c| title(c, &o.pairings));
            let names: Vec<(Uuid, String)> = o
                .pairings
                .iter()
                .map(|p| (p.partner.id, p.partner.name.clone()))
                .collect();
            (heading, names)
        }
        _ => ("Conversation".to_owned(), Vec::new()),
    };
    let sender = |m: &ChatMessage| match m.sender_id {
        Some(s) if s == me => "You".to_owned(),
        Some(s) => names
            .iter()
            .find(|(id, _)| *id == s)
            .map_or_else(|| "Program team".to_owned(), |(_, n)| n.clone()),
        None => "Cohort".to_owned(),
    };
    let list = shown.view(|items| {
        html! {
            <ol class="messages" aria-live="polite" aria-label="Messages">
                if items.is_empty() {
                    <li class="empty">{ "No messages yet. Say hello!" }</li>
                }
                { for items.iter().map(|m| html! {
                    <li key={m.id.to_string()} class={classes!("message", (m.sender_id == Some(me)).then_some("mine"))}>
                        <p class="meta"><strong>{ sender(m) }</strong>{ format!(" · {}", local_time(&m.created_at, &zone)) }</p>
                        <p class="body">{ &m.body }</p>
                    </li>
                }) }
            </ol>
        }
    });
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| draft.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    html! {
        <>
            <p><Link<Route> to={Route::Chat}>{ "All my conversations" }</Link<Route>></p>
            <h1>{ heading }</h1>
            { list }
            <form class="stack card" {onsubmit}>
                <label for="message">{ "Your message" }</label>
                <textarea id="message" rows="3" maxlength="10000" ref={text} value={(*draft).clone()} {oninput} />
                if let Some(e) = &*failed { <p class="error" role="alert">{ e.field("body").unwrap_or_else(|| e.message()) }</p> }
                <div class="actions"><button type="submit" disabled={*busy}>{ "Send" }</button></div>
            </form>
        </>
    }
}

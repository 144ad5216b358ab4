//! The caller's steps: every program's feed in the program's order, with what is new, opened
//! and completed, the due dates and the missed ones. Opening a step marks it opened (the first
//! time counts); "Mark done" completes it.

use cohort_api_types::{ActionType, MyStep, StepState};
use cohort_ui::api::Method;
use cohort_ui::api::{self, ApiError};
use cohort_ui::state::{use_load, Load};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::shell::Shell;
use crate::Route;

async fn mark(step: Uuid, what: &str) -> Result<(), ApiError> {
    let _: MyStep = api::write(Method::POST, &format!("/api/v1/me/steps/{step}/{what}"), &()).await?;
    Ok(())
}

fn state_label(step: &MyStep) -> &'static str {
    match (step.state, step.missed) {
        (StepState::Completed, _) => "Completed",
        (_, true) => "Missed",
        (StepState::Opened, _) => "Opened",
        (StepState::New, _) => "New",
    }
}

fn action_label(action: ActionType) -> &'static str {
    match action {
        ActionType::GoToLearning => "Go to the learning",
        ActionType::ScheduleMeeting => "Schedule a meeting",
        ActionType::SetGoal => "Set a goal",
        ActionType::TakeSurvey => "Take the survey",
        ActionType::SendMessage => "Send a message",
        ActionType::OpenLink => "Open the link",
    }
}

#[derive(Properties, PartialEq)]
pub struct StepCardProps {
    pub step: MyStep,
    /// After the step changed: the page reads the feed again.
    pub changed: Callback<()>,
}

/// One step: its state, due date, description, its link, and "Mark done".
#[function_component(StepCard)]
pub fn step_card(props: &StepCardProps) -> Html {
    let s = &props.step;
    let failed = use_state(|| None::<ApiError>);
    let act = |what: &'static str| {
        let (step, changed, failed) = (s.step_id, props.changed.clone(), failed.clone());
        Callback::from(move |_: MouseEvent| {
            let (changed, failed) = (changed.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match mark(step, what).await {
                    Ok(()) => changed.emit(()),
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    let heading = format!("step-{}", s.step_id);
    html! {
        <article class={classes!("card", "step", (s.state == StepState::Completed).then_some("done"))}
            aria-labelledby={heading.clone()}>
            <h3 id={heading}>{ &s.title }</h3>
            <p class="meta">
                <span class={classes!("badge", s.missed.then_some("missed"))}>{ state_label(s) }</span>
                { format!(" {}", s.program_name) }
                if let Some(due) = s.due_date {
                    { format!(" · due {}", due.format("%-d %b %Y")) }
                }
            </p>
            if !s.description.is_empty() { <p>{ &s.description }</p> }
            if let Some(e) = &*failed { <p class="error" role="alert">{ e.message() }</p> }
            <div class="actions">
                if let Some(url) = &s.link_url {
                    // Following the link opens the step.
                    <a href={url.clone()} target="_blank" rel="noopener" onclick={act("open")}>
                        { action_label(s.action_type) }
                    </a>
                } else if s.state == StepState::New {
                    <button type="button" class="secondary" onclick={act("open")}
                        aria-label={format!("Mark read: {}", s.title)}>{ "Mark read" }</button>
                }
                if s.state != StepState::Completed {
                    <button type="button" onclick={act("complete")}
                        aria-label={format!("Mark done: {}", s.title)}>{ "Mark done" }</button>
                }
            </div>
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct StepsProps {
    /// Only this program's steps.
    #[prop_or_default]
    pub program: Option<Uuid>,
}

/// Every step of the caller, grouped by program, in each program's order.
#[function_component(Steps)]
pub fn steps(props: &StepsProps) -> Html {
    let reload = use_state(|| 0u32);
    let data = use_load(*reload, |_| api::my_steps());
    let changed = {
        let reload = reload.clone();
        Callback::from(move |()| reload.set(*reload + 1))
    };
    let program = props.program;
    let body = match &*data {
        Load::Loaded(all) => {
            let steps: Vec<&MyStep> = all
                .iter()
                .filter(|s| program.is_none_or(|p| p == s.program_id))
                .collect();
            let open = steps.iter().filter(|s| s.state != StepState::Completed).count();
            html! {
                <>
                    <p role="status">{ match (steps.len(), open) {
                        (0, _) => "You have no steps yet: your program team publishes them here.".to_owned(),
                        (_, 0) => "All your steps are done.".to_owned(),
                        (_, 1) => "1 step to do.".to_owned(),
                        (_, n) => format!("{n} steps to do."),
                    } }</p>
                    { for steps.iter().map(|s| html! { <StepCard key={s.step_id.to_string()} step={(*s).clone()} changed={changed.clone()} /> }) }
                </>
            }
        }
        other => other.view(|_| html! {}),
    };
    html! {
        <Shell narrow=true>
            <h1>{ "My steps" }</h1>
            if program.is_some() {
                <p><Link<Route> to={Route::Steps}>{ "All my programs' steps" }</Link<Route>></p>
            }
            { body }
        </Shell>
    }
}

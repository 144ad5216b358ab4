//! Moving a booking to another free time of its provider, on a day chosen in the reader's zone:
//! from the admin calendar and from the participant's booking page.

use cohort_api_types::{Booking, RescheduleBooking, Slot, SlotList};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::state::{wall_clock, Load};

#[derive(Properties, PartialEq)]
pub struct RescheduleProps {
    pub booking: Booking,
    pub zone: String,
    pub ondone: Callback<()>,
}

/// Moves a booking to another free time of its provider, on a day chosen in `zone`.
#[function_component(Reschedule)]
pub fn reschedule(props: &RescheduleProps) -> Html {
    let b = &props.booking;
    let day = use_state(|| wall_clock(&b.starts_at, &props.zone).date().to_string());
    let slots = use_state(|| Load::<SlotList>::Loading);
    let error = use_state(|| None::<ApiError>);
    {
        let slots = slots.clone();
        let (service, provider) = (b.service.id, b.provider.id);
        use_effect_with(((*day).clone(), props.zone.clone()), move |(day, zone)| {
            let (day, zone) = (day.clone(), zone.clone());
            yew::platform::spawn_local(async move {
                slots.set(match api::slots(service, &day, &day, &zone, Some(provider)).await {
                    Ok(list) => Load::Loaded(list),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let move_to = |slot: Slot| {
        let (error, ondone, id) = (error.clone(), props.ondone.clone(), b.id);
        Callback::from(move |_: MouseEvent| {
            let input = RescheduleBooking {
                starts_at: slot.starts_at,
                provider_id: None,
            };
            let (error, ondone) = (error.clone(), ondone.clone());
            yew::platform::spawn_local(async move {
                match api::reschedule_booking(id, &input).await {
                    Ok(_) => ondone.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_day = {
        let day = day.clone();
        Callback::from(move |e: InputEvent| day.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    html! {
        <details class="reschedule">
            <summary>{ "Reschedule" }</summary>
            if let Some(e) = &*error { <p class="error" role="alert">{ e.under("starts_at").unwrap_or_else(|| e.message()) }</p> }
            <div class="field">
                <label for="reschedule-day">{ format!("Day ({})", props.zone) }</label>
                <input type="date" id="reschedule-day" value={(*day).clone()} oninput={on_day} />
            </div>
            {
                match &*slots {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(list) if list.items.is_empty() => html! { <p class="empty">{ "No other free time that day." }</p> },
                    Load::Loaded(list) => html! {
                        <div class="slots">
                            { for list.items.iter().map(|s| {
                                let at = s.starts_at.format("%H:%M").to_string();
                                html! {
                                    <button key={s.starts_at.to_rfc3339()} type="button" class="slot"
                                        aria-label={format!("Move to {at}")} onclick={move_to(s.clone())}>{ at }</button>
                                }
                            }) }
                        </div>
                    },
                }
            }
        </details>
    }
}

//! Finds a person by name or email and hands the chosen one to the page.

use cohort_api_types::Person;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;

#[derive(Properties, PartialEq)]
pub struct PersonPickerProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub onpick: Callback<Person>,
}

/// A search box; each match is a button "Pick NAME".
#[function_component(PersonPicker)]
pub fn person_picker(props: &PersonPickerProps) -> Html {
    let query = use_state(String::new);
    let found = use_state(Vec::<Person>::new);
    // Answers may arrive out of order: only the latest search's is shown.
    let latest = use_mut_ref(String::new);
    let oninput = {
        let (query, found, latest) = (query.clone(), found.clone(), latest.clone());
        Callback::from(move |e: InputEvent| {
            let q = e.target_unchecked_into::<HtmlInputElement>().value();
            query.set(q.clone());
            *latest.borrow_mut() = q.clone();
            let (found, latest) = (found.clone(), latest.clone());
            if q.trim().is_empty() {
                found.set(Vec::new());
                return;
            }
            yew::platform::spawn_local(async move {
                if let Ok(page) = api::people(&q).await {
                    if *latest.borrow() == q {
                        found.set(page.items);
                    }
                }
            });
        })
    };
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input id={props.id.clone()} type="search" value={(*query).clone()} {oninput}
                placeholder="Name or email" autocomplete="off" />
            if !found.is_empty() {
                <ul class="picks">
                    { for found.iter().map(|p| {
                        let onpick = props.onpick.clone();
                        let (person, query, found) = (p.clone(), query.clone(), found.clone());
                        let onclick = Callback::from(move |_| {
                            onpick.emit(person.clone());
                            query.set(String::new());
                            found.set(Vec::new());
                        });
                        html! {
                            <li key={p.id.to_string()}><button type="button" class="secondary" aria-label={format!("Pick {}", p.name)} {onclick}>
                                { format!("{} ({})", p.name, p.email) }
                            </button></li>
                        }
                    }) }
                </ul>
            }
        </div>
    }
}

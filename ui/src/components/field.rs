use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub oninput: Callback<String>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub required: bool,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
}

fn error_line(id: &AttrValue, error: &Option<String>) -> Html {
    match error {
        Some(message) => html! { <p class="field-error" id={format!("{id}-error")}>{ message }</p> },
        None => html! {},
    }
}

/// A labelled text input with its validation message underneath.
#[function_component(TextField)]
pub fn text_field(props: &FieldProps) -> Html {
    let oninput = props
        .oninput
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let described = props.error.as_ref().map(|_| format!("{}-error", props.id));
    html! {
        <div class={classes!("field", props.error.as_ref().map(|_| "invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            if let Some(hint) = &props.hint { <small>{ hint.clone() }</small> }
            <input id={props.id.clone()} type={props.kind.clone()} value={props.value.clone()} {oninput}
                required={props.required} aria-invalid={props.error.is_some().to_string()}
                aria-describedby={described} />
            { error_line(&props.id, &props.error) }
        </div>
    }
}

/// A labelled multi-line input.
#[function_component(TextArea)]
pub fn text_area(props: &FieldProps) -> Html {
    let oninput = props
        .oninput
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlTextAreaElement>().value());
    let described = props.error.as_ref().map(|_| format!("{}-error", props.id));
    html! {
        <div class={classes!("field", props.error.as_ref().map(|_| "invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            if let Some(hint) = &props.hint { <small>{ hint.clone() }</small> }
            <textarea id={props.id.clone()} value={props.value.clone()} {oninput} rows="4"
                aria-invalid={props.error.is_some().to_string()} aria-describedby={described} />
            { error_line(&props.id, &props.error) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub options: Vec<(String, String)>,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub error: Option<String>,
}

/// A labelled select of (value, text) options.
#[function_component(SelectField)]
pub fn select_field(props: &SelectProps) -> Html {
    let onchange = props
        .onchange
        .reform(|e: Event| e.target_unchecked_into::<HtmlSelectElement>().value());
    html! {
        <div class={classes!("field", props.error.as_ref().map(|_| "invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <select id={props.id.clone()} {onchange} aria-invalid={props.error.is_some().to_string()}>
                { for props.options.iter().map(|(value, text)| html! {
                    <option value={value.clone()} selected={*value == *props.value}>{ text }</option>
                }) }
            </select>
            { error_line(&props.id, &props.error) }
        </div>
    }
}

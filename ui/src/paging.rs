//! Lists read a page at a time: the first page on mount, the next on "Load more", all again on
//! `reload`.

use std::future::Future;
use std::rc::Rc;

use yew::prelude::*;

use crate::api::ApiError;

/// A page of a list and where the next starts.
pub type Page<T> = (Vec<T>, Option<String>);

/// What a paged list shows.
pub struct Pages<T> {
    pub items: Rc<Vec<T>>,
    pub loading: bool,
    pub error: Option<ApiError>,
    /// Loads the next page; `None` when there is none (or one is loading).
    pub more: Option<Callback<MouseEvent>>,
    /// Reads the list again from its first page (after a change).
    pub reload: Callback<()>,
}

/// Reads a list with `fetch` (given the cursor of the page to read, `None` for the first).
#[hook]
pub fn use_pages<T, F, Fut>(fetch: F) -> Pages<T>
where
    T: Clone + 'static,
    F: Fn(Option<String>) -> Fut + 'static,
    Fut: Future<Output = Result<Page<T>, ApiError>> + 'static,
{
    let items = use_state(|| Rc::new(Vec::<T>::new()));
    let next = use_state(|| None::<String>);
    let loading = use_state(|| true);
    let error = use_state(|| None::<ApiError>);
    let generation = use_state(|| 0u32);
    let fetch = Rc::new(fetch);
    let load = {
        let (items, next, loading, error) = (items.clone(), next.clone(), loading.clone(), error.clone());
        Rc::new(move |cursor: Option<String>| {
            let (items, next, loading, error) = (items.clone(), next.clone(), loading.clone(), error.clone());
            let page = fetch(cursor.clone());
            loading.set(true);
            yew::platform::spawn_local(async move {
                match page.await {
                    Ok((page, cursor_after)) => {
                        let mut all = if cursor.is_some() {
                            (**items).clone()
                        } else {
                            Vec::new()
                        };
                        all.extend(page);
                        items.set(Rc::new(all));
                        next.set(cursor_after);
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
                loading.set(false);
            });
        })
    };
    {
        let load = load.clone();
        use_effect_with(*generation, move |_| load(None));
    }
    let more = (next.is_some() && !*loading).then(|| {
        let (load, next) = (load.clone(), next.clone());
        Callback::from(move |_| load((*next).clone()))
    });
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    Pages {
        items: (*items).clone(),
        loading: *loading,
        error: (*error).clone(),
        more,
        reload,
    }
}

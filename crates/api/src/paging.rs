//! Cursor pagination: lists are ordered by id (UUIDv7, so by creation) and a
//! cursor is the opaque form of the last id a page returned.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cohort_api_types::PageQuery;
use uuid::Uuid;

use crate::error::ApiError;

pub struct PageRequest {
    pub limit: u32,
    /// Return items with an id greater than this.
    pub after: Option<String>,
}

/// The page a list asks for, for lists whose only query parameters are `limit` and `cursor`
/// (declared with `params(PageQuery)`): a malformed value or any other parameter is a 400.
impl FromRequest for PageRequest {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            web::Query::<PageQuery>::from_query(req.query_string())
                .map_err(|e| ApiError::BadRequest(format!("invalid query parameter: {e}")))
                .and_then(|q| Self::parse(q.limit, q.cursor.as_deref())),
        )
    }
}

impl PageRequest {
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit =
            cohort_domain::paging::page_size(limit).map_err(|e| ApiError::BadRequest(format!("limit {}", e.0)))?;
        // An empty cursor is the first page: clients often send `cursor=` for it.
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| Uuid::from_slice(&bytes).ok())
                    .map(|id| id.to_string())
                    .ok_or_else(|| ApiError::BadRequest("cursor is not one this API returned".into()))
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to fetch: one more than a page tells whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the extra row and returns the cursor of the next page, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> (Vec<T>, Option<String>) {
        if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            let next = rows.last().map(|last| URL_SAFE_NO_PAD.encode(id(last).as_bytes()));
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let page = PageRequest::parse(Some(2), None).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (items, next) = page.finish(ids.clone(), |id| *id);
        assert_eq!(items, ids[..2]);
        let next = PageRequest::parse(Some(2), next.as_deref()).unwrap();
        assert_eq!(next.after, Some(ids[1].to_string()));
        assert!(PageRequest::parse(None, Some("not-a-cursor")).is_err());
        assert!(PageRequest::parse(Some(0), None).is_err());
        let (items, next) = page.finish(ids[..2].to_vec(), |id| *id);
        assert_eq!((items.len(), next), (2, None));
    }

    #[actix_web::test]
    async fn a_list_request_is_its_page_and_nothing_else() {
        let page = |query: &str| {
            let req = actix_web::test::TestRequest::with_uri(&format!("/list?{query}")).to_http_request();
            PageRequest::extract(&req).into_inner()
        };
        let first = page("limit=7").unwrap();
        assert_eq!((first.limit, first.after), (7, None));
        assert_eq!(page("").unwrap().limit, 50);
        for bad in ["limit=abc", "limit=0", "cursor=garbage", "status=active"] {
            match page(bad) {
                Err(ApiError::BadRequest(message)) => assert!(!message.is_empty(), "{bad}"),
                other => panic!("{bad}: {:?}", other.map(|p| p.limit)),
            }
        }
    }
}

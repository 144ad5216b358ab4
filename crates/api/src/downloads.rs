//! CSV downloads. Exports are written as they are read, a page of rows per database turn, so
//! memory holds one page however large the file, and no download keeps a connection while a
//! slow client reads.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use futures_util::StreamExt;

use crate::db::{Db, DbConn};
use crate::error::ApiError;

/// Rows read per database turn while a download is written.
pub const PAGE: i64 = 1_000;

/// One page of a download: its CSV (with the header row on the first page) and where the next
/// page starts, if there is one.
pub struct CsvPage<K> {
    pub csv: Vec<u8>,
    pub next: Option<K>,
}

impl<K> CsvPage<K> {
    /// The page of `rows` (at most [`PAGE`]), each written by `record`; the next page starts
    /// after the last row's `key` when the page was full.
    pub fn of<R>(
        header: Option<&[&str]>,
        rows: Vec<R>,
        key: impl Fn(&R) -> K,
        mut record: impl FnMut(&R) -> Vec<String>,
    ) -> Result<Self, ApiError> {
        let next = (rows.len() as i64 >= PAGE).then(|| rows.last().map(&key)).flatten();
        let mut out = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| ApiError::Internal(e.to_string());
        if let Some(header) = header {
            out.write_record(header).map_err(failed)?;
        }
        for row in &rows {
            out.write_record(record(row)).map_err(failed)?;
        }
        let csv = out.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Self { csv, next })
    }
}

/// A CSV file as a download named `filename`, read page by page with `read` (given where the
/// page starts, `None` for the first). The first page is read before the answer starts, so a
/// failure there (no such program, a bad range) is still a problem response; a later failure
/// cuts the transfer short.
pub async fn csv_stream<K, F>(db: &Db, filename: String, read: F) -> Result<HttpResponse, ApiError>
where
    K: Send + 'static,
    F: Fn(&mut DbConn, Option<K>) -> Result<CsvPage<K>, ApiError> + Clone + Send + 'static,
{
    let first = {
        let read = read.clone();
        db.read(move |conn| read(conn, None)).await?
    };
    let db = db.clone();
    let rest = futures_util::stream::unfold(first.next, move |after| {
        let (db, read) = (db.clone(), read.clone());
        async move {
            let after = after?;
            match db.read(move |conn| read(conn, Some(after))).await {
                Ok(page) => Some((Ok(web::Bytes::from(page.csv)), page.next)),
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    let body =
        futures_util::stream::once(std::future::ready(Ok::<_, ApiError>(web::Bytes::from(first.csv)))).chain(rest);
    Ok(download(&filename).streaming(body))
}

/// A CSV file held whole (a template).
pub fn csv_response(filename: &str, body: Vec<u8>) -> HttpResponse {
    download(filename).body(body)
}

fn download(filename: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.content_type("text/csv; charset=utf-8").insert_header((
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{filename}\""),
    ));
    response
}

//! `GET /v1/reports/rollup`: a territory node's figures over a period, as JSON, CSV or XLSX.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shared::report::{Period, rollup, to_csv};

use crate::AppState;
use crate::accounts::Caller;
use crate::error::ServerError;
use crate::reports::{self, REPORT_TIME_ZONE};
use crate::store;
use crate::territory::Tree;

/// The query string. Every field is text so that a bad value gets our own 400 naming it.
#[derive(Debug, Deserialize)]
pub struct RollupQuery {
    node: Option<String>,
    period: Option<String>,
    date: Option<String>,
    format: Option<String>,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

/// `GET /v1/reports/rollup?node=EAST&period=month&date=2026-11-29&format=json|csv|xlsx`.
///
/// `node` defaults to the caller's territory, `period` to `month`, `date` to today in the
/// reporting time zone, `format` to `json`. An unknown node is 404; a node outside the caller's
/// scope is 403 (head office and admins may ask for any).
pub async fn rollup_report(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<RollupQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    let Query(query) = query.map_err(|e| ServerError::malformed(e.body_text()))?;
    let period: Period = match query.period.as_deref().map(str::trim) {
        None | Some("") => Period::Month,
        Some(text) => text
            .parse()
            .map_err(|e| ServerError::malformed(format!("period: {e}")))?,
    };
    let date = match query.date.as_deref().map(str::trim) {
        None | Some("") => chrono::Utc::now()
            .with_timezone(&REPORT_TIME_ZONE)
            .date_naive(),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            ServerError::malformed(format!("date: `{text}` is not a date (YYYY-MM-DD)"))
        })?,
    };
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("" | "json") => Format::Json,
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some(other) => {
            return Err(ServerError::malformed(format!(
                "format: `{other}` is not one of: json, csv, xlsx"
            )));
        }
    };
    let node = query
        .node
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| caller.user.territory.clone());
    let user = caller.user.clone();
    let result = state
        .store
        .run(move |conn| {
            let scopes = Tree::new(store::accounts::territories(conn)?);
            if !scopes.exists(&node) {
                return Err(ServerError::NotFound(format!("no territory {node}")));
            }
            if !user.role.reads_all() && !scopes.is_within(&node, &user.territory) {
                return Err(ServerError::Forbidden(format!(
                    "territory {node} is outside your scope ({})",
                    user.territory
                )));
            }
            let tree = reports::tree(conn)?;
            let facts = reports::facts(conn)?;
            let at = |node: &str| {
                rollup(&tree, node, period, date, &facts)
                    .map_err(|e| ServerError::NotFound(e.to_string()))
            };
            // The spreadsheet's summary has a row for every node of the subtree.
            let nodes = if format == Format::Xlsx {
                let codes = tree
                    .subtree(&node)
                    .map_err(|e| ServerError::NotFound(e.to_string()))?;
                codes
                    .iter()
                    .map(|code| at(code))
                    .collect::<Result<_, _>>()?
            } else {
                Vec::new()
            };
            Ok((at(&node)?, nodes))
        })
        .await?;
    let (result, nodes) = result;
    let stem = format!(
        "rollup-{}-{}-{}",
        result.node, result.period, result.range.first
    );
    Ok(match format {
        Format::Json => Json(result).into_response(),
        Format::Csv => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (CONTENT_DISPOSITION, attachment(&stem, "csv")),
            ],
            to_csv(&result),
        )
            .into_response(),
        Format::Xlsx => (
            [
                (
                    CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (CONTENT_DISPOSITION, attachment(&stem, "xlsx")),
            ],
            reports::to_xlsx(&result, &nodes)?,
        )
            .into_response(),
    })
}

/// A `Content-Disposition` value. Territory codes are short ASCII codes, but anything else is
/// replaced so the header stays valid.
fn attachment(stem: &str, extension: &str) -> String {
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}.{extension}\"")
}

//! The named HTTP connectors: what a ServiceNow, Salesforce or Marketo step sends over its
//! connection, and what the service's answer means. Free of HTTP clients: the adapter
//! (`adapters::http_connectors`) sends the [`HttpCall`] and asks [`verdict`] about the answer.
//!
//! - ServiceNow Table API: `POST /api/now/table/{table}` with the fields; the record comes back
//!   under `result` (`sys_id`, `number`).
//! - Salesforce REST API: `POST /services/data/{version}/sobjects/{object}` with the fields; `201`
//!   with `{"id", "success": true}`; errors are `4xx` with `[{"errorCode", "message"}]`.
//! - Marketo REST API: `POST /rest/v1/leads.json` (`createOrUpdate` by `lookupField`) and
//!   `POST /rest/v1/lists/{id}/leads.json`. Marketo answers HTTP 200 even when it failed:
//!   `success: false` with `errors: [{code, message}]` (601/602: the access token is invalid or
//!   expired; 604, 606, 608, 611, 615, 713, 1029: busy or transient), or a record `skipped` with
//!   its `reasons`.

use serde_json::{Map, Value, json};

use super::flow::{Action, MarketoAction};

/// One HTTP request through a named connection.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub connection: String,
    pub method: String,
    pub path: String,
    pub headers: Map<String, Value>,
    pub body: Value,
    pub answers: Answers,
}

/// How the service says whether it worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// By HTTP status.
    Status,
    /// In the body (Marketo).
    Marketo,
}

/// What an answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Retry(String),
    /// The access token was refused: fetch a new one, then retry.
    NewToken(String),
    Failed(String),
}

impl Action {
    /// The request an HTTP-based step makes; `None` for other connectors (Cognito, email).
    pub fn http_call(&self) -> Option<HttpCall> {
        let call = |connection: &str, path: String, body: Value, answers| HttpCall {
            connection: connection.to_owned(),
            method: "POST".into(),
            path,
            headers: Map::new(),
            body,
            answers,
        };
        Some(match self {
            Action::Http { connection, method, path, headers, body } => HttpCall {
                connection: connection.clone(),
                method: method.clone(),
                path: path.clone(),
                headers: headers.clone(),
                body: body.clone(),
                answers: Answers::Status,
            },
            Action::Servicenow { connection, table, fields } => {
                call(connection, format!("/api/now/table/{table}"), Value::Object(fields.clone()), Answers::Status)
            }
            Action::Salesforce { connection, object, api_version, fields } => {
                call(connection, format!("/services/data/{api_version}/sobjects/{object}"), Value::Object(fields.clone()), Answers::Status)
            }
            Action::Marketo { connection, action: MarketoAction::UpsertLead, fields, lookup_field, .. } => call(
                connection,
                "/rest/v1/leads.json".into(),
                json!({"action": "createOrUpdate", "lookupField": lookup_field, "input": [fields]}),
                Answers::Marketo,
            ),
            Action::Marketo { connection, action: MarketoAction::AddToList, list_id, lead_id, .. } => {
                let list = list_id.as_str().map_or_else(|| list_id.to_string(), str::to_owned);
                let list: String = list.chars().filter(char::is_ascii_alphanumeric).collect();
                call(connection, format!("/rest/v1/lists/{list}/leads.json"), json!({"input": [{"id": lead_id}]}), Answers::Marketo)
            }
            Action::Cognito { .. } | Action::Email { .. } => return None,
        })
    }
}

/// What a `status` answer with `body` means for a call that answers as `answers` says. (A 401
/// on an OAuth connection is the adapter's to handle: it owns the token.)
pub fn verdict(answers: Answers, status: u16, body: &Value) -> Verdict {
    match status {
        200..=299 if answers == Answers::Marketo => marketo(body),
        200..=299 => Verdict::Done,
        429 | 500..=599 => Verdict::Retry(format!("HTTP {status}")),
        _ => Verdict::Failed(format!("HTTP {status}: {}", summary(body))),
    }
}

/// Marketo's answer: response-level errors, then record-level ones.
fn marketo(body: &Value) -> Verdict {
    if body["success"] == json!(false) {
        let first = &body["errors"][0];
        let code = first["code"].as_str().map_or_else(|| first["code"].to_string(), str::to_owned);
        let reason = format!("Marketo error {code}: {}", first["message"].as_str().unwrap_or(""));
        return match code.as_str() {
            "601" | "602" => Verdict::NewToken(reason),
            "604" | "606" | "608" | "611" | "615" | "713" | "1029" => Verdict::Retry(reason),
            _ => Verdict::Failed(reason),
        };
    }
    let skipped = body["result"].as_array().into_iter().flatten().find(|r| r["status"] == "skipped");
    match skipped {
        Some(record) => {
            let why = &record["reasons"][0];
            Verdict::Failed(format!("Marketo skipped the record: {} {}", why["code"].as_str().unwrap_or(""), why["message"].as_str().unwrap_or("")))
        }
        None if body["success"] == json!(true) => Verdict::Done,
        None => Verdict::Failed("not a Marketo answer".into()),
    }
}

/// A short description of an error answer (the service's own message, never our request), with
/// the values of sensitive keys redacted as in run records (it is kept with the run, which
/// viewers read).
fn summary(body: &Value) -> String {
    let text = match super::runner::redact(body, &[]) {
        Value::String(s) => s,
        other => other.to_string(),
    };
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error answer that echoes personal data or a token keeps neither in the run's reason.
    #[test]
    fn an_error_answer_is_summarised_without_its_secrets() {
        let body = json!({"error": "invalid", "phone": "+819012345678", "access_token": "tok-123", "detail": {"email": "a@b.co"}});
        let Verdict::Failed(reason) = verdict(Answers::Status, 400, &body) else { panic!("a 400 is final") };
        assert!(reason.contains("invalid") && !reason.contains("+8190") && !reason.contains("tok-123") && !reason.contains("a@b.co"), "{reason}");
    }

    fn action(v: Value) -> Action {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn each_connector_makes_its_services_request() {
        let incident = action(json!({"connector": "servicenow", "connection": "sn", "fields": {"short_description": "x"}})).http_call();
        assert_eq!(incident.map(|c| (c.path, c.body)), Some(("/api/now/table/incident".into(), json!({"short_description": "x"}))));
        let lead = action(json!({"connector": "salesforce", "connection": "sf", "object": "Lead", "fields": {"LastName": "Y"}})).http_call();
        assert_eq!(lead.map(|c| c.path), Some("/services/data/v61.0/sobjects/Lead".into()));
        let upsert = action(json!({"connector": "marketo", "connection": "mk", "action": "upsert_lead", "fields": {"email": "a@b.test"}})).http_call();
        let upsert = upsert.unwrap_or_else(|| panic!("no call"));
        assert_eq!((upsert.path.as_str(), upsert.answers), ("/rest/v1/leads.json", Answers::Marketo));
        assert_eq!(upsert.body, json!({"action": "createOrUpdate", "lookupField": "email", "input": [{"email": "a@b.test"}]}));
        let list = action(json!({"connector": "marketo", "connection": "mk", "action": "add_to_list", "list_id": 1001, "lead_id": 318581})).http_call();
        assert_eq!(list.map(|c| (c.path, c.body)), Some(("/rest/v1/lists/1001/leads.json".into(), json!({"input": [{"id": 318581}]}))));
        let hostile = action(json!({"connector": "marketo", "connection": "mk", "action": "add_to_list", "list_id": "../../x?y", "lead_id": 1})).http_call();
        assert_eq!(hostile.map(|c| c.path), Some("/rest/v1/lists/xy/leads.json".into()), "a rendered list id stays one path segment");
        assert_eq!(action(json!({"connector": "cognito", "action": "sign_out", "username": "u"})).http_call(), None);
    }

    #[test]
    fn marketo_answers_http_200_whether_or_not_it_worked() {
        let m = |body: Value| verdict(Answers::Marketo, 200, &body);
        assert_eq!(m(json!({"requestId": "1", "success": true, "result": [{"id": 50, "status": "created"}]})), Verdict::Done);
        assert!(matches!(m(json!({"success": false, "errors": [{"code": "601", "message": "Access token invalid"}]})), Verdict::NewToken(_)));
        assert!(matches!(m(json!({"success": false, "errors": [{"code": "606", "message": "Max rate limit '100' exceeded"}]})), Verdict::Retry(_)));
        assert!(matches!(m(json!({"success": false, "errors": [{"code": "1003", "message": "Invalid value"}]})), Verdict::Failed(_)));
        let skipped = m(json!({"success": true, "result": [{"status": "skipped", "reasons": [{"code": "1004", "message": "Lead not found"}]}]}));
        assert_eq!(skipped, Verdict::Failed("Marketo skipped the record: 1004 Lead not found".into()));
        assert!(matches!(m(json!("<html>")), Verdict::Failed(_)));
        assert!(matches!(verdict(Answers::Status, 503, &json!({})), Verdict::Retry(_)));
        assert!(
            matches!(verdict(Answers::Status, 400, &json!([{"errorCode": "REQUIRED_FIELD_MISSING"}])), Verdict::Failed(r) if r.contains("REQUIRED_FIELD_MISSING"))
        );
    }
}

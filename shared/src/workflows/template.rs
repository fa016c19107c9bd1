//! Templated step inputs: any JSON, whose strings may hold `{{path}}` placeholders filled from
//! the event's JSON (`{{user.email}}`, `{{context.country}}`, `{{detail.signals}}`).
//!
//! A string that is exactly one placeholder takes the value itself, with its JSON type (a list
//! stays a list, a number a number, a missing value `null`). Placeholders inside longer text are
//! replaced by the value's text (lists joined with `, `; missing values by nothing). Values are
//! inserted as data, never re-read as template, so an email address containing `{{` is just text.

use serde_json::{Map, Value};

/// `template` with every placeholder filled from `event`.
pub fn render(template: &Value, event: &Value) -> Value {
    match template {
        Value::String(s) => render_str(s, event),
        Value::Array(items) => Value::Array(items.iter().map(|i| render(i, event)).collect()),
        Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), render(v, event))).collect::<Map<_, _>>()),
        other => other.clone(),
    }
}

/// Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const IN_A_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A step's URL path (`/users/{{user.sub}}/roles?x={{detail.n}}`) with each placeholder's text
/// percent-encoded, so a value is one segment or one query value and never more: its `/`, `?`,
/// `#`, `%` or `&` are data. A value that would name no segment or another one (empty, `.`,
/// `..`, missing) is an error naming its path: the call would reach another resource
/// (`/users//roles`, `/users/../roles`).
pub fn render_path(template: &str, event: &Value) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    for (start, end, path) in placeholders(template) {
        let value = text(lookup(event, path));
        if matches!(value.trim(), "" | "." | "..") {
            return Err(format!("the path's {{{{{path}}}}} is empty or a dot segment"));
        }
        out.push_str(&template[last..start]);
        out.extend(percent_encoding::utf8_percent_encode(&value, IN_A_PATH));
        last = end;
    }
    out.push_str(&template[last..]);
    Ok(out)
}

/// The paths a template reads, for checking a flow before it runs.
pub fn paths(template: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect(template, &mut out);
    out
}

fn collect(template: &Value, out: &mut Vec<String>) {
    match template {
        Value::String(s) => out.extend(placeholders(s).into_iter().map(|(_, _, p)| p.to_owned())),
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(fields) => fields.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

fn render_str(s: &str, event: &Value) -> Value {
    let found = placeholders(s);
    if let [(0, end, path)] = found.as_slice()
        && *end == s.len()
    {
        return lookup(event, path).cloned().unwrap_or(Value::Null);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (start, end, path) in found {
        out.push_str(&s[last..start]);
        out.push_str(&text(lookup(event, path)));
        last = end;
    }
    out.push_str(&s[last..]);
    Value::String(out)
}

/// `(start, end, path)` of each `{{ path }}` in `s`.
fn placeholders(s: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = s[from..].find("{{").map(|i| i + from) {
        let Some(close) = s[open + 2..].find("}}").map(|i| i + open + 2) else { break };
        let path = s[open + 2..close].trim();
        if !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c)) {
            out.push((open, close + 2, path));
        }
        from = close + 2;
    }
    out
}

/// The value at a dotted path; a number steps into an array (`result.0.id`).
fn lookup<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(event, |v, part| match (v, part.parse::<usize>()) {
            (Value::Array(items), Ok(i)) => items.get(i),
            _ => v.get(part),
        })
        .filter(|v| !v.is_null())
}

fn text(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| text(Some(i))).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A value is one path segment or one query value, never more: an IdP admin who provisions
    /// `victim%40other.com#@corp.example` reaches no other person's record, and `..` or nothing
    /// reaches no other resource.
    #[test]
    fn a_value_in_a_path_is_data() {
        let event = json!({"user": {"email": "victim%40other.com#@corp.example", "name": "a/b?c=d&e"}, "detail": {"dots": "..", "dot": "."}});
        assert_eq!(render_path("/users/{{user.email}}", &event).as_deref(), Ok("/users/victim%2540other.com%23%40corp.example"));
        assert_eq!(render_path("/find?name={{user.name}}&x=1", &event).as_deref(), Ok("/find?name=a%2Fb%3Fc%3Dd%26e&x=1"));
        for refused in ["/users/{{detail.dots}}/roles", "/users/{{detail.dot}}", "/users/{{user.missing}}/roles"] {
            assert!(render_path(refused, &event).is_err(), "{refused}");
        }
        assert_eq!(render_path("/plain/path", &event).as_deref(), Ok("/plain/path"));
    }

    #[test]
    fn fills_whole_values_and_text() {
        let event = json!({"user": {"email": "a{{user.sub}}@b.co", "sub": "s-1"}, "detail": {"signals": ["new_device", "new_country"], "n": 3}});
        let template = json!({
            "short_description": "High-risk sign-in for {{ user.email }} ({{detail.n}} signals: {{detail.signals}})",
            "signals": "{{detail.signals}}", "count": "{{detail.n}}", "missing": "{{user.phone}}", "text_missing": "phone: {{user.phone}}",
            "nested": [{"v": "{{user.sub}}"}], "fixed": 7, "not_a_placeholder": "{{ two words }}", "open": "{{user.sub"
        });
        assert_eq!(
            render(&template, &event),
            json!({
                "short_description": "High-risk sign-in for a{{user.sub}}@b.co (3 signals: new_device, new_country)",
                "signals": ["new_device", "new_country"], "count": 3, "missing": null, "text_missing": "phone: ",
                "nested": [{"v": "s-1"}], "fixed": 7, "not_a_placeholder": "{{ two words }}", "open": "{{user.sub"
            })
        );
        let mut read = paths(&template);
        read.sort();
        read.dedup();
        assert_eq!(read, vec!["detail.n", "detail.signals", "user.email", "user.phone", "user.sub"]);
    }
}

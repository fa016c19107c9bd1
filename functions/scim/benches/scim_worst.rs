//! The worst PATCH one request may carry, timed in the domain alone (`patch::parse` +
//! `patch::apply`; no AWS): as many operations as a request may hold, each a value-filtered
//! remove with as many comparisons as a filter may hold, none matching, on a user with as many
//! emails as a multi-valued attribute may hold, so every operation compares every email with
//! every term. Then the same shape at the old bounds' size (2,000 emails, 20 removes of 100
//! comparisons: seconds of CPU before the bounds), which is now refused. Prints the outcome and
//! the median µs per request; asserts nothing about time.
//!
//! `make bench-scim-worst` (or `cargo bench -p scim --bench scim_worst -- [ITERATIONS]`).

use serde_json::{Value, json};
use shared::directory::scim::filter::MAX_TERMS;
use shared::directory::scim::patch;
use shared::directory::scim::patch::MAX_OPERATIONS;
use shared::directory::scim::resource::{Attributes, MAX_VALUES};
use shared::directory::scim::schema::{PATCH_OP, USERS};
use std::time::Instant;

/// A user with `emails` work addresses (built directly: the old size is past today's bounds).
fn user(emails: usize) -> Attributes {
    let list: Vec<Value> =
        (0..emails).map(|i| json!({"value": format!("person{i:05}@corp.example"), "type": "work", "display": format!("Person {i}")})).collect();
    let mut data = Attributes::new();
    data.insert("userName".into(), Value::from("person00000@corp.example"));
    data.insert("emails".into(), Value::Array(list));
    data
}

/// `ops` removes, each with a filter of `terms` comparisons that match no email.
fn request(ops: usize, terms: usize) -> Value {
    let operations: Vec<Value> = (0..ops)
        .map(|o| {
            let filter = (0..terms).map(|t| format!("value eq \"absent{o:03}x{t:03}@corp.example\"")).collect::<Vec<_>>().join(" or ");
            json!({"op": "remove", "path": format!("emails[{filter}]")})
        })
        .collect();
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// Parses and applies `body` to a fresh copy of `data`, `iterations` times: what happened and
/// the median µs.
fn time(data: &Attributes, body: &Value, iterations: usize) -> (String, f64) {
    let mut times = Vec::with_capacity(iterations);
    let mut outcome = String::new();
    for _ in 0..iterations {
        let mut copy = data.clone();
        let started = Instant::now();
        let result = patch::parse(body).and_then(|ops| patch::apply(&USERS, &mut copy, &ops));
        times.push(started.elapsed().as_secs_f64() * 1e6);
        outcome = match result {
            Ok(_) => format!("applied ({} emails left)", copy.get("emails").and_then(Value::as_array).map_or(0, Vec::len)),
            Err(e) => {
                let detail: String = e.to_string().chars().take(100).collect();
                format!("refused: {:?} ({detail}...)", e.rule())
            }
        };
    }
    times.sort_by(f64::total_cmp);
    (outcome, times.get(times.len() / 2).copied().unwrap_or_default())
}

/// A user with `emails` addresses of `len` characters, and `ops` removes of `terms` `co`
/// comparisons with a needle of `needle` characters that almost matches everywhere: the filter
/// work budget, not the other bounds, is what stops this one.
fn contains_case(emails: usize, len: usize, ops: usize, terms: usize, needle: usize) -> (Attributes, Value) {
    let address = |i: usize| format!("{}{i:03}@corp.example", "a".repeat(len.saturating_sub(16)));
    let mut data = user(0);
    data.insert("emails".into(), Value::Array((0..emails).map(|i| json!({"value": address(i), "type": "work"})).collect()));
    let probe = format!("{}b", "a".repeat(needle.saturating_sub(1)));
    let operations: Vec<Value> =
        (0..ops).map(|_| json!({"op": "remove", "path": format!("emails[{}]", vec![format!("value co \"{probe}\""); terms].join(" or "))})).collect();
    (data, json!({"schemas": [PATCH_OP], "Operations": operations}))
}

fn main() {
    let iterations: usize = std::env::args().skip(1).find(|a| !a.starts_with("--")).and_then(|a| a.parse().ok()).unwrap_or(20).max(1);
    let cases = [("after: the worst within the bounds", MAX_VALUES, MAX_OPERATIONS, MAX_TERMS), ("before: the old bounds' shape", 2000, 20, 100)];
    for (name, emails, ops, terms) in cases {
        let (data, body) = (user(emails), request(ops, terms));
        let bytes = body.to_string().len();
        let (outcome, median) = time(&data, &body, iterations);
        println!(
            "{name}: {emails} emails, {ops} removes of {terms} comparisons ({bytes} bytes): median {median:.0} µs per request ({iterations} runs); {outcome}"
        );
    }
    let (data, body) = contains_case(MAX_VALUES, 1000, MAX_OPERATIONS, MAX_TERMS, 60);
    let bytes = body.to_string().len();
    let (outcome, median) = time(&data, &body, iterations);
    println!(
        "after, `co` until the work budget runs out: {MAX_VALUES} emails of 1,000 characters, {MAX_OPERATIONS} removes of {MAX_TERMS} `co` comparisons ({bytes} bytes): median {median:.0} µs per request ({iterations} runs); {outcome}"
    );
}

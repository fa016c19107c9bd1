//! Hook executions as CloudWatch metrics: each execution is also printed as one line in
//! CloudWatch's embedded metric format (namespace `IdentityBridge/TelephonyHooks`, dimension
//! `Hook`: `Executions`, `Failures`, and `Duration` of the successful ones), which CloudWatch
//! Logs turns into metrics; no API call. The table's daily counters stay the source of the admin
//! tool's 30-day view.

use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::common::store::StoreError;
use crate::telephony::hook::Execution;
use crate::telephony::ports::HookLog;

pub const NAMESPACE: &str = "IdentityBridge/TelephonyHooks";

/// Writes each execution to `0` and prints its metric line.
pub struct CloudWatchMetrics(pub Arc<dyn HookLog>);

/// The embedded-metric-format document for one execution.
pub fn metric_line(execution: &Execution, at_millis: u64) -> Value {
    let mut metrics = vec![json!({"Name": "Executions", "Unit": "Count"}), json!({"Name": "Failures", "Unit": "Count"})];
    let mut line = json!({"Hook": execution.hook, "Executions": 1, "Failures": u8::from(!execution.delivered)});
    if execution.delivered {
        metrics.push(json!({"Name": "Duration", "Unit": "Milliseconds"}));
        line["Duration"] = json!(execution.millis);
    }
    line["_aws"] = json!({"Timestamp": at_millis, "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Hook"]], "Metrics": metrics}]});
    line
}

#[async_trait]
impl HookLog for CloudWatchMetrics {
    async fn executed(&self, execution: &Execution) -> Result<(), StoreError> {
        println!("{}", metric_line(execution, execution.at * 1000));
        self.0.executed(execution).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_execution_in_the_embedded_metric_format() {
        let ok = Execution { hook: "sms-jp".into(), day: 1, delivered: true, millis: 240, at: 1_700_000_000, events: vec![], settles: None };
        let line = metric_line(&ok, 1_700_000_000_000);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Hook"]]));
        assert_eq!(
            (line["Hook"].as_str(), line["Executions"].as_u64(), line["Failures"].as_u64(), line["Duration"].as_u64()),
            (Some("sms-jp"), Some(1), Some(0), Some(240))
        );
        let failed = metric_line(&Execution { delivered: false, ..ok }, 1);
        assert_eq!((failed["Failures"].as_u64(), failed.get("Duration")), (Some(1), None), "only successful calls' durations");
        let names: Vec<&str> = failed["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().into_iter().flatten().filter_map(|m| m["Name"].as_str()).collect();
        assert_eq!(names, ["Executions", "Failures"]);
    }
}

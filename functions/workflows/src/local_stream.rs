//! The local stand-in for the Lambda event source mapping between the table's stream and the
//! runner (feature `local`): reads the stream through the DynamoDB Streams API (moto has it)
//! and hands each batch to [`crate::handler::handle_json`] in the shape Lambda delivers, so the local
//! stack and the tests deliver events exactly the way AWS does. Records the handler reports as
//! failed are delivered again with the next batch. Not used in AWS.

use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use crate::state::Workflows;

pub struct StreamPoller {
    streams: Client,
    arn: String,
    /// The next iterator of each shard seen so far.
    iterators: HashMap<String, Option<String>>,
    /// Records to deliver again (reported as failed).
    retry: Vec<Value>,
}

impl StreamPoller {
    /// A poller for `table`'s stream, from its oldest record.
    pub async fn new(sdk: &aws_config::SdkConfig, table: &str) -> Result<Self, String> {
        let described = aws_sdk_dynamodb::Client::new(sdk).describe_table().table_name(table).send().await.map_err(|e| format!("describe table: {e:?}"))?;
        let arn = described.table.and_then(|t| t.latest_stream_arn).ok_or("the table has no stream")?;
        Ok(Self { streams: Client::new(sdk), arn, iterators: HashMap::new(), retry: Vec::new() })
    }

    /// The records written since the last call (and those to deliver again), as Lambda's event.
    pub async fn next_batch(&mut self) -> Result<Value, String> {
        let described = self.streams.describe_stream().stream_arn(&self.arn).send().await.map_err(|e| format!("describe stream: {e:?}"))?;
        for shard in described.stream_description.and_then(|d| d.shards).unwrap_or_default() {
            let Some(id) = shard.shard_id else { continue };
            if !self.iterators.contains_key(&id) {
                let out =
                    self.streams.get_shard_iterator().stream_arn(&self.arn).shard_id(&id).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await;
                self.iterators.insert(id, out.map_err(|e| format!("shard iterator: {e:?}"))?.shard_iterator);
            }
        }
        let mut records = std::mem::take(&mut self.retry);
        for iterator in self.iterators.values_mut() {
            let Some(current) = iterator.clone() else { continue };
            let out = self.streams.get_records().shard_iterator(current).send().await.map_err(|e| format!("get records: {e:?}"))?;
            *iterator = out.next_shard_iterator;
            records.extend(out.records.unwrap_or_default().into_iter().filter_map(lambda_record));
        }
        Ok(json!({ "Records": records }))
    }

    /// Delivers one batch to the runner; returns how many records it held.
    pub async fn deliver(&mut self, workflows: &Workflows, now: u64) -> Result<usize, String> {
        let batch = self.next_batch().await?;
        let records = batch["Records"].as_array().cloned().unwrap_or_default();
        if records.is_empty() {
            return Ok(0);
        }
        let answer = crate::handler::handle_json(workflows, &batch, now, None).await.map_err(|e| e.to_string())?;
        let failed: Vec<&str> = answer["batchItemFailures"].as_array().into_iter().flatten().filter_map(|f| f["itemIdentifier"].as_str()).collect();
        self.retry = records.iter().filter(|r| failed.contains(&r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default())).cloned().collect();
        Ok(records.len())
    }
}

/// A stream record as Lambda delivers it (the images' scalar and set attributes, which are all
/// the functions read; `userIdentity` marks the TTL's deletions).
fn lambda_record(record: aws_sdk_dynamodbstreams::types::Record) -> Option<Value> {
    let change = record.dynamodb?;
    let image = |attributes: Option<std::collections::HashMap<String, AttributeValue>>| -> Map<String, Value> {
        attributes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| match v {
                AttributeValue::S(s) => Some((k, json!({ "S": s }))),
                AttributeValue::Ss(s) => Some((k, json!({ "SS": s }))),
                AttributeValue::N(n) => Some((k, json!({ "N": n }))),
                AttributeValue::Ns(n) => Some((k, json!({ "NS": n }))),
                AttributeValue::Bool(b) => Some((k, json!({ "BOOL": b }))),
                AttributeValue::Null(b) => Some((k, json!({ "NULL": b }))),
                _ => None,
            })
            .collect()
    };
    let mut out = json!({"eventID": record.event_id.unwrap_or_default(), "eventName": record.event_name?.as_str(), "eventSource": "aws:dynamodb",
                "awsRegion": record.aws_region.unwrap_or_default(), "eventVersion": record.event_version,
                "dynamodb": {"SequenceNumber": change.sequence_number, "SizeBytes": change.size_bytes.unwrap_or_default(),
                             "NewImage": image(change.new_image), "OldImage": image(change.old_image)}});
    if let Some(identity) = record.user_identity {
        out["userIdentity"] = json!({"type": identity.r#type, "principalId": identity.principal_id});
    }
    Some(out)
}

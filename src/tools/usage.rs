//! `/usage`: the user's LLM calls, tokens and cost today and over 30 days, with a chart of
//! tokens and cost per day (in the user's timezone) when there was any; `/usage all` (owner)
//! lists every user, as text only.

use async_trait::async_trait;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::{CallSource, Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::chart;
use crate::message::{FileKind, OutgoingFile};
use crate::store::Store;
use crate::store::llm_usage::UsageSummary;
use crate::users::User;

/// Reports LLM usage and cost.
pub struct Usage {
    store: Store,
}

impl Usage {
    /// The tool over the usage records.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const USAGE: &str = "/usage [all]";

#[async_trait]
impl Tool for Usage {
    fn name(&self) -> &'static str {
        "usage"
    }

    fn description(&self) -> &'static str {
        "Show your AI usage and cost, with a chart of the last 30 days (owner: /usage all)"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"all": {"type": "boolean", "description": "every user (owner only)"}}})
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn effect_of(&self, args: &Value) -> Effect {
        if args.get("all").and_then(Value::as_bool).unwrap_or(false) {
            Effect::Admin
        } else {
            Effect::Read
        }
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        match args.trim() {
            "" => Ok(json!({})),
            "all" => Ok(json!({"all": true})),
            other => Err(ToolError::InvalidArguments(format!(
                "Unknown option '{other}'. Usage: {USAGE}"
            ))),
        }
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let all = args.get("all").and_then(Value::as_bool).unwrap_or(false);
        if !all {
            let mut out = ToolOutput::plain(report_for(&self.store, ctx.user).await?);
            // The model reads text only: it gets no picture.
            if ctx.source != CallSource::Llm {
                out.file = chart_for(&self.store, ctx.user).await?;
            }
            if out.file.is_some() {
                out.text.push_str(
                    "\nChart: bars are tokens per day (left scale), the line is cost per day \
                     (right scale), last 30 days.",
                );
            }
            return Ok(out);
        }
        if !ctx.user.is_owner() {
            return Err(ToolError::Failed(
                "/usage all is only for the owner.".into(),
            ));
        }
        let mut sections = Vec::new();
        for user in self.store.list_users().await? {
            sections.push(format!(
                "{} (chat {})\n{}",
                user.display_name,
                user.chat_id,
                report_for(&self.store, &user).await?
            ));
        }
        Ok(ToolOutput::plain(sections.join("\n\n")))
    }
}

async fn report_for(store: &Store, user: &User) -> Result<String, ToolError> {
    let now = Utc::now();
    let midnight = now
        .with_timezone(&user.timezone.tz())
        .date_naive()
        .and_hms_opt(0, 0, 0);
    let today = midnight
        .and_then(|m| user.timezone.tz().from_local_datetime(&m).earliest())
        .map_or(0, |t| t.timestamp());
    let month = (now - Duration::days(30)).timestamp();
    let today = store.usage_summary(Some(user.id), today).await?;
    let month = store.usage_summary(Some(user.id), month).await?;
    Ok(format!(
        "Today: {}\nLast 30 days: {}",
        line(&today),
        line(&month)
    ))
}

/// The PNG of the last 30 days in the user's timezone (today last), or `None` when there was no
/// usage at all or the chart could not be drawn (the text goes alone, and the error is logged).
async fn chart_for(store: &Store, user: &User) -> Result<Option<OutgoingFile>, ToolError> {
    let today = Utc::now().with_timezone(&user.timezone.tz()).date_naive();
    let first = today - Duration::days(i64::try_from(chart::MAX_DAYS).unwrap_or(30) - 1);
    let bounds = (0..=chart::MAX_DAYS)
        .map(|i| {
            local_midnight(
                user.timezone.tz(),
                first + Duration::days(i64::try_from(i).unwrap_or(0)),
            )
        })
        .collect();
    let days = store.usage_per_day(user.id, bounds).await?;
    if days.iter().all(|d| d.tokens == 0 && d.cost_usd <= 0.0) {
        return Ok(None);
    }
    match chart::usage_png(&days, first) {
        Ok(bytes) => Ok(Some(OutgoingFile {
            name: format!("usage-{}.png", today.format("%Y-%m-%d")),
            kind: FileKind::Photo,
            bytes,
        })),
        Err(e) => {
            tracing::warn!(error = %e, "usage chart not drawn");
            Ok(None)
        }
    }
}

/// Unix seconds when `date` starts in `tz` (its first existing hour when midnight is skipped).
fn local_midnight(tz: Tz, date: NaiveDate) -> i64 {
    (0..3)
        .filter_map(|h| date.and_hms_opt(h, 0, 0))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map_or_else(
            || {
                date.and_hms_opt(0, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp())
            },
            |t| t.timestamp(),
        )
}

fn line(rows: &[UsageSummary]) -> String {
    let calls: u64 = rows.iter().map(|r| r.calls).sum();
    if calls == 0 {
        return "no AI calls".to_string();
    }
    let failed: u64 = rows.iter().map(|r| r.failed).sum();
    let tokens: u64 = rows.iter().map(|r| r.input_tokens + r.output_tokens).sum();
    let cost: f64 = rows.iter().map(|r| r.cost_usd).sum();
    let failed = if failed > 0 {
        format!(" ({failed} failed)")
    } else {
        String::new()
    };
    format!("{calls} calls{failed}, {tokens} tokens, ${cost:.4}")
}

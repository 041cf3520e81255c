//! `hookline log`: the delivery history, read through the management API of `hookline dev` or of
//! a deployed hookline (Svix's routes and shapes, so any Svix-compatible server answers too).
//!
//! Four views, chosen by the options:
//!
//! - `--msg MSG`: the attempts of one message (`GET /app/{app}/attempt/msg/{msg}`);
//! - `--endpoint EP`: the attempts at one endpoint (`GET /app/{app}/attempt/endpoint/{ep}`), or
//!   with `--messages` its messages and their status there (`GET /app/{app}/endpoint/{ep}/msg`);
//! - neither: the attempts at every endpoint of the application (of every application without
//!   `--app`), merged by time;
//! - `--stats`: each endpoint's counts by status (`GET /app/{app}/endpoint/{ep}/stats`).
//!
//! The API lists oldest first, so a list is read to its end (at most
//! [`client::MAX_RECORDS`] records) and the newest `--limit` are shown, oldest at the top.

pub mod client;
pub mod render;

use std::path::PathBuf;

use hookline_core::api::history::MessageStatus;
use hookline_core::time::Timestamp;
use serde::Deserialize;

use crate::error::UsageError;
use crate::replay::parse_when;
use crate::{CliError, Ui};
use client::{Client, LogError};
use render::{AttemptRow, MessageRow, Named, Rows, StatsRow};

/// `hookline log` options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  hookline log                          # the newest attempts of the local hookline dev
  hookline log --app acme --status fail --since 2h
  hookline log --app acme --msg msg_2xJk...
  hookline log --app acme --endpoint billing --messages --status skipped
  hookline log --app acme --stats --since 1d
  hookline --json log --api https://hooks.example.com --token \"$TOKEN\"

Without --api it reads the hookline dev whose data directory is --data-dir
(.hookline): hookline dev writes its API's address and token there (api.json).")]
pub struct Args {
    /// The management API: the server URL the SDKs take (https://...) or the /api/v1 URL
    /// `hookline dev` prints [default: the hookline dev of --data-dir].
    #[arg(long, value_name = "URL", env = "HOOKLINE_API_URL", help_heading = CONNECTION)]
    pub api: Option<String>,
    /// The bearer token [default: the development token of the hookline dev of --data-dir].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "HOOKLINE_API_TOKEN",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub token: Option<String>,
    /// The data directory of the `hookline dev` to read, without --api.
    #[arg(long, value_name = "DIR", default_value = crate::dev::DEFAULT_DATA_DIR,
          env = "HOOKLINE_DATA_DIR", help_heading = CONNECTION)]
    pub data_dir: PathBuf,
    /// The application: its id or uid [default: every application].
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
    /// Only this endpoint: its id or uid.
    #[arg(long, value_name = "EP")]
    pub endpoint: Option<String>,
    /// Only this message's attempts: its id or eventId.
    #[arg(long, value_name = "MSG", conflicts_with = "messages")]
    pub msg: Option<String>,
    /// With --endpoint: its messages and their status there, instead of its attempts.
    #[arg(long, requires = "endpoint")]
    pub messages: bool,
    /// Each endpoint's counts of messages by status, instead of a list.
    #[arg(long, conflicts_with_all = ["msg", "messages", "status"])]
    pub stats: bool,
    /// Only this status: success, pending, fail, sending or skipped (skipped: not sent because
    /// the endpoint was disabled).
    #[arg(long, value_name = "STATUS", value_parser = render::parse_status)]
    pub status: Option<MessageStatus>,
    /// Only what happened after this time: RFC 3339 or a duration ago (`2h`, `30m`, `1d`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Show the newest N.
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=client::MAX_RECORDS as i64))]
    pub limit: u32,
}

/// The `--help` heading of the options that say which API to read.
const CONNECTION: &str = "Connection";

/// Runs `hookline log`.
pub async fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let now = crate::now();
    let since = args
        .since
        .as_deref()
        .map(|v| {
            parse_when(v, now).ok_or_else(|| UsageError::BadTime {
                flag: "--since",
                value: v.to_owned(),
            })
        })
        .transpose()?;
    let target = client::target(args.api.as_deref(), args.token.as_deref(), &args.data_dir)?;
    let client = Client::new(target)?;
    let query = Query {
        status: args.status,
        since,
    };
    let apps = Apps::resolve(&client, args.app.as_deref()).await?;
    let mut rows = if args.stats {
        Rows::Stats(stats(&client, &apps, args.endpoint.as_deref(), since).await?)
    } else if let Some(msg) = &args.msg {
        Rows::Attempts(by_message(&client, &apps, msg, args.endpoint.as_deref(), &query).await?)
    } else if let (true, Some(ep)) = (args.messages, &args.endpoint) {
        Rows::Messages(messages(&client, &apps, ep, &query).await?)
    } else {
        Rows::Attempts(by_endpoint(&client, &apps, args.endpoint.as_deref(), &query).await?)
    };
    let total = rows.len();
    keep_newest(&mut rows, usize::try_from(args.limit).unwrap_or(usize::MAX));
    print(&rows, total, ui, now);
    Ok(())
}

/// The filters every list passes to the API.
struct Query {
    status: Option<MessageStatus>,
    since: Option<Timestamp>,
}

impl Query {
    /// `status` and `after`, as the list routes take them.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(s) = self.status {
            q.push(("status", u8::from(s).to_string()));
        }
        if let Some(t) = self.since {
            q.push(("after", t.to_rfc3339()));
        }
        q
    }
}

/// The applications to read, and whether the user named one (then a 404 is an answer, not a
/// sign that the record is in another application).
struct Apps {
    list: Vec<Named>,
    named: bool,
}

impl Apps {
    async fn resolve(client: &Client, app: Option<&str>) -> Result<Apps, LogError> {
        Ok(match app {
            Some(a) => Apps {
                list: vec![client.get(&["app", a], &[]).await?],
                named: true,
            },
            None => Apps {
                list: client.list(&["app"], &[]).await?,
                named: false,
            },
        })
    }

    /// Whether `e` only says that an application the user did not name lacks the record.
    fn elsewhere(&self, e: &LogError) -> bool {
        !self.named && matches!(e, LogError::NotFound { .. })
    }
}

/// An attempt as the API answers it (`MessageAttemptOut`, with hookline's extra fields optional
/// so that a Svix server's answer reads too).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttemptOut {
    id: String,
    msg_id: String,
    endpoint_id: String,
    response_status_code: u16,
    response_duration_ms: u64,
    status: MessageStatus,
    timestamp: String,
    #[serde(default)]
    trigger: Option<String>,
    #[serde(default)]
    attempt: Option<u32>,
    #[serde(default)]
    error_class: Option<String>,
    #[serde(default)]
    next_attempt: Option<String>,
    /// The message, when asked for with `with_msg`.
    #[serde(default)]
    msg: Option<MessageOut>,
}

/// The fields of a message (`MessageOut`, `EndpointMessageOut`) that are shown.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageOut {
    id: String,
    event_type: String,
    timestamp: String,
    /// Only in `EndpointMessageOut`.
    #[serde(default)]
    status: Option<MessageStatus>,
    #[serde(default)]
    next_attempt: Option<String>,
}

/// `EndpointStats`; `canceled` (hookline's skipped) is newer than the others.
#[derive(Debug, Deserialize)]
struct StatsOut {
    success: u64,
    pending: u64,
    sending: u64,
    fail: u64,
    #[serde(default)]
    canceled: Option<u64>,
}

/// A record's time; a server that writes something else is named in the error.
fn time_of(what: &str, value: &str) -> Result<Timestamp, LogError> {
    Timestamp::parse_rfc3339(value).ok_or_else(|| LogError::BadTime {
        what: what.to_owned(),
        value: value.to_owned(),
    })
}

impl AttemptOut {
    fn row(
        self,
        app: &Named,
        endpoint: Named,
        event_type: Option<String>,
    ) -> Result<AttemptRow, LogError> {
        Ok(AttemptRow {
            time: time_of(&format!("attempt {}", self.id), &self.timestamp)?,
            app: app.clone(),
            event_type: self.msg.map(|m| m.event_type).or(event_type),
            endpoint,
            status: self.status,
            attempt: self.attempt,
            trigger: self.trigger,
            // Svix's 0: no response at all.
            http_status: (self.response_status_code != 0).then_some(self.response_status_code),
            error_class: self.error_class,
            duration_ms: self.response_duration_ms,
            next_attempt: self.next_attempt,
            msg_id: self.msg_id,
            id: self.id,
        })
    }
}

/// The application's endpoints, every one.
async fn endpoints(client: &Client, app: &Named) -> Result<Vec<Named>, LogError> {
    client.list(&["app", &app.id, "endpoint"], &[]).await
}

/// The endpoint `ep` (id or uid) in each application that has it.
async fn endpoint_in_apps(
    client: &Client,
    apps: &Apps,
    ep: &str,
) -> Result<Vec<(Named, Named)>, LogError> {
    let mut found = Vec::new();
    for app in &apps.list {
        match client.get(&["app", &app.id, "endpoint", ep], &[]).await {
            Ok(e) => found.push((app.clone(), e)),
            Err(e) if apps.elsewhere(&e) => {}
            Err(e) => return Err(e),
        }
    }
    if found.is_empty() {
        return Err(LogError::Missing {
            what: format!("endpoint {ep}"),
            apps: apps.list.len(),
        });
    }
    Ok(found)
}

/// The endpoint `ep` in each application that has it, or every endpoint of every application.
async fn targets(
    client: &Client,
    apps: &Apps,
    ep: Option<&str>,
) -> Result<Vec<(Named, Named)>, LogError> {
    if let Some(ep) = ep {
        return endpoint_in_apps(client, apps, ep).await;
    }
    let mut all = Vec::new();
    for app in &apps.list {
        for e in endpoints(client, app).await? {
            all.push((app.clone(), e));
        }
    }
    Ok(all)
}

/// Attempts at one endpoint (`--endpoint`), or at every endpoint.
async fn by_endpoint(
    client: &Client,
    apps: &Apps,
    ep: Option<&str>,
    query: &Query,
) -> Result<Vec<AttemptRow>, LogError> {
    let targets = targets(client, apps, ep).await?;
    let mut q = query.pairs();
    q.push(("with_msg", "true".to_owned()));
    q.push(("with_content", "false".to_owned()));
    let mut rows = Vec::new();
    for (app, endpoint) in targets {
        let attempts: Vec<AttemptOut> = client
            .list(&["app", &app.id, "attempt", "endpoint", &endpoint.id], &q)
            .await?;
        for at in attempts {
            rows.push(at.row(&app, endpoint.clone(), None)?);
        }
    }
    Ok(rows)
}

/// The attempts of one message, in the application that has it.
async fn by_message(
    client: &Client,
    apps: &Apps,
    msg: &str,
    ep: Option<&str>,
    query: &Query,
) -> Result<Vec<AttemptRow>, LogError> {
    let mut rows = Vec::new();
    let mut found = false;
    for app in &apps.list {
        let message: MessageOut = match client
            .get(
                &["app", &app.id, "msg", msg],
                &[("with_content", "false".to_owned())],
            )
            .await
        {
            Ok(m) => m,
            Err(e) if apps.elsewhere(&e) => continue,
            Err(e) => return Err(e),
        };
        found = true;
        let mut q = query.pairs();
        q.push(("with_content", "false".to_owned()));
        if let Some(ep) = ep {
            q.push(("endpoint_id", ep.to_owned()));
        }
        // Attempts name endpoints by id: the list gives their uids.
        let names = endpoints(client, app).await?;
        let attempts: Vec<AttemptOut> = client
            .list(&["app", &app.id, "attempt", "msg", &message.id], &q)
            .await?;
        for at in attempts {
            let endpoint = names
                .iter()
                .find(|n| n.id == at.endpoint_id)
                .cloned()
                // An endpoint deleted since: its id is all there is.
                .unwrap_or_else(|| Named {
                    id: at.endpoint_id.clone(),
                    uid: None,
                });
            rows.push(at.row(app, endpoint, Some(message.event_type.clone()))?);
        }
    }
    if !found {
        return Err(LogError::Missing {
            what: format!("message {msg}"),
            apps: apps.list.len(),
        });
    }
    Ok(rows)
}

/// The messages of one endpoint and their status there.
async fn messages(
    client: &Client,
    apps: &Apps,
    ep: &str,
    query: &Query,
) -> Result<Vec<MessageRow>, LogError> {
    let mut q = query.pairs();
    q.push(("with_content", "false".to_owned()));
    let mut rows = Vec::new();
    for (app, endpoint) in endpoint_in_apps(client, apps, ep).await? {
        let list: Vec<MessageOut> = client
            .list(&["app", &app.id, "endpoint", &endpoint.id, "msg"], &q)
            .await?;
        for m in list {
            let what = format!("message {}", m.id);
            let status = m.status.ok_or_else(|| LogError::NotApi {
                route: format!("/app/{}/endpoint/{}/msg", app.id, endpoint.id),
                status: 200,
                why: format!("{what} has no status"),
            })?;
            rows.push(MessageRow {
                time: time_of(&what, &m.timestamp)?,
                app: app.clone(),
                msg_id: m.id,
                event_type: m.event_type,
                endpoint: endpoint.clone(),
                status,
                next_attempt: m.next_attempt,
            });
        }
    }
    Ok(rows)
}

/// Each endpoint's counts by status.
async fn stats(
    client: &Client,
    apps: &Apps,
    ep: Option<&str>,
    since: Option<Timestamp>,
) -> Result<Vec<StatsRow>, LogError> {
    let targets = targets(client, apps, ep).await?;
    let q: Vec<(&str, String)> = since
        .map(|t| ("since", t.to_rfc3339()))
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for (app, endpoint) in targets {
        let s: StatsOut = client
            .get(&["app", &app.id, "endpoint", &endpoint.id, "stats"], &q)
            .await?;
        rows.push(StatsRow {
            app,
            endpoint,
            since,
            success: s.success,
            pending: s.pending,
            sending: s.sending,
            fail: s.fail,
            skipped: s.canceled,
        });
    }
    Ok(rows)
}

/// Sorts lists by time (ties by id, so the order is stable) and keeps the newest `limit`;
/// statistics are not a list in time and are all kept.
fn keep_newest(rows: &mut Rows, limit: usize) {
    fn newest<T>(rows: &mut Vec<T>, limit: usize, key: impl Fn(&T) -> (Timestamp, String)) {
        rows.sort_by_key(|r| key(r));
        let extra = rows.len().saturating_sub(limit);
        rows.drain(..extra);
    }
    match rows {
        Rows::Attempts(r) => newest(r, limit, |a| (a.time, a.id.clone())),
        Rows::Messages(r) => newest(r, limit, |m| (m.time, m.msg_id.clone())),
        Rows::Stats(_) => {}
    }
}

/// The table (or JSON lines) on stdout; what was left out, or that nothing matched, on stderr.
fn print(rows: &Rows, total: usize, ui: Ui, now: Timestamp) {
    if rows.is_empty() {
        ui.note(&format!("no {} found", rows.noun()));
        return;
    }
    if ui.json {
        for v in rows.json() {
            ui.json_line(&v);
        }
    } else {
        for line in rows.table(ui, now) {
            ui.line(&line);
        }
    }
    if total > rows.len() {
        ui.note(&format!(
            "showing the newest {} of {total} {} (--limit)",
            rows.len(),
            rows.noun()
        ));
    }
}

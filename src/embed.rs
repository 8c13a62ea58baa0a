//! The embed API: a page that embeds neurolab in an iframe drives it with `postMessage` and hears
//! what it does. Only the embedding window is listened to, and only when the lab is in a frame.
//!
//! Host → lab (`iframe.contentWindow.postMessage(msg, '*')`):
//! `{neurolab: "run"}`, `"pause"`, `"step"`, `"reset"`, `{neurolab: "set", values: {wd: 0.3, …}}`
//! (link keys of the open lab, checked like a link), `{neurolab: "get"}`.
//! Lab → host (`window.parent`): `{neurolab: "ready" | "state" | "progress" | "report" |
//! "stopped" | "finished" | "error", lab, …}` — `report` carries the lab's report as the protocol
//! writes it, `progress`/`stopped`/`finished` the position (`done`, `total`, `unit`), `state` the
//! phase, position and link, `error` a message naming what was wrong.

use crate::lab::{LabCtx, PageLab};
use leptos::prelude::*;
use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::StopReason;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What a host page asks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "neurolab", rename_all = "snake_case")]
pub enum HostCommand {
    Run,
    Pause,
    Step,
    Reset,
    /// Link keys and their values (strings, numbers or booleans).
    Set {
        values: BTreeMap<String, Value>,
    },
    Get,
}

impl HostCommand {
    /// A host's message (its JSON); the error says what a message must be.
    pub fn parse(text: &str) -> Result<HostCommand, String> {
        serde_json::from_str(text).map_err(|e| {
            format!("not a neurolab command ({e}); send {{neurolab: \"run\" | \"pause\" | \"step\" | \"reset\" | \"get\"}} or {{neurolab: \"set\", values: {{key: value}}}}")
        })
    }
}

/// A value as link text.
fn link_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Carry out a host's command on the open lab.
pub fn handle<L: PageLab>(ctx: LabCtx<L>, command: HostCommand) {
    match command {
        HostCommand::Run => ctx.send(LabCommand::Run),
        HostCommand::Pause => ctx.send(LabCommand::Pause),
        HostCommand::Step => ctx.send(LabCommand::Step),
        HostCommand::Reset => ctx.restart(true),
        HostCommand::Set { values } => {
            let mut pairs: Vec<(String, String)> = neurolab_base::field::to_pairs(&ctx.config())
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .filter(|(k, _)| !values.contains_key(k))
                .collect();
            pairs.extend(values.iter().map(|(k, v)| (k.clone(), link_text(v))));
            match neurolab_base::field::from_pairs::<L::Config>(&pairs) {
                Ok(config) => {
                    ctx.apply_config(config);
                    post(L::NAME, "state", state(ctx));
                }
                Err(e) => post(L::NAME, "error", json!({ "message": e.to_string() })),
            }
        }
        HostCommand::Get => post(L::NAME, "state", state(ctx)),
    }
}

/// The open lab's phase, position and link.
fn state<L: PageLab>(ctx: LabCtx<L>) -> Value {
    let (phase, position) = ctx.run.with_untracked(|r| (r.phase.name(), r.position));
    json!({
        "phase": phase,
        "position": position,
        "link": ctx.shell.link.with_untracked(|l| l.encode()),
        "keys": neurolab_base::field::to_pairs(&ctx.config())
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect::<serde_json::Map<_, _>>(),
    })
}

/// Tell the host what the lab did (reports, progress, stops).
pub fn notify<L: PageLab>(event: &LabEvent<L>) {
    if !crate::browser::in_frame() {
        return;
    }
    match event {
        LabEvent::Report { report } => post(L::NAME, "report", json!({ "report": report })),
        LabEvent::Progress { position, rate, .. } => post(
            L::NAME,
            "progress",
            json!({ "position": position, "rate": rate }),
        ),
        LabEvent::Stopped { position, reason } => {
            let detail = json!({ "position": position, "reason": reason });
            post(L::NAME, "stopped", detail.clone());
            if matches!(reason, StopReason::Finished) {
                post(L::NAME, "finished", detail);
            }
        }
        LabEvent::Configured { position, .. } => {
            post(L::NAME, "configured", json!({ "position": position }))
        }
        LabEvent::Failed { message } => post(L::NAME, "error", json!({ "message": message })),
        _ => {}
    }
}

/// Post `{neurolab: kind, lab, …detail}` to the embedding window.
pub fn post(lab: &str, kind: &str, detail: Value) {
    let mut message = json!({ "neurolab": kind, "lab": lab });
    if let (Value::Object(m), Value::Object(d)) = (&mut message, detail) {
        m.extend(d);
    }
    crate::browser::post_to_parent(&message.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_commands_parse_and_a_bad_one_says_what_to_send() {
        assert_eq!(
            HostCommand::parse(r#"{"neurolab":"run"}"#),
            Ok(HostCommand::Run)
        );
        let set = HostCommand::parse(r#"{"neurolab":"set","values":{"wd":0.3,"model":"mlp"}}"#);
        match set {
            Ok(HostCommand::Set { values }) => {
                assert_eq!(link_text(&values["wd"]), "0.3");
                assert_eq!(link_text(&values["model"]), "mlp");
            }
            other => panic!("{other:?}"),
        }
        let e = HostCommand::parse(r#"{"neurolab":"fly"}"#).unwrap_err();
        assert!(
            e.contains("not a neurolab command") && e.contains("\"set\""),
            "{e}"
        );
    }
}

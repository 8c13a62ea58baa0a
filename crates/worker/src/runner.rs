//! One generic runner for every lab: it builds a lab's session, runs it in chunks sized to
//! about [`CHUNK_MS`] of wall time (measured, so commands between chunks stay prompt), waits for
//! the GPU once per chunk, smooths the rate, posts progress at most every
//! [`PROGRESS_EVERY_MS`], stops at the budget, at a `Step`'s end or on a NaN/Inf ("diverged"),
//! prepares a session's inputs in chunks too, and answers every control. Every event carries the
//! page's session id, so the page can drop those of a session it has replaced.

use crate::env::Env;
use crate::error::WorkerError;
use crate::labs::{Created, WorkerLab};
use neurolab_base::budget::fmt_bytes;
use neurolab_base::lab::Chunk;
use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::run::Rate;
use neurolab_base::{Finite as _, LabConfig as _, Position, Script, Session, StopReason, Unit};
use neurolab_core::protocol::Event;

/// Work this long before letting the event loop run (and commands arrive).
pub const CHUNK_MS: f64 = 30.0;
/// Post progress at most this often.
pub const PROGRESS_EVERY_MS: f64 = 100.0;
/// Largest export the page accepts in one download.
pub const MAX_EXPORT_BYTES: u64 = 512 << 20;

/// What the runner and the labs post events with, and the clock they measure chunks by.
pub struct Ctx<'a> {
    pub post: &'a dyn Fn(Event),
    pub clock_ms: fn() -> f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Idle,
    /// Preparing the session's inputs; then idle.
    Preparing,
    /// Running until the budget, or until position `until` (a `Step`).
    Running {
        until: Option<f64>,
    },
}

/// Units per chunk, adapted to the measured time of the last chunks.
#[derive(Debug, Clone, Copy)]
struct ChunkSize {
    units: f64,
    max: f64,
}

impl ChunkSize {
    fn new(unit: Unit, on_gpu: bool) -> ChunkSize {
        match unit {
            Unit::Step => ChunkSize {
                units: 1.0,
                max: if on_gpu { 64.0 } else { 256.0 },
            },
            Unit::Ms => ChunkSize {
                units: 5.0,
                max: 500.0,
            },
        }
    }

    fn take(&self, left: f64) -> u32 {
        (self.units.floor().min(left.ceil())).max(1.0) as u32
    }

    /// `units` took `wall_ms`: aim the next chunk at [`CHUNK_MS`] (at most doubling).
    fn adapt(&mut self, units: u32, wall_ms: f64) {
        let per_ms = f64::from(units) / wall_ms.max(0.01);
        let target = (per_ms * CHUNK_MS).min(2.0 * f64::from(units).max(self.units));
        self.units = 0.5 * self.units + 0.5 * target.clamp(1.0, self.max);
    }
}

/// One lab's state in the worker.
pub struct Runner<L: WorkerLab> {
    /// The page's id of the current session.
    id: u32,
    config: Option<L::Config>,
    prepare: bool,
    session: Option<L::Session>,
    mode: Mode,
    run_chunk: ChunkSize,
    prep_chunk: ChunkSize,
    rate: Rate,
    last_progress_ms: f64,
    shared: L::Shared,
    /// The session's interventions (a link's, and those made since), and the first not yet
    /// applied in this session.
    script: Script<L::Control>,
    next_event: usize,
}

impl<L: WorkerLab> Default for Runner<L> {
    fn default() -> Self {
        Self {
            id: 0,
            config: None,
            prepare: true,
            session: None,
            mode: Mode::Idle,
            run_chunk: ChunkSize::new(Unit::Step, false),
            prep_chunk: ChunkSize::new(Unit::Step, false),
            rate: Rate::default(),
            last_progress_ms: f64::NEG_INFINITY,
            shared: L::Shared::default(),
            script: Script::default(),
            next_event: 0,
        }
    }
}

impl<L: WorkerLab> Runner<L>
where
    WorkerError: From<<L::Session as Session>::Error>,
{
    /// Running or preparing: it wants chunks.
    pub fn is_busy(&self) -> bool {
        self.mode != Mode::Idle
    }

    pub fn is_running(&self) -> bool {
        matches!(self.mode, Mode::Running { .. })
    }

    pub fn session(&self) -> Option<&L::Session> {
        self.session.as_ref()
    }

    fn emit(&self, ctx: &Ctx<'_>, event: LabEvent<L>) {
        send::<L>(ctx, self.id, event);
    }

    /// A failure of this lab, for the user; a run stops.
    pub fn fail(&mut self, ctx: &Ctx<'_>, error: &WorkerError) {
        let message = error.to_string();
        self.emit(
            ctx,
            LabEvent::Failed {
                message: message.clone(),
            },
        );
        if self.is_busy() {
            self.mode = Mode::Idle;
            if let Some(position) = self.session.as_ref().map(Session::position) {
                self.emit(
                    ctx,
                    LabEvent::Stopped {
                        position,
                        reason: StopReason::Failed { message },
                    },
                );
            }
        }
    }

    /// One command. `env` is `None` before the backend is ready: a config is kept for then.
    pub async fn handle(
        &mut self,
        id: u32,
        command: LabCommand<L>,
        env: Option<&Env>,
        ctx: &Ctx<'_>,
    ) -> Result<(), WorkerError> {
        match command {
            LabCommand::Configure { config, prepare } => {
                config.validate()?;
                self.id = id;
                self.prepare = prepare;
                self.config = Some(config);
                self.script = Script::default();
                match env {
                    Some(env) => self.build(env, ctx, None).await,
                    None => {
                        self.session = None;
                        Ok(())
                    }
                }
            }
            LabCommand::Reset { prepare } => {
                self.id = id;
                self.prepare = prepare;
                match env {
                    Some(env) if self.config.is_some() => self.build(env, ctx, None).await,
                    _ => Ok(()),
                }
            }
            LabCommand::Run => self.start(None, env, ctx),
            LabCommand::Step => {
                let step = self.config.as_ref().map_or(1.0, |c| c.step_units());
                let at = self.session.as_ref().map_or(0.0, |s| s.position().done);
                self.start(Some(at + step), env, ctx)
            }
            LabCommand::Pause => {
                self.pause(ctx);
                Ok(())
            }
            LabCommand::Control { control } => {
                let recorded = L::records(&control).then(|| control.clone());
                self.apply_control(control, ctx).await?;
                if let Some(control) = recorded {
                    // Part of the run from now on: the link replays it at this position.
                    let at = self.session_mut()?.position().done;
                    self.script.insert(self.next_event, at, control.clone())?;
                    self.next_event += 1;
                    self.emit(ctx, LabEvent::Recorded { at, control });
                }
                Ok(())
            }
            LabCommand::Script { script } => {
                let done = self.session.as_ref().map_or(0.0, |s| s.position().done);
                self.next_event = script.due(0, done);
                self.script = script;
                Ok(())
            }
            LabCommand::Export { what } => {
                let file = self.session_mut()?.export(&what).await?;
                let size = file.bytes.len() as u64;
                if size > MAX_EXPORT_BYTES {
                    return Err(WorkerError::ExportTooLarge {
                        size: fmt_bytes(size),
                        max: fmt_bytes(MAX_EXPORT_BYTES),
                    });
                }
                self.emit(
                    ctx,
                    LabEvent::Exported {
                        file_name: file.file_name,
                        mime: file.mime,
                        size,
                        bytes: file.bytes,
                    },
                );
                Ok(())
            }
        }
    }

    /// Apply one control (the page's, or a scripted one reached), answer it, and report at once
    /// when the lab asks for that.
    async fn apply_control(
        &mut self,
        control: L::Control,
        ctx: &Ctx<'_>,
    ) -> Result<(), WorkerError> {
        let id = self.id;
        let report_after = L::report_after(&control);
        let session = self.session_mut()?;
        let answer = session.apply(control).await?;
        if !answer.all_finite() {
            return Err(WorkerError::Config(neurolab_base::ConfigError::rule(
                "control",
                "the answer holds numbers that are not finite (NaN/Inf); try a smaller value",
            )));
        }
        send::<L>(ctx, id, LabEvent::Answer { answer });
        if report_after {
            if let Some(report) = session.report().await? {
                send_report::<L>(ctx, id, report)?;
            }
        }
        Ok(())
    }

    /// Apply the scripted events due before advancing from the current position.
    async fn replay_due(&mut self, ctx: &Ctx<'_>) -> Result<(), WorkerError> {
        let done = self.session.as_ref().map_or(0.0, |s| s.position().done);
        let due = self.script.due(self.next_event, done);
        for _ in 0..due {
            let control = self.script.events[self.next_event].control.clone();
            self.next_event += 1;
            self.apply_control(control, ctx).await?;
        }
        Ok(())
    }

    fn session_mut(&mut self) -> Result<&mut L::Session, WorkerError> {
        self.session
            .as_mut()
            .ok_or(WorkerError::NoSession { lab: L::NAME })
    }

    /// Build a fresh session from the kept config (position 0) and say so; `note` says why it
    /// was rebuilt (a fallback), when it was.
    pub async fn build(
        &mut self,
        env: &Env,
        ctx: &Ctx<'_>,
        note: Option<String>,
    ) -> Result<(), WorkerError> {
        self.mode = Mode::Idle;
        // Free the old session before building the next one; its script replays from the start.
        self.session = None;
        self.next_event = 0;
        let Some(config) = self.config.clone() else {
            return Ok(());
        };
        let unit = config.plan().unit;
        self.run_chunk = ChunkSize::new(unit, env.on_gpu());
        self.prep_chunk = ChunkSize::new(Unit::Step, env.on_gpu());
        self.rate = Rate::default();
        let Created {
            session,
            note: built_note,
        } = L::create(config, env, &mut self.shared).await?;
        let note = match (note, built_note) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        self.emit(
            ctx,
            LabEvent::Configured {
                summary: session.summary(),
                position: session.position(),
                note,
            },
        );
        self.session = Some(session);
        self.after_build(env, ctx).await
    }

    /// Report position 0, or announce the preparation (and start it unless waiting for Run).
    async fn after_build(&mut self, env: &Env, ctx: &Ctx<'_>) -> Result<(), WorkerError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        if let Some(p) = session.preparing() {
            if self.prepare {
                self.mode = Mode::Preparing;
            }
            self.emit(ctx, preparing(p, self.prepare));
            return Ok(());
        }
        L::prepared(session, env, &mut self.shared);
        if let Some(report) = session.report().await? {
            send_report::<L>(ctx, self.id, report)?;
        }
        Ok(())
    }

    fn start(
        &mut self,
        until: Option<f64>,
        env: Option<&Env>,
        ctx: &Ctx<'_>,
    ) -> Result<(), WorkerError> {
        let session = self
            .session
            .as_ref()
            .ok_or(WorkerError::NoSession { lab: L::NAME })?;
        let position = session.position();
        if position.finished() {
            self.emit(
                ctx,
                LabEvent::Stopped {
                    position,
                    reason: StopReason::Finished,
                },
            );
            return Ok(());
        }
        let until = until.map(|u| u.min(position.total));
        self.mode = Mode::Running { until };
        self.rate.restart((ctx.clock_ms)(), position.done);
        if env.is_some() {
            self.emit(
                ctx,
                LabEvent::Progress {
                    position,
                    rate: self.rate.per_s(),
                    running: true,
                },
            );
        }
        Ok(())
    }

    /// Stop running or preparing (answers Pause even when already stopped).
    pub fn pause(&mut self, ctx: &Ctx<'_>) {
        self.mode = Mode::Idle;
        let Some(session) = self.session.as_ref() else {
            return;
        };
        if let Some(p) = session.preparing() {
            self.emit(ctx, preparing(p, false));
            return;
        }
        let position = session.position();
        self.emit(
            ctx,
            LabEvent::Progress {
                position,
                rate: self.rate.per_s(),
                running: false,
            },
        );
        let reason = if position.finished() {
            StopReason::Finished
        } else {
            StopReason::Paused
        };
        self.emit(ctx, LabEvent::Stopped { position, reason });
    }

    /// One chunk of preparation or of the run (nothing when idle).
    pub async fn chunk(&mut self, env: &Env, ctx: &Ctx<'_>) -> Result<(), WorkerError> {
        let Some(session) = self.session.as_mut() else {
            self.mode = Mode::Idle;
            return Ok(());
        };
        if self.mode == Mode::Idle {
            return Ok(());
        }
        if let Some(p) = session.preparing() {
            let units = self
                .prep_chunk
                .take(f64::from(p.total.saturating_sub(p.done)));
            let start = (ctx.clock_ms)();
            session.prepare(units).await?;
            self.prep_chunk.adapt(units, (ctx.clock_ms)() - start);
            match session.preparing() {
                Some(p) => {
                    let now = (ctx.clock_ms)();
                    if now - self.last_progress_ms >= PROGRESS_EVERY_MS {
                        self.last_progress_ms = now;
                        self.emit(ctx, preparing(p, true));
                    }
                }
                None => {
                    L::prepared(session, env, &mut self.shared);
                    let (summary, position) = (session.summary(), session.position());
                    let report = session.report().await?;
                    self.emit(
                        ctx,
                        LabEvent::Configured {
                            summary,
                            position,
                            note: None,
                        },
                    );
                    if let Some(report) = report {
                        send_report::<L>(ctx, self.id, report)?;
                    }
                    if self.mode == Mode::Preparing {
                        self.mode = Mode::Idle;
                        self.emit(
                            ctx,
                            LabEvent::Stopped {
                                position,
                                reason: StopReason::Prepared,
                            },
                        );
                    } else {
                        self.rate.restart((ctx.clock_ms)(), position.done);
                    }
                }
            }
            return Ok(());
        }
        let Mode::Running { until } = self.mode else {
            self.mode = Mode::Idle;
            return Ok(());
        };
        self.replay_due(ctx).await?;
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        let position = session.position();
        // A chunk never passes the next scripted event: it is applied exactly at its position.
        let next_event = self
            .script
            .events
            .get(self.next_event)
            .map_or(f64::INFINITY, |e| e.at);
        let end = until.unwrap_or(position.total).min(position.total);
        let units = self
            .run_chunk
            .take(end.min(next_event.max(position.done + 1.0)) - position.done);
        let start = (ctx.clock_ms)();
        let advance = session
            .advance(Chunk {
                units,
                sync: env.on_gpu(),
            })
            .await?;
        self.run_chunk.adapt(units, (ctx.clock_ms)() - start);
        let mut diverged = advance.diverged;
        let reported = !advance.reports.is_empty();
        for report in advance.reports {
            if report.all_finite() {
                self.emit(ctx, LabEvent::Report { report });
            } else {
                diverged.get_or_insert_with(|| "a report holds NaN/Inf values".to_string());
                break;
            }
        }
        let Some(session) = self.session.as_ref() else {
            return Ok(());
        };
        let position = session.position();
        let now = (ctx.clock_ms)();
        let reason = if let Some(message) = diverged {
            Some(StopReason::Diverged {
                at: position.done,
                message,
            })
        } else if position.finished() {
            Some(StopReason::Finished)
        } else if position.done >= end {
            Some(StopReason::Paused)
        } else {
            None
        };
        if reason.is_some() || now - self.last_progress_ms >= PROGRESS_EVERY_MS {
            self.last_progress_ms = now;
            let rate = self.rate.update(now, position.done);
            self.emit(
                ctx,
                LabEvent::Progress {
                    position,
                    rate,
                    running: reason.is_none(),
                },
            );
        }
        if let Some(reason) = reason {
            self.mode = Mode::Idle;
            // A step always shows its result, report step or not.
            if reason == StopReason::Paused && !reported {
                if let Some(report) = self.session.as_mut().map(|s| s.report()) {
                    if let Some(report) = report.await? {
                        send_report::<L>(ctx, self.id, report)?;
                    }
                }
            }
            self.emit(ctx, LabEvent::Stopped { position, reason });
        }
        Ok(())
    }

    /// After a failure: restart on a config the lab falls back to, if it has one.
    pub async fn recover(
        &mut self,
        error: &WorkerError,
        env: &Env,
        ctx: &Ctx<'_>,
    ) -> Result<bool, WorkerError> {
        let Some((config, note)) = self.config.as_ref().and_then(|c| L::fallback(c, error)) else {
            return Ok(false);
        };
        self.config = Some(config);
        self.build(env, ctx, Some(note)).await?;
        Ok(true)
    }

    /// Drop what lives on the old device (before a backend change).
    pub fn forget_device(&mut self) {
        self.session = None;
        self.mode = Mode::Idle;
        self.shared = L::Shared::default();
    }

    /// Whether there is a config to build a session from.
    pub fn has_config(&self) -> bool {
        self.config.is_some()
    }

    pub fn position(&self) -> Option<Position> {
        self.session.as_ref().map(Session::position)
    }
}

fn preparing<L: WorkerLab>(p: neurolab_base::lab::Preparing, running: bool) -> LabEvent<L> {
    LabEvent::Preparing {
        what: p.what,
        done: p.done,
        total: p.total,
        running,
    }
}

fn send<L: WorkerLab>(ctx: &Ctx<'_>, id: u32, event: LabEvent<L>) {
    (ctx.post)(Event::Lab {
        session: id,
        event: L::wrap_event(event),
    });
}

/// Post a report; one that is not finite is an error instead (no NaN crosses the protocol).
fn send_report<L: WorkerLab>(
    ctx: &Ctx<'_>,
    id: u32,
    report: <L as neurolab_base::Lab>::Report,
) -> Result<(), WorkerError> {
    if report.all_finite() {
        send::<L>(ctx, id, LabEvent::Report { report });
        Ok(())
    } else {
        Err(WorkerError::Config(neurolab_base::ConfigError::rule(
            "report",
            "the report holds numbers that are not finite (NaN/Inf)",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_aim_at_the_budget_and_grow_at_most_twofold() {
        let mut c = ChunkSize::new(Unit::Step, false);
        assert_eq!(c.take(100.0), 1);
        // 1 step in 1 ms: aim at 30, but at most double per chunk.
        c.adapt(1, 1.0);
        assert!(c.units <= 2.0, "{}", c.units);
        for _ in 0..20 {
            let n = c.take(1e9);
            c.adapt(n, f64::from(n));
        }
        assert!((c.units - 30.0).abs() < 2.0, "{}", c.units);
        // Never beyond what is left, never below one.
        assert_eq!(c.take(3.0), 3);
        assert_eq!(c.take(0.0), 1);
        let mut slow = ChunkSize::new(Unit::Ms, true);
        slow.adapt(5, 500.0);
        assert!(slow.units >= 1.0);
    }
}

//! The benchmark in the worker: every lab's [`BenchCase`]s one after another, each built on the
//! worker's device, prepared and warmed up (not timed), then advanced in chunks of ~50 ms for about
//! the asked seconds. A case's rate is position units per second × its `per_position`. It works
//! in chunks like a lab (the engine calls [`Bench::chunk`] between event-loop turns), so the worker
//! stays responsive and starting a lab stops it. The CLI's `bench all` runs the same cases.

use crate::env::Env;
use crate::error::WorkerError;
use crate::labs::WorkerLab;
use neurolab_base::bench::{BenchCase, BenchProgress, BenchRow};
use neurolab_base::lab::Chunk;
use neurolab_base::Session;
use std::future::Future;
use std::pin::Pin;

/// Chunks run before the clock starts (the first allocate, compile kernels, fill caches).
const WARM_UP_CHUNKS: u32 = 2;
/// The chunk size grows until a chunk takes about this long.
const CHUNK_MS: f64 = 50.0;
/// Preparation units per chunk (the SAE's source).
const PREPARE_UNITS: u32 = 64;
/// Longest a case may be timed, whatever was asked.
pub const MAX_SECONDS: f64 = 60.0;

type Work<'a> = Pin<Box<dyn Future<Output = Result<Option<BenchRow>, WorkerError>> + 'a>>;

/// One case being timed, whatever its lab.
trait CaseRun {
    fn name(&self) -> String;
    /// One piece of work; `Some(row)` when the case is timed.
    fn chunk<'a>(&'a mut self, env: &'a Env, now_ms: fn() -> f64) -> Work<'a>;
}

struct Case<L: WorkerLab> {
    case: BenchCase<L::Config>,
    seconds: f64,
    session: Option<L::Session>,
    shared: L::Shared,
    units: u32,
    warm: u32,
    /// Clock (ms) and position when timing began.
    start: Option<(f64, f64)>,
}

impl<L: WorkerLab> Case<L>
where
    WorkerError: From<<L::Session as Session>::Error>,
{
    async fn step(
        &mut self,
        env: &Env,
        now_ms: fn() -> f64,
    ) -> Result<Option<BenchRow>, WorkerError> {
        let Some(session) = self.session.as_mut() else {
            let created = L::create(self.case.config.clone(), env, &mut self.shared).await?;
            self.session = Some(created.session);
            return Ok(None);
        };
        if session.preparing().is_some() {
            session.prepare(PREPARE_UNITS).await?;
            return Ok(None);
        }
        let t = now_ms();
        let advance = session
            .advance(Chunk {
                units: self.units,
                sync: true,
            })
            .await?;
        let now = now_ms();
        if let Some(why) = advance.diverged {
            return Err(WorkerError::Bench(format!("{}: {why}", self.case.name)));
        }
        if now - t < CHUNK_MS / 2.0 {
            self.units = self.units.saturating_mul(2).min(1 << 20);
        }
        let position = session.position().done;
        let Some((t0, p0)) = self.start else {
            self.warm += 1;
            if self.warm >= WARM_UP_CHUNKS {
                self.start = Some((now, position));
            }
            return Ok(None);
        };
        let elapsed = now - t0;
        if elapsed < self.seconds * 1000.0 && !session.position().finished() {
            return Ok(None);
        }
        let timed = position - p0;
        Ok(Some(BenchRow {
            lab: L::NAME.to_string(),
            case: self.case.name.to_string(),
            unit: self.case.unit.to_string(),
            rate: timed / (elapsed / 1000.0).max(1e-9) * self.case.per_position,
            timed,
            seconds: elapsed / 1000.0,
        }))
    }
}

impl<L: WorkerLab> CaseRun for Case<L>
where
    WorkerError: From<<L::Session as Session>::Error>,
{
    fn name(&self) -> String {
        format!("{} · {}", L::LABEL, self.case.name)
    }
    fn chunk<'a>(&'a mut self, env: &'a Env, now_ms: fn() -> f64) -> Work<'a> {
        Box::pin(self.step(env, now_ms))
    }
}

fn cases<L: WorkerLab>(seconds: f64, out: &mut Vec<Box<dyn CaseRun>>)
where
    WorkerError: From<<L::Session as Session>::Error>,
{
    for case in L::bench_cases() {
        out.push(Box::new(Case::<L> {
            case,
            seconds,
            session: None,
            shared: Default::default(),
            units: 1,
            warm: 0,
            start: None,
        }));
    }
}

macro_rules! every_lab {
    ($($name:ident $Variant:ident $Lab:path;)*) => {
        /// Every registered lab's cases, in the registry's order.
        fn all_cases(seconds: f64) -> Vec<Box<dyn CaseRun>> {
            let mut out = Vec::new();
            $(cases::<$Lab>(seconds, &mut out);)*
            out
        }
    };
}
neurolab_core::for_each_lab!(every_lab);

/// A benchmark run in progress.
pub struct Bench {
    cases: Vec<Box<dyn CaseRun>>,
    pub progress: BenchProgress,
}

impl Bench {
    /// Every lab's cases, each timed for `seconds` (at most [`MAX_SECONDS`]) on `env`.
    pub fn new(seconds: f64, env: &Env) -> Bench {
        let seconds = if seconds.is_finite() {
            seconds.clamp(0.0, MAX_SECONDS)
        } else {
            1.0
        };
        let cases = all_cases(seconds);
        let progress = BenchProgress {
            of: cases.len() as u32,
            current: cases.first().map(|c| c.name()),
            backend: env.info.kind.clone(),
            adapter: env.info.adapter.clone(),
            ..Default::default()
        };
        Bench { cases, progress }
    }

    /// One piece of the current case; `true` when the progress changed (a case ended).
    pub async fn chunk(&mut self, env: &Env, now_ms: fn() -> f64) -> bool {
        let Some(case) = self.cases.first_mut() else {
            return false;
        };
        match case.chunk(env, now_ms).await {
            Ok(None) => false,
            Ok(Some(row)) => {
                self.cases.remove(0);
                self.progress.rows.push(row);
                self.progress.done += 1;
                self.progress.current = self.cases.first().map(|c| c.name());
                true
            }
            Err(e) => {
                let why = format!("{} failed: {e}", case.name());
                self.stop(why);
                true
            }
        }
    }

    pub fn stop(&mut self, why: String) {
        self.cases.clear();
        self.progress.current = None;
        self.progress.stopped = Some(why);
    }

    pub fn finished(&self) -> bool {
        self.cases.is_empty()
    }
}

//! The worker's router: the backend, one [`Runner`] per registered lab (generated from the
//! core's registry), and the commands that are not any one lab's (`Init`, test hooks). At most
//! one lab runs at a time: `Run` or `Step` on one pauses the others. When the GPU device is
//! lost, every lab restarts on the CPU with a notice. Plain async code, tested natively on the
//! CPU backend; [`crate::web`] wires it to the Web Worker and the CLI drives it directly.

use crate::bench::Bench;
use crate::env::{env_for, Env};
use crate::error::WorkerError;
use crate::runner::{Ctx, Runner};
use neurolab_core::protocol::{BackendChoice, Command, DebugHook, Event};
use neurolab_core::{AnyCommand, AnyEvent, LabKind};

macro_rules! runners {
    ($($name:ident $Variant:ident $Lab:path;)*) => {
        /// One runner per lab.
        #[derive(Default)]
        pub struct Runners {
            $(pub $name: Runner<$Lab>,)*
        }

        $(impl HasRunner<$Lab> for Runners {
            fn runner(&self) -> &Runner<$Lab> {
                &self.$name
            }
        })*

        impl Runners {
            async fn handle(
                &mut self,
                session: u32,
                command: AnyCommand,
                env: Option<&Env>,
                ctx: &Ctx<'_>,
            ) -> Result<(), WorkerError> {
                match command {
                    $(AnyCommand::$Variant(c) => self.$name.handle(session, c, env, ctx).await,)*
                }
            }

            fn fail(&mut self, lab: LabKind, ctx: &Ctx<'_>, error: &WorkerError) {
                match lab {
                    $(LabKind::$Variant => self.$name.fail(ctx, error),)*
                }
            }

            /// The lab that wants chunks, if any.
            fn busy(&self) -> Option<LabKind> {
                $(if self.$name.is_busy() {
                    return Some(LabKind::$Variant);
                })*
                None
            }

            /// Pause every running lab but `keep` (every one when `None`).
            fn pause_except(&mut self, keep: Option<LabKind>, ctx: &Ctx<'_>) {
                $(if keep != Some(LabKind::$Variant) && self.$name.is_running() {
                    self.$name.pause(ctx);
                })*
            }

            async fn chunk(&mut self, lab: LabKind, env: &Env, ctx: &Ctx<'_>) -> Result<(), WorkerError> {
                match lab {
                    $(LabKind::$Variant => self.$name.chunk(env, ctx).await,)*
                }
            }

            async fn recover(&mut self, lab: LabKind, error: &WorkerError, env: &Env, ctx: &Ctx<'_>) -> Result<bool, WorkerError> {
                match lab {
                    $(LabKind::$Variant => self.$name.recover(error, env, ctx).await,)*
                }
            }

            /// Rebuild every lab that has a config on `env` (after `Init` or a fallback).
            async fn rebuild(&mut self, env: &Env, ctx: &Ctx<'_>, note: Option<String>) {
                $(
                    if self.$name.has_config() {
                        if let Err(e) = self.$name.build(env, ctx, note.clone()).await {
                            self.$name.fail(ctx, &e);
                        }
                    }
                )*
            }

            fn forget_device(&mut self) {
                $(self.$name.forget_device();)*
            }
        }
    };
}

/// The runner of lab `L` (generic code, the CLI, reads its session).
pub trait HasRunner<L: crate::labs::WorkerLab> {
    fn runner(&self) -> &Runner<L>;
}

neurolab_core::for_each_lab!(runners);

/// The worker's state.
pub struct Engine {
    post: Box<dyn Fn(Event)>,
    clock_ms: fn() -> f64,
    env: Option<Env>,
    choice: BackendChoice,
    /// burn's wgpu runtime starts once per worker: the first answer is kept.
    webgpu: Option<Result<Env, String>>,
    pub runners: Runners,
    /// A benchmark run in progress (the labs are paused meanwhile).
    bench: Option<Bench>,
}

impl Engine {
    pub fn new(post: impl Fn(Event) + 'static, clock_ms: fn() -> f64) -> Self {
        Self {
            post: Box::new(post),
            clock_ms,
            env: None,
            choice: BackendChoice::Auto,
            webgpu: None,
            runners: Runners::default(),
            bench: None,
        }
    }

    /// On a device the caller made (the CLI's `--backend`).
    pub fn with_env(post: impl Fn(Event) + 'static, clock_ms: fn() -> f64, env: Env) -> Self {
        let mut engine = Self::new(post, clock_ms);
        engine.env = Some(env);
        engine
    }

    /// A lab wants chunks (the event loop should keep calling [`Engine::work`]).
    pub fn is_busy(&self) -> bool {
        self.env.is_some() && (self.bench.is_some() || self.runners.busy().is_some())
    }

    pub fn env(&self) -> Option<&Env> {
        self.env.as_ref()
    }

    /// Handle one command; a failure becomes the lab's `Failed` event (or an `Error`).
    pub async fn handle(&mut self, command: Command) {
        let post = &*self.post;
        let ctx = Ctx {
            post,
            clock_ms: self.clock_ms,
        };
        match command {
            Command::Init { backend } => {
                stop_bench(&mut self.bench, post, "stopped: the backend changed".into());
                self.choice = backend;
                let env = env_for(backend, &mut self.webgpu).await;
                post(Event::Backend {
                    info: env.info.clone(),
                });
                self.runners.forget_device();
                self.runners.rebuild(&env, &ctx, None).await;
                self.env = Some(env);
            }
            Command::Lab { session, command } => {
                let lab = command.lab();
                if command.starts() {
                    let why = format!("stopped: the {} lab was started", lab.name());
                    stop_bench(&mut self.bench, post, why);
                    self.runners.pause_except(Some(lab), &ctx);
                }
                let result = self
                    .runners
                    .handle(session, command, self.env.as_ref(), &ctx)
                    .await;
                if let Err(e) = result {
                    self.after_error(lab, e).await;
                }
            }
            Command::Bench { seconds } => match &self.env {
                Some(env) => {
                    self.runners.pause_except(None, &ctx);
                    let bench = Bench::new(seconds, env);
                    post(Event::Bench {
                        progress: bench.progress.clone(),
                    });
                    self.bench = Some(bench);
                }
                None => post(Event::Error {
                    message: "the benchmark waits for the backend to start".into(),
                }),
            },
            Command::Debug { hook } => match hook {
                DebugHook::LoseDevice => {
                    let lost = self
                        .env
                        .as_ref()
                        .is_some_and(|env| env.lose_device("destroyed by a test hook"));
                    if !lost {
                        post(Event::Error {
                            message: WorkerError::NoGpu.to_string(),
                        });
                    }
                }
                DebugHook::Panic => panic!("the worker panicked on purpose (test hook)"),
            },
        }
        self.check_device().await;
    }

    /// One chunk of the busy lab's work.
    pub async fn work(&mut self) {
        if let (Some(env), Some(bench)) = (self.env.clone(), self.bench.as_mut()) {
            if bench.chunk(&env, self.clock_ms).await {
                (self.post)(Event::Bench {
                    progress: bench.progress.clone(),
                });
            }
            if bench.finished() {
                self.bench = None;
            }
            self.check_device().await;
            return;
        }
        let (Some(env), Some(lab)) = (self.env.clone(), self.runners.busy()) else {
            return;
        };
        let ctx = Ctx {
            post: &*self.post,
            clock_ms: self.clock_ms,
        };
        if let Err(e) = self.runners.chunk(lab, &env, &ctx).await {
            self.after_error(lab, e).await;
        }
        self.check_device().await;
    }

    /// A lab's command or chunk failed: fall back when the GPU is gone or the lab knows a way,
    /// otherwise tell the user.
    async fn after_error(&mut self, lab: LabKind, error: WorkerError) {
        let ctx = Ctx {
            post: &*self.post,
            clock_ms: self.clock_ms,
        };
        let on_gpu = self.env.as_ref().is_some_and(Env::on_gpu);
        if on_gpu && error.device_lost() {
            self.fall_back_to_cpu(error.to_string()).await;
            return;
        }
        if let Some(env) = self.env.clone() {
            match self.runners.recover(lab, &error, &env, &ctx).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => {
                    self.runners.fail(lab, &ctx, &e);
                    return;
                }
            }
        }
        self.runners.fail(lab, &ctx, &error);
    }

    /// If the GPU device is gone, restart every lab on the CPU.
    async fn check_device(&mut self) {
        if let Some(why) = self.env.as_ref().and_then(Env::lost) {
            self.fall_back_to_cpu(why).await;
        }
    }

    async fn fall_back_to_cpu(&mut self, why: String) {
        let reason = format!("the WebGPU device was lost ({why}); the labs restarted on the CPU");
        let env = Env::cpu(Some(reason.clone()));
        (self.post)(Event::Backend {
            info: env.info.clone(),
        });
        self.runners.forget_device();
        let ctx = Ctx {
            post: &*self.post,
            clock_ms: self.clock_ms,
        };
        self.runners.rebuild(&env, &ctx, Some(reason)).await;
        self.env = Some(env);
    }
}

/// End the benchmark run, if one is going, and tell the page why.
fn stop_bench(bench: &mut Option<Bench>, post: &dyn Fn(Event), why: String) {
    if let Some(mut bench) = bench.take() {
        bench.stop(why);
        post(Event::Bench {
            progress: bench.progress,
        });
    }
}

/// The lab an event belongs to, if it is a lab's.
pub fn event_lab(event: &Event) -> Option<LabKind> {
    match event {
        Event::Lab { event, .. } => Some(AnyEvent::lab(event)),
        _ => None,
    }
}

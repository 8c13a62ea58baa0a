//! The page's lab registry (generated from the core's): every lab's handles, routing of the
//! worker's events by lab, and the open lab's page; one folder per lab.

use crate::context::Shell;
use crate::lab::LabCtx;
use leptos::prelude::*;
use neurolab_base::LabConfig as _;
use neurolab_core::link::LabLink;

pub mod grok;
pub mod lm;
pub mod sae;
pub mod spike;

macro_rules! page_registry {
    ($($name:ident $Variant:ident $Lab:path;)*) => {
        /// Every lab's page handles (generated from the core's registry).
        #[derive(Clone, Copy)]
        pub struct Labs {
            $(pub $name: LabCtx<$Lab>,)*
        }

        impl Labs {
            pub fn new(shell: Shell, link: &LabLink) -> Self {
                Self {
                    $($name: LabCtx::new(shell, link),)*
                }
            }

            /// Route a lab's event to its page.
            pub fn on_event(
                self,
                session: u32,
                event: neurolab_core::AnyEvent,
                bytes: Option<Vec<u8>>,
            ) {
                match event {
                    $(neurolab_core::AnyEvent::$Variant(e) => {
                        if crate::browser::in_frame() && session == self.$name.session.get_untracked() {
                            crate::embed::notify(&e);
                        }
                        self.$name.on_event(session, e, bytes)
                    })*
                }
            }

            /// The open lab's page.
            pub fn page(self, lab: neurolab_core::LabKind) -> AnyView {
                match lab {
                    $(neurolab_core::LabKind::$Variant => crate::page::lab_page(self.$name),)*
                }
            }

            /// Show a lab: its session is built the first time.
            pub fn open(self, lab: neurolab_core::LabKind) {
                match lab {
                    $(neurolab_core::LabKind::$Variant => {
                        if !self.$name.configured.get_untracked() {
                            self.$name.restart(false);
                        }
                    })*
                }
            }

            /// Open a link (a lesson's step, a gallery card) in the lab it names.
            pub fn open_link(self, link: neurolab_core::link::LabLink) {
                match link.lab {
                    $(neurolab_core::LabKind::$Variant => self.$name.open_link(link),)*
                }
            }

            /// Open an experiment file (its text): the lab it names, its run recorded; the
            /// message names what is wrong with it.
            pub fn import(self, file_name: String, text: &str) -> Result<(), String> {
                use neurolab_core::experiment::{format_of, Experiment, Sweep, SWEEP_FORMAT};
                if format_of(text) == Some(SWEEP_FORMAT) {
                    let (sweep, link) = Sweep::read(text)?;
                    return match link.lab {
                        $(neurolab_core::LabKind::$Variant => self.$name.import_sweep(file_name, sweep, link),)*
                    };
                }
                let (experiment, link) = Experiment::read(text)?;
                match link.lab {
                    $(neurolab_core::LabKind::$Variant => self.$name.import(file_name, experiment, link),)*
                }
            }

            /// A host page's command (the embed API) to the open lab.
            pub fn host(self, lab: neurolab_core::LabKind, command: crate::embed::HostCommand) {
                match lab {
                    $(neurolab_core::LabKind::$Variant => crate::embed::handle(self.$name, command),)*
                }
            }

            /// A new worker knows nothing: configure every lab the page had built.
            pub fn rebuild(self) {
                $(if self.$name.configured.get_untracked() {
                    self.$name.restart(false);
                })*
            }

            /// A lab's line for its gallery cards.
            pub fn summary(lab: neurolab_core::LabKind) -> &'static str {
                match lab {
                    $(neurolab_core::LabKind::$Variant => <$Lab as crate::lab::PageLab>::SUMMARY,)*
                }
            }

            /// A lab's gallery picture (see [`crate::lab::PageLab::sketch`]).
            pub fn sketch(lab: neurolab_core::LabKind, seed: &mut u64) -> Vec<(String, &'static str, bool)> {
                match lab {
                    $(neurolab_core::LabKind::$Variant => <$Lab as crate::lab::PageLab>::sketch(seed),)*
                }
            }

            /// The worker rebuilds every built lab on a new backend (same session ids).
            pub fn expect_rebuild(self) {
                $(if self.$name.configured.get_untracked() {
                    let plan = self.$name.config().plan();
                    self.$name.run.update(|r| r.expect_session(plan));
                    self.$name.state.set(Default::default());
                })*
            }
        }
    };
}

neurolab_core::for_each_lab!(page_registry);

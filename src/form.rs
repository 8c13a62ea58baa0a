//! One config form for every lab, built from the lab's field table: a preset picker, then one
//! input per field the config shows (selects, checkboxes, text), grouped as the table groups
//! them. What the user typed is kept as text ([`FormState`]) and parsed by the table itself
//! (`field::from_form`), so the form, the link and the CLI share one validation and one set of
//! messages; an invalid entry is shown with its message and never lost.

use leptos::prelude::*;
use neurolab_base::field::{self, Kind};
use neurolab_base::{ConfigError, LabConfig};

/// The form's text, one `(key, raw text)` per field that applies, in table order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormState {
    pub fields: Vec<(String, String)>,
    /// Why the text does not make a valid config, and which key it is about.
    pub error: Option<String>,
    pub error_key: Option<String>,
}

impl FormState {
    /// The text of every field of `config`.
    pub fn of<C: LabConfig>(config: &C) -> Self {
        Self {
            fields: field::to_pairs(config)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            error: None,
            error_key: None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(f) => f.1 = value,
            None => self.fields.push((key.to_string(), value)),
        }
    }

    /// The config after the user set `key` to `value`: on success the form shows the new
    /// config's fields (those that now apply); on failure it keeps the text and the message.
    pub fn edit<C: LabConfig>(&mut self, key: &str, value: String) -> Option<C> {
        self.set(key, value);
        match field::from_form::<C>(&self.fields, key) {
            Ok(config) => {
                *self = FormState::of(&config);
                Some(config)
            }
            Err(e) => {
                self.fail(&e);
                None
            }
        }
    }

    pub fn fail(&mut self, e: &ConfigError) {
        self.error = Some(e.to_string());
        self.error_key = e.key().map(str::to_string);
    }
}

/// The preset `config` is, if it is one.
pub fn preset_of<C: LabConfig>(config: &C) -> Option<&'static str> {
    C::presets()
        .into_iter()
        .find(|p| &p.config == config)
        .map(|p| p.name)
}

/// What the form needs from its lab.
pub struct FormCtx<C: LabConfig> {
    /// The lab's name: inputs are `<lab>-<key>`.
    pub lab: &'static str,
    pub form: RwSignal<FormState>,
    /// The config in force (decides which fields show).
    pub config: Signal<C>,
    /// The user changed `key` to `value`.
    pub edit: Callback<(String, String)>,
    /// The user picked a preset.
    pub preset: Callback<C>,
}

impl<C: LabConfig> Clone for FormCtx<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: LabConfig> Copy for FormCtx<C> {}

/// The form: preset picker, groups of fields, the error line.
pub fn config_form<C: LabConfig>(ctx: FormCtx<C>) -> impl IntoView {
    let presets = C::presets();
    let names: Vec<(&'static str, &'static str)> =
        presets.iter().map(|p| (p.name, p.label)).collect();
    let preset_value = move || ctx.config.with(|c| preset_of(c).unwrap_or("").to_string());
    let on_preset = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if let Some(p) = C::presets().into_iter().find(|p| p.name == name) {
            ctx.preset.run(p.config);
        }
    };
    let mut groups: Vec<&'static str> = Vec::new();
    for f in C::fields() {
        if !groups.contains(&f.group) {
            groups.push(f.group);
        }
    }
    let preset_id = format!("{}-preset-picker", ctx.lab);
    view! {
        <label class="field preset" for=preset_id.clone()>
            <span>"preset"</span>
            <select id=preset_id.clone() data-testid="preset" on:change=on_preset>
                <option value="" prop:selected=move || preset_value().is_empty()>
                    "custom"
                </option>
                {names
                    .into_iter()
                    .map(|(name, label)| {
                        view! {
                            <option value=name prop:selected=move || preset_value() == name>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        <form class="config-form" on:submit=|ev| ev.prevent_default()>
            {groups
                .into_iter()
                .map(|group| {
                    let shown = move || {
                        ctx.config
                            .with(|c| C::fields().iter().any(|f| f.group == group && f.shown(c)))
                    };
                    view! {
                        <fieldset hidden=move || !shown()>
                            <legend>{group}</legend>
                            {C::fields()
                                .iter()
                                .filter(|f| f.group == group && f.in_form)
                                .map(|f| field_row(ctx, f))
                                .collect_view()}
                        </fieldset>
                    }
                })
                .collect_view()}
        </form>
        <p
            class="config-error"
            data-testid="config-error"
            role="alert"
            hidden=move || ctx.form.with(|f| f.error.is_none())
        >
            {move || ctx.form.with(|f| f.error.clone().unwrap_or_default())}
        </p>
    }
}

fn field_row<C: LabConfig>(ctx: FormCtx<C>, f: &'static field::Field<C>) -> impl IntoView {
    let key = f.key;
    let id = format!("{}-{key}", ctx.lab);
    let value = move || {
        ctx.form
            .with(|form| form.get(key).unwrap_or("").to_string())
    };
    let shown =
        move || ctx.config.with(|c| f.shown(c)) && ctx.form.with(|form| form.get(key).is_some());
    let invalid = move || ctx.form.with(|form| form.error_key.as_deref() == Some(key));
    let edit = move |v: String| ctx.edit.run((key.to_string(), v));
    let title = if f.help.is_empty() {
        f.expected()
    } else {
        format!("{} ({})", f.help, f.expected())
    };
    let input = match f.kind {
        Kind::Choice(options) => view! {
            <select
                id=id.clone()
                data-testid=id.clone()
                aria-invalid=move || invalid().to_string()
                on:change=move |ev| edit(event_target_value(&ev))
            >
                {options
                    .iter()
                    .map(|o| {
                        let o = *o;
                        view! {
                            <option value=o prop:selected=move || value() == o>
                                {o}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        Kind::Flag => view! {
            <input
                type="checkbox"
                id=id.clone()
                data-testid=id.clone()
                prop:checked=move || value() == "1"
                on:change=move |ev| edit(if event_target_checked(&ev) { "1" } else { "0" }.into())
            />
        }
        .into_any(),
        Kind::Int { .. } | Kind::Num { .. } | Kind::Text { .. } => view! {
            <input
                type="text"
                id=id.clone()
                data-testid=id.clone()
                inputmode=match f.kind {
                    Kind::Int { .. } => "numeric",
                    Kind::Num { .. } => "decimal",
                    _ => "text",
                }
                autocomplete="off"
                spellcheck="false"
                aria-invalid=move || invalid().to_string()
                prop:value=value
                on:change=move |ev| edit(event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <label class="field" for=id title=title hidden=move || !shown()>
            <span>{f.label}</span>
            {input}
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::grok::GrokConfig;
    use neurolab_core::sae::{SaeConfig, SaeSource};
    use neurolab_core::spike::SpikeConfig;

    #[test]
    fn edits_parse_with_the_configs_own_rules_and_keep_bad_text() {
        let mut form = FormState::of(&GrokConfig::preset_mlp());
        let c: GrokConfig = form.edit("p", "23".into()).unwrap();
        assert_eq!(c.p, 23);
        assert!(form.edit::<GrokConfig>("p", "300".into()).is_none());
        assert_eq!(form.get("p"), Some("300"), "the typed text is kept");
        assert_eq!(
            form.error.as_deref(),
            Some("p must be between 5 and 257, got 300")
        );
        assert_eq!(form.error_key.as_deref(), Some("p"));
        assert!(form.edit::<GrokConfig>("p", "91".into()).is_none());
        assert_eq!(
            form.error.as_deref(),
            Some("p must be a prime between 5 and 257, got 91")
        );
        let c: GrokConfig = form.edit("p", "97".into()).unwrap();
        assert_eq!(c, GrokConfig::preset_mlp());
        assert_eq!(form.error, None);
        assert_eq!(preset_of(&c), Some("mlp"));
    }

    #[test]
    fn a_smaller_network_keeps_the_traced_neurons_that_exist() {
        let mut form = FormState::of(&SpikeConfig::reservoir());
        let c: SpikeConfig = form.edit("n", "300".into()).unwrap();
        assert_eq!(c.n, 300);
        assert!(
            c.trace_neurons.iter().all(|&i| i < 300),
            "{:?}",
            c.trace_neurons
        );
        assert!(form.edit::<SpikeConfig>("n", "50000000".into()).is_none());
        assert!(form.error.as_deref().unwrap().contains("50000000"));
        assert_eq!(form.get("n"), Some("50000000"));
    }

    #[test]
    fn a_structural_edit_keeps_what_still_applies() {
        let mut form = FormState::of(&SpikeConfig::reservoir());
        form.edit::<SpikeConfig>("n", "400".into()).unwrap();
        for task in ["none", "bars", "series", "what_when"] {
            let c: SpikeConfig = form.edit("task", task.into()).unwrap();
            assert_eq!(form.get("task"), Some(task));
            assert_eq!(c.n, 400, "the size survives a task switch");
        }
        // Task keys appear and disappear with their task.
        assert!(form.get("tt").is_some());
        form.edit::<SpikeConfig>("task", "none".into()).unwrap();
        assert!(form.get("tt").is_none());
    }

    #[test]
    fn the_sae_form_shows_only_the_keys_that_apply() {
        let toy = SaeConfig::preset(SaeSource::Toy);
        let shown = |c: &SaeConfig| -> Vec<&'static str> {
            SaeConfig::fields()
                .iter()
                .filter(|f| f.shown(c))
                .map(|f| f.key)
                .collect()
        };
        let s = shown(&toy);
        assert!(s.contains(&"toy_n") && s.contains(&"k"));
        assert!(!s.contains(&"grok_p") && !s.contains(&"l1") && !s.contains(&"site"));
        let grok = SaeConfig::preset(SaeSource::GrokTransformer);
        let s = shown(&grok);
        assert!(s.contains(&"grok_p") && s.contains(&"site") && !s.contains(&"toy_n"));
        // Switching the decomposition keeps the latents, shows L1 and hides k.
        let mut form = FormState::of(&toy);
        form.edit::<SaeConfig>("latents", "48".into()).unwrap();
        let c: SaeConfig = form.edit("kind", "relu-l1".into()).unwrap();
        assert_eq!((c.kind.name(), c.latents), ("relu-l1", 48));
        assert!(shown(&c).contains(&"l1") && !shown(&c).contains(&"k"));
        // A preset edit starts over from that preset.
        let c: SaeConfig = form.edit("source", "grok-mlp".into()).unwrap();
        assert_eq!(c, SaeConfig::preset(SaeSource::GrokMlp));
        form.edit::<SaeConfig>("k", "2000".into());
        assert!(
            form.error
                .as_deref()
                .unwrap_or("")
                .starts_with("TopK k (k) must be between 1 and"),
            "{:?}",
            form.error
        );
    }
}

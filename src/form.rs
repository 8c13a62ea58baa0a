//! The config form as plain data: what the user typed, field by field, and how it becomes a
//! [`GrokConfig`].
//!
//! The form keeps the raw text of every field, so an invalid entry is shown with its error and
//! never lost; only a form that parses *and* validates is applied. No leptos or web-sys here.

use neurolab_core::config::{Activation, ConfigError, GrokConfig, LossKind, ModelKind, Op};
use std::fmt;

/// One input of the config form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Model,
    P,
    Op,
    TrainFrac,
    Seed,
    Hidden,
    Activation,
    Loss,
    DModel,
    Heads,
    DMlp,
    InitScale,
    Lr,
    WeightDecay,
    Beta1,
    Beta2,
    Grokfast,
    GrokfastAlpha,
    GrokfastLambda,
    Steps,
    ReportEvery,
}

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A `<select>` with these values.
    Choice(&'static [&'static str]),
    /// A whole number.
    Integer,
    /// A decimal number.
    Number,
    /// A checkbox ("1"/"0").
    Flag,
}

impl Field {
    /// Every field, in the order the form shows them.
    pub const ALL: [Field; 21] = [
        Field::Model,
        Field::P,
        Field::Op,
        Field::TrainFrac,
        Field::Seed,
        Field::Hidden,
        Field::Activation,
        Field::Loss,
        Field::DModel,
        Field::Heads,
        Field::DMlp,
        Field::InitScale,
        Field::Lr,
        Field::WeightDecay,
        Field::Beta1,
        Field::Beta2,
        Field::Grokfast,
        Field::GrokfastAlpha,
        Field::GrokfastLambda,
        Field::Steps,
        Field::ReportEvery,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The label shown to the user (also used in parse errors).
    pub fn label(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::P => "p",
            Field::Op => "operation",
            Field::TrainFrac => "train fraction",
            Field::Seed => "seed",
            Field::Hidden => "hidden units",
            Field::Activation => "activation",
            Field::Loss => "loss",
            Field::DModel => "d_model",
            Field::Heads => "heads",
            Field::DMlp => "d_mlp",
            Field::InitScale => "init scale",
            Field::Lr => "learning rate",
            Field::WeightDecay => "weight decay",
            Field::Beta1 => "beta1",
            Field::Beta2 => "beta2",
            Field::Grokfast => "Grokfast",
            Field::GrokfastAlpha => "Grokfast α",
            Field::GrokfastLambda => "Grokfast λ",
            Field::Steps => "steps",
            Field::ReportEvery => "report every",
        }
    }

    /// Stable id for tests and `<label for>`: `cfg-<key>`, where key matches the link's key.
    pub fn test_id(self) -> &'static str {
        match self {
            Field::Model => "cfg-model",
            Field::P => "cfg-p",
            Field::Op => "cfg-op",
            Field::TrainFrac => "cfg-frac",
            Field::Seed => "cfg-seed",
            Field::Hidden => "cfg-hidden",
            Field::Activation => "cfg-act",
            Field::Loss => "cfg-loss",
            Field::DModel => "cfg-dmodel",
            Field::Heads => "cfg-heads",
            Field::DMlp => "cfg-dmlp",
            Field::InitScale => "cfg-init",
            Field::Lr => "cfg-lr",
            Field::WeightDecay => "cfg-wd",
            Field::Beta1 => "cfg-b1",
            Field::Beta2 => "cfg-b2",
            Field::Grokfast => "cfg-gf",
            Field::GrokfastAlpha => "cfg-gfa",
            Field::GrokfastLambda => "cfg-gfl",
            Field::Steps => "cfg-steps",
            Field::ReportEvery => "cfg-every",
        }
    }

    pub fn input(self) -> Input {
        match self {
            Field::Model => Input::Choice(&["mlp", "transformer"]),
            Field::Op => Input::Choice(&["add", "sub", "mul"]),
            Field::Activation => Input::Choice(&["quadratic", "relu"]),
            Field::Loss => Input::Choice(&["ce", "mse"]),
            Field::Grokfast => Input::Flag,
            Field::P
            | Field::Seed
            | Field::Hidden
            | Field::DModel
            | Field::Heads
            | Field::DMlp
            | Field::Steps
            | Field::ReportEvery => Input::Integer,
            Field::TrainFrac
            | Field::InitScale
            | Field::Lr
            | Field::WeightDecay
            | Field::Beta1
            | Field::Beta2
            | Field::GrokfastAlpha
            | Field::GrokfastLambda => Input::Number,
        }
    }

    /// Whether the field matters for this model (the form shows only those).
    pub fn applies_to(self, model: ModelKind) -> bool {
        match self {
            Field::Hidden | Field::Activation => model == ModelKind::Mlp,
            Field::DModel | Field::Heads | Field::DMlp => model == ModelKind::Transformer,
            _ => true,
        }
    }

    /// The field's group heading in the form.
    pub fn group(self) -> &'static str {
        match self {
            Field::Model | Field::P | Field::Op | Field::TrainFrac | Field::Seed => "task",
            Field::Hidden
            | Field::Activation
            | Field::Loss
            | Field::DModel
            | Field::Heads
            | Field::DMlp
            | Field::InitScale => "model",
            Field::Lr
            | Field::WeightDecay
            | Field::Beta1
            | Field::Beta2
            | Field::Grokfast
            | Field::GrokfastAlpha
            | Field::GrokfastLambda => "optimiser",
            Field::Steps | Field::ReportEvery => "budget",
        }
    }
}

/// The form's raw text, one string per [`Field`].
#[derive(Debug, Clone, PartialEq)]
pub struct FormState {
    values: Vec<String>,
}

/// Why the form cannot be applied; `Display` is the message shown next to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormError {
    Parse {
        field: Field,
        value: String,
        expected: &'static str,
    },
    Invalid(ConfigError),
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::Parse {
                field,
                value,
                expected,
            } => write!(f, "{} must be {expected}, got '{value}'", field.label()),
            FormError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl FormState {
    pub fn from_config(c: &GrokConfig) -> Self {
        let mut values = vec![String::new(); Field::ALL.len()];
        for field in Field::ALL {
            values[field.index()] = match field {
                Field::Model => c.model.name().to_string(),
                Field::P => c.p.to_string(),
                Field::Op => c.op.name().to_string(),
                Field::TrainFrac => c.train_frac.to_string(),
                Field::Seed => c.seed.to_string(),
                Field::Hidden => c.hidden.to_string(),
                Field::Activation => c.activation.name().to_string(),
                Field::Loss => c.loss.name().to_string(),
                Field::DModel => c.d_model.to_string(),
                Field::Heads => c.n_heads.to_string(),
                Field::DMlp => c.d_mlp.to_string(),
                Field::InitScale => c.init_scale.to_string(),
                Field::Lr => c.lr.to_string(),
                Field::WeightDecay => c.weight_decay.to_string(),
                Field::Beta1 => c.beta1.to_string(),
                Field::Beta2 => c.beta2.to_string(),
                Field::Grokfast => flag(c.grokfast).to_string(),
                Field::GrokfastAlpha => c.grokfast_alpha.to_string(),
                Field::GrokfastLambda => c.grokfast_lambda.to_string(),
                Field::Steps => c.steps.to_string(),
                Field::ReportEvery => c.report_every.to_string(),
            };
        }
        Self { values }
    }

    pub fn get(&self, field: Field) -> &str {
        &self.values[field.index()]
    }

    pub fn set(&mut self, field: Field, value: impl Into<String>) {
        self.values[field.index()] = value.into();
    }

    /// The model the form currently names (for showing only the fields that apply).
    pub fn model(&self) -> ModelKind {
        ModelKind::parse(self.get(Field::Model)).unwrap_or(ModelKind::Mlp)
    }

    /// Parse every field and validate the result.
    pub fn to_config(&self) -> Result<GrokConfig, FormError> {
        let mut c = GrokConfig::preset_mlp();
        c.model = self.choice(Field::Model, ModelKind::parse, "one of mlp, transformer")?;
        c.p = self.integer(Field::P)?;
        c.op = self.choice(Field::Op, Op::parse, "one of add, sub, mul")?;
        c.train_frac = self.number(Field::TrainFrac)?;
        c.seed = self.parse(Field::Seed, "a whole number from 0 to 2^64-1")?;
        c.hidden = self.integer(Field::Hidden)?;
        c.activation = self.choice(
            Field::Activation,
            Activation::parse,
            "one of quadratic, relu",
        )?;
        c.loss = self.choice(Field::Loss, LossKind::parse, "one of ce, mse")?;
        c.d_model = self.integer(Field::DModel)?;
        c.n_heads = self.integer(Field::Heads)?;
        c.d_mlp = self.integer(Field::DMlp)?;
        c.init_scale = self.number(Field::InitScale)?;
        c.lr = self.number(Field::Lr)?;
        c.weight_decay = self.number(Field::WeightDecay)?;
        c.beta1 = self.number(Field::Beta1)?;
        c.beta2 = self.number(Field::Beta2)?;
        c.grokfast = self.choice(
            Field::Grokfast,
            |s| match s {
                "1" | "true" => Some(true),
                "0" | "false" => Some(false),
                _ => None,
            },
            "on or off",
        )?;
        c.grokfast_alpha = self.number(Field::GrokfastAlpha)?;
        c.grokfast_lambda = self.number(Field::GrokfastLambda)?;
        c.steps = self.integer(Field::Steps)?;
        c.report_every = self.integer(Field::ReportEvery)?;
        c.validate().map_err(FormError::Invalid)?;
        Ok(c)
    }

    fn parse<T: std::str::FromStr>(
        &self,
        field: Field,
        expected: &'static str,
    ) -> Result<T, FormError> {
        let value = self.get(field).trim();
        value.parse().map_err(|_| FormError::Parse {
            field,
            value: value.to_string(),
            expected,
        })
    }

    fn integer(&self, field: Field) -> Result<u32, FormError> {
        self.parse(field, "a whole number")
    }

    fn number(&self, field: Field) -> Result<f64, FormError> {
        let x: f64 = self.parse(field, "a number")?;
        if x.is_finite() {
            Ok(x)
        } else {
            Err(FormError::Parse {
                field,
                value: self.get(field).trim().to_string(),
                expected: "a finite number",
            })
        }
    }

    fn choice<T>(
        &self,
        field: Field,
        parse: impl Fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<T, FormError> {
        let value = self.get(field).trim();
        parse(value).ok_or_else(|| FormError::Parse {
            field,
            value: value.to_string(),
            expected,
        })
    }
}

pub fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::config::Preset;

    #[test]
    fn presets_round_trip_through_the_form() {
        for preset in Preset::ALL {
            let config = preset.config();
            assert_eq!(FormState::from_config(&config).to_config().unwrap(), config);
        }
    }

    #[test]
    fn every_field_is_editable() {
        let mut form = FormState::from_config(&GrokConfig::preset_transformer());
        form.set(Field::P, " 23 ");
        form.set(Field::Op, "mul");
        form.set(Field::Lr, "1e-2");
        form.set(Field::Grokfast, "1");
        form.set(Field::Heads, "8");
        let c = form.to_config().unwrap();
        assert_eq!(
            (c.p, c.op, c.lr, c.grokfast, c.n_heads),
            (23, Op::Mul, 0.01, true, 8)
        );
    }

    #[test]
    fn parse_errors_name_the_field_and_keep_the_text() {
        let mut form = FormState::from_config(&GrokConfig::preset_mlp());
        form.set(Field::Lr, "fast");
        assert_eq!(
            form.to_config().unwrap_err().to_string(),
            "learning rate must be a number, got 'fast'"
        );
        assert_eq!(form.get(Field::Lr), "fast");
        form.set(Field::Lr, "inf");
        assert!(form.to_config().is_err());
    }

    #[test]
    fn validation_errors_come_from_the_core() {
        let mut form = FormState::from_config(&GrokConfig::preset_mlp());
        form.set(Field::P, "300");
        assert_eq!(
            form.to_config().unwrap_err().to_string(),
            "p must be a prime between 5 and 257, got 300"
        );
    }

    #[test]
    fn fields_shown_depend_on_the_model() {
        assert!(Field::Hidden.applies_to(ModelKind::Mlp));
        assert!(!Field::Hidden.applies_to(ModelKind::Transformer));
        assert!(Field::DModel.applies_to(ModelKind::Transformer));
        assert!(Field::Lr.applies_to(ModelKind::Mlp));
    }

    #[test]
    fn test_ids_are_unique() {
        let mut ids: Vec<_> = Field::ALL.iter().map(|f| f.test_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Field::ALL.len());
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
    }
}

//! Whole-model parameter walks: squared norm, the Grokfast filter, and named export.

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use std::collections::HashMap;

/// Sum of squares of every float parameter, as a one-element tensor (no readback).
#[derive(Default)]
pub struct SquaredNorm {
    pub total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let s = param.val().square().sum();
        self.total = Some(match self.total.take() {
            Some(t) => t + s,
            None => s,
        });
    }
}

/// Grokfast-EMA (Lee et al. 2024): `ema ← α·ema + (1−α)·g`, then `g ← g + λ·ema`.
/// EMAs are kept flat per parameter and survive across steps.
pub struct Grokfast<'a> {
    pub grads: &'a mut GradientsParams,
    pub ema: &'a mut HashMap<ParamId, Tensor<1>>,
    pub alpha: f64,
    pub lambda: f64,
}

impl ModuleVisitor for Grokfast<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.grads.remove::<D>(param.id) else {
            return;
        };
        let shape = grad.shape();
        let flat: Tensor<1> = grad.clone().reshape([shape.num_elements()]);
        let ema = match self.ema.remove(&param.id) {
            Some(prev) => prev.mul_scalar(self.alpha) + flat.mul_scalar(1.0 - self.alpha),
            None => flat,
        };
        let filtered = grad + ema.clone().mul_scalar(self.lambda).reshape(shape);
        self.ema.insert(param.id, ema);
        self.grads.register::<D>(param.id, filtered);
    }
}

/// Every float parameter, flattened, with its dotted path name and shape.
#[derive(Default)]
pub struct NamedParams {
    path: Vec<String>,
    pub tensors: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for NamedParams {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let n: usize = shape.iter().product();
        self.tensors
            .push((self.path.join("."), shape, t.reshape([n])));
    }
}

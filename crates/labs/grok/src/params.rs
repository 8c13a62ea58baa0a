//! Whole-model parameter walks: squared norm, the Grokfast filter, decoupled weight decay and
//! named export.

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
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

/// AdamW's decoupled weight decay, `w ← w·(1 − lr·λ)`, applied before the Adam step (the order
/// AdamW uses). Kept outside the optimiser so a fork can change λ and keep the Adam moments.
pub struct Decay {
    pub factor: f64,
}

impl ModuleMapper for Decay {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        // As the optimiser does: the new value is a fresh leaf with the old one's settings.
        let (require_grad, autodiff) = (tensor.is_require_grad(), tensor.is_autodiff());
        let strategy = tensor.gradient_checkpointing_strategy();
        let mut decayed = tensor.inner().mul_scalar(self.factor);
        if autodiff {
            decayed = Tensor::from_inner(decayed);
            if let Some(s) = strategy {
                decayed = decayed.with_gradient_checkpointing_strategy(s);
            }
        }
        if require_grad {
            decayed = decayed.require_grad();
        }
        Param::from_mapped_value(id, decayed, mapper)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(burn::module::Module, Debug)]
    struct One {
        w: Param<Tensor<2>>,
    }

    #[test]
    fn decay_scales_the_weights_and_keeps_them_trainable() {
        let device = crate::backend_cpu().autodiff();
        let w = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -2.0], [1, 2]), &device);
        let one = One {
            w: Param::from_tensor(w),
        };
        let id = one.w.id;
        let one = one.map(&mut Decay { factor: 0.5 });
        assert_eq!(one.w.id, id);
        let v = one.w.val();
        assert!(v.is_require_grad());
        let grads = v.clone().sum().backward();
        assert!(v.grad(&grads).is_some());
    }
}

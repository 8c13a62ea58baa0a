//! No NaN or Inf crosses the protocol: serde_json would write it as `null`, which the page cannot
//! read back as a number. Every report says whether all its numbers are finite; the runner stops a
//! run whose report is not ("diverged at step N") instead of posting it.

/// All numbers inside are finite.
pub trait Finite {
    fn all_finite(&self) -> bool;
}

impl Finite for f32 {
    fn all_finite(&self) -> bool {
        self.is_finite()
    }
}

impl Finite for f64 {
    fn all_finite(&self) -> bool {
        self.is_finite()
    }
}

macro_rules! always_finite {
    ($($t:ty),*) => {
        $(impl Finite for $t {
            fn all_finite(&self) -> bool {
                true
            }
        })*
    };
}
always_finite!(u8, u16, u32, u64, usize, i32, i64, bool, String, &str, ());

impl<T: Finite> Finite for Option<T> {
    fn all_finite(&self) -> bool {
        self.as_ref().is_none_or(Finite::all_finite)
    }
}

impl<T: Finite> Finite for Vec<T> {
    fn all_finite(&self) -> bool {
        self.iter().all(Finite::all_finite)
    }
}

impl<T: Finite> Finite for [T] {
    fn all_finite(&self) -> bool {
        self.iter().all(Finite::all_finite)
    }
}

impl<T: Finite> Finite for Box<T> {
    fn all_finite(&self) -> bool {
        (**self).all_finite()
    }
}

impl<A: Finite, B: Finite> Finite for (A, B) {
    fn all_finite(&self) -> bool {
        self.0.all_finite() && self.1.all_finite()
    }
}

/// `impl Finite` for a struct from its fields: `finite_fields!(StepReport: train_loss, test_loss)`.
/// Fields left out must hold no floats.
#[macro_export]
macro_rules! finite_fields {
    ($t:ty : $($field:ident),* $(,)?) => {
        impl $crate::finite::Finite for $t {
            fn all_finite(&self) -> bool {
                true $(&& $crate::finite::Finite::all_finite(&self.$field))*
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R {
        a: f32,
        b: Option<Vec<f64>>,
    }
    finite_fields!(R: a, b);

    #[test]
    fn finds_nan_anywhere() {
        assert!(R { a: 1.0, b: None }.all_finite());
        assert!(!R {
            a: f32::NAN,
            b: None
        }
        .all_finite());
        assert!(!R {
            a: 0.0,
            b: Some(vec![1.0, f64::INFINITY])
        }
        .all_finite());
    }
}

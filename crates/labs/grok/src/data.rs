//! All p² pairs of `a ∘ b mod p`, split into train and test by a seeded shuffle.

use crate::config::GrokConfig;
use neurolab_base::rng::SeededRng;

/// RNG stream reserved for the split (weights use other streams), so that changing the model
/// does not change which pairs are held out.
const SPLIT_STREAM: u64 = 1;

/// Index lists of a train/test split. Pair `i` is `(a, b) = (i / p, i % p)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub p: u32,
    pub train: Vec<u32>,
    pub test: Vec<u32>,
    /// `labels[i]` = a ∘ b mod p for pair i.
    pub labels: Vec<u32>,
}

impl Dataset {
    pub fn new(config: &GrokConfig) -> Self {
        let p = config.p;
        let n = config.n_pairs();
        let mut order: Vec<u32> = (0..n as u32).collect();
        SeededRng::new(config.seed, SPLIT_STREAM).shuffle(&mut order);
        let n_train = config.n_train();
        let test = order.split_off(n_train);
        let labels = (0..n as u32)
            .map(|i| config.op.apply(i / p, i % p, p))
            .collect();
        Self {
            p,
            train: order,
            test,
            labels,
        }
    }

    /// (a, b, label) columns for a list of pair indices.
    pub fn columns(&self, pairs: &[u32]) -> (Vec<i32>, Vec<i32>, Vec<i32>) {
        let a = pairs.iter().map(|&i| (i / self.p) as i32).collect();
        let b = pairs.iter().map(|&i| (i % self.p) as i32).collect();
        let y = pairs
            .iter()
            .map(|&i| self.labels[i as usize] as i32)
            .collect();
        (a, b, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn split_is_seeded_disjoint_and_complete() {
        let mut c = GrokConfig::preset_mlp();
        c.p = 13;
        c.train_frac = 0.3;
        let d1 = Dataset::new(&c);
        let d2 = Dataset::new(&c);
        assert_eq!(d1, d2, "same seed, same split");
        let train: HashSet<_> = d1.train.iter().collect();
        let test: HashSet<_> = d1.test.iter().collect();
        assert!(train.is_disjoint(&test));
        assert_eq!(train.len() + test.len(), 169);
        assert_eq!(train.len(), (0.3f64 * 169.0).round() as usize);
        c.seed = 1;
        assert_ne!(
            Dataset::new(&c).train,
            d1.train,
            "another seed, another split"
        );
    }

    #[test]
    fn labels_follow_the_op() {
        let mut c = GrokConfig::preset_mlp();
        c.p = 7;
        c.op = crate::config::Op::Sub;
        let d = Dataset::new(&c);
        let (a, b, y) = d.columns(&d.train);
        for ((a, b), y) in a.iter().zip(&b).zip(&y) {
            assert_eq!(*y, (a - b).rem_euclid(7));
        }
    }
}

//! Where does an MLP step's time go? Times the main tensor ops on the CPU backend.
use burn::prelude::*;
use std::time::Instant;

fn time<F: FnMut() -> Tensor<2>>(name: &str, mut f: F) {
    let _ = f().into_data();
    let t = Instant::now();
    let n = 20;
    for _ in 0..n {
        let _ = f().into_data();
    }
    println!(
        "{name:30} {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}

fn main() {
    let d = Device::flex();
    let h = Tensor::<2>::ones([4704, 500], &d);
    let w = Tensor::<2>::ones([500, 97], &d);
    let g = Tensor::<2>::ones([4704, 97], &d);
    let idx = Tensor::<1, Int>::from_data(
        TensorData::new(
            (0..4704).map(|i| (i % 97) as i32).collect::<Vec<_>>(),
            [4704],
        ),
        &d,
    );
    let e = Tensor::<2>::ones([194, 500], &d);
    time("h@w [4704,500]x[500,97]", || h.clone().matmul(w.clone()));
    time("h^T@g", || h.clone().transpose().matmul(g.clone()));
    time("g@w^T", || g.clone().matmul(w.clone().transpose()));
    let wt = Tensor::<2>::ones([97, 500], &d);
    time("g@wt (contiguous [97,500])", || {
        g.clone().matmul(wt.clone())
    });
    time("h@wt^T", || h.clone().matmul(wt.clone().transpose()));
    time("select rows", || e.clone().select(0, idx.clone()));
    time("add", || h.clone() + h.clone());
    time("square", || h.clone().square());
    time("mul", || h.clone() * h.clone());
    time("select_assign", || {
        Tensor::<2>::zeros([194, 500], &d).select_assign(
            0,
            idx.clone(),
            h.clone(),
            burn::tensor::IndexingUpdateOp::Add,
        )
    });
    time("log_softmax", || {
        burn::tensor::activation::log_softmax(g.clone(), 1)
    });
}

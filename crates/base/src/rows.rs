//! Row-parallel loops for the labs' host-side training steps (the CPU backend's closed forms):
//! natively on every core (rayon), in order in wasm. Each row is written by one task and every
//! sum inside a row runs in the same order either way, so results do not depend on the number of
//! threads.

/// Rows per task at least: about 32k entries (8 rows at most), so short rows are not one task
/// each and a few long ones still spread over the cores.
fn min_rows(row_len: usize) -> usize {
    (32_768 / row_len.max(1)).clamp(1, 8)
}

/// Runs `f(scratch, i, row_i)` for every `row_len`-long row of `data`, each task with its own
/// `scratch` from `init`: on every core natively, in order in wasm.
pub fn for_rows<T, S>(
    data: &mut [T],
    row_len: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, &mut [T]) + Sync + Send,
) where
    T: Send,
{
    if row_len == 0 {
        return;
    }
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(row_len)
            .enumerate()
            .with_min_len(min_rows(row_len))
            .for_each_init(init, |s, (i, row)| f(s, i, row));
    }
    #[cfg(target_family = "wasm")]
    {
        let mut s = init();
        for (i, row) in data.chunks_mut(row_len).enumerate() {
            f(&mut s, i, row);
        }
    }
}

/// [`for_rows`] over two arrays' rows side by side (`f(i, a_i, b_i)`), rows `a_len` and
/// `b_len` long.
pub fn for_row_pairs<T: Send, U: Send>(
    a: &mut [T],
    a_len: usize,
    b: &mut [U],
    b_len: usize,
    f: impl Fn(usize, &mut [T], &mut [U]) + Sync + Send,
) {
    if a_len == 0 || b_len == 0 {
        return;
    }
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(a_len)
            .zip(b.par_chunks_mut(b_len))
            .enumerate()
            .with_min_len(min_rows(a_len.max(b_len)))
            .for_each(|(i, (a, b))| f(i, a, b));
    }
    #[cfg(target_family = "wasm")]
    for (i, (a, b)) in a.chunks_mut(a_len).zip(b.chunks_mut(b_len)).enumerate() {
        f(i, a, b);
    }
}

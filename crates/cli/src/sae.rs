//! `neurolab sae` and `neurolab bench sae`: the sparse-autoencoder lab on the command line.

use clap::Args;

#[derive(Args, Debug)]
pub struct SaeArgs {}

#[derive(Args, Debug)]
pub struct BenchSaeArgs {}

pub fn run(_args: &SaeArgs) -> Result<(), String> {
    Err("neurolab sae is not built yet".into())
}

pub fn bench(_args: &BenchSaeArgs) -> Result<(), String> {
    Err("neurolab bench sae is not built yet".into())
}

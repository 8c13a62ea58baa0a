//! `neurolab spike` and `neurolab bench spike`: the spiking reservoir lab on the command line.

use clap::Args;

#[derive(Args, Debug)]
pub struct SpikeArgs {}

#[derive(Args, Debug)]
pub struct BenchSpikeArgs {}

pub fn run(_args: &SpikeArgs) -> Result<(), String> {
    Err("neurolab spike is not built yet".into())
}

pub fn bench(_args: &BenchSpikeArgs) -> Result<(), String> {
    Err("neurolab bench spike is not built yet".into())
}

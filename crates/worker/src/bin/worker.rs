fn main() {
    neurolab_worker::run_static_constructors();
    #[cfg(target_arch = "wasm32")]
    neurolab_worker::compute::start_worker();
}

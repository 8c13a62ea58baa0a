fn main() {
    #[cfg(target_arch = "wasm32")]
    neurolab_web::compute::start_worker();
}

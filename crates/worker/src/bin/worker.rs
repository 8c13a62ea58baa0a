fn main() {
    neurolab_web::run_static_constructors();
    #[cfg(target_arch = "wasm32")]
    neurolab_web::compute::start_worker();
}

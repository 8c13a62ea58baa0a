fn main() {
    neurolab_worker::run_static_constructors();
    #[cfg(target_arch = "wasm32")]
    neurolab_worker::web::start_worker();
}

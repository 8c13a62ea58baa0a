fn main() {
    neurolab_web::run_static_constructors();
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(neurolab_web::ui::App);
}

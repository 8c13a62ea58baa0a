//! The browser glue, apart from everything else: small wrappers over the browser APIs the page
//! uses (the URL fragment, downloads, the clipboard, animation frames), each returning a
//! `Result` with a message instead of panicking, and [`bridge`], the worker's end.

pub mod bridge;

use wasm_bindgen::{JsCast as _, JsValue};

fn window() -> Result<web_sys::Window, String> {
    web_sys::window().ok_or_else(|| "no window".to_string())
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The URL fragment without `#` (empty when there is none).
pub fn fragment() -> String {
    window()
        .and_then(|w| w.location().hash().map_err(js_err))
        .map(|h| h.trim_start_matches('#').to_string())
        .unwrap_or_default()
}

/// Replace the URL fragment without adding a history entry or reloading.
pub fn replace_fragment(fragment: &str) -> Result<(), String> {
    let w = window()?;
    let url = format!("{}{}#{fragment}", path_origin(&w)?, search(&w));
    w.history()
        .map_err(js_err)?
        .replace_state_with_url(&JsValue::NULL, "", Some(&url))
        .map_err(js_err)
}

fn path_origin(w: &web_sys::Window) -> Result<String, String> {
    let loc = w.location();
    Ok(format!(
        "{}{}",
        loc.origin().map_err(js_err)?,
        loc.pathname().map_err(js_err)?
    ))
}

fn search(w: &web_sys::Window) -> String {
    w.location().search().unwrap_or_default()
}

/// The page's own address with this fragment (what "Copy link" copies).
pub fn page_url(fragment: &str) -> String {
    window()
        .and_then(|w| Ok(format!("{}{}#{fragment}", path_origin(&w)?, search(&w))))
        .unwrap_or_else(|_| format!("#{fragment}"))
}

/// Offer bytes as a file download.
pub fn download(file_name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js_err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_err)?;
    download_url(file_name, &url)?;
    // The click has started the download; the object URL can go.
    web_sys::Url::revoke_object_url(&url).map_err(js_err)
}

/// Offer a URL (a `data:` PNG, a blob) as a file download.
pub fn download_url(file_name: &str, url: &str) -> Result<(), String> {
    let doc = window()?.document().ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(js_err)?
        .dyn_into()
        .map_err(|_| "not an anchor")?;
    a.set_href(url);
    a.set_download(file_name);
    a.click();
    Ok(())
}

/// The browser's local storage (without web-sys's `Storage` binding): `None` where it is
/// missing or refused (private modes, sandboxed frames).
fn local_storage() -> Option<JsValue> {
    let w = web_sys::window()?;
    js_sys::Reflect::get(&w, &"localStorage".into())
        .ok()
        .filter(|s| !s.is_null() && !s.is_undefined())
}

fn call(target: &JsValue, method: &str, args: &js_sys::Array) -> Option<JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &method.into())
        .ok()?
        .dyn_into()
        .ok()?;
    f.apply(target, args).ok()
}

/// A value kept in local storage.
pub fn stored(key: &str) -> Option<String> {
    call(
        &local_storage()?,
        "getItem",
        &js_sys::Array::of1(&key.into()),
    )?
    .as_string()
}

/// Keep a value in local storage; the error says why not.
pub fn store(key: &str, value: &str) -> Result<(), String> {
    let storage = local_storage().ok_or("this browser keeps no local storage here")?;
    call(
        &storage,
        "setItem",
        &js_sys::Array::of2(&key.into(), &value.into()),
    )
    .map(|_| ())
    .ok_or_else(|| "local storage refused the value (full or disabled)".to_string())
}

/// Copy text to the clipboard. Fails where the page may not write to it (e.g. no user gesture).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let clipboard = window()?.navigator().clipboard();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(js_err)
}

/// Run `f` on the next animation frame.
pub fn on_next_frame(f: impl FnOnce() + 'static) {
    let cb = wasm_bindgen::closure::Closure::once_into_js(f);
    if let Ok(w) = window() {
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

/// `window.neurolabDebug(hook)` for the browser tests: `"lose_device"` destroys the worker's
/// WebGPU device, `"panic"` makes the worker panic (the page must recover from both).
pub fn expose_debug_hook(on_hook: impl Fn(String) + 'static) {
    let Ok(w) = window() else {
        return;
    };
    let f = wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |hook: JsValue| {
        on_hook(hook.as_string().unwrap_or_default())
    });
    let _ = js_sys::Reflect::set(&w, &JsValue::from_str("neurolabDebug"), f.as_ref());
    // Lives as long as the page.
    f.forget();
}

/// The first file `holder.files` holds (an `<input type=file>`, or a drop's `dataTransfer`), if
/// any. Take it at once, in the event's handler: a drop's files and a cleared input's are gone
/// after it.
pub fn first_file(holder: &JsValue) -> Option<JsValue> {
    let files = js_sys::Reflect::get(holder, &JsValue::from_str("files")).ok()?;
    if files.is_undefined() || files.is_null() {
        return None;
    }
    let file = js_sys::Reflect::get(&files, &JsValue::from_f64(0.0)).ok()?;
    (!file.is_undefined() && !file.is_null()).then_some(file)
}

/// The name and text of a file from [`first_file`]. A file over `max_bytes` is refused unread.
pub async fn file_text(file: JsValue, max_bytes: usize) -> Result<(String, String), String> {
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k));
    let name = get(&file, "name")
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let size = get(&file, "size")
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0);
    if size > max_bytes as f64 {
        return Err(format!(
            "{name} is {size} bytes, more than the {max_bytes} an experiment may be"
        ));
    }
    let text: js_sys::Function = get(&file, "text")
        .map_err(js_err)?
        .dyn_into()
        .map_err(|_| "this browser cannot read files".to_string())?;
    let promise: js_sys::Promise = text
        .call0(&file)
        .map_err(js_err)?
        .dyn_into()
        .map_err(|_| "this browser cannot read files".to_string())?;
    let value = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(js_err)?;
    Ok((name, value.as_string().unwrap_or_default()))
}

/// Whether the page runs in a frame (embedded in another page).
pub fn in_frame() -> bool {
    window().is_ok_and(|w| match w.parent() {
        Ok(Some(parent)) => !js_sys::Object::is(&parent, &w),
        _ => false,
    })
}

/// Post a JSON text to the embedding window, as an object (hosts read `event.data.neurolab`).
pub fn post_to_parent(json: &str) {
    let Ok(w) = window() else { return };
    let Ok(Some(parent)) = w.parent() else { return };
    if js_sys::Object::is(&parent, &w) {
        return;
    }
    if let Ok(value) = js_sys::JSON::parse(json) {
        // The embedding page may be anywhere; nothing posted is private.
        let _ = parent.post_message(&value, "*");
    }
}

/// Call `on_message` with the JSON text of every message the embedding window posts (others'
/// are ignored). Lives as long as the page.
pub fn listen_to_parent(on_message: impl Fn(String) + 'static) {
    let Ok(w) = window() else { return };
    let Ok(Some(parent)) = w.parent() else { return };
    let listener = leptos::prelude::window_event_listener(leptos::ev::message, move |ev| {
        let from_parent = ev.source().is_some_and(|s| js_sys::Object::is(&s, &parent));
        if !from_parent {
            return;
        }
        let text = js_sys::JSON::stringify(&ev.data())
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        on_message(text);
    });
    std::mem::forget(listener);
}

/// Register the service worker (`sw.js`: the page opens offline after one visit); `on_updated`
/// runs with the new build's version when a new build replaced the cached one. Browsers without
/// service workers (or pages not served securely) simply go without.
pub fn register_service_worker(on_updated: impl Fn(String) + 'static) {
    let Ok(w) = window() else { return };
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k));
    let Ok(container) = get(&w.navigator(), "serviceWorker") else {
        return;
    };
    if container.is_undefined() || container.is_null() {
        return;
    }
    let call = |name: &str, args: &[JsValue]| -> Result<JsValue, JsValue> {
        let f: js_sys::Function = get(&container, name)?.dyn_into()?;
        f.apply(&container, &args.iter().collect::<js_sys::Array>())
    };
    let on_message = wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |ev: JsValue| {
        let data = js_sys::Reflect::get(&ev, &JsValue::from_str("data")).unwrap_or_default();
        let kind = js_sys::Reflect::get(&data, &JsValue::from_str("neurolab")).ok();
        if kind.and_then(|k| k.as_string()).as_deref() == Some("updated") {
            let version = js_sys::Reflect::get(&data, &JsValue::from_str("version"))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            on_updated(version);
        }
    });
    let _ = call(
        "addEventListener",
        &[JsValue::from_str("message"), on_message.as_ref().clone()],
    );
    on_message.forget();
    let failed = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|e: JsValue| {
        leptos::logging::warn!(
            "no offline use: the service worker did not register ({})",
            js_err(e)
        );
    });
    if let Ok(promise) = call("register", &[JsValue::from_str("./sw.js")]) {
        if let Ok(promise) = promise.dyn_into::<js_sys::Promise>() {
            let _ = promise.catch(&failed);
        }
    }
    failed.forget();
}

/// Reload the page (the address keeps the experiment).
pub fn reload() {
    if let Ok(w) = window() {
        let _ = w.location().reload();
    }
}

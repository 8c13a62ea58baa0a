//! The house has one shape: every lab has the same files in every layer, the registry lists each
//! lab once, and ARCHITECTURE.md names every crate and module. Fails when a file or a line is
//! missing, so the map cannot drift from the code.

use neurolab_core::LabKind;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "tests" || n == "examples")
            {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_lab_has_the_same_files_in_every_layer() {
    let root = root();
    for &lab in LabKind::ALL {
        let name = lab.name();
        let layers = [
            format!("crates/labs/{name}/src/lib.rs"),
            format!("crates/labs/{name}/src/config.rs"),
            format!("crates/labs/{name}/src/control.rs"),
            format!("crates/labs/{name}/src/report.rs"),
            format!("crates/labs/{name}/src/session.rs"),
            format!("crates/worker/src/labs/{name}.rs"),
            format!("crates/cli/src/labs/{name}.rs"),
            format!("src/labs/{name}/mod.rs"),
            format!("src/labs/{name}/about.rs"),
            format!("src/labs/{name}/state.rs"),
            format!("src/labs/{name}/views.rs"),
        ];
        for file in layers {
            assert!(root.join(&file).is_file(), "lab {name}: {file} is missing");
        }
    }
    // No folder of a lab that is not registered.
    let registered: Vec<&str> = LabKind::ALL.iter().map(|l| l.name()).collect();
    for dir in ["crates/labs", "src/labs"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            if e.path().is_dir() {
                let n = e.file_name().to_string_lossy().into_owned();
                assert!(
                    registered.contains(&n.as_str()),
                    "{dir}/{n} is not in the registry"
                );
            }
        }
    }
}

#[test]
fn the_registry_lists_each_lab_once() {
    let registry = std::fs::read_to_string(root().join("crates/core/src/registry.rs")).unwrap();
    for &lab in LabKind::ALL {
        let line = format!("{} ", lab.name());
        let lines = registry
            .lines()
            .filter(|l| l.trim_start().starts_with(&line) && l.contains("$crate::"))
            .count();
        assert_eq!(lines, 1, "lab {} in for_each_lab!", lab.name());
    }
}

#[test]
fn architecture_md_names_every_crate_and_module() {
    let root = root();
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("crates"), &mut files);
    let mut missing = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if !map.contains(&format!("`{rel}`")) && !map.contains(&format!("`{rel}` +")) {
            missing.push(rel);
        }
    }
    for e in std::fs::read_dir(root.join("crates/labs"))
        .unwrap()
        .flatten()
    {
        let rel = format!("crates/labs/{}", e.file_name().to_string_lossy());
        if !map.contains(&format!("`{rel}`")) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {missing:?}"
    );
}

#[test]
fn every_lesson_file_is_shipped_with_the_page() {
    let root = root();
    let listed = std::fs::read_to_string(root.join("src/lesson.rs")).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(root.join("lessons")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".md") {
            let key = format!("\"{stem}\",");
            let file = format!("include_str!(\"../lessons/{name}\")");
            assert!(
                listed.contains(&key) && listed.contains(&file),
                "lessons/{name} is not in src/lesson.rs SHIPPED"
            );
            n += 1;
        }
    }
    assert!(n >= 4, "{n} lessons");
}

//! The files a trained decomposition is exported as, built from numbers already read back: our
//! own `.safetensors` (normalised units, `act_scale` beside them) and SAELens's saved layout, the
//! folder `SAE.load_from_disk` reads (`cfg.json`, `sae_weights.safetensors`,
//! `sparsity.safetensors`), packed as one zip. Plain data: no burn, no device.
//!
//! Our SAEs train on normalised activations `x_n = x · s` (`s` = `act_scale`). The SAELens
//! layout runs on raw activations with `normalize_activations = "none"`, the scale folded in as
//! SAELens's `fold_activation_norm_scaling_factor` does: with `z = act((x_n − b_dec) · w_encᵀ +
//! b_enc)` and `x̂_n = z · w_dec + b_dec`, the same `z` and `x̂ = x̂_n / s` come from
//! `W_enc = s · w_encᵀ`, `b_enc`, `W_dec = w_dec / s`, `b_dec = b_dec / s` on `x`.

use super::config::{SaeConfig, SaeKind, SaeSource, TransformerSite};
use super::session::SaeError;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Cursor, Write as _};

pub const SAELENS_CFG: &str = "cfg.json";
pub const SAELENS_WEIGHTS: &str = "sae_weights.safetensors";
pub const SAELENS_SPARSITY: &str = "sparsity.safetensors";
/// The firing frequency a latent that never fired is given in `sparsity` (log10 of it: −10), so
/// every value stays finite.
pub const DENSITY_FLOOR: f32 = 1e-10;
/// The version of SAELens's config layout written: SAELens ≥ 6 reads `cfg.json` as it is
/// (older layouts are converted first). Not trained by SAELens: `sae_lens_training_version`
/// is null.
pub const SAELENS_LAYOUT_VERSION: &str = "6.0.0";

/// One tensor read back: its name, shape and values (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A decomposition as read back from the device: its parameters (normalised units; SAEs
/// `w_enc [L, d]`, `b_enc [L]`, `w_dec [L, d]`, `b_dec [d]`; semi-NMF `w_dec`, `z [N, L]`), the
/// scale that normalised its activations, and, when asked for, each latent's firing frequency
/// over all samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    pub config: SaeConfig,
    pub step: u32,
    pub tensors: Vec<Named>,
    pub act_scale: f32,
    pub density: Option<Vec<f32>>,
}

impl Trained {
    fn tensor(&self, name: &str) -> Result<&Named, SaeError> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| SaeError::Export(format!("the decomposition has no {name}")))
    }
}

/// Ours: every tensor as read, `act_scale` (normalised = raw · act_scale), the step and the
/// config in the metadata.
pub fn neurolab_safetensors(t: &Trained) -> Result<Vec<u8>, SaeError> {
    let metadata = [
        ("format", "neurolab-sae".to_string()),
        ("step", t.step.to_string()),
        ("act_scale", t.act_scale.to_string()),
        (
            "config",
            serde_json::to_string(&t.config).map_err(|e| SaeError::Export(e.to_string()))?,
        ),
    ];
    safetensors_bytes(&t.tensors, &metadata)
}

/// A folder of files, as a zip holds it: `name/` then each file.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    pub name: String,
    /// `(file name, bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// SAELens's saved layout of an SAE (the scale folded in, see the module's doc), in the folder
/// `stem`. `t` must hold the SAE's four tensors and the density.
pub fn saelens(t: &Trained, stem: &str) -> Result<Folder, SaeError> {
    let c = &t.config;
    let architecture = match c.kind {
        SaeKind::TopK => "topk",
        SaeKind::ReluL1 => "standard",
        SaeKind::Snmf => return Err(SaeError::NoEncoder),
    };
    let (w_enc, b_enc, w_dec, b_dec) = (
        t.tensor("w_enc")?,
        t.tensor("b_enc")?,
        t.tensor("w_dec")?,
        t.tensor("b_dec")?,
    );
    let density = t
        .density
        .as_ref()
        .ok_or_else(|| SaeError::Export("the latents' densities were not read".into()))?;
    let (latents, d) = match w_enc.shape[..] {
        [l, d] if l * d == w_enc.values.len() => (l, d),
        _ => return Err(SaeError::Export("w_enc is not [L, d]".into())),
    };
    let s = t.act_scale;
    // W_enc [d, L] = s · w_encᵀ.
    let mut enc = vec![0f32; d * latents];
    for (j, row) in w_enc.values.chunks_exact(d).enumerate() {
        for (i, v) in row.iter().enumerate() {
            enc[i * latents + j] = s * v;
        }
    }
    let inv = |v: &[f32]| v.iter().map(|x| x / s).collect::<Vec<f32>>();
    let weights = [
        Named {
            name: "W_enc",
            shape: vec![d, latents],
            values: enc,
        },
        Named {
            name: "b_enc",
            shape: vec![latents],
            values: b_enc.values.clone(),
        },
        Named {
            name: "W_dec",
            shape: vec![latents, d],
            values: inv(&w_dec.values),
        },
        Named {
            name: "b_dec",
            shape: vec![d],
            values: inv(&b_dec.values),
        },
    ];
    let sparsity = [Named {
        name: "sparsity",
        shape: vec![latents],
        values: density
            .iter()
            .map(|f| f.max(DENSITY_FLOOR).log10())
            .collect(),
    }];
    let (model_name, hook_name) = model_and_hook(c);
    let mut cfg = json!({
        "architecture": architecture,
        "d_in": d,
        "d_sae": latents,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": true,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {
            "sae_lens_version": SAELENS_LAYOUT_VERSION,
            "sae_lens_training_version": null,
            "model_name": model_name,
            "hook_name": hook_name,
            "hook_head_index": null,
            "neurolab_config": config_json(c)?,
            "neurolab_step": t.step,
            "neurolab_act_scale": s,
        },
    });
    if c.kind == SaeKind::TopK {
        if let Some(obj) = cfg.as_object_mut() {
            obj.insert("k".into(), json!(c.k));
            // Our TopK picks by the pre-activations themselves (decoder rows are unit norm in
            // training; after the fold they are 1/s, the same for every latent).
            obj.insert("rescale_acts_by_decoder_norm".into(), json!(false));
        }
    }
    let cfg =
        serde_json::to_vec_pretty(&cfg).map_err(|e| SaeError::Export(format!("cfg.json: {e}")))?;
    let format = [("format", "pt".to_string())];
    Ok(Folder {
        name: stem.to_string(),
        files: vec![
            (SAELENS_CFG.into(), cfg),
            (
                SAELENS_WEIGHTS.into(),
                safetensors_bytes(&weights, &format)?,
            ),
            (
                SAELENS_SPARSITY.into(),
                safetensors_bytes(&sparsity, &format)?,
            ),
        ],
    })
}

/// SAELens's `model_name` and `hook_name` for a source (TransformerLens's hook names where the
/// site has one; the grokking transformer is read at the `=` position).
fn model_and_hook(c: &SaeConfig) -> (String, String) {
    let site = |layer: u32| match c.site {
        TransformerSite::Resid => format!("blocks.{layer}.hook_resid_post"),
        TransformerSite::Mlp => format!("blocks.{layer}.mlp.hook_post"),
    };
    match c.source {
        SaeSource::Toy => (
            format!("neurolab/toy-superposition-n{}-m{}", c.toy_n, c.toy_m),
            "hook_hidden".into(),
        ),
        SaeSource::GrokMlp => (
            format!("neurolab/grok-mlp-p{}", c.grok_p),
            "hook_hidden".into(),
        ),
        SaeSource::GrokTransformer => (format!("neurolab/grok-transformer-p{}", c.grok_p), site(0)),
        SaeSource::Lm => {
            let l = c.lm_preset();
            (
                format!(
                    "neurolab/lm-{}-L{}-d{}",
                    l.corpus.name(),
                    l.layers,
                    l.d_model
                ),
                site(c.lm_layer),
            )
        }
    }
}

fn config_json(c: &SaeConfig) -> Result<Value, SaeError> {
    serde_json::to_value(c).map_err(|e| SaeError::Export(e.to_string()))
}

/// f32 tensors and string metadata as one `.safetensors` file.
fn safetensors_bytes(tensors: &[Named], metadata: &[(&str, String)]) -> Result<Vec<u8>, SaeError> {
    neurolab_base::tensors::safetensors_f32(
        tensors
            .iter()
            .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice())),
        metadata,
    )
    .map_err(SaeError::Export)
}

/// The f32 tensors of a `.safetensors` file by name: (shape, values) — the way back from
/// [`neurolab_safetensors`] and the SAELens files.
pub fn read_f32_tensors(bytes: &[u8]) -> Result<HashMap<String, (Vec<usize>, Vec<f32>)>, SaeError> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| SaeError::Export(format!("not a .safetensors file: {e}")))?;
    st.tensors()
        .into_iter()
        .map(|(name, v)| {
            if v.dtype() != safetensors::Dtype::F32 {
                return Err(SaeError::Export(format!(
                    "{name} is {:?}, not F32",
                    v.dtype()
                )));
            }
            let values = v
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Ok((name, (v.shape().to_vec(), values)))
        })
        .collect()
}

impl Folder {
    /// The folder as a zip: `name/` and its files under it, stored (not compressed: the
    /// weights are f32 noise to a compressor), dated 1980-01-01 so the same folder always
    /// gives the same bytes.
    pub fn zip(&self) -> Result<Vec<u8>, SaeError> {
        let err = |e: zip::result::ZipError| SaeError::Export(format!("zip: {e}"));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.add_directory(format!("{}/", self.name), options.unix_permissions(0o755))
            .map_err(err)?;
        for (file, bytes) in &self.files {
            w.start_file(format!("{}/{file}", self.name), options)
                .map_err(err)?;
            w.write_all(bytes)
                .map_err(|e| SaeError::Export(format!("zip: {e}")))?;
        }
        Ok(w.finish().map_err(err)?.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    /// A hand-made TopK SAE: L = 3 latents in d = 2 dims, trained on x_n = 2 · x.
    fn trained(kind: SaeKind) -> Trained {
        let mut config = SaeConfig::preset(SaeSource::Toy);
        config.kind = kind;
        config.latents = 3;
        config.k = 2;
        let t = |name, shape: &[usize], values: &[f32]| Named {
            name,
            shape: shape.to_vec(),
            values: values.to_vec(),
        };
        Trained {
            config,
            step: 7,
            tensors: vec![
                t("w_enc", &[3, 2], &[1.0, 0.0, 0.0, 1.0, 0.6, 0.8]),
                t("b_enc", &[3], &[0.1, -0.2, 0.3]),
                t("w_dec", &[3, 2], &[1.0, 0.0, 0.0, 1.0, 0.6, 0.8]),
                t("b_dec", &[2], &[0.5, -1.0]),
            ],
            act_scale: 2.0,
            density: Some(vec![0.5, 0.0, 1e-3]),
        }
    }

    fn tensors(bytes: &[u8]) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
        read_f32_tensors(bytes).unwrap()
    }

    #[test]
    fn the_saelens_layout_folds_the_scale_into_raw_units() {
        let folder = saelens(&trained(SaeKind::TopK), "sae").unwrap();
        let names: Vec<&str> = folder.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [SAELENS_CFG, SAELENS_WEIGHTS, SAELENS_SPARSITY]);
        let w = tensors(&folder.files[1].1);
        // W_enc [d, L] = 2 · w_encᵀ; b_enc as is; W_dec, b_dec halved.
        assert_eq!(w["W_enc"], (vec![2, 3], vec![2.0, 0.0, 1.2, 0.0, 2.0, 1.6]));
        assert_eq!(w["b_enc"], (vec![3], vec![0.1, -0.2, 0.3]));
        assert_eq!(w["W_dec"], (vec![3, 2], vec![0.5, 0.0, 0.0, 0.5, 0.3, 0.4]));
        assert_eq!(w["b_dec"], (vec![2], vec![0.25, -0.5]));
        // The same pre-activations on raw x as ours on 2x: (x − b_dec')·W_enc' = (2x − b_dec)·w_encᵀ.
        let x = [0.7f32, -0.4];
        for j in 0..3 {
            let ours: f32 = (0..2)
                .map(|i| (2.0 * x[i] - [0.5, -1.0][i]) * [1.0, 0.0, 0.0, 1.0, 0.6, 0.8][2 * j + i])
                .sum();
            let theirs: f32 = (0..2)
                .map(|i| (x[i] - w["b_dec"].1[i]) * w["W_enc"].1[i * 3 + j])
                .sum();
            assert!(
                (ours - theirs).abs() < 1e-6,
                "latent {j}: {ours} vs {theirs}"
            );
        }
        let s = tensors(&folder.files[2].1);
        let log = &s["sparsity"].1;
        assert_eq!(s["sparsity"].0, [3]);
        assert!(
            (log[0] - 0.5f32.log10()).abs() < 1e-6
                && log[1] == -10.0
                && (log[2] + 3.0).abs() < 1e-6
        );
        let cfg: Value = serde_json::from_slice(&folder.files[0].1).unwrap();
        assert_eq!(cfg["architecture"], "topk");
        assert_eq!(
            (
                cfg["d_in"].as_u64(),
                cfg["d_sae"].as_u64(),
                cfg["k"].as_u64()
            ),
            (Some(2), Some(3), Some(2))
        );
        assert_eq!(cfg["normalize_activations"], "none");
        assert_eq!(cfg["apply_b_dec_to_input"], true);
        assert_eq!(cfg["rescale_acts_by_decoder_norm"], false);
        assert_eq!(cfg["metadata"]["sae_lens_training_version"], Value::Null);
        assert_eq!(cfg["metadata"]["neurolab_step"], 7);
        assert_eq!(cfg["metadata"]["neurolab_config"]["kind"], "topk");
        assert_eq!(cfg["metadata"]["hook_name"], "hook_hidden");
    }

    #[test]
    fn relu_l1_is_standard_and_semi_nmf_is_refused() {
        let folder = saelens(&trained(SaeKind::ReluL1), "sae").unwrap();
        let cfg: Value = serde_json::from_slice(&folder.files[0].1).unwrap();
        assert_eq!(cfg["architecture"], "standard");
        assert!(cfg.get("k").is_none());
        let err = saelens(&trained(SaeKind::Snmf), "sae")
            .unwrap_err()
            .to_string();
        assert!(err.contains("semi-NMF has no encoder"), "{err}");
    }

    #[test]
    fn the_zip_holds_one_folder_of_stored_files_and_is_reproducible() {
        let folder = saelens(&trained(SaeKind::TopK), "neurolab-sae-x").unwrap();
        let bytes = folder.zip().unwrap();
        assert_eq!(bytes, folder.zip().unwrap());
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
        let names: Vec<String> = archive.file_names().map(String::from).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.contains(&"neurolab-sae-x/".to_string()));
        for (file, data) in &folder.files {
            let mut entry = archive.by_name(&format!("neurolab-sae-x/{file}")).unwrap();
            assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
            let mut read = Vec::new();
            entry.read_to_end(&mut read).unwrap();
            assert_eq!(&read, data);
        }
    }
}

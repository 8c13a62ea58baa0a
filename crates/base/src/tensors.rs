//! The labs' weight files: f32 tensors and string metadata as one `.safetensors` file (feature
//! `tensors`; the page's wasm does not need it).

use std::collections::HashMap;

/// `tensors` (name, shape, row-major values) and `metadata` as `.safetensors` bytes; the error
/// names the tensor whose shape and values disagree.
pub fn safetensors_f32<'a>(
    tensors: impl IntoIterator<Item = (&'a str, &'a [usize], &'a [f32])>,
    metadata: &[(&str, String)],
) -> Result<Vec<u8>, String> {
    let owned: Vec<(&str, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape.to_vec(), bytes)
        })
        .collect();
    let views = owned
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|v| (*name, v))
                .map_err(|e| format!("{name}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_and_metadata_read_back() {
        let a = [1.0f32, -2.5, 3.0, 0.0, 5.0, 6.0];
        let bytes = safetensors_f32(
            [("a", &[2usize, 3][..], &a[..]), ("b", &[1][..], &[7.0][..])],
            &[("format", "test".to_string())],
        )
        .unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let view = st.tensor("a").unwrap();
        assert_eq!(view.shape(), &[2, 3]);
        let back: Vec<f32> = view
            .data()
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(back, a);
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(meta.metadata().as_ref().unwrap()["format"], "test");
    }

    #[test]
    fn a_shape_that_disagrees_names_the_tensor() {
        let err = safetensors_f32([("w", &[2usize, 2][..], &[1.0f32][..])], &[]).unwrap_err();
        assert!(err.starts_with("w: "), "{err}");
    }
}

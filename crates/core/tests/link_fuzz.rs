//! Property tests: the link decoder never panics, and every valid config round-trips.

use neurolab_core::config::{BackendChoice, GrokConfig, Op};
use neurolab_core::link::LabLink;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoder_never_panics_on_any_string(s in "\\PC{0,300}") {
        let _ = LabLink::decode(&s);
    }

    #[test]
    fn decoder_never_panics_on_link_like_strings(
        keys in proptest::collection::vec("(v|p|op|frac|seed|lr|wd|steps|every|hide|embed|model|backend|gf|x)", 0..12),
        vals in proptest::collection::vec("[-0-9a-z.,%&=+e]{0,12}", 0..12),
    ) {
        let s: Vec<String> = keys.iter().zip(vals.iter()).map(|(k, v)| format!("{k}={v}")).collect();
        let _ = LabLink::decode(&s.join("&"));
    }

    #[test]
    fn mutated_valid_links_never_panic(cut in 0usize..400, flip in 0usize..400, byte in 0u8..128) {
        let mut bytes = LabLink::default().encode().into_bytes();
        if !bytes.is_empty() {
            let i = flip % bytes.len();
            bytes[i] = byte;
        }
        bytes.truncate(cut.min(bytes.len()));
        let s = String::from_utf8_lossy(&bytes).into_owned();
        let _ = LabLink::decode(&s);
    }

    #[test]
    fn valid_configs_round_trip(
        p in prop::sample::select(vec![5u32, 7, 11, 97, 113, 257]),
        frac in 0.05f64..0.95,
        seed in any::<u64>(),
        lr in 1e-6f64..1.0,
        wd in 0.0f64..10.0,
        op in prop::sample::select(Op::ALL.to_vec()),
        backend in prop::sample::select(vec![BackendChoice::Auto, BackendChoice::Cpu, BackendChoice::Webgpu]),
    ) {
        let mut link = LabLink::default();
        link.config = GrokConfig { p, train_frac: frac, seed, lr, weight_decay: wd, op, ..GrokConfig::preset_mlp() };
        link.backend = backend;
        prop_assert_eq!(LabLink::decode(&link.encode()).unwrap(), link);
    }
}

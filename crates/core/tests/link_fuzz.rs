//! Property tests of the link: the decoder never panics on any input, and its oracle
//! (`link::check_invariants`) checks more than that — a link that decodes validates, fits the
//! budget, re-encodes to itself and round-trips as a protocol command; a link that does not
//! decode still opens (its lab, the valid values) with a message. Keys and values are drawn from every lab's field table plus
//! hostile values (nan, inf, huge integers, repeats).

use neurolab_core::base::field::Field;
use neurolab_core::base::LabConfig;
use neurolab_core::grok::config::{GrokConfig, Op};
use neurolab_core::link::{check_invariants, LabLink};
use neurolab_core::protocol::BackendChoice;
use neurolab_core::sae::SaeConfig;
use neurolab_core::spike::SpikeConfig;
use neurolab_core::LabKind;
use proptest::prelude::*;

fn keys<C: LabConfig>() -> Vec<&'static str> {
    C::fields().iter().map(|f: &Field<C>| f.key).collect()
}

/// Every key any lab or the link knows, and a few it does not.
fn all_keys() -> Vec<&'static str> {
    let mut k = keys::<GrokConfig>();
    k.extend(keys::<SpikeConfig>());
    k.extend(keys::<SaeConfig>());
    k.extend([
        "v", "nl", "lab", "backend", "logx", "embed", "hide", "evil", "x",
    ]);
    k
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nan".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e309".to_string()),
        Just("18446744073709551616".to_string()),
        Just("99999999999999999999999999".to_string()),
        Just("4294967297".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1".to_string()),
        Just("".to_string()),
        Just("%zz".to_string()),
        (0u32..100_000).prop_map(|n| n.to_string()),
        (0.0f64..2.0).prop_map(|x| x.to_string()),
        prop::sample::select(vec![
            "grok",
            "spike",
            "sae",
            "mlp",
            "transformer",
            "toy",
            "grok-mlp",
            "topk",
            "snmf",
            "what_when",
            "bars",
            "series",
            "ridge",
            "force",
            "izhikevich2003",
            "reservoir",
            "lif",
            "gpu",
            "cpu",
            "auto",
            "webgpu",
            "sines",
            "mg",
        ])
        .prop_map(str::to_string),
        "[-0-9a-z.,_%&=+e]{0,12}",
    ]
}

/// The core's invariants, as a property.
fn oracle(fragment: &str) -> Result<(), TestCaseError> {
    check_invariants(fragment).map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoder_never_panics_on_any_string(s in "\\PC{0,300}") {
        oracle(&s)?;
    }

    #[test]
    fn every_labs_keys_with_hostile_values(
        lab in prop::sample::select(vec!["grok", "spike", "sae"]),
        pairs in proptest::collection::vec((prop::sample::select(all_keys()), value()), 0..10),
    ) {
        let mut s = format!("v=1&lab={lab}");
        for (k, v) in &pairs {
            s.push_str(&format!("&{k}={v}"));
        }
        oracle(&s)?;
    }

    #[test]
    fn mutated_valid_links_never_panic(
        lab in prop::sample::select(LabKind::ALL.to_vec()),
        cut in 0usize..600,
        flip in 0usize..600,
        byte in 0u8..128,
    ) {
        let link = LabLink { lab, ..LabLink::default() };
        let mut bytes = link.encode().into_bytes();
        if !bytes.is_empty() {
            let i = flip % bytes.len();
            bytes[i] = byte;
        }
        bytes.truncate(cut.min(bytes.len()));
        oracle(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn valid_configs_round_trip(
        p in prop::sample::select(vec![5u32, 7, 11, 97, 113, 257]),
        frac in 0.05f64..0.95,
        seed in any::<u64>(),
        lr in 1e-6f64..1.0,
        wd in 0.0f64..10.0,
        op in prop::sample::select(Op::ALL.to_vec()),
        backend in prop::sample::select(BackendChoice::ALL.to_vec()),
    ) {
        let mut link = LabLink::default();
        link.configs.grok = GrokConfig { p, train_frac: frac, seed, lr, weight_decay: wd, op, ..GrokConfig::preset_mlp() };
        link.backend = backend;
        prop_assume!(link.configs.grok.validate().is_ok());
        prop_assert_eq!(LabLink::decode(&link.encode()).unwrap(), link.clone());
        oracle(&link.encode())?;
    }
}
